/**
 * A small forward proxy for plain-HTTP requests in absolute form (`GET http://host:port/path`) and
 * for tunnels (`CONNECT host:port`, how clients reach https origins through a proxy), protected by
 * `authenticate({ proxy: true })`: clients without valid `Proxy-Authorization` get
 * `407 Proxy Authentication Required` with `Proxy-Authenticate` challenges (RFC 9110 §11.7).
 *
 * It strips `Proxy-Authorization` (and the other hop-by-hop fields) before forwarding, and leaves
 * `Authorization` alone: that one is for the origin server (RFC 9110 §11.7.2, §7.6.1). It counts
 * `Max-Forwards` down on OPTIONS and TRACE and answers them itself at 0 (§7.6.2).
 *
 * Run it on its own with `npx tsx examples/proxy/server.ts` (PORT, default 3001), or let the demo
 * (`npm start`) start it beside the landing page.
 */
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import {
  createServer,
  request as httpRequest,
  ServerResponse as HttpServerResponse,
} from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { authenticate, basic, digest } from '../../src/index';
import type { Scheme } from '../../src/index';

export interface ProxyOptions {
  /** The schemes the proxy accepts, strongest first. Default: Digest (SHA-256, MD5) and Basic for {@link PROXY_USERS}. */
  schemes?: Scheme[];
  /** Realm of the proxy's challenges. Default `"proxy"`. */
  realm?: string;
  /**
   * Which targets the proxy forwards to. Default: loopback hosts only (any port but the proxy's
   * own), so that the example never becomes an open relay. Listening where others reach it, the
   * default would still let them reach this machine's loopback-only services: give a narrower
   * check then, as the demo does (its own playground port only).
   */
  isAllowedTarget?: (target: URL) => boolean;
  /** Milliseconds to wait for the origin server. Default 10 000. */
  upstreamTimeout?: number;
  /**
   * Milliseconds an established tunnel may go without a byte either way before both ends are
   * closed, so that abandoned tunnels do not hold sockets for ever. Default 300 000; 0 disables.
   */
  tunnelIdleTimeout?: number;
}

/** The demo proxy's users (user name → password). */
export const PROXY_USERS: Readonly<Record<string, string>> = Object.freeze({ bob: 'builder' });

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function isLoopback(target: URL): boolean {
  return LOOPBACK_HOSTS.has(target.hostname);
}

// RFC 9110 §7.6.1: connection-specific fields, never forwarded. Proxy-Authorization is consumed
// by this proxy (§11.7.2); Proxy-Connection is a legacy client field that some clients still send.
// An upstream proxy's Proxy-Authenticate and Proxy-Authentication-Info are for this proxy alone
// (RFC 7615 §4: the next outbound client); forwarded, the latter would replace this proxy's own
// (Digest's rspauth) on the way to the client.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'proxy-authentication-info',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Copies headers, dropping hop-by-hop fields and any field the Connection header names, except
 * Content-Length: it frames the body forwarded as it came (RFC 9112 §6.3). Dropped on a client's
 * say-so, Node would send that body unframed, and the origin read it as a request of its own
 * that the guard never saw, whose answer could go to the next client on that connection.
 */
