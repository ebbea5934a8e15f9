/**
 * A small forward proxy for plain-HTTP requests in absolute form (`GET http://host:port/path`),
 * protected by `authenticate({ proxy: true })`: clients without valid `Proxy-Authorization` get
 * `407 Proxy Authentication Required` with `Proxy-Authenticate` challenges (RFC 9110 §11.7).
 *
 * It strips `Proxy-Authorization` (and the other hop-by-hop fields) before forwarding, and leaves
 * `Authorization` alone: that one is for the origin server (RFC 9110 §11.7.2, §7.6.1).
 *
 * Run it on its own with `npx tsx examples/proxy/server.ts` (PORT, default 3001), or let the demo
 * (`npm start`) start it beside the landing page.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { authenticate, basic, digest } from '../../src/index';
import type { Scheme } from '../../src/index';

export interface ProxyOptions {
  /** The schemes the proxy accepts, strongest first. Default: Digest (SHA-256, MD5) and Basic for {@link PROXY_USERS}. */
  schemes?: Scheme[];
  /** Realm of the proxy's challenges. Default `"proxy"`. */
  realm?: string;
  /**
   * Which targets the proxy forwards to. Default: loopback hosts only, so that the example never
   * becomes an open relay.
   */
  isAllowedTarget?: (target: URL) => boolean;
  /** Milliseconds to wait for the origin server. Default 10 000. */
  upstreamTimeout?: number;
}

/** The demo proxy's users (user name → password). */
export const PROXY_USERS: Readonly<Record<string, string>> = Object.freeze({ bob: 'builder' });

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function isLoopback(target: URL): boolean {
  return LOOPBACK_HOSTS.has(target.hostname);
}

// RFC 9110 §7.6.1: connection-specific fields, never forwarded. Proxy-Authorization is consumed
// by this proxy (§11.7.2); Proxy-Connection is a legacy client field that some clients still send.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Copies headers, dropping hop-by-hop fields and any field the Connection header names. */
export function forwardableHeaders(
  headers: IncomingHttpHeaders,
): Record<string, string | string[]> {
  const named = new Set(HOP_BY_HOP);
  const connection = headers.connection;
  if (connection !== undefined) {
    for (const token of connection.split(',')) named.add(token.trim().toLowerCase());
  }
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function sendText(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function forward(req: IncomingMessage, res: ServerResponse, target: URL, timeout: number): void {
  const headers = forwardableHeaders(req.headers);
  headers.host = target.host;
  headers.via = req.headers.via
    ? `${req.headers.via}, 1.1 authscheme-proxy`
    : '1.1 authscheme-proxy';
  const upstream = httpRequest(
    {
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port || 80,
      method: req.method,
      path: target.pathname + target.search,
      headers,
      timeout,
    },
    (upstreamRes) => {
      const responseHeaders = forwardableHeaders(upstreamRes.headers);
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, responseHeaders);
      upstreamRes.pipe(res);
    },
  );
  upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')));
  upstream.on('error', () => sendText(res, 502, 'Bad Gateway'));
  req.pipe(upstream);
}

/**
 * Builds the proxy as a plain `node:http` server (not listening yet).
 *
 * @example
 * const proxy = createProxyServer();
 * proxy.listen(3001, '127.0.0.1');
 * // curl --proxy http://127.0.0.1:3001 --proxy-user bob:builder --proxy-basic -u alice:wonderland http://127.0.0.1:3000/via-proxy
 */
export function createProxyServer(options: ProxyOptions = {}): Server {
  const schemes = options.schemes ?? [
    digest({ users: { ...PROXY_USERS }, algorithms: ['SHA-256', 'MD5'] }),
    basic({ users: { ...PROXY_USERS } }),
  ];
  const guard = authenticate({ realm: options.realm ?? 'proxy', schemes, proxy: true });
  const isAllowedTarget = options.isAllowedTarget ?? isLoopback;
  const timeout = options.upstreamTimeout ?? 10_000;

  return createServer((req, res) => {
    // A forward proxy receives the absolute form (RFC 9112 §3.2.2); anything else is a request
    // for the proxy itself, which has no pages of its own.
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      sendText(res, 400, 'This is a forward proxy: send absolute-form requests (http://host/path)');
      return;
    }
    if (req.method === 'CONNECT' || target.protocol !== 'http:') {
      sendText(res, 501, 'Only plain-HTTP requests are proxied');
      return;
    }
    if (!isAllowedTarget(target)) {
      sendText(res, 403, 'Target not allowed by this proxy');
      return;
    }
    guard(req, res, (error?: unknown) => {
      if (error !== undefined) {
        sendText(res, 500, 'Internal Server Error');
        return;
      }
      forward(req, res, target, timeout);
    });
  });
}

/** Starts the proxy on `port` (0 for any free port) and resolves with the port it listens on. */
export async function listenProxy(
  server: Server,
  port: number,
  host = '127.0.0.1',
): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');
  return address.port;
}

if (require.main === module) {
  const server = createProxyServer();
  const port = Number(process.env.PORT ?? 3001);
  listenProxy(server, port, process.env.HOST ?? '127.0.0.1').then(
    (actual) => {
      console.log(`Forward proxy on http://127.0.0.1:${actual}`);
      for (const [user, password] of Object.entries(PROXY_USERS)) {
        console.log(`  user ${user}, password ${password}`);
      }
      console.log(
        `  curl --proxy http://127.0.0.1:${actual} --proxy-user bob:builder --proxy-basic -u alice:wonderland http://127.0.0.1:3000/via-proxy`,
      );
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
