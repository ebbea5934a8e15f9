import type { IncomingMessage } from 'node:http';

/**
 * RFC 7616 §3.4.6: the `uri` directive repeats the request target so that a response cannot be
 * moved to another resource; the server checks that both name the same resource and answers a
 * mismatch with 400 (as Apache does, even for a different query).
 *
 * Equal strings always match. Proxies see an absolute-form target (RFC 9112 §3.2.2) while curl and
 * Chromium put the origin form in `uri` for `Proxy-Authorization`; the reverse (an absolute `uri`
 * for an origin-form target) names the same resource when its authority is the Host. Nothing else
 * is normalised: no percent-decoding, no dot segments, the query compared as is.
 */
export function sameResource(uri: string, target: string, host: string | undefined): boolean {
  if (uri === target) return true;
  const targetOrigin = originForm(target);
  if (targetOrigin !== undefined) return uri === targetOrigin.pathAndQuery;
  const uriOrigin = originForm(uri);
  if (uriOrigin === undefined || host === undefined) return false;
  return (
    uriOrigin.pathAndQuery === target && uriOrigin.authority.toLowerCase() === host.toLowerCase()
  );
}

/**
 * The authority the request was sent to: HTTP/2's `:authority` (RFC 9113 §8.3.1; Node's
 * compatibility API adds no Host), else `Host`. HTTP/1 cannot carry a field named `:authority`.
 */
export function authorityOf(req: IncomingMessage): string | undefined {
  const { headers } = req;
  const authority = headers[':authority'] ?? headers.host;
  return typeof authority === 'string' ? authority : undefined;
}

/** Splits an absolute `http(s)://authority/path?query` URI, or returns undefined. */
function originForm(uri: string): { authority: string; pathAndQuery: string } | undefined {
  const colon = uri.indexOf('://');
  if (colon === -1) return undefined;
  const scheme = uri.slice(0, colon).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return undefined;
  const authorityStart = colon + 3;
  let end = authorityStart;
  while (end < uri.length) {
    const code = uri.charCodeAt(end);
    if (code === 0x2f /* / */ || code === 0x3f /* ? */ || code === 0x23 /* # */) break;
    end++;
  }
  const authority = uri.slice(authorityStart, end);
  if (authority === '') return undefined;
  const rest = uri.slice(end);
  // RFC 9112 §3.2.1: an empty path is sent as "/".
  const pathAndQuery = rest === '' || rest.charCodeAt(0) !== 0x2f ? `/${rest}` : rest;
  return { authority, pathAndQuery };
}
