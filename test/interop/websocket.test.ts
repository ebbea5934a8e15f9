/**
 * WebSocket handshakes behind `authenticate()`: the example of examples/websocket, where the
 * server's `upgrade` handler hands the guard a response written to the socket and `ws` completes
 * the handshake once the guard lets it through. Real clients: the `ws` client (Authorization set
 * by hand, Digest answered by hand), curl 7.88 (no ws:// support: the handshake sent as headers),
 * Python's websockets (Debian's python3-websockets, Basic from the URL's userinfo) and headless
 * Chromium. A raw socket checks that a refusal closes the connection, and plain requests to the
 * WebSocket's path that they still reach Express.
 *
 * What headless Chromium does, recorded here: it answers a 401 on a handshake (on a new
 * connection) with the Basic or Digest credentials in the ws:// URL, or from its authentication
 * cache (a Digest `stale=true` included), but not with Playwright's `httpCredentials`: without
 * either, the WebSocket fails (1006). After a page of the same site authenticated, it sends the
 * cached Basic or Digest credentials with the handshake unasked. A handshake from a page of
 * another site gets no cached credentials (the cache is partitioned by the top-level site).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { Express } from 'express';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import NodeWebSocket from 'ws';
import type { ClientOptions } from 'ws';
import { parseChallenges } from 'authscheme';
import {
  CHAT_PATH,
  CHAT_TOKENS,
  CHAT_USERS,
  createChatServer,
  MAX_MESSAGE_BYTES,
  type ChatOptions,
  type ChatServer,
} from '../../examples/websocket/server';
import { launchChromium } from './helpers/chromium';
import { run } from './helpers/run';

jest.setTimeout(30_000);

const [user, password] = Object.entries(CHAT_USERS)[0]!;
const [token] = Object.keys(CHAT_TOKENS);
const basicAuthorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const PYTHON = '/usr/bin/python3';
const PYTHON_CLIENT = `${__dirname}/helpers/websockets_client.py`;

interface Running extends ChatServer {
  /** The example's Express app, for routes a test adds. */
  express: Express;
  port: number;
  origin: string;
  /** Each handshake that reached the server: its target, Authorization and Origin ('' when none). */
  handshakes: { url: string; authorization: string; origin: string }[];
  stop(): Promise<void>;
}

async function start(options: ChatOptions = {}): Promise<Running> {
  const chat = createChatServer(options);
  // An unauthenticated page of the server's own, ahead of the example's Express app.
  const [app] = chat.server.listeners('request') as http.RequestListener[];
  chat.server.removeAllListeners('request');
  chat.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url === BLANK) res.end('<link rel="icon" href="data:,">');
    else app!(req, res);
  });
  const handshakes: Running['handshakes'] = [];
  chat.server.prependListener('upgrade', (req: http.IncomingMessage) => {
    handshakes.push({
      url: req.url ?? '',
      authorization: req.headers.authorization ?? '',
      origin: req.headers.origin ?? '',
    });
  });
  await new Promise<void>((resolve) => chat.server.listen(0, '127.0.0.1', resolve));
  const { port } = chat.server.address() as AddressInfo;
  return {
    ...chat,
    express: app as unknown as Express,
    port,
    origin: `127.0.0.1:${port}`,
    handshakes,
    stop: () =>
      new Promise<void>((resolve) => {
        chat.server.close(() => resolve());
        chat.server.closeAllConnections();
      }),
  };
}

/** The path of a page that the tests' servers serve without credentials. */
const BLANK = '/blank';

let main: Running;

beforeAll(async () => {
  main = await start();
});

afterAll(async () => {
  await main?.stop();
});

beforeEach(() => {
  main.handshakes.length = 0;
});

/** The WWW-Authenticate challenges every refusal of the example carries, in order. */
const CHALLENGES = [
  /^Digest realm="chat", qop="auth", algorithm=SHA-256, nonce="[^"]+", opaque="[^"]+", charset=UTF-8$/,
  /^Digest realm="chat", qop="auth", algorithm=MD5, nonce="[^"]+", opaque="[^"]+", charset=UTF-8$/,
  /^Basic realm="chat", charset="UTF-8"$/,
  /^Bearer realm="chat"/,
];

