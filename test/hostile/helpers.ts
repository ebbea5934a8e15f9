/**
 * Helpers of the hostile-input suite: a real server per test file, requests sent through Node's
 * client or as raw bytes on a socket (for bytes Node's client refuses to send), a time bound on
 * every request, and the checks every refusal must pass.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import express from 'express';
import type { AuthMiddleware } from 'authscheme';

/** Header that proves the protected handler ran. */
export const HIT = 'x-handler-ran';

/**
 * Longest a single request may take: less than the middleware's default timeout (10 s), so that a
 * request left waiting for that timeout fails, as a hang does. Not less: in a batch of 50 sent at
 * once each request waits for the others, and on two busy cores (load 9) some took 2.2 s.
 */
export const REQUEST_BOUND_MS = 8000;

/** A response as the tests inspect it: every header as the list of its field lines. */
export interface Reply {
  status: number;
  /** Lower-cased field name → field lines. */
  headers: Record<string, string[]>;
  body: string;
  /** Wall-clock time of the exchange, ms. */
  elapsed: number;
}

/** A running server and what reached its error handler. */
export interface TestServer {
  server: http.Server;
  port: number;
  /** Errors the middleware handed to `next(err)`. */
  errors: unknown[];
  close(): Promise<void>;
}

/** Express 5 app: `before`, the middleware, a handler that marks HIT, and an error handler. */
export async function start(
  middleware: AuthMiddleware,
  options: {
    before?: express.RequestHandler[];
    /** Status of a 4xx/503 error is kept (with its headers); anything else answers 500. */
  } = {},
): Promise<TestServer> {
  const errors: unknown[] = [];
  const app = express();
  for (const handler of options.before ?? []) app.use(handler);
  app.use(middleware);
  app.use((req, res) => {
    res.setHeader(HIT, 'yes');
    res.json({ auth: req.auth ?? null });
  });
  app.use(
    (err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      errors.push(err);
      const e = err as { status?: unknown; headers?: Record<string, string | string[]> };
      const status =
        typeof e?.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
      if (status !== 500 && e.headers !== undefined) {
        for (const [name, value] of Object.entries(e.headers)) res.setHeader(name, value);
      }
      // A fixed body: the suite checks what the library sends, not what an app might echo.
      res.status(status).send('error');
    },
  );
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    server,
    port,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** {@link start} for a test file: every server it starts is closed after the file's tests. */
export function startForThisFile(): typeof start {
  const servers: TestServer[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));
  return async (middleware, options) => {
    const server = await start(middleware, options);
    servers.push(server);
    return server;
  };
}

/** Starts an already built server (e.g. from test/helpers/frameworks' `mount`) on a free port. */
export async function listen(server: http.Server): Promise<TestServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    server,
    port,
    errors: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Fails if `promise` takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sends one request through Node's client. An array header value is sent as several field lines.
 * Bounded by {@link REQUEST_BOUND_MS}.
 */