export function forwardableHeaders(
  headers: IncomingHttpHeaders,
): Record<string, string | string[]> {
  const named = new Set(HOP_BY_HOP);
  const connection = headers.connection;
  if (connection !== undefined) {
    for (const token of connection.split(',')) named.add(token.trim().toLowerCase());
  }
  named.delete('content-length');
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

/**
 * The path and query of an absolute-form request target as the client wrote them. RFC 9110 §7.7:
 * a proxy must not rewrite them, where the URL parser resolves `..` and turns `\\` into `/`.
 */
function originForm(absoluteForm: string, method: string | undefined): string {
  const authority = absoluteForm.indexOf('//') + 2;
  const pathStart = absoluteForm.slice(authority).search(/[/\\?#]/);
  // RFC 9112 §3.2.4: an OPTIONS for a URI with an empty path and no query asks about the server
  // as a whole, and the last proxy forwards it as `OPTIONS *`.
  if (pathStart === -1) return method === 'OPTIONS' ? '*' : '/';
  const rest = absoluteForm.slice(authority + pathStart).split('#', 1)[0]!;
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/**
 * The origin's response headers, with what the guard set on `res` kept: `writeHead` would let the
 * origin's `Cache-Control` and `Vary` replace the guard's `private` and `Vary:
 * Proxy-Authorization`, and a cache in front of the proxy could then serve one user's response to
 * another. The origin's `public` and `s-maxage` go (RFC 9111 §5.2.2.7: shared caches must not
 * store a `private` response; the two would contradict it).
 */
function keepGuardHeaders(
  res: ServerResponse,
  headers: Record<string, string | string[]>,
): Record<string, string | string[]> {
  const ours = res.getHeader('cache-control');
  const theirs = headers['cache-control'];
  if (ours !== undefined && theirs !== undefined) {
    const kept = String(theirs)
      .split(',')
      .map((directive) => directive.trim())
      .filter((directive) => directive !== '' && !/^(public|s-maxage)\b/i.test(directive));
    headers['cache-control'] = [...kept, String(ours)].join(', ');
  }
  const vary = res.getHeader('vary');
  if (vary !== undefined && headers.vary !== undefined) {
    headers.vary = `${String(headers.vary)}, ${String(vary)}`;
  }
  return headers;
}

function forward(
  req: IncomingMessage,
  res: ServerResponse,
  target: URL,
  timeout: number,
  maxForwards: bigint | undefined,
): void {
  const headers = forwardableHeaders(req.headers);
  headers.host = target.host;
  if (maxForwards !== undefined) headers['max-forwards'] = String(maxForwards);
  // Node decoded a chunked body, and sends one unframed on methods it does not expect a body on:
  // the origin would read the bytes as a request of their own. Chunked again, it reads a body.
  if (req.headers['transfer-encoding'] !== undefined) headers['transfer-encoding'] = 'chunked';
  headers.via = withVia(req.headers.via);
  // RFC 9110 §10.1.1: an HTTP/1.0 client's expectation is ignored (it would get no 100 either).
  if (req.httpVersion === '1.0') delete headers.expect;
  const upstream = httpRequest(
    {
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port || 80,
      method: req.method,
      path: originForm(req.url ?? '', req.method),
      headers,
      timeout,
    },
    (upstreamRes) => {
      // RFC 9110 §15: final statuses are 200 to 599 here (Node passes 1xx but 101 on, and 101
      // below); RFC 9112 §4: a reason phrase of HTAB, SP, VCHAR and obs-text. Node's parser takes
      // more, and writeHead would throw on it, outside any handler: an invalid response is a 502.
      const status = upstreamRes.statusCode ?? 0;
      const reason = upstreamRes.statusMessage ?? '';
      if (status < 200 || status > 599 || !/^[\t\x20-\x7e\x80-\xff]*$/.test(reason)) {
        upstream.destroy();
        sendText(res, 502, 'Bad Gateway');
        return;
      }
      const responseHeaders = keepGuardHeaders(res, forwardableHeaders(upstreamRes.headers));
      responseHeaders.via = withVia(upstreamRes.headers.via); // RFC 9110 §7.6.3
      res.writeHead(status, reason, responseHeaders);
      // An origin that drops the connection mid-body: so does the proxy, so that the client sees
      // the message cut short (RFC 9112 §8) instead of waiting for the rest for ever.
      upstreamRes.on('close', () => {
        if (!upstreamRes.complete) res.destroy();
      });
      upstreamRes.pipe(res);
    },
  );
  // The request went out without Upgrade (hop-by-hop): a 101 answers something not asked.
  upstream.on('upgrade', (_upgraded, socket: Socket) => {
    socket.destroy();
    sendText(res, 502, 'Bad Gateway');
  });
  let timedOut = false;
  upstream.on('timeout', () => {
    timedOut = true;
    upstream.destroy(new Error('upstream timeout'));
  });
  // RFC 9110 §15.6.5: an upstream that does not answer in time is a 504, one that fails a 502.
  upstream.on('error', () =>
    timedOut ? sendText(res, 504, 'Gateway Timeout') : sendText(res, 502, 'Bad Gateway'),
  );
  // A client that leaves before the response is through takes the upstream request with it; so
  // does a response through before the request's body (an origin that answered early): that
  // request may never end (the client left mid-body, and Node tells the request nothing once
  // its response is done), and the upstream connection would stay open.
  res.on('close', () => {
    if (!res.writableFinished || !req.complete) upstream.destroy();
  });
  req.pipe(upstream);
}

/**
 * RFC 9110 §7.6.2: on OPTIONS and TRACE, Max-Forwards counts the proxies a request may still pass.
 * At 0 this proxy is the final recipient (`'here'`); above, it forwards the value less one. Other
 * methods forward the field untouched (`undefined`: as it came).
 */
function remainingForwards(req: IncomingMessage): bigint | 'here' | 'invalid' | undefined {
  if (req.method !== 'OPTIONS' && req.method !== 'TRACE') return undefined;
  // From the raw lines: Node keeps the first of two, which may not be the one a next hop reads.
  const values = req.rawHeaders.filter(
    (_, i) => i % 2 === 1 && /^max-forwards$/i.test(req.rawHeaders[i - 1]!),
  );
  if (values.length === 0) return undefined;
  const value = values[0]!;
  // 1*DIGIT, no upper bound (RFC 9110 §7.6.2): a BigInt takes any length Node's header limit
  // lets in.
  if (values.length > 1 || !/^[0-9]+$/.test(value)) return 'invalid';
  const count = BigInt(value);
  return count === 0n ? 'here' : count - 1n;
}

/** Fields a TRACE answer leaves out (RFC 9110 §9.3.8: "likely to contain sensitive data"). */
const NOT_REFLECTED = new Set(['authorization', 'proxy-authorization', 'cookie', 'cookie2']);

/**
 * The answer of the final recipient (RFC 9110 §9.3.7, §9.3.8): to OPTIONS, what this proxy
 * does; to TRACE, the request as it arrived, as `message/http`, without credentials or cookies.
 */
function answerHere(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'OPTIONS') {
    // RFC 9110 §9.3.7: no content, so Content-Length: 0.
    res.writeHead(200, {
      Allow: 'CONNECT, DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, TRACE',
      'Content-Length': 0,
    });
    res.end();
    return;
  }
  let reflected = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (!NOT_REFLECTED.has(name.toLowerCase()))
      reflected += `${name}: ${req.rawHeaders[i + 1]}\r\n`;
  }
  reflected += '\r\n';
  res.writeHead(200, {
    'Content-Type': 'message/http',
    'Content-Length': Buffer.byteLength(reflected, 'latin1'),
  });
  res.end(reflected, 'latin1');
}

/** A Via field with this proxy added (RFC 9110 §7.6.3). */
function withVia(received: string | string[] | undefined): string {
  const before = Array.isArray(received) ? received.join(', ') : received;
  return before ? `${before}, 1.1 authscheme-proxy` : '1.1 authscheme-proxy';
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
  const allowed = options.isAllowedTarget ?? isLoopback;
  // Never the proxy itself: a request or tunnel to its own port would loop back into it.
  const isAllowedTarget = (target: URL): boolean => {
    const own = server.address();
    const self =
      own !== null &&
      typeof own !== 'string' &&
      isLoopback(target) &&
      Number(target.port || 80) === own.port;
    return !self && allowed(target);
  };
  const timeout = options.upstreamTimeout ?? 10_000;
  const idleTimeout = options.tunnelIdleTimeout ?? 300_000;

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    // A forward proxy receives the absolute form (RFC 9112 §3.2.2); anything else is a request
    // for the proxy itself, which has no pages of its own.
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      sendText(res, 400, 'This is a forward proxy: send absolute-form requests (http://host/path)');
      return;
    }
    // RFC 9110 §4.2.4: userinfo in an http(s) URI is to be treated as an error (and a TRACE
    // answered here would reflect it).
    if (target.username !== '' || target.password !== '') {
      sendText(res, 400, 'A request target must not carry user:password@');
      return;
    }
    if (target.protocol !== 'http:') {
      sendText(res, 501, 'Only plain-HTTP requests are proxied; https goes through CONNECT');
      return;
    }
    admit(req, res, target, isAllowedTarget, guard, () => {
      // The client left while the guard was deciding: nothing to forward for it.
      if (req.socket.destroyed) return;
      const hops = remainingForwards(req);
      if (hops === 'invalid') {
        sendText(res, 400, 'Max-Forwards must be a number (RFC 9110 §7.6.2)');
        return;
      }
      if (hops === 'here') {
        answerHere(req, res);
        return;
      }
      // RFC 9110 §10.1.1: the body is asked for only once it will be forwarded (Node would have
      // said 100 Continue before the credentials were looked at).
      // Never to an HTTP/1.0 client (RFC 9110 §15.2: it may take the 1xx for the answer).
      if (req.httpVersion !== '1.0' && req.headers.expect?.toLowerCase() === '100-continue') {
        res.writeContinue();
      }
      forward(req, res, target, timeout, hops);
    });
  };
  const server = createServer(onRequest);
  server.on('checkContinue', onRequest);
  // Tunnels are sockets Node's server no longer tracks: closeAllConnections() closes them too, or
  // server.close() would wait for every open tunnel (Ctrl-C on `npm start` with one open).
  const tunnels = new Set<Socket>();
  const closeAllConnections = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    closeAllConnections();
    for (const socket of tunnels) socket.destroy();
  };
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    tunnels.add(socket);
    socket.once('close', () => tunnels.delete(socket));
    tunnel(req, socket, head, guard, isAllowedTarget, timeout, idleTimeout);
  });
  return server;
}

