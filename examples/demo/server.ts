/**
 * The authscheme playground (`npm start`): a landing page listing protected routes, one per
 * scheme, each showing what crossed the wire; a token endpoint for Bearer; and the forward proxy
 * of `examples/proxy` beside it for proxy authentication.
 *
 * `PORT` (default 3000) and `HOST` (default 127.0.0.1) configure it; the proxy listens on PORT+1.
 * Tests import {@link startDemo} and start it on port 0.
 */
import { createServer, STATUS_CODES } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { authenticate, basic, bearer, digest, requireScopes } from '../../src/index';
import type { Scheme } from '../../src/index';
import type { DigestAlgorithm } from '../../src/schemes/digest/algorithms';
import { createProxyServer, isLoopback, listenProxy, PROXY_USERS } from '../proxy/server';
import { html } from './html';
import { maskAuthorization } from './mask';
import { landingPage, tokenPage, wirePage } from './pages';
import type { RouteCard } from './pages';
import { DEMO_SCOPES, DemoTokenStore } from './tokens';

/** The demo user of every origin route. */
export const DEMO_USER = 'alice';
export const DEMO_PASSWORD = 'wonderland';
const USERS = { [DEMO_USER]: DEMO_PASSWORD };
const [PROXY_USER, PROXY_PASSWORD] = Object.entries(PROXY_USERS)[0] ?? ['', ''];

/** The Digest algorithms with a route of their own, `/digest/<lower-case name>`. */
export const DEMO_DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = [
  'SHA-256',
  'MD5',
  'SHA-512-256',
  'SHA-256-sess',
  'MD5-sess',
  'SHA-512-256-sess',
];

interface Refusal {
  status: number;
  header: string;
  lines: string[];
  at: string;
}

interface DemoRoute {
  card: RouteCard;
  /** Middleware run before the page: the guard, and e.g. a scope check. */
  guards: RequestHandler[];
}

/** What {@link createDemoApp} builds. */
export interface DemoApp {
  app: express.Express;
  tokens: DemoTokenStore;
  /** A token for the demo user with scope `read`, issued at start (shown on the landing page). */
  readToken: string;
  /** Sets the origins printed in curl lines once the ports are known. */
  setOrigins(origin: string, proxyOrigin: string): void;
}

/** Records the challenges of each refusal, so that the page can show what the client was sent. */
function recordRefusals(store: Map<string, Refusal>, key: string): RequestHandler {
  return (_req, res, next) => {
    res.on('finish', () => {
      const header = res.statusCode === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate';
      const value = res.getHeader(header);
      if (res.statusCode < 400 || value === undefined) return;
      const lines = Array.isArray(value) ? value.map(String) : [String(value)];
      store.set(key, { status: res.statusCode, header, lines, at: new Date().toISOString() });
    });
    next();
  };
}

/** JSON for clients that do not ask for HTML (curl, wget, urllib send `Accept: *\/*` or none). */
function wantsHtml(req: Request): boolean {
  return (req.headers.accept ?? '').includes('text/html');
}

function scopesOf(body: unknown, query: unknown): string[] {
  const raw =
    (body as { scope?: unknown } | undefined)?.scope ??
    (query as { scope?: unknown }).scope ??
    'read';
  const list = (Array.isArray(raw) ? raw : [raw]).flatMap((item) => String(item).split(' '));
  return (DEMO_SCOPES as readonly string[]).filter((scope) => list.includes(scope));
}

/** The 4xx or 5xx an error carries (as body-parser's and ours do), else 500. */
function httpStatusOf(error: unknown): number {
  const { status, statusCode } = (error ?? {}) as { status?: unknown; statusCode?: unknown };
  const given = status ?? statusCode;
  return Number.isInteger(given) && (given as number) >= 400 && (given as number) <= 599
    ? (given as number)
    : 500;
}