function expectChallenges(value: string | string[] | undefined): void {
  const lines = Array.isArray(value) ? value : [value];
  expect(lines).toHaveLength(CHALLENGES.length);
  lines.forEach((line, i) => expect(line).toMatch(CHALLENGES[i]!));
}

// --- the ws client ---------------------------------------------------------------------------

interface Outcome {
  status: number;
  headers: IncomingHttpHeaders;
  /** The WWW-Authenticate field lines (Node's `headers` joins them). */
  challenges: string[];
  /** After a 101: the server's welcome and its echo of "hello". */
  messages: string[];
  /** After a refusal: its body, and whether the server then closed the connection. */
  body: string;
  closed: boolean;
}

/** Opens a WebSocket with the `ws` client, sends "hello", and collects two messages or the refusal. */
function connect(url: string, options: ClientOptions = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new NodeWebSocket(url, { handshakeTimeout: 10_000, ...options });
    const outcome: Outcome = {
      status: 0,
      headers: {},
      challenges: [],
      messages: [],
      body: '',
      closed: false,
    };
    ws.on('upgrade', (res) => {
      outcome.status = res.statusCode ?? 0;
      outcome.headers = res.headers;
    });
    ws.on('open', () => ws.send('hello'));
    ws.on('message', (data) => {
      outcome.messages.push(Buffer.isBuffer(data) ? data.toString('utf8') : '(not a Buffer)');
      if (outcome.messages.length === 2) ws.close();
    });
    ws.on('close', () => resolve(outcome));
    ws.on('unexpected-response', (_req, res) => {
      outcome.status = res.statusCode ?? 0;
      outcome.headers = res.headers;
      outcome.challenges = res.headersDistinct['www-authenticate'] ?? [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (outcome.body += chunk));
      // The server closes the connection after the refusal: the socket's close ends the wait.
      res.socket.once('close', () => {
        outcome.closed = true;
        resolve(outcome);
      });
    });
    ws.on('error', (error) => {
      if (outcome.status === 0) reject(error);
    });
  });
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Answers the SHA-256 Digest challenge of a 401 for `GET uri` (RFC 7616 §3.4.1), computed here
 * rather than by the library, and says which `rspauth` the server must send back (§3.5).
 */
