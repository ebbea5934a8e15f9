/**
 * What the forward-authentication tests (forward-auth-nginx.test.ts, forward-auth-caddy.test.ts)
 * share: the app behind the proxy (its check paths, and an upstream that records what it served),
 * curl's last response, and waiting for the proxy to listen.
 */
import { connect, type Server } from 'node:net';
import express from 'express';
import { authenticate, type Scheme } from 'authscheme';
import { freePort } from '../../helpers/free-port';
import { run } from './run';

/** The one Digest (and Basic) user. */
export const USERS: Readonly<Record<string, string>> = { alice: 'wonderland' };

/** A check path's handlers: `schemes` under the realm `files`, then a 204. */
export function check(...schemes: Scheme[]): express.RequestHandler[] {
  return [
    authenticate({ realm: 'files', schemes }),
    (_req, res) => {
      res.sendStatus(204);
    },
  ];
}

/** A check the app received: method, URL and header lines as sent. */
export interface CheckRequest {
  method: string;
  url: string;
  rawHeaders: string[];
}

export interface ForwardAuthApp {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** What the upstream served, as `METHOD url body`. */
  served: string[];
  /** Every request to a check path (`/_auth/...`), in order. */
  checks: CheckRequest[];
  close(): Promise<void>;
}

/**
 * The app on 127.0.0.1: each of `checks` at `/_auth/<name>`, and everything else the upstream the
 * proxy guards (it trusts the proxy, which asked a check first).
 */
export async function startForwardAuthApp(
  checks: Record<string, express.RequestHandler[]>,
): Promise<ForwardAuthApp> {
  const served: string[] = [];
  const received: CheckRequest[] = [];
  const app = express();
  app.use('/_auth', (req, _res, next) => {
    received.push({ method: req.method, url: req.originalUrl, rawHeaders: req.rawHeaders });
    next();
  });
  for (const [name, handlers] of Object.entries(checks)) app.get(`/_auth/${name}`, ...handlers);
  app.use(express.text({ type: () => true }), (req, res) => {
    served.push(`${req.method} ${req.originalUrl} ${typeof req.body === 'string' ? req.body : ''}`);
    res.send(`served ${req.method} ${req.originalUrl}`);
  });
  const port = await freePort();
  const server: Server = app.listen(port, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    origin: `http://127.0.0.1:${port}`,
    served,
    checks: received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Resolves once something listens on 127.0.0.1:`port` (within 10 s). */
export function waitForPort(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const attempt = (): void => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** curl's last response (after a Digest round trip, the second): status, head and body. */
export async function curl(
  args: string[],
): Promise<{ status: number; head: string; body: string }> {
  const { code, stdout, stderr } = await run('curl', ['-s', '-S', '-i', ...args]);
  if (code !== 0) throw new Error(`curl exited with ${code}: ${stderr}`);
  const responses = stdout.split(/\r\n\r\n(?=HTTP\/)/);
  const last = responses.at(-1)!;
  const [head = '', body = ''] = last.split('\r\n\r\n');
  return { status: Number(/^HTTP\/\S+ (\d{3})/.exec(head)?.[1]), head, body };
}

/** `curl --digest` as alice POSTing `payload` (text/plain) to `url`: the body goes to the app. */
export function curlDigestPost(url: string): ReturnType<typeof curl> {
  return curl([
    '--digest',
    '-u',
    `alice:${USERS.alice}`,
    '-X',
    'POST',
    '--data-binary',
    'payload',
    '-H',
    'Content-Type: text/plain',
    url,
  ]);
}