/** Builds the demo's Express app (not listening). */
export function createDemoApp(): DemoApp {
  const app = express();
  const tokens = new DemoTokenStore();
  const readToken = tokens.issue(DEMO_USER, ['read'], { pinned: true }).token;
  const refusals = new Map<string, Refusal>();
  let origin = 'http://localhost:3000';
  let proxyOrigin = 'http://localhost:3001';

  const basicScheme = (): Scheme => basic({ users: USERS });
  const bearerScheme = (): Scheme => bearer({ verify: (token: string) => tokens.verify(token) });
  const guard = (realm: string, schemes: Scheme[]): RequestHandler =>
    authenticate({ realm, schemes });

  const digestRoutes: DemoRoute[] = DEMO_DIGEST_ALGORITHMS.map((algorithm) => ({
    card: {
      path: `/digest/${algorithm.toLowerCase()}`,
      title: `Digest ${algorithm}`,
      schemes: [`Digest algorithm=${algorithm}`],
      description:
        algorithm === 'SHA-256' || algorithm === 'MD5'
          ? `RFC 7616 Digest with ${algorithm}, qop=auth, HMAC-signed nonces. The password never crosses the wire.`
          : `RFC 7616 Digest with ${algorithm} only: see the interop matrix for which clients speak it.`,
      credentials: `${DEMO_USER} / ${DEMO_PASSWORD}`,
      curl: [
        `curl --digest -u ${DEMO_USER}:${DEMO_PASSWORD} {origin}/digest/${algorithm.toLowerCase()}`,
      ],
    },
    guards: [guard('demo', [digest({ users: USERS, algorithms: [algorithm] })])],
  }));

  const routes: DemoRoute[] = [
    {
      card: {
        path: '/basic',
        title: 'Basic',
        schemes: ['Basic'],
        description: 'RFC 7617 Basic: user and password in base64. Use it over TLS only.',
        credentials: `${DEMO_USER} / ${DEMO_PASSWORD}`,
        curl: [`curl -u ${DEMO_USER}:${DEMO_PASSWORD} {origin}/basic`],
      },
      guards: [guard('demo', [basicScheme()])],
    },
    ...digestRoutes.slice(0, 2),
    {
      card: {
        path: '/bearer',
        title: 'Bearer',
        schemes: ['Bearer'],
        description:
          'RFC 6750 Bearer tokens. Get one from /token (Basic or Digest as the demo user), or use the read token below.',
        credentials: 'a token from /token',
        curl: [
          `curl -H 'Authorization: Bearer {readToken}' {origin}/bearer`,
          `TOKEN=$(curl -s -u ${DEMO_USER}:${DEMO_PASSWORD} -d scope=read {origin}/token | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')`,
          `curl -H "Authorization: Bearer $TOKEN" {origin}/bearer`,
        ],
      },
      guards: [guard('demo', [bearerScheme()])],
    },
    {
      card: {
        path: '/multi',
        title: 'Several schemes at once',
        schemes: ['Digest SHA-256', 'Digest MD5', 'Basic', 'Bearer'],
        description:
          'One WWW-Authenticate line per challenge, strongest first; the client picks one it speaks.',
        credentials: `${DEMO_USER} / ${DEMO_PASSWORD}, or a token`,
        curl: [
          `curl --anyauth -u ${DEMO_USER}:${DEMO_PASSWORD} {origin}/multi`,
          `curl -H 'Authorization: Bearer {readToken}' {origin}/multi`,
        ],
      },
      guards: [
        guard('demo', [
          digest({ users: USERS, algorithms: ['SHA-256', 'MD5'] }),
          basicScheme(),
          bearerScheme(),
        ]),
      ],
    },
    {
      card: {
        path: '/admin',
        title: 'Bearer with a required scope',
        schemes: ['Bearer', 'scope=admin'],
        description:
          'requireScopes("admin"): a token without the scope gets 403 with error="insufficient_scope" (RFC 6750 §3.1).',
        credentials: 'a token with scope admin from /token',
        curl: [
          `curl -i -H 'Authorization: Bearer {readToken}' {origin}/admin   # 403: read only`,
          `TOKEN=$(curl -s -u ${DEMO_USER}:${DEMO_PASSWORD} -d scope=admin {origin}/token | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')`,
          `curl -H "Authorization: Bearer $TOKEN" {origin}/admin`,
        ],
      },
      guards: [guard('demo', [bearerScheme()]), requireScopes({ allOf: ['admin'], realm: 'demo' })],
    },
    {
      card: {
        path: '/via-proxy',
        title: 'Through the authenticating proxy',
        schemes: ['Proxy: Digest SHA-256, MD5, Basic', 'Origin: Basic'],
        description:
          'The forward proxy answers 407 with Proxy-Authenticate, checks Proxy-Authorization, strips it and forwards Authorization untouched. The page lists the request headers that reached the origin.',
        credentials: `proxy ${PROXY_USER} / ${PROXY_PASSWORD}; origin ${DEMO_USER} / ${DEMO_PASSWORD}`,
        curl: [
          `curl --proxy {proxyOrigin} --proxy-user ${PROXY_USER}:${PROXY_PASSWORD} --proxy-basic -u ${DEMO_USER}:${DEMO_PASSWORD} {origin}/via-proxy`,
          `curl --proxy {proxyOrigin} --proxy-user ${PROXY_USER}:${PROXY_PASSWORD} --proxy-digest -u ${DEMO_USER}:${DEMO_PASSWORD} {origin}/via-proxy`,
        ],
      },
      guards: [guard('demo', [basicScheme()])],
    },
    ...digestRoutes.slice(2),
  ];

  const fill = (line: string): string =>
    line
      .replaceAll('{origin}', origin)
      .replaceAll('{proxyOrigin}', proxyOrigin)
      .replaceAll('{readToken}', readToken);

  app.disable('x-powered-by');

  app.get('/', (_req, res) => {
    res.type('html').send(
      landingPage({
        origin,
        proxyOrigin,
        routes: routes.map(({ card }) => ({ ...card, curl: card.curl.map(fill) })),
        user: DEMO_USER,
        password: DEMO_PASSWORD,
        proxyUser: PROXY_USER,
        proxyPassword: PROXY_PASSWORD,
      }),
    );
  });

  for (const route of routes) {
    const { path, title } = route.card;
    app.get(
      path,
      recordRefusals(refusals, path),
      ...route.guards,
      (req: Request, res: Response) => {
        const { header: authorization, parsed } = maskAuthorization(req.headers.authorization);
        const auth = (req as { auth?: unknown }).auth;
        const responseHeaders: Record<string, string> = {};
        const info = res.getHeader('Authentication-Info');
        if (info !== undefined) responseHeaders['Authentication-Info'] = String(info);
        const forwarded =
          path === '/via-proxy'
            ? {
                via: req.headers.via ?? null,
                proxyAuthorizationReachedOrigin: req.headers['proxy-authorization'] !== undefined,
                headerNames: Object.keys(req.headers).sort(),
              }
            : undefined;
        res.vary('Accept'); // HTML for browsers, JSON for the rest
        if (!wantsHtml(req)) {
          res.json({ route: path, auth, authorization, credentials: parsed, forwarded });
          return;
        }
        res.type('html').send(
          wirePage({
            title,
            path: `${origin}${path}`,
            lastChallenge: refusals.get(path),
            authorization,
            parsed,
            auth,
            responseHeaders,
            extra:
              forwarded === undefined
                ? undefined
                : html`<h2>What the proxy forwarded</h2>
                    <p class="muted">
                      <code>Via</code> shows the hop; <code>Proxy-Authorization</code> never reaches
                      the origin.
                    </p>
                    <pre>${JSON.stringify(forwarded, null, 2)}</pre>`,
          }),
        );
      },
    );
  }

  // RFC 6749-style token endpoint for the demo user (client credentials, in spirit).
  const tokenGuard = guard('demo', [
    digest({ users: USERS, algorithms: ['SHA-256', 'MD5'] }),
    basicScheme(),
  ]);
  app.get('/token', tokenGuard, (req: Request, res: Response) => {
    const user = String((req as { auth?: { user?: unknown } }).auth?.user);
    res.type('html').send(tokenPage({ user, origin }));
  });
  app.post(
    '/token',
    tokenGuard,
    express.urlencoded({ extended: false, limit: '1kb' }),
    (req, res) => {
      const user = String((req as { auth?: { user?: unknown } }).auth?.user);
      const scopes = scopesOf(req.body, req.query);
      const { token, expiresIn } = tokens.issue(user, scopes);
      res.setHeader('Cache-Control', 'no-store'); // RFC 6749 §5.1
      res.vary('Accept');
      if (wantsHtml(req)) {
        res
          .type('html')
          .send(tokenPage({ user, origin, issued: { token, scope: scopes.join(' '), expiresIn } }));
        return;
      }
      res.json({
        access_token: token,
        token_type: 'Bearer',
        expires_in: expiresIn,
        scope: scopes.join(' '),
      });
    },
  );

  // Express's own error page shows the stack trace (file paths) unless NODE_ENV=production: the
  // demo answers with the status alone, e.g. a 413 for a /token body over 1 KB, and logs a 5xx.
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const status = httpStatusOf(error);
    if (status >= 500) console.error(error);
    res
      .status(status)
      .type('text')
      .send(`${STATUS_CODES[status] ?? 'Error'}\n`);
  });

  return {
    app,
    tokens,
    readToken,
    setOrigins(nextOrigin, nextProxyOrigin) {
      origin = nextOrigin;
      proxyOrigin = nextProxyOrigin;
    },
  };
}