function answerDigest(
  refusal: IncomingHttpHeaders,
  uri: string,
): { authorization: string; rspauth: string } {
  const challenge = parseChallenges(refusal['www-authenticate']!).find(
    (c) => c.scheme === 'Digest' && c.params.algorithm === 'SHA-256',
  )!;
  const { realm, nonce, opaque } = challenge.params;
  const cnonce = randomBytes(8).toString('hex');
  const nc = '00000001';
  const ha1 = sha256(`${user}:${realm}:${password}`);
  const response = sha256(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${sha256(`GET:${uri}`)}`);
  return {
    authorization:
      `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", ` +
      `algorithm=SHA-256, response="${response}", opaque="${opaque}", qop=auth, nc=${nc}, ` +
      `cnonce="${cnonce}"`,
    rspauth: sha256(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${sha256(`:${uri}`)}`),
  };
}

describe('the ws client', () => {
  const url = () => `ws://${main.origin}${CHAT_PATH}`;

  it('without credentials gets 401 with every challenge, and the server closes the socket', async () => {
    const outcome = await connect(url());
    expect(outcome.status).toBe(401);
    expectChallenges(outcome.challenges);
    expect(outcome.headers['cache-control']).toBe('no-store');
    expect(outcome.headers.connection).toBe('close');
    expect(outcome.body).toBe('Unauthorized');
    expect(outcome.closed).toBe(true);
  });

  it('with a wrong password or an unknown token gets 401', async () => {
    const wrong = await connect(url(), {
      headers: { Authorization: `Basic ${Buffer.from(`${user}:nope`).toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    expectChallenges(wrong.challenges);
    const badToken = await connect(url(), { headers: { Authorization: 'Bearer not-a-token' } });
    expect(badToken.status).toBe(401);
    expect(String(badToken.headers['www-authenticate'])).toMatch(/Bearer .*error="invalid_token"/);
    expect(badToken.closed).toBe(true);
  });

  it('with Basic (header, or userinfo in the URL) is welcomed as the user, and messages flow', async () => {
    const header = await connect(url(), { headers: { Authorization: basicAuthorization } });
    expect(header.status).toBe(101);
    expect(header.messages).toEqual([`welcome ${user} (Basic)`, `${user}: hello`]);
    // The fields the guard set go on the 101 (Vary means nothing there; it does no harm).
    expect(header.headers.vary).toBe('Authorization');
    const userinfo = await connect(`ws://${user}:${password}@${main.origin}${CHAT_PATH}`);
    expect(userinfo.messages).toEqual([`welcome ${user} (Basic)`, `${user}: hello`]);
  });

  // From a review: ws's default maxPayload (100 MiB) and echoes queued for a client that never
  // reads let one user grow the server's memory without bound.
  it('closes a connection whose message is over MAX_MESSAGE_BYTES (1009), or that leaves its echoes unread (1008)', async () => {
    const open = (): Promise<NodeWebSocket> =>
      new Promise((resolve, reject) => {
        const ws = new NodeWebSocket(`ws://${main.origin}${CHAT_PATH}`, {
          headers: { Authorization: basicAuthorization },
        });
        ws.once('message', () => resolve(ws)); // the welcome
        ws.once('error', reject);
      });
    const closed = (ws: NodeWebSocket): Promise<number> =>
      new Promise((resolve) => ws.once('close', (code) => resolve(code)));
    const big = await open();
    const bigClosed = closed(big);
    big.send('x'.repeat(MAX_MESSAGE_BYTES + 1));
    expect(await bigClosed).toBe(1009);
    // Sends and reads nothing until the server has queued more than it keeps for one client.
    const deaf = await open();
    const deafClosed = closed(deaf);
    (deaf as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const message = 'y'.repeat(MAX_MESSAGE_BYTES - 100);
    for (let i = 0; i < 400; i++) deaf.send(message);
    await new Promise((resolve) => setTimeout(resolve, 500));
    (deaf as unknown as { _socket: import('node:net').Socket })._socket.resume();
    expect(await deafClosed).toBe(1008);
  });

  // Left open by a review: a client that vanished without closing stayed in wss.clients.
  it('drops a client that answers no ping by the next one, and keeps one that does', async () => {
    // 500 ms: a stall of a whole interval between a pong and its reading would drop the answering
    // client too (a busy machine).
    const quick = await start({ heartbeatInterval: 500 });
    try {
      const open = (autoPong: boolean): Promise<NodeWebSocket> =>
        new Promise((resolve, reject) => {
          const ws = new NodeWebSocket(`ws://${quick.origin}${CHAT_PATH}`, {
            headers: { Authorization: basicAuthorization },
            autoPong,
          });
          ws.once('message', () => resolve(ws)); // the welcome
          ws.once('error', reject);
        });
      const [silent, answering] = await Promise.all([open(false), open(true)]);
      let pings = 0;
      answering.on('ping', () => pings++);
      const silentClosed = new Promise<number>((resolve) => silent.once('close', resolve));
      let answeringClosed = false;
      answering.once('close', () => (answeringClosed = true));
      const late = new Promise((resolve) => setTimeout(resolve, 5000, 'still open').unref());
      expect(await Promise.race([silentClosed, late])).toBe(1006); // terminated: no close frame
      await new Promise((resolve) => setTimeout(resolve, 1600));
      expect(answeringClosed).toBe(false);
      expect(pings).toBeGreaterThanOrEqual(3);
      expect(quick.wss.clients.size).toBe(1);
      answering.close();
    } finally {
      await quick.stop();
    }
  });

  it('heartbeatInterval 0 is off (setInterval would have made it 1 ms and dropped every client); a negative or NaN one is a TypeError', async () => {
    for (const bad of [-1, Number.NaN]) {
      expect(() => createChatServer({ heartbeatInterval: bad })).toThrow(TypeError);
    }
    const off = await start({ heartbeatInterval: 0 });
    try {
      const outcome = await connect(`ws://${off.origin}${CHAT_PATH}`, {
        headers: { Authorization: basicAuthorization },
      });
      expect(outcome.messages).toEqual([`welcome ${user} (Basic)`, `${user}: hello`]);
    } finally {
      await off.stop();
    }
  });

  it('with Digest: uri is the request target, and the 101 carries Authentication-Info', async () => {
    const target = `${CHAT_PATH}?room=1`;
    const refusal = await connect(`ws://${main.origin}${target}`);
    expect(refusal.status).toBe(401);
    const { authorization, rspauth } = answerDigest(refusal.headers, target);
    const outcome = await connect(`ws://${main.origin}${target}`, {
      headers: { Authorization: authorization },
    });
    expect(outcome.status).toBe(101);
    expect(outcome.messages).toEqual([`welcome ${user} (Digest)`, `${user}: hello`]);
    // RFC 7615 §3: Authentication-Info may go on any response; here the 101 lets the client
    // check the server's rspauth (RFC 7616 §3.5).
    expect(outcome.headers['authentication-info']).toContain(`rspauth="${rspauth}"`);

    // A uri that is not the request target (the path without its query) is a bad request.
    const again = await connect(`ws://${main.origin}${target}`);
    const other = answerDigest(again.headers, CHAT_PATH);
    const mismatch = await connect(`ws://${main.origin}${target}`, {
      headers: { Authorization: other.authorization },
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.closed).toBe(true);
  });

  it('with a Bearer token in the header, or in the query (the handshake only)', async () => {
    const header = await connect(url(), { headers: { Authorization: `Bearer ${token}` } });
    expect(header.messages).toEqual([`welcome ${user} (Bearer)`, `${user}: hello`]);
    const query = await connect(`${url()}?access_token=${token}`);
    expect(query.messages).toEqual([`welcome ${user} (Bearer)`, `${user}: hello`]);
    // RFC 6750 §2.3's `private`, set by the guard: meaningless on a 101 (never stored), harmless.
    expect(query.headers['cache-control']).toBe('private');
    // Both at once is one token too many (RFC 6750 §2).
    const both = await connect(`${url()}?access_token=${token}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(both.status).toBe(400);
    expect(String(both.headers['www-authenticate'])).toMatch(/error="invalid_request"/);
  });

  it('a handshake for another path goes to Express, which has no WebSocket there', async () => {
    const elsewhere = await connect(`ws://${main.origin}/`, {
      headers: { Authorization: basicAuthorization },
    });
    // Express served the page (200), which is no handshake: the client gives up.
    expect(elsewhere.status).toBe(200);
    expect(main.handshakes).toHaveLength(1);
  });
});

// --- raw sockets -----------------------------------------------------------------------------

/** Sends `request` on a new connection and resolves with all that came back once the server closed it. */
function exchange(request: string): Promise<{ received: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    let received = '';
    const socket = net.connect({ port: main.port, host: '127.0.0.1' }, () => socket.write(request));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ received, closedByServer: false });
    }, 5000);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received, closedByServer: true });
    });
  });
}