export function send(
  target: TestServer,
  headers: Record<string, string | string[]>,
  method = 'GET',
  path = '/',
  body?: string | Buffer,
): Promise<Reply> {
  const began = performance.now();
  const exchange = new Promise<Reply>((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: target.port,
      method,
      path,
      headers,
      agent: false,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const lines: Record<string, string[]> = {};
        for (const [name, value] of Object.entries(res.headersDistinct)) {
          if (value !== undefined) lines[name] = value;
        }
        resolve({
          status: res.statusCode ?? 0,
          headers: lines,
          body: Buffer.concat(chunks).toString('latin1'),
          elapsed: performance.now() - began,
        });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
  return within(exchange, REQUEST_BOUND_MS, `${method} ${path}`);
}

/**
 * Writes raw bytes on a socket and parses the response head: for requests Node's client will not
 * send (NUL, bare CR, obs-text, over-long lines). The request should carry `Connection: close`.
 */
export function sendRaw(target: TestServer, bytes: Buffer | string): Promise<Reply> {
  const began = performance.now();
  const exchange = new Promise<Reply>((resolve, reject) => {
    const socket = net.connect(target.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // The server may reset the connection after answering a request it could not parse.
      if (chunks.length > 0 && err.code === 'ECONNRESET') finish();
      else reject(err);
    });
    socket.on('end', finish);
    socket.on('close', finish);
    let done = false;
    function finish(): void {
      if (done) return;
      done = true;
      socket.destroy();
      try {
        resolve({ ...parseResponse(Buffer.concat(chunks)), elapsed: performance.now() - began });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  });
  return within(exchange, REQUEST_BOUND_MS, 'raw request');
}

function parseResponse(raw: Buffer): Omit<Reply, 'elapsed'> {
  const text = raw.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd === -1) throw new Error(`no complete response head in ${raw.length} bytes`);
  const [statusLine, ...fieldLines] = text.slice(0, headEnd).split('\r\n');
  const status = Number((statusLine ?? '').split(' ')[1]);
  const headers: Record<string, string[]> = {};
  for (const line of fieldLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    (headers[name] ??= []).push(line.slice(colon + 1).trim());
  }
  return { status, headers, body: text.slice(headEnd + 4) };
}

/** A raw GET with the given field lines (each `Name: value` without CRLF), closing after. */
export function rawGet(fieldLines: (string | Buffer)[], path = '/'): Buffer {
  const parts: Buffer[] = [Buffer.from(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n`, 'latin1')];
  for (const line of fieldLines) {
    parts.push(typeof line === 'string' ? Buffer.from(line, 'latin1') : line);
    parts.push(Buffer.from('\r\n', 'latin1'));
  }
  parts.push(Buffer.from('Connection: close\r\n\r\n', 'latin1'));
  return Buffer.concat(parts);
}

/** The handler did not run and the refusal carries the promised caching header. */
export function expectRefused(reply: Reply, statuses: readonly number[]): void {
  expect(statuses).toContain(reply.status);
  expect(reply.headers[HIT]).toBeUndefined();
  expect(reply.elapsed).toBeLessThan(REQUEST_BOUND_MS);
  // Node's own 400/431 (before any middleware) carries no headers of ours.
  if (reply.headers['www-authenticate'] !== undefined || reply.status === 401) {
    expect(reply.headers['cache-control']).toEqual(['no-store']);
  }
}

/** A 401 with exactly these challenge lines (or at least the Basic one, when only schemes given). */
export function expectChallenged(reply: Reply, schemes: readonly string[]): void {
  expectRefused(reply, [401]);
  const lines = reply.headers['www-authenticate'] ?? [];
  expect(lines.map((line) => line.split(' ')[0])).toEqual(schemes);
}

/** Basic credentials as a client sends them. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

// ---- a small Digest client (RFC 7616 §3.4), so that tests can forge every directive ----

const NODE_HASH: Record<string, string> = {
  MD5: 'md5',
  'MD5-sess': 'md5',
  'SHA-256': 'sha256',
  'SHA-256-sess': 'sha256',
  'SHA-512-256': 'sha512-256',
  'SHA-512-256-sess': 'sha512-256',
};

function h(algorithm: string, ...parts: (string | Buffer)[]): string {
  const hash = createHash(NODE_HASH[algorithm] ?? 'sha256');
  parts.forEach((part, i) => {
    if (i > 0) hash.update(':');
    hash.update(part);
  });
  return hash.digest('hex');
}

/** The directives of one Digest challenge, parsed by a tiny test-side reader (quoted values only). */
export function challengeParams(line: string): Record<string, string> {
  const params: Record<string, string> = {};
  // Test-side only: our own server's challenge, never attacker input.
  for (const match of line.matchAll(/([a-z]+)=(?:"([^"]*)"|([^,\s]+))/g)) {
    params[match[1]!] = match[2] ?? match[3] ?? '';
  }
  return params;
}

/** Fields of a Digest response; every one may be overridden to forge a request. */
export interface DigestAnswer {
  username: string;
  password: string;
  method: string;
  uri: string;
  realm: string;
  nonce: string;
  opaque?: string | undefined;
  algorithm: string;
  qop?: string | undefined;
  nc: string;
  cnonce: string;
  body?: Buffer;
}

/** The request-digest for an answer (RFC 7616 §3.4.1). */
export function digestResponse(a: DigestAnswer): string {
  let ha1 = h(a.algorithm, a.username, a.realm, a.password);
  if (a.algorithm.endsWith('-sess')) ha1 = h(a.algorithm, ha1, a.nonce, a.cnonce);
  const ha2 =
    a.qop === 'auth-int'
      ? h(a.algorithm, a.method, a.uri, h(a.algorithm, a.body ?? Buffer.alloc(0)))
      : h(a.algorithm, a.method, a.uri);
  return a.qop === undefined
    ? h(a.algorithm, ha1, a.nonce, ha2)
    : h(a.algorithm, ha1, a.nonce, a.nc, a.cnonce, a.qop, ha2);
}

/** The Authorization field value for an answer; `response` and `extra` may override. */
export function digestHeader(
  a: DigestAnswer,
  override: { response?: string; extra?: string } = {},
): string {
  const parts = [
    `username="${a.username}"`,
    `realm="${a.realm}"`,
    `nonce="${a.nonce}"`,
    `uri="${a.uri}"`,
    `algorithm=${a.algorithm}`,
    `response="${override.response ?? digestResponse(a)}"`,
  ];
  if (a.qop !== undefined) parts.push(`qop=${a.qop}`, `nc=${a.nc}`, `cnonce="${a.cnonce}"`);
  if (a.opaque !== undefined) parts.push(`opaque="${a.opaque}"`);
  if (override.extra !== undefined) parts.push(override.extra);
  return `Digest ${parts.join(', ')}`;
}

/** Asks for a challenge and answers it honestly; tests then tamper with the result. */
export async function digestAnswer(
  target: TestServer,
  username: string,
  password: string,
  method = 'GET',
  uri = '/',
): Promise<DigestAnswer> {
  const first = await send(target, {}, method, uri);
  const line = (first.headers['www-authenticate'] ?? []).find((l) => l.startsWith('Digest '));
  if (line === undefined) throw new Error('no Digest challenge');
  const p = challengeParams(line);
  return {
    username,
    password,
    method,
    uri,
    realm: p.realm ?? '',
    nonce: p.nonce ?? '',
    opaque: p.opaque,
    algorithm: p.algorithm ?? 'MD5',
    qop: (p.qop ?? 'auth').split(',')[0],
    nc: '00000001',
    cnonce: 'c0ffee00c0ffee00',
  };
}
