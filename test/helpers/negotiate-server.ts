/**
 * The server the Negotiate tests talk to, run as its own process (`node --import tsx`) so that the
 * GSSAPI library sees the throw-away realm in its real environment (jest gives test files a copy of
 * `process.env` that native code never reads). Prints `listening <port>` once it accepts requests.
 *
 * Environment: KRB5_CONFIG (the realm), NEGOTIATE_KEYTAB (handed to the `keytab` option), and
 * optionally NEGOTIATE_TLS_KEY and NEGOTIATE_TLS_CERT (PEM files): then an HTTP/2 server over TLS
 * runs the plain Negotiate route `/` too (and `/forbidden`, `/unauthorized`: 403 and 401 after
 * Negotiate), through node:http2's compatibility API, and the line
 * reads `listening <port> h2 <port>`.
 */
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { authenticate, basic, requireScopes, type AuthenticationError } from '../../src/index';
import { negotiate } from '../../src/adapters/kerberos';

const keytab = process.env.NEGOTIATE_KEYTAB;
if (keytab === undefined) throw new Error('NEGOTIATE_KEYTAB is not set');
const servicePrincipal = 'HTTP@localhost';

const app = express();
const show = (req: Request, res: Response): void => {
  res.json({ auth: req.auth });
};

app.get('/', authenticate({ schemes: [negotiate({ servicePrincipal, keytab })] }), show);
// One scheme in two authenticate()s on one request: a site-wide optional one and the route's.
const shared = negotiate({ servicePrincipal, keytab });
app.use('/twice', authenticate({ schemes: [shared], credentialsRequired: false }));
app.get('/twice', authenticate({ schemes: [shared] }), show);
// The route's own negotiate(), whose verify must run though GSSAPI already accepted the token.
app.use('/twice-mapped', authenticate({ schemes: [shared], credentialsRequired: false }));
app.get(
  '/twice-mapped',
  authenticate({
    schemes: [
      negotiate({
        servicePrincipal,
        keytab,
        verify: (principal) => ({ user: 'mapped', principal }),
      }),
    ],
  }),
  show,
);
app.use('/twice-refused', authenticate({ schemes: [shared], credentialsRequired: false }));
app.get(
  '/twice-refused',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab, verify: () => false })] }),
  show,
);
// GSSAPI's answer is reused for the same token and the same service only: the route's acceptor is
// another service (whose key is in the keytab too), and the token is for HTTP/localhost.
app.use('/twice-other-service', authenticate({ schemes: [shared], credentialsRequired: false }));
app.get(
  '/twice-other-service',
  authenticate({ schemes: [negotiate({ servicePrincipal: 'HTTP@shared.test', keytab })] }),
  show,
);
// Two tokens on one request: the site's proxy-mode pass reads Proxy-Authorization, the route's
// Authorization; the route's must be checked itself.
app.use(
  '/twice-two-tokens',
  authenticate({ proxy: true, schemes: [shared], credentialsRequired: false }),
);
app.get('/twice-two-tokens', authenticate({ schemes: [shared] }), show);
app.get(
  '/strip',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab, stripRealm: true })] }),
  show,
);
// Refuses alice, maps everyone else to an identity with extra fields.
app.get(
  '/verify',
  authenticate({
    schemes: [
      negotiate({
        servicePrincipal,
        keytab,
        verify: async (principal) =>
          principal.startsWith('alice@')
            ? false
            : { user: principal.split('@')[0]!, role: 'staff' },
      }),
    ],
  }),
  show,
);
app.get(
  '/other-realm',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab, realms: ['OTHER.TEST'] })] }),
  show,
);
app.get(
  '/both',
  authenticate({
    realm: 'both',
    schemes: [negotiate({ servicePrincipal, keytab }), basic({ users: { bob: 'bob-password' } })],
  }),
  show,
);
// The same two schemes, Basic's challenge first: clients that choose by their own preference
// (the JDK) or that search the joined field (requests-kerberos) must not mind the order.
app.get(
  '/basic-first',
  authenticate({
    realm: 'both',
    schemes: [basic({ users: { bob: 'bob-password' } }), negotiate({ servicePrincipal, keytab })],
  }),
  show,
);
// Accepts, then answers with a mutual-auth token that is not the acceptor's (its last byte, inside
// the AP-REP's encrypted part, flipped): a client that checks the token must not trust this 200.
app.get(
  '/forged-mutual',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab })] }),
  (req, res) => {
    const bytes = Buffer.from(String(res.getHeader('WWW-Authenticate')).slice(10), 'base64');
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    res.setHeader('WWW-Authenticate', `Negotiate ${bytes.toString('base64')}`);
    show(req, res);
  },
);
app.get(
  '/no-mutual',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab, mutual: false })] }),
  show,
);
app.get(
  '/proxy',
  authenticate({ proxy: true, schemes: [negotiate({ servicePrincipal, keytab })] }),
  show,
);
// Authenticated, then the application answers with another status (an error page, say): the
// mutual-auth token stays, except on a 401, where a client would read it as the next leg.
app.get(
  '/status/:code',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab })] }),
  (req, res) => {
    res.status(Number(req.params.code)).type('text').send(`status ${req.params.code}`);
  },
);
// Authenticated, then redirected to `/` (Negotiate again): a 302 after a GET, a 303 after a POST.
app.all(
  '/redirect/:code',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab })] }),
  (req, res) => {
    res.redirect(Number(req.params.code), '/');
  },
);
// Authenticated with the scope `read` (from verify), then refused by requireScopes('write'): the
// 403's Bearer challenge goes beside the mutual-auth token. `/scoped-next` hands the refusal to an
// error handler that sends its headers as Express's default one does (res.set: each replaces).
const scoped = authenticate({
  schemes: [
    negotiate({
      servicePrincipal,
      keytab,
      verify: (principal) => ({ user: principal, scopes: ['read'] }),
    }),
  ],
});
app.get('/scoped', scoped, requireScopes('write'), show);
app.get(
  '/scoped-next',
  scoped,
  requireScopes({ allOf: ['write'], onFailure: 'next' }),
  show,
  (err: AuthenticationError, _req: Request, res: Response, _next: NextFunction) => {
    res.set(err.headers).status(err.status).type('text').send(`refused ${err.status}`);
  },
);
// The same in proxy mode, where the token is in Proxy-Authenticate and 407 is the challenge.
app.get(
  '/proxy-status/:code',
  authenticate({ proxy: true, schemes: [negotiate({ servicePrincipal, keytab })] }),
  (req, res) => {
    res.status(Number(req.params.code)).end();
  },
);
// The application's own 401 with a challenge appended beside the mutual-auth token.
app.get(
  '/append-401',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab })] }),
  (_req, res) => {
    res.append('WWW-Authenticate', 'Bearer realm="api"').status(401).end();
  },
);
// The application's own 401 with a challenge joined onto the token's line.
app.get(
  '/joined-401',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab })] }),
  (_req, res) => {
    res.setHeader(
      'WWW-Authenticate',
      `${String(res.getHeader('WWW-Authenticate'))}, Bearer realm="api"`,
    );
    res.status(401).end();
  },
);
// The same with a joined challenge that does not parse (the app's own mistake).
app.get(
  '/joined-malformed-401',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab })] }),
  (_req, res) => {
    res.setHeader(
      'WWW-Authenticate',
      `${String(res.getHeader('WWW-Authenticate'))}, Bearer realm="a, b`,
    );
    res.status(401).end();
  },
);
// The token re-spelled by the app (lower-case scheme) on a line that parses, and our challenge
// quoted inside the app's own malformed line.
app.get(
  '/respelled-401',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab })] }),
  (_req, res) => {
    const ours = String(res.getHeader('WWW-Authenticate'));
    res.setHeader(
      'WWW-Authenticate',
      `${ours.replace('Negotiate', 'negotiate')}, Bearer realm="api"`,
    );
    res.status(401).end();
  },
);
app.get(
  '/quoted-malformed-401',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab })] }),
  (_req, res) => {
    const ours = String(res.getHeader('WWW-Authenticate'));
    res.setHeader('WWW-Authenticate', `Bearer d="was: ${ours}, retry", realm=@@, ${ours}`);
    res.status(401).end();
  },
);
// writeHead given the status as a string, which Node takes (`statusCode |= 0`) as a JavaScript
// application may pass it.
app.get(
  '/string-status/:code',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab })] }),
  (req, res) => {
    res.writeHead(req.params.code as unknown as number).end();
  },
);
// A writeHead that throws (a bad header name), then another answer: `/throw/200/401` checks that
// the 401 still loses the token, `/throw/401/403` that the 403 gets back the token the failed
// 401 had withdrawn.
app.get(
  '/throw/:first/:then',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab })] }),
  (req, res) => {
    try {
      res.writeHead(Number(req.params.first), { 'bad header': 'x' });
    } catch {
      res.status(Number(req.params.then)).end();
    }
  },
);
// Challenges and never accepts: curl answers with a fresh token that no acceptor has seen yet.
app.get('/challenge-only', (_req, res) => {
  res.status(401).set('WWW-Authenticate', 'Negotiate').end();
});
// Refusals go to the error handler below, which shows their code and message (what a logger sees).
app.get(
  '/reasons',
  authenticate({ onFailure: 'next', schemes: [negotiate({ servicePrincipal, keytab })] }),
  show,
);
// The same, for principals GSSAPI accepted and the checks after it refuse.
app.get(
  '/reasons-realm',
  authenticate({
    onFailure: 'next',
    schemes: [negotiate({ servicePrincipal, keytab, realms: ['OTHER.TEST'] })],
  }),
  show,
);
app.get(
  '/reasons-verify',
  authenticate({
    onFailure: 'next',
    schemes: [negotiate({ servicePrincipal, keytab, verify: () => false })],
  }),
  show,
);
// The keytab holds no key for this service: the acceptor cannot be set up.
app.get(
  '/no-key',
  authenticate({ schemes: [negotiate({ servicePrincipal: 'HTTP@nokey.test', keytab })] }),
  show,
);
// Express 5's default handler would print the stack; answer with the status alone.
app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
  const {
    status = 500,
    code,
    message,
    user,
  } = err as { status?: number; code?: string; message?: string; user?: string };
  if (req.path.startsWith('/reasons')) res.status(status).json({ code, message, user });
  else res.status(status).json({ error: status === 500 ? 'server error' : 'refused' });
});