function handshake(extra = ''): string {
  return (
    `GET ${CHAT_PATH} HTTP/1.1\r\nHost: ${main.origin}\r\nConnection: Upgrade\r\n` +
    `Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n${extra}\r\n`
  );
}

describe('a raw handshake', () => {
  it('refused: one 401 with Connection: close, then the server closes the connection', async () => {
    // A second request behind the first: Node no longer parses the socket, so it must not be read.
    const { received, closedByServer } = await exchange(
      handshake() + `GET / HTTP/1.1\r\nHost: ${main.origin}\r\n\r\n`,
    );
    expect(closedByServer).toBe(true);
    expect(received.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(received).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(received).toMatch(/\r\nConnection: close\r\n/);
    expect(received.match(/\r\nWWW-Authenticate: /g)).toHaveLength(CHALLENGES.length);
    expect(received.endsWith('\r\n\r\nUnauthorized')).toBe(true);
  });

  it('with the absolute form of the target (RFC 9112 §3.2.2: a server must accept it): 101', async () => {
    const request = handshake(`Authorization: ${basicAuthorization}\r\n`).replace(
      `GET ${CHAT_PATH} `,
      `GET http://${main.origin}${CHAT_PATH} `,
    );
    const head = await new Promise<string>((resolve) => {
      let received = '';
      const socket = net.connect({ port: main.port, host: '127.0.0.1' }, () =>
        socket.write(request),
      );
      const done = () => {
        socket.destroy();
        resolve(received);
      };
      const timer = setTimeout(done, 5000);
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (received.includes('\r\n\r\n')) {
          clearTimeout(timer);
          done();
        }
      });
      socket.on('error', () => undefined);
    });
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
  });

  // From a review: ws reports a malformed frame as an 'error' on the WebSocket; with no listener
  // there, one authenticated client ended the whole process (here, jest's).
  it('an unmasked frame after the 101 closes that connection, and the server goes on', async () => {
    const closed = await new Promise<string>((resolve) => {
      let received = '';
      const socket = net.connect({ port: main.port, host: '127.0.0.1' }, () =>
        socket.write(handshake(`Authorization: ${basicAuthorization}\r\n`)),
      );
      const timer = setTimeout(() => {
        socket.destroy();
        resolve('still open after 5 s');
      }, 5000);
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        // RFC 6455 §5.1: a client masks every frame; this text frame "hi" is not masked.
        if (received.startsWith('HTTP/1.1 101 ') && received.includes('welcome')) {
          socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
        }
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(received.startsWith('HTTP/1.1 101 ') ? 'closed after 101' : received);
      });
      socket.on('error', () => undefined);
    });
    expect(closed).toBe('closed after 101');
    const res = await fetch(`http://${main.origin}${CHAT_PATH}`, {
      headers: { authorization: basicAuthorization },
    });
    expect(res.status).toBe(200);
  });

  it('from a page of another origin: 403 before the credentials are looked at', async () => {
    const { received, closedByServer } = await exchange(
      handshake(`Origin: http://localhost:1\r\nAuthorization: ${basicAuthorization}\r\n`),
    );
    expect(received).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(closedByServer).toBe(true);
    // Its own origin is welcome.
    const same = await connect(`ws://${main.origin}${CHAT_PATH}`, {
      headers: { Authorization: basicAuthorization },
      origin: `http://${main.origin}`,
    });
    expect(same.status).toBe(101);
  });

  it("another Upgrade (h2c) gets Express's answer in full, a streamed one too, then the server closes", async () => {
    // As express.static and res.sendFile do, pipe() waits for the response's 'drain' once the
    // socket's buffer is full.
    const size = 1024 * 1024;
    main.express.get('/download', (_req, res) => {
      res.type('application/octet-stream').setHeader('Content-Length', size);
      Readable.from(Array.from({ length: size / 65536 }, () => Buffer.alloc(65536, 0x61))).pipe(
        res,
      );
    });
    const { received, closedByServer } = await exchange(
      `GET /download HTTP/1.1\r\nHost: ${main.origin}\r\nConnection: Upgrade, HTTP2-Settings\r\n` +
        `Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n` +
        `Authorization: ${basicAuthorization}\r\n\r\n`,
    );
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received).toMatch(/\r\nConnection: close\r\n/);
    expect(received.length - (received.indexOf('\r\n\r\n') + 4)).toBe(size);
    expect(closedByServer).toBe(true);
    expect(main.handshakes).toHaveLength(1);
  });
});

