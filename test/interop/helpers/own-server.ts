/**
 * A server of a client test's own, beside the demo, for what the demo does not offer (a realm
 * beyond ASCII, auth-int, userhash, a clock to move): routes guarded by `authenticate()` as each
 * case needs, and a record of what reached the server.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { authenticate } from 'authscheme';
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
