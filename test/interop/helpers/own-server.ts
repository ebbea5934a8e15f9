/**
 * A server of a client test's own, beside the demo, for what the demo does not offer (a realm
 * beyond ASCII, auth-int, userhash, a clock to move): routes guarded by `authenticate()` as each
 * case needs, and a record of what reached the server.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { authenticate, basic, digest } from 'authscheme';
import type { Scheme } from 'authscheme';

export interface Received {
  /** `req.originalUrl`. */
  path: string;
  /** The Authorization field as it reached the server, one byte a character (Node's view). */
  authorization: string | undefined;
  status: number;
}

export interface OwnServer {
  /** e.g. `http://127.0.0.1:40123` */
  origin: string;
  /** Every request, in the order of their responses. */
  received: Received[];
  close(): Promise<void>;
}

/** Guards `path` (and what lies under it) with `schemes` in `realm`. */
export type Guard = (path: string, realm: string, ...schemes: Scheme[]) => void;

/**
 * Starts the server on 127.0.0.1. `setup` adds the guards (or, on `app`, middleware of its own);
 * `now` is a clock for `digest({ now })` that `GET /advance` moves 10 minutes on (nonces of a
 * 5-minute lifetime then expire). Every guarded request that gets through is answered with
 * `{ auth: req.auth }`; errors go to Express's default handler.
 */
export async function startOwnServer(
  setup: (guard: Guard, now: () => number, app: Express) => void,
): Promise<OwnServer> {
  const received: Received[] = [];
  let clock = Date.now();
  const app = express();
  app.use((req, res, next) => {
    const authorization = req.headers.authorization;
    res.on('finish', () => {
      received.push({ path: req.originalUrl, authorization, status: res.statusCode });
    });
    next();
  });
  app.get('/advance', (_req, res) => {
    clock += 10 * 60_000;
    res.json({ clock });
  });
  setup(
    (path, realm, ...schemes) => {
      // The raw body, for auth-int.
      app.use(path, express.raw({ type: '*/*' }), authenticate({ realm, schemes }));
    },
    () => clock,
    app,
  );
  app.use((req, res) => res.json({ auth: (req as { auth?: unknown }).auth }));
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * {@link startOwnServer} for the describe block this is called in: started before its tests,
 * closed after them. Its `origin` and `received` are read once the tests run.
 */
export function ownServerForThisBlock(
  setup: Parameters<typeof startOwnServer>[0],
): Pick<OwnServer, 'origin' | 'received'> {
  let server: OwnServer | undefined;
  beforeAll(async () => {
    server = await startOwnServer(setup);
  });
  afterAll(() => server?.close());
  const started = (): OwnServer => {
    if (server === undefined) throw new Error('the server is read before its beforeAll ran');
    return server;
  };
  return {
    get origin() {
      return started().origin;
    },
    get received() {
      return started().received;
    },
  };
}

/** The Authorization fields that reached `path`, oldest first. */
export function authorizationsAt(
  server: Pick<OwnServer, 'received'>,
  path: string,
): Array<string | undefined> {
  return server.received.filter((r) => r.path === path).map((r) => r.authorization);
}

/**
 * The routes the scripted clients' tests (Perl, Ruby) both guard, for `users`, in realm `own`:
 * `/basic`; MD5 Digest (`/digest`), with a 5-minute nonce that `GET /advance` outlives
 * (`/stale`), with qop auth-int alone or beside auth, with userhash, with MD5 offered before
 * SHA-256 (`/md5-first`); and under `réalm` as ISO-8859-1 (`/latin1-realm`) and as its UTF-8
 * octets (`/utf8-realm`).
 */
export function guardCommonRoutes(
  guard: Guard,
  now: () => number,
  users: Record<string, string>,
): void {
  const md5 = { users, algorithms: ['MD5'] } as const;
  guard('/basic', 'own', basic({ users }));
  guard('/digest', 'own', digest(md5));
  guard('/stale', 'own', digest({ ...md5, nonceLifetime: 5 * 60_000, now }));
  guard('/auth-int', 'own', digest({ ...md5, qop: ['auth-int'] }));
  guard('/auth-or-auth-int', 'own', digest({ ...md5, qop: ['auth', 'auth-int'] }));
  guard('/userhash', 'own', digest({ ...md5, userhash: true }));
  guard('/md5-first', 'own', digest({ users, algorithms: ['MD5', 'SHA-256'] }));
  guard('/latin1-realm', 'r\u00e9alm', digest(md5));
  guard('/utf8-realm', Buffer.from('r\u00e9alm', 'utf8').toString('latin1'), digest(md5));
}