// --- curl ------------------------------------------------------------------------------------

describe('curl', () => {
  const headers = () => [
    '-H',
    'Connection: Upgrade',
    '-H',
    'Upgrade: websocket',
    '-H',
    'Sec-WebSocket-Version: 13',
    '-H',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
  ];
  // Ends on its own after a refusal: the server closes the connection (10 s would be a hang).
  const curl = (...args: string[]) =>
    run('curl', ['--silent', '--include', '--max-time', '10', ...args]);

  /**
   * After a 101 curl 7.88 just reads on, printing frames as they come (--no-buffer: at once, not
   * when its buffer for a pipe is full). Once `welcome` has come, the server sends one more frame
   * on each open WebSocket, and curl is stopped when that one has come too: the connection is
   * still open. (A --max-time of 2 s ended it before, which on a busy machine could come before
   * the welcome frame; 20 s now only ends a hang.)
   */
  const STILL_OPEN = 'still open';
  const curlWebSocket = (welcome: string, ...args: string[]) =>
    new Promise<{ code: number | null; signal: string | null; stdout: string }>(
      (resolve, reject) => {
        const child = spawn(
          'curl',
          ['--silent', '--include', '--no-buffer', '--max-time', '20', ...args],
          {
            env: { PATH: process.env.PATH, HOME: process.env.HOME },
            stdio: ['ignore', 'pipe', 'ignore'],
          },
        );
        let stdout = '';
        let asked = false;
        child.stdout.setEncoding('latin1');
        child.stdout.on('data', (chunk: string) => {
          stdout += chunk;
          if (!asked && stdout.includes(welcome)) {
            asked = true;
            for (const ws of main.wss.clients) ws.send(STILL_OPEN);
          }
          if (stdout.includes(STILL_OPEN)) child.kill('SIGTERM');
        });
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ code, signal, stdout }));
      },
    );

  it('7.88 speaks no ws:// (unless built with it): the handshake goes as headers', async () => {
    const version = await run('curl', ['--version']);
    const protocols = /^Protocols: (.*)$/m.exec(version.stdout)?.[1]?.split(' ') ?? [];
    // Recorded, not required: a curl built with WebSockets would do, and this test still holds.
    // Exit 1 is CURLE_UNSUPPORTED_PROTOCOL: exactly when `curl --version` lists no ws.
    const result = await run('curl', ['--silent', `ws://${main.origin}${CHAT_PATH}`]);
    expect({ unsupported: result.code === 1 }).toEqual({ unsupported: !protocols.includes('ws') });
  });

  it('without credentials or with a wrong password: 401 with the challenges, and curl is done', async () => {
    for (const credentials of [[], ['-u', `${user}:nope`]]) {
      const result = await curl(...credentials, ...headers(), `http://${main.origin}${CHAT_PATH}`);
      // The server closed the connection: curl ends before --max-time (exit 0, not 28).
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
      expect(result.stdout.match(/\r\nWWW-Authenticate: /g)).toHaveLength(CHALLENGES.length);
    }
  });

  it.each([
    ['--basic', 'Basic'],
    ['--digest', 'Digest'],
  ])('with %s: 101 and the welcome frame', async (flag, scheme) => {
    const result = await curlWebSocket(
      `welcome ${user} (${scheme})`,
      flag,
      '-u',
      `${user}:${password}`,
      ...headers(),
      `http://${main.origin}${CHAT_PATH}`,
    );
    // Still reading the WebSocket, and getting frames, when stopped here.
    expect(result).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(result.stdout).toContain(STILL_OPEN);
    // Digest: the 401, then (on a new connection) the 101 with Authentication-Info.
    if (scheme === 'Digest') {
      expect(result.stdout).toMatch(/^HTTP\/1\.1 401 /);
      expect(result.stdout).toMatch(/\r\nauthentication-info: qop=auth, rspauth="[0-9a-f]{64}"/);
    }
    expect(result.stdout).toMatch(/HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(result.stdout).toContain(`welcome ${user} (${scheme})`);
  });

  it("without Upgrade, or with --http2's Upgrade: h2c, the same path is Express's route", async () => {
    for (const flag of ['--http1.1', '--http2']) {
      const result = await run('curl', [
        '--silent',
        '--verbose',
        flag,
        '-u',
        `${user}:${password}`,
        `http://${main.origin}${CHAT_PATH}`,
      ]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${user}: this is a WebSocket endpoint (${CHAT_PATH})`);
      if (flag === '--http2') expect(result.stderr).toMatch(/> Upgrade: h2c/);
    }
    expect(main.handshakes).toHaveLength(1); // h2c's
  });
});

// --- Python's websockets ---------------------------------------------------------------------

describe("Python's websockets (Debian's python3-websockets)", () => {
  beforeAll(async () => {
    const check = await run(PYTHON, ['-c', 'import websockets; print(websockets.__version__)']);
    if (check.code !== 0) throw new Error(`python3-websockets is missing: ${check.stderr}`);
  });

  async function python(url: string): Promise<Record<string, unknown>> {
    const result = await run(PYTHON, [PYTHON_CLIENT, url]);
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as Record<string, unknown>;
  }

  it('without credentials or with a wrong password: 401 with the challenges', async () => {
    for (const userinfo of ['', `${user}:nope@`]) {
      const result = await python(`ws://${userinfo}${main.origin}${CHAT_PATH}`);
      expect(result.status).toBe(401);
      expectChallenges((result.headers as Record<string, string[]>)['www-authenticate']);
    }
  });

  it('sends Basic from the URL, unasked, and talks', async () => {
    const result = await python(`ws://${user}:${password}@${main.origin}${CHAT_PATH}`);
    expect(result.messages).toEqual([`welcome ${user} (Basic)`, `${user}: hello`]);
    expect(main.handshakes[0]!.authorization).toBe(basicAuthorization);
  });

  it('with a Bearer token in the query', async () => {
    const result = await python(`ws://${main.origin}${CHAT_PATH}?access_token=${token}`);
    expect(result.messages).toEqual([`welcome ${user} (Bearer)`, `${user}: hello`]);
  });
});

