/**
 * A WebSocket endpoint behind `authenticate()`, with the `ws` package (a dev dependency here: the
 * library itself needs none).
 *
 * Node hands a request with `Upgrade: websocket` to the server's `upgrade` event as a bare socket,
 * never to Express, so `app.use(guard)` does not see it. The `upgrade` handler below gives the
 * guard a response written to that socket: a refusal is then an ordinary 401 with every challenge
 * (and `Connection: close`), after which the socket is closed. Once the guard lets the request
 * through, `ws` answers 101 with the fields the guard set (Digest's `Authentication-Info`) and the
 * `connection` handler finds the user in `req.auth`. The same path without `Upgrade` is an
 * ordinary Express route behind the same credentials.
 *
 * Bearer: browsers cannot set `Authorization` on `new WebSocket(url)`, so the upgrade guard (and
 * only it) takes the token from the query, `?access_token=` (RFC 6750 §2.3, for when the header
 * cannot be used). Basic and Digest work from Chromium through its authentication cache (once a
 * page of the site has authenticated, the handshake carries the credentials) or with credentials
 * in the ws:// URL, with which it answers the handshake's 401 (test/interop/websocket.test.ts).
 *
 * Run it with `npx tsx examples/websocket/server.ts` (PORT, default 3002; HOST, default
 * 127.0.0.1), then open
 * http://127.0.0.1:3002/ in a browser (alice / wonderland), or:
 *   node -e "const ws = new (require('ws'))('ws://alice:wonderland@127.0.0.1:3002/chat'); ws.on('message', (m) => { console.log(String(m)); ws.close(); })"
 */
import { createServer, ServerResponse } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, Server } from 'node:http';
import type { Socket } from 'node:net';
import express from 'express';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import { authenticate, basic, bearer, digest } from '../../src/index';
import type { AuthRequest, Scheme } from '../../src/index';

/** The example's users (user name → password). */
export const CHAT_USERS: Readonly<Record<string, string>> = Object.freeze({ alice: 'wonderland' });
/** The example's bearer tokens (token → user name). */
export const CHAT_TOKENS: Readonly<Record<string, string>> = Object.freeze({
  'chat-token-alice': 'alice',
});
/** The WebSocket endpoint's path. */
export const CHAT_PATH = '/chat';
/** Longest message taken (ws closes the connection with 1009 past it). */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** Echoes waiting for a client that does not read, past which its connection is closed (1008). */
const MAX_QUEUED_BYTES = 1024 * 1024;

export interface ChatOptions {
  /**
   * The schemes offered, strongest first. Default all three: `['Digest', 'Basic', 'Bearer']`
   * (Digest with SHA-256 and MD5).
   */
  offer?: readonly ('Digest' | 'Basic' | 'Bearer')[];
  /** The clock of Digest's nonces (they live 5 minutes). Default `Date.now`. */
  now?: (() => number) | undefined;
  /**
   * Milliseconds between pings. A client that has not answered one ping (pong, RFC 6455 §5.5.3)
   * by the next is dropped: one that vanished without closing would otherwise stay in
   * `wss.clients` until TCP noticed, which may be never. Default 30 000; 0 disables.
   */
  heartbeatInterval?: number;
}

export interface ChatServer {
  /** A plain `node:http` server (not listening yet): Express for requests, `ws` for upgrades. */
  server: Server;
  /** The `ws` server (`noServer`), whose `connection` event gets `(ws, req)`. */
  wss: WebSocketServer;
}

/** The page at `/`: a chat client that opens the WebSocket from the browser. */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>authscheme WebSocket example</title>
<link rel="icon" href="data:,">
<pre id="log"></pre>
<script>
  const log = (line) => (document.getElementById('log').textContent += line + '\\n');
  const ws = new WebSocket(new URL('${CHAT_PATH}', location.href.replace(/^http/, 'ws')));
  ws.onopen = () => ws.send('hello');
  ws.onmessage = (event) => log(event.data);
  ws.onclose = (event) => log('closed ' + event.code);