/** A running demo: the landing page's server and the proxy beside it. */
export interface RunningDemo {
  demo: DemoApp;
  /** e.g. `http://127.0.0.1:3000` */
  origin: string;
  /** e.g. `http://127.0.0.1:3001` */
  proxyOrigin: string;
  close(): Promise<void>;
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Starts the demo and its proxy. Port 0 picks free ports (tests); otherwise the proxy takes
 * `port + 1` unless `proxyPort` says otherwise.
 */
export async function startDemo(
  options: { port?: number; proxyPort?: number; host?: string; publicHost?: string } = {},
): Promise<RunningDemo> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 3000;
  const demo = createDemoApp();
  const appServer = createServer(demo.app);
  const actualPort = await listen(appServer, port, host);
  const publicHost =
    options.publicHost ??
    (host === '127.0.0.1' || host === '::' || host === '0.0.0.0' ? 'localhost' : host);
  // An IPv6 address goes in brackets in a URL (RFC 3986 §3.2.2), as URL's hostname gives it.
  const urlHost = publicHost.includes(':') ? `[${publicHost}]` : publicHost;
  // The demo's proxy reaches the playground and nothing else: with HOST set to a public address,
  // anyone holding the published proxy password could otherwise tunnel to every loopback-only
  // service of the machine. Loopback names reach the playground only where it listens on loopback
  // or everywhere: with HOST a single other address, 127.0.0.1 on that port is another service.
  const onLoopback = ['127.0.0.1', '::', '0.0.0.0', '::1', 'localhost'].includes(host);
  const proxy = createProxyServer({
    isAllowedTarget: (target) =>
      Number(target.port || 80) === actualPort &&
      ((onLoopback && isLoopback(target)) || target.hostname === urlHost),
  });
  let proxyPort: number;
  try {
    proxyPort = await listenProxy(proxy, options.proxyPort ?? (port === 0 ? 0 : port + 1), host);
  } catch (error) {
    await closeServer(appServer);
    throw error;
  }
  const origin = `http://${urlHost}:${actualPort}`;
  const proxyOrigin = `http://${urlHost}:${proxyPort}`;
  demo.setOrigins(origin, proxyOrigin);
  return {
    demo,
    origin,
    proxyOrigin,
    close: async () => {
      await Promise.all([closeServer(appServer), closeServer(proxy)]);
    },
  };
}

