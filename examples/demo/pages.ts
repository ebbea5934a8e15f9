/**
 * The demo's server-rendered pages: plain HTML with a little CSS, no script, no build step.
 * Every value that comes from a request goes through `html`'s escaping.
 */
import { html, json, SafeHtml } from './html';

const STYLE = `
  :root { color-scheme: light; --ink: #1d2330; --muted: #5b6474; --line: #d9dee7; --accent: #2f5bd3; }
  * { box-sizing: border-box; }
  body { font: 16px/1.5 system-ui, "DejaVu Sans", sans-serif; color: var(--ink); margin: 0; background: #f6f7fa; }
  main { max-width: 60rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
  h1 { font-size: 1.7rem; margin: 0.5rem 0 0.25rem; }
  h2 { font-size: 1.15rem; margin: 1.75rem 0 0.5rem; }
  p.lead { color: var(--muted); margin-top: 0; }
  a { color: var(--accent); }
  code, pre { font: 13.5px/1.45 "DejaVu Sans Mono", ui-monospace, monospace; }
  pre { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 0.6rem 0.75rem;
        overflow-x: auto; white-space: pre-wrap; word-break: break-all; margin: 0.25rem 0 0.75rem; }
  .routes { display: grid; gap: 0.75rem; }
  .route { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 0.75rem 1rem; }
  .route h3 { margin: 0 0 0.25rem; font-size: 1.05rem; }
  .route p { margin: 0.25rem 0; }
  .tag { display: inline-block; font-size: 0.8rem; border: 1px solid var(--line); border-radius: 999px;
         padding: 0 0.5rem; margin-right: 0.25rem; color: var(--muted); background: #fafbfd; }
  .muted { color: var(--muted); }
  .ok { color: #17683a; font-weight: 600; }
  nav { font-size: 0.9rem; }
  table { border-collapse: collapse; }
  td, th { text-align: left; padding: 0.2rem 0.75rem 0.2rem 0; vertical-align: top; }
`;

/** The page frame. */
export function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <style>
          ${new SafeHtml(STYLE)}
        </style>
      </head>
      <body>
        <main>${body}</main>
      </body>
    </html> `.toString();
}

/** A route as the landing page lists it. */
export interface RouteCard {
  path: string;
  title: string;
  schemes: string[];
  description: string;
  credentials: string;
  curl: string[];
}

export interface LandingData {
  origin: string;
  proxyOrigin: string;
  routes: RouteCard[];
  user: string;
  password: string;
  proxyUser: string;
  proxyPassword: string;
}

function card(route: RouteCard): SafeHtml {
  return html`<section class="route" id="${route.path}">
    <h3><a href="${route.path}">${route.title}</a> <code>${route.path}</code></h3>
    <p>${route.schemes.map((scheme) => html`<span class="tag">${scheme}</span>`)}</p>
    <p>${route.description}</p>
    <p class="muted">Credentials: ${route.credentials}</p>
    <pre>${route.curl.join('\n')}</pre>
  </section>`;
}

/** The landing page: every protected route, its credentials and a curl line. */
export function landingPage(data: LandingData): string {
  return layout(
    'authscheme playground',
    html`<h1>authscheme playground</h1>
      <p class="lead">
        HTTP authentication done to the RFCs: Basic (RFC 7617), Digest (RFC 7616), Bearer (RFC
        6750). Open a route in the browser or paste its curl line; each page shows what crossed the
        wire.
      </p>
      <table>
        <tr>
          <th>Demo user</th>
          <td><code>${data.user}</code> / <code>${data.password}</code></td>
        </tr>
        <tr>
          <th>Proxy user</th>
          <td>
            <code>${data.proxyUser}</code> / <code>${data.proxyPassword}</code> (forward proxy at
            <code>${data.proxyOrigin}</code>)
          </td>
        </tr>
      </table>
      <h2>Protected routes</h2>
      <div class="routes">${data.routes.map(card)}</div>
      <p class="muted">
        Served by <code>examples/demo/server.ts</code>; state is in memory and forgotten on exit.
      </p>`,
  );
}

export interface WireData {
  title: string;
  path: string;
  /** The challenge lines this route sent last time it refused a request, if any. */
  lastChallenge: { status: number; header: string; lines: string[]; at: string } | undefined;
  authorization: string | undefined;
  parsed: unknown;
  auth: unknown;
  /** Response headers the scheme added on success (e.g. Authentication-Info). */
  responseHeaders: Record<string, string>;
  extra?: SafeHtml;
}

/** A protected page: what crossed the wire on the way in. */
export function wirePage(data: WireData): string {
  const challenge = data.lastChallenge;
  const extraHeaders = Object.entries(data.responseHeaders);
  return layout(
    `${data.title} · authscheme`,
    html`<nav><a href="/">← all routes</a></nav>
      <h1>${data.title}</h1>
      <p class="ok">
        Authenticated as
        ${typeof data.auth === 'object' && data.auth !== null ? String((data.auth as { user?: unknown }).user) : '?'}.
      </p>
      <h2>1. The challenge the server sent</h2>
      ${
        challenge === undefined
          ? html`<p class="muted">
              No refusal recorded yet on this route: the client sent credentials before being
              challenged (curl does that with Basic). <code>curl -i ${data.path}</code> shows the
              challenge.
            </p>`
          : html`<p class="muted">
                Last refusal on this route (${challenge.at}): <code>${challenge.status}</code> with
                ${challenge.lines.length} <code>${challenge.header}</code> field line(s), in the
                order offered:
              </p>
              <pre>
${challenge.lines.map((line) => `${challenge.header}: ${line}`).join('\n')}</pre>`
      }
      <h2>2. The <code>Authorization</code> header the server received</h2>
      <pre>
${data.authorization === undefined ? '(none)' : `Authorization: ${data.authorization}`}</pre>
      <p class="muted">Secrets masked.</p>
      <h2>3. <code>parseCredentials()</code></h2>
      <pre>${json(data.parsed)}</pre>
      <h2>4. <code>req.auth</code></h2>
      <pre>${json(data.auth)}</pre>
      ${
        extraHeaders.length > 0
          ? html`<h2>5. Headers the scheme added to this response</h2>
              <pre>${extraHeaders.map(([name, value]) => `${name}: ${value}`).join('\n')}</pre>`
          : ''
      }
      ${data.extra}`,
  );
}

/** The token page: a form to issue a Bearer token, and the token once issued. */
export function tokenPage(data: {
  user: string;
  issued?: { token: string; scope: string; expiresIn: number };
  origin: string;
}): string {
  const issued = data.issued;
  return layout(
    'Demo token · authscheme',
    html`<nav><a href="/">← all routes</a></nav>
      <h1>Demo access token</h1>
      <p class="lead">
        Signed in as <code>${data.user}</code>. Tokens are random, in memory, valid for the time
        shown.
      </p>
      <form method="post" action="/token">
        <label><input type="checkbox" name="scope" value="read" checked /> read</label>
        <label><input type="checkbox" name="scope" value="admin" /> admin</label>
        <button type="submit">Issue a token</button>
      </form>
      ${
        issued === undefined
          ? ''
          : html`<h2>Your token</h2>
              <pre id="token">${issued.token}</pre>
              <p>Scope <code>${issued.scope}</code>, expires in ${issued.expiresIn} s.</p>
              <pre>curl -H 'Authorization: Bearer ${issued.token}' ${data.origin}/bearer</pre>`
      }`,
  );
}