</script>
`;

/**
 * Builds the example: Digest (SHA-256, MD5), Basic and Bearer for {@link CHAT_USERS} and
 * {@link CHAT_TOKENS}, in the realm `chat`.
 */
export function createChatServer(options: ChatOptions = {}): ChatServer {
  const offer = options.offer ?? ['Digest', 'Basic', 'Bearer'];
  const users = { ...CHAT_USERS };
  const verifyToken = (token: string): string | false => CHAT_TOKENS[token] ?? false;
  // One Digest and one Basic for both guards: a nonce that the page's challenge gave is good on
  // the handshake too, which is how a browser's cached Digest credentials reach the WebSocket.
  const shared: Record<string, Scheme> = {
    Digest: digest({ users, algorithms: ['SHA-256', 'MD5'], now: options.now }),
    Basic: basic({ users }),
  };
  const schemesFor = (bearerScheme: Scheme): Scheme[] =>
    offer.map((name) => (name === 'Bearer' ? bearerScheme : shared[name]!));
  const realm = 'chat';
  const guard = authenticate({ realm, schemes: schemesFor(bearer({ verify: verifyToken })) });
  // Tokens in the query only where no header can be set (RFC 6750 §2.3): the handshake.
  const upgradeGuard = authenticate({
    realm,
    schemes: schemesFor(bearer({ verify: verifyToken, allowQueryToken: true })),
  });

  const app = express();
  app.use(guard);
  app.get('/', (_req, res) => {
    res.type('html').send(PAGE);
  });
  // The WebSocket's path without Upgrade: an ordinary request, authenticated by Express's guard.
  app.get(CHAT_PATH, (req, res) => {
    res.type('text').send(`${req.auth!.user}: this is a WebSocket endpoint (${CHAT_PATH})`);
  });

  // ws takes messages up to 100 MiB unless told: a chat's are small.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const interval = options.heartbeatInterval ?? 30_000;
  if (!(interval >= 0 && interval <= 2 ** 31 - 1)) {
    throw new TypeError('heartbeatInterval must be a number of ms from 0 (off) to 2^31 - 1');
  }
  const answered = new WeakSet<WebSocket>();
  // setInterval would take 0 for 1 ms, and drop every client between two of its pongs.
  const heartbeat =
    interval === 0
      ? undefined
      : setInterval(() => {
          for (const ws of wss.clients) {
            if (!answered.delete(ws)) ws.terminate();
            else ws.ping();
          }
        }, interval);
  heartbeat?.unref();
  wss.on('connection', (ws: WebSocket, req: AuthRequest) => {
    // ws reports a malformed frame as an 'error' on the WebSocket: unheard, it ends the process.
    ws.on('error', () => ws.terminate());
    answered.add(ws);
    ws.on('pong', () => answered.add(ws));
    const { user, scheme } = req.auth!;
    ws.send(`welcome ${user} (${scheme})`);
    ws.on('message', (data) => {
      // A client that sends and never reads would have every echo queued here, without bound.
      if (ws.bufferedAmount > MAX_QUEUED_BYTES) {
        ws.close(1008, 'too much unread');
        return;
      }
      ws.send(`${user}: ${text(data)}`);
    });
  });
  // What the guard set on its response (Digest's Authentication-Info with rspauth, Negotiate's
  // mutual token, Vary), for the 101 that ws writes: RFC 7615 §3 allows Authentication-Info on
  // any response.
  const fieldsFor = new WeakMap<IncomingMessage, OutgoingHttpHeaders>();
  wss.on('headers', (lines: string[], req: IncomingMessage) => {
    for (const [name, value] of Object.entries(fieldsFor.get(req) ?? {})) {
      for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
    }
  });

  const server = createServer(app);
  server.on('close', () => clearInterval(heartbeat));
  // Sockets handed over by `upgrade` are no longer the server's: close them with it.
  const upgrading = new Set<Socket>();
  const closeAllConnections = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    closeAllConnections();
    for (const socket of upgrading) socket.destroy();
    for (const ws of wss.clients) ws.terminate();
  };
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    upgrading.add(socket);
    socket.once('close', () => upgrading.delete(socket));
    socket.on('error', () => socket.destroy());
    const res = new ServerResponse(req);
    res.assignSocket(socket);
    res.shouldKeepAlive = false; // Node no longer parses this socket: clients retry on a new one
    // Closed, not only ended: the server allows half-open sockets, and its timeouts no longer apply.
    res.on('finish', () => socket.end(() => socket.destroy()));
    // Node no longer tells the response when the socket drains: without this, a body written with
    // pipe() (express.static, res.sendFile) stops for good once the socket's buffer is full.
    const drain = (): void => {
      if (!res.writableEnded) res.emit('drain');
    };
    socket.on('drain', drain);
    if (!isChatHandshake(req)) {
      // Node sends every request with Upgrade here (curl --http2's `Upgrade: h2c` too; Node 24.9+
      // can keep them out with `shouldUpgradeCallback`). A server may ignore Upgrade (RFC 9110
      // §7.8): Express answers them as ordinary requests, except one with a body, which Node has
      // left unread on the socket.
      if (hasBody(req)) res.writeHead(400, { 'Content-Length': 0 }).end();
      else app(req, res);
      return;
    }
    // Browsers send a page's cookies, and may send its cached Basic or Digest credentials, with
    // a handshake that a page of another site opens (WebSockets know no CORS): only pages of this
    // origin, or clients that are no browser (no Origin), may open one.
    if (!isSameOrigin(req)) {
      res.writeHead(403, { 'Content-Length': 0 }).end();
      return;
    }
    upgradeGuard(req, res, (err?: unknown) => {
      if (err !== undefined) {
        if (res.headersSent) socket.destroy();
        else res.writeHead(500, { 'Content-Length': 0 }).end();
        return;
      }
      socket.off('drain', drain);
      res.detachSocket(socket);
      fieldsFor.set(req, res.getHeaders());
      // ws checks the handshake (400 for a bad key or version) and closes a socket the client
      // left while its credentials were checked.
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
  });
  return { server, wss };
}

/** A message as text (ws hands it over as a Buffer, or its fragments as Buffers). */
function text(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}

/** A WebSocket handshake for the chat endpoint (ws itself checks the rest of the handshake). */
function isChatHandshake(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') return false;
  const url = req.url ?? '';
  // RFC 9112 §3.2.2: a server must accept the absolute form of the target too.
  if (!url.startsWith('/')) return URL.canParse(url) && new URL(url).pathname === CHAT_PATH;
  const query = url.indexOf('?');
  return (query === -1 ? url : url.slice(0, query)) === CHAT_PATH;
}

/** No Origin (not a browser), or the origin this server was reached at. */
function isSameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  return URL.canParse(origin) && new URL(origin).host === req.headers.host?.toLowerCase();
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (
    req.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) !== 0)
  );
}

if (require.main === module) {
  const { server } = createChatServer();
  const port = Number(process.env.PORT ?? 3002);
  const host = process.env.HOST ?? '127.0.0.1';
  // Where to reach it: an address for all interfaces is not one; IPv6 goes in brackets.
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  const authority = `${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
  server.listen(port, host, () => {
    console.log(`WebSocket example on http://${authority}/ (ws://${authority}${CHAT_PATH})`);
    for (const [user, password] of Object.entries(CHAT_USERS)) {
      console.log(`  user ${user}, password ${password}`);
    }
    for (const token of Object.keys(CHAT_TOKENS)) {
      console.log(`  ws://${authority}${CHAT_PATH}?access_token=${token}`);
    }
  });
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