async function main(): Promise<void> {
  const running = await startDemo({
    port: Number(process.env.PORT ?? 3000),
    host: process.env.HOST ?? '127.0.0.1',
  });
  const { origin, proxyOrigin, demo } = running;
  console.log(`authscheme playground on ${origin}/`);
  console.log(`  demo user      ${DEMO_USER} / ${DEMO_PASSWORD}`);
  console.log(`  forward proxy  ${proxyOrigin} (user ${PROXY_USER} / ${PROXY_PASSWORD})`);
  console.log(`  bearer token   ${demo.readToken} (scope read; more at ${origin}/token)`);
  console.log('');
  console.log(`  curl -u ${DEMO_USER}:${DEMO_PASSWORD} ${origin}/basic`);
  console.log(`  curl --digest -u ${DEMO_USER}:${DEMO_PASSWORD} ${origin}/digest/sha-256`);
  console.log(`  curl -H 'Authorization: Bearer ${demo.readToken}' ${origin}/bearer`);
  console.log(
    `  curl --proxy ${proxyOrigin} --proxy-user ${PROXY_USER}:${PROXY_PASSWORD} --proxy-basic -u ${DEMO_USER}:${DEMO_PASSWORD} ${origin}/via-proxy`,
  );
  console.log('\nCtrl-C to stop.');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: closing`);
    running.close().then(
      () => undefined,
      (error: unknown) => {
        console.error(error);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