// --- headless Chromium -----------------------------------------------------------------------

describe('headless Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Opens a WebSocket from the page: the messages it got, then `close <code>`. */
  function openFrom(page: Page, url: string): Promise<string> {
    return page.evaluate(
      (u) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(u);
          const got: string[] = [];
          ws.onopen = () => ws.send('hello');
          ws.onmessage = (event) => {
            got.push(String(event.data));
            if (got.length === 2) ws.close(1000);
          };
          ws.onclose = (event) => resolve([...got, `close ${event.code}`].join(' | '));
        }),
      url,
    );
  }

  /**
   * A page of the server's origin that asked for no credentials (the test's {@link BLANK}): a
   * WebSocket from it passes the example's Origin check, with nothing in Chromium's
   * authentication cache. (A page that Playwright's `route` answers will not do: Chromium counts
   * it as public, and its Local Network Access checks block a WebSocket from it to 127.0.0.1.)
   */
  async function unauthenticatedPage(context: BrowserContext, origin: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`http://${origin}${BLANK}`);
    return page;
  }

  const credentials = { httpCredentials: { username: user, password } };
  const welcome = (scheme: string) => `welcome ${user} (${scheme}) | ${user}: hello | close 1000`;

  it("the example's page authenticates (Digest), then its WebSocket does too", async () => {
    const context = await browser.newContext(credentials);
    try {
      const page = await context.newPage();
      await page.goto(`http://${main.origin}/`);
      // The page's script (a string: this file is compiled without the DOM's types).
      await page.waitForFunction("document.getElementById('log').textContent.includes('hello')");
      expect(await page.textContent('#log')).toBe(`welcome ${user} (Digest)\n${user}: hello\n`);
      expect(main.handshakes).toEqual([
        {
          url: CHAT_PATH,
          authorization: expect.stringMatching(/^Digest .*uri="\/chat"/),
          origin: `http://${main.origin}`,
        },
      ]);
    } finally {
      await context.close();
    }
  });

  it.each(['Basic', 'Digest'] as const)(
    "does not answer a handshake's 401 with Playwright's httpCredentials (%s)",
    async (scheme) => {
      const server = await start({ offer: [scheme] });
      const context = await browser.newContext(credentials);
      try {
        const page = await unauthenticatedPage(context, server.origin);
        expect(await openFrom(page, `ws://${server.origin}${CHAT_PATH}`)).toBe('close 1006');
        expect(server.handshakes).toEqual([
          { url: CHAT_PATH, authorization: '', origin: `http://${server.origin}` },
        ]);
      } finally {
        await context.close();
        await server.stop();
      }
    },
  );

  it.each(['Basic', 'Digest'] as const)(
    "answers a handshake's 401 with the credentials in the ws:// URL (%s)",
    async (scheme) => {
      const server = await start({ offer: [scheme] });
      const context = await browser.newContext();
      try {
        const page = await unauthenticatedPage(context, server.origin);
        expect(await openFrom(page, `ws://${user}:${password}@${server.origin}${CHAT_PATH}`)).toBe(
          welcome(scheme),
        );
        // Asked first: the credentials come with the second handshake, on a new connection.
        expect(server.handshakes.map((h) => h.authorization.split(' ')[0])).toEqual(['', scheme]);
        if (scheme === 'Digest') {
          expect(server.handshakes[1]!.authorization).toMatch(/ uri="\/chat",/);
        }
      } finally {
        await context.close();
        await server.stop();
      }
    },
  );

  it.each(['Basic', 'Digest'] as const)(
    'sends cached %s credentials with the handshake, unasked, after a page of the site authenticated',
    async (scheme) => {
      const server = await start({ offer: [scheme] });
      const context = await browser.newContext(credentials);
      try {
        const page = await context.newPage();
        // Any page of the realm: here the WebSocket's path as a plain request.
        const response = await page.goto(`http://${server.origin}${CHAT_PATH}`);
        expect(response?.status()).toBe(200);
        expect(await openFrom(page, `ws://${server.origin}${CHAT_PATH}`)).toBe(welcome(scheme));
        expect(server.handshakes).toHaveLength(1);
        expect(server.handshakes[0]!.authorization).toMatch(new RegExp(`^${scheme} `));
      } finally {
        await context.close();
        await server.stop();
      }
    },
  );

  it('answers a Digest stale=true 401 on the handshake from its cache', async () => {
    let skew = 0;
    const server = await start({ offer: ['Digest'], now: () => Date.now() + skew });
    const context = await browser.newContext(credentials);
    try {
      const page = await context.newPage();
      // The example's page (no favicon to fetch), whose own WebSocket is one handshake.
      await page.goto(`http://${server.origin}/`);
      await page.waitForFunction("document.getElementById('log').textContent.includes('hello')");
      server.handshakes.length = 0;
      skew = 10 * 60_000; // the cached nonce (5 minutes) has expired
      expect(await openFrom(page, `ws://${server.origin}${CHAT_PATH}`)).toBe(welcome('Digest'));
      // The stale nonce, refused with stale=true; then the new one, nc counting from 1 again.
      expect(server.handshakes).toHaveLength(2);
      const nonce = (authorization: string) => / nonce="([^"]+)"/.exec(authorization)?.[1];
      expect(nonce(server.handshakes[0]!.authorization)).not.toBe(
        nonce(server.handshakes[1]!.authorization),
      );
      expect(server.handshakes[1]!.authorization).toMatch(/ nc=00000001,/);
    } finally {
      await context.close();
      await server.stop();
    }
  });

  it('sends no credentials with a handshake that a page of another site opens (and the Origin check refuses it)', async () => {
    const other = http.createServer((_req, res) => res.end('<link rel="icon" href="data:,">'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const context = await browser.newContext(credentials);
    try {
      const page = await context.newPage();
      await page.goto(`http://${main.origin}${CHAT_PATH}`);
      const elsewhere = await context.newPage();
      // localhost is another site than 127.0.0.1.
      const otherOrigin = `http://localhost:${(other.address() as AddressInfo).port}`;
      await elsewhere.goto(`${otherOrigin}/`);
      expect(await openFrom(elsewhere, `ws://${main.origin}${CHAT_PATH}`)).toBe('close 1006');
      expect(main.handshakes).toEqual([{ url: CHAT_PATH, authorization: '', origin: otherOrigin }]);
    } finally {
      await context.close();
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('authenticates with a Bearer token in the query, without any other credentials', async () => {
    const context = await browser.newContext();
    try {
      const page = await unauthenticatedPage(context, main.origin);
      expect(await openFrom(page, `ws://${main.origin}${CHAT_PATH}?access_token=${token}`)).toBe(
        welcome('Bearer'),
      );
    } finally {
      await context.close();
    }
  });
});

// --- the same path without Upgrade -----------------------------------------------------------

describe('a plain request to the WebSocket path', () => {
  function get(headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: main.port, path: CHAT_PATH, headers }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
  }

  it("goes through Express and its guard: 401, then the route's answer", async () => {
    expect((await get()).status).toBe(401);
    expect(await get({ Authorization: basicAuthorization })).toEqual({
      status: 200,
      body: `${user}: this is a WebSocket endpoint (${CHAT_PATH})`,
    });
    // The query token is the handshake's alone.
    expect((await get({ Authorization: `Bearer ${token}` })).status).toBe(200);
    expect(main.handshakes).toEqual([]);
  });

  it('a query token is not taken there', async () => {
    const result = await new Promise<number>((resolve, reject) => {
      http
        .get(
          { host: '127.0.0.1', port: main.port, path: `${CHAT_PATH}?access_token=${token}` },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
        .on('error', reject);
    });
    expect(result).toBe(401);
  });
});
