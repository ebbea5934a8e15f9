/**
 * A `fetch` for createAuthFetch() under which every origin is one local server, as the names of a
 * wildcard DNS entry would be: the request goes to `base` plus `path(url)` of the URL it was made
 * for, with its method, headers and body.
 */
export function wildcardFetch(
  base: string,
  path: (url: URL) => string,
): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return (input, init) => {
    const request = new Request(input, init);
    return fetch(new Request(`${base}${path(new URL(request.url))}`, request));
  };
}