/** The HTTP/2 server, when a certificate is given: `/` as above, answered with the HTTP version. */
function startHttp2(key: string, cert: string): Promise<http2.Http2SecureServer> {
  const guard = authenticate({ schemes: [negotiate({ servicePrincipal, keytab: keytab! })] });
  // allowHTTP1: Chromium answers Negotiate on HTTP/1.1 only; after a Negotiate 401 over HTTP/2 it
  // comes back on a new connection that offers http/1.1 alone (docs/negotiate.md).
  const h2 = http2.createSecureServer(
    { key: fs.readFileSync(key), cert: fs.readFileSync(cert), allowHTTP1: true },
    (req, res) => {
      guard(req, res, (err) => {
        res.setHeader('content-type', 'application/json');
        if (err !== undefined) {
          res.statusCode = 500;
          res.end(JSON.stringify({ error: 'server error' }));
          return;
        }
        if (req.url === '/forbidden' || req.url === '/unauthorized') {
          res.statusCode = req.url === '/forbidden' ? 403 : 401;
          res.end();
          return;
        }
        const { auth } = req as unknown as { auth?: unknown };
        res.end(JSON.stringify({ auth, version: req.httpVersion }));
      });
    },
  );
  return new Promise((resolve) => h2.listen(0, '127.0.0.1', () => resolve(h2)));
}

const server = http.createServer(app);
server.listen(0, '127.0.0.1', () => {
  const port = (server.address() as AddressInfo).port;
  const { NEGOTIATE_TLS_KEY: key, NEGOTIATE_TLS_CERT: cert } = process.env;
  if (key === undefined || cert === undefined) {
    process.stdout.write(`listening ${port}\n`);
    return;
  }
  void startHttp2(key, cert).then((h2) => {
    process.on('SIGTERM', () => h2.close());
    process.stdout.write(`listening ${port} h2 ${(h2.address() as AddressInfo).port}\n`);
  });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