/**
 * Refuses a target the proxy does not serve (403, before any credentials are looked at), else runs
 * the guard and calls `proceed` once it lets the request through.
 */
function admit(
  req: IncomingMessage,
  res: ServerResponse,
  target: URL,
  isAllowedTarget: (target: URL) => boolean,
  guard: ReturnType<typeof authenticate>,
  proceed: () => void,
): void {
  if (!isAllowedTarget(target)) {
    sendText(res, 403, 'Target not allowed by this proxy');
    return;
  }
  guard(req, res, (error?: unknown) => {
    if (error !== undefined) {
      sendText(res, 500, 'Internal Server Error');
      return;
    }
    proceed();
  });
}

/**
 * `CONNECT host:port` (RFC 9110 §9.3.6). Node hands a CONNECT over as the bare socket, without a
 * response object; the guard gets one written to that socket, so a refusal is an ordinary 407
 * with its challenges. It says `Connection: close` (Node's parser has let go of the socket, so a
 * second request on it could not be read): clients answer the challenge on a new connection.
 * Once authenticated, the proxy answers 200, with the fields the guard set (Digest's
 * `Proxy-Authentication-Info`, whose `rspauth` lets the client check the proxy), and relays bytes
 * both ways.
 */
function tunnel(
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  guard: ReturnType<typeof authenticate>,
  isAllowedTarget: (target: URL) => boolean,
  timeout: number,
  idleTimeout: number,
): void {
  socket.on('error', () => socket.destroy());
  // With the parser gone, so is Node's rule that a client's FIN ends the exchange (the server
  // allows half-open sockets): until the tunnel is up, a client that closes its side has left.
  const left = (): void => {
    socket.destroy();
  };
  socket.once('end', left);
  const res = new HttpServerResponse(req);
  res.assignSocket(socket);
  res.shouldKeepAlive = false;
  res.on('finish', () => closeAfter(socket));
  const target = authorityForm(req.url ?? '');
  if (target === undefined) {
    sendText(res, 400, 'CONNECT needs a host:port target');
    return;
  }
  admit(req, res, target, isAllowedTarget, guard, () => {
    res.detachSocket(socket);
    // The client left while the guard was deciding: nothing to connect it to.
    if (socket.destroyed) return;
    const upstream = netConnect({
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: Number(target.port),
      timeout,
    });
    let established = false;
    upstream.once('connect', () => {
      established = true;
      // From here on, a half-close is the client's to make, and goes through to the target.
      socket.off('end', left);
      // Each socket's clock counts its own reads and writes, so a one-way stream keeps both busy.
      upstream.setTimeout(idleTimeout);
      socket.setTimeout(idleTimeout);
      socket.once('timeout', () => {
        upstream.destroy(new Error('idle tunnel'));
        socket.destroy();
      });
      socket.write(`HTTP/1.1 200 Connection Established\r\n${headerLines(res)}\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    let timedOut = false;
    upstream.on('timeout', () => {
      timedOut = !established;
      upstream.destroy(new Error(established ? 'idle tunnel' : 'upstream timeout'));
    });
    upstream.on('error', () => {
      // After the 200 the bytes are the tunnel's: an HTTP message there would be read as data.
      if (established) socket.destroy();
      else {
        const status = timedOut ? '504 Gateway Timeout' : '502 Bad Gateway';
        closeAfter(socket, `HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
      }
    });
    socket.on('close', () => upstream.destroy());
    // A target that closed first: the client's half is closed too once its last bytes are out
    // (Node's server keeps half-open sockets, and the client may never close its side).
    upstream.on('close', () => {
      if (established && !socket.destroyed) closeAfter(socket);
    });
  });
}

/**
 * Ends the socket after `last`, then closes it, as Node's server does after `Connection: close`:
 * a client that kept its side open would otherwise hold the socket for ever.
 */
function closeAfter(socket: Socket, last = ''): void {
  socket.end(last, () => socket.destroy());
}

/**
 * The fields set on `res`, as header lines. `setHeader` has already refused CR, LF and characters
 * beyond latin1 in them.
 */
function headerLines(res: ServerResponse): string {
  let lines = '';
  for (const [name, value] of Object.entries(res.getHeaders())) {
    for (const one of Array.isArray(value) ? value : [value])
      lines += `${name}: ${String(one)}\r\n`;
  }
  return lines;
}

/**
 * The authority-form target of a CONNECT (RFC 9112 §3.2.3: host and port, nothing else). Parsed
 * under a scheme of no default port, so that `host:80` keeps its port. Port 0 is no destination:
 * RFC 9110 §9.3.6 has an empty or invalid port refused with 400.
 */
function authorityForm(requestTarget: string): URL | undefined {
  let target: URL;
  try {
    target = new URL(`tunnel://${requestTarget}`);
  } catch {
    return undefined;
  }
  const exact =
    target.host.toLowerCase() === requestTarget.toLowerCase() &&
    target.port !== '' &&
    target.port !== '0' &&
    target.username === '' &&
    target.password === '' &&
    target.pathname === '' &&
    target.search === '' &&
    target.hash === '';
  if (!exact) return undefined;
  // The host as an http URL has it (`2130706433` → `127.0.0.1`, `LOCALHOST` → `localhost`), so
  // that isAllowedTarget judges CONNECT targets as it judges absolute-form ones.
  if (!URL.canParse(`http://${requestTarget}`)) return undefined;
  target.hostname = new URL(`http://${requestTarget}`).hostname;
  return target;
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
