/**
 * The middleware on node:http2's compatibility API (plain and under Connect), driven by Node's
 * HTTP/2 client over cleartext HTTP/2: challenges, every scheme, streams multiplexed on one
 * connection (Digest's `nc` arriving out of order), and `qop=auth-int`, whose "no body" rule
 * differs from HTTP/1.1's. Duplicated fields, which Node's client will not send, and real clients
 * are in test/interop/http2.test.ts.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import connect from 'connect';
import {
  authenticate,
  basic,
  bearer,
  digest,
  parseChallenges,
  requireScopes,
  type Challenge,
  type Scheme,
} from 'authscheme';
import { basicAuth } from '../helpers/frameworks';
import { digestHeader, type DigestAnswer } from '../hostile/helpers';
import { makeCertificate } from '../helpers/tls';
import { nodeRefusesPastHeaderLimit } from '../helpers/header-limit';

interface H2Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

type Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;

type H2Middleware = (
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
  next: (err?: unknown) => void,
) => void;

/** What the application behind the middleware answers: who, over which version, and the body it read. */
function application(guard: H2Middleware): Handler {
  return (req, res) => {
    guard(req, res, (err) => {
      if (err !== undefined) {
        res.statusCode = 500;
        res.end(err instanceof Error ? err.message : 'error');
        return;
      }
      const answer = (body: string): void => {
        const auth = (req as unknown as { auth?: { user: string } }).auth;
        res.end(JSON.stringify({ user: auth?.user, version: req.httpVersion, body }));
      };
      // A middleware before ours may have read the body already (for auth-int).
      const rawBody = (req as unknown as { rawBody?: Buffer }).rawBody;
      if (rawBody !== undefined) return answer(rawBody.toString('utf8'));
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => answer(body));
    });
  };
}

const servers: http2.Http2Server[] = [];
const sessions: http2.ClientHttp2Session[] = [];

afterEach(async () => {
  // destroy(), not close(): close() waits for streams the server never answered (a test that
  // failed that way), and then so would server.close() and jest's exit.
  for (const session of sessions.splice(0)) session.destroy();
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

/** An h2c server running `middleware` (under Connect when asked), and a client session to it. */
async function start(
  middleware: H2Middleware,
  stack: 'http2' | 'connect' = 'http2',
  options: http2.ServerOptions = {},
): Promise<http2.ClientHttp2Session> {
  let handler = application(middleware);
  if (stack === 'connect') {
    const app = connect();
    app.use(handler as unknown as connect.SimpleHandleFunction);
    handler = app as unknown as Handler;
  }
  const server = http2.createServer(options, handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  sessions.push(session);
  return session;
}

/** One request on `session`; `body` is sent without `content-length`. */
function send(
  session: http2.ClientHttp2Session,
  path: string,
  fields: http2.OutgoingHttpHeaders = {},
  options: { method?: string; body?: string } = {},
): Promise<H2Reply> {
  const headers = { ':path': path, ':method': options.method ?? 'GET', ...fields };
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: options.body === undefined });
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (received) => (responseHeaders = received));
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () =>
      resolve({ status: Number(responseHeaders[':status']), headers: responseHeaders, body }),
    );
    stream.on('error', reject);
    if (options.body !== undefined) stream.end(options.body);
  });
}

/** The challenges of a reply (Node's HTTP/2 client joins the field lines with commas). */
function challenges(reply: H2Reply): Challenge[] {
  const value = reply.headers['www-authenticate'];
  return value === undefined ? [] : parseChallenges(value);
}

const users = { alice: 'wonderland' };

describe.each(['http2', 'connect'] as const)('on node:http2 (%s)', (stack) => {
  it('answers without credentials with 401 and one challenge per scheme', async () => {
    const session = await start(
      authenticate({
        realm: 'h2',
        schemes: [digest({ users }), basic({ users }), bearer({ verify: () => false })],
      }),
      stack,
    );
    const reply = await send(session, '/');
    expect(reply.status).toBe(401);
    expect(challenges(reply).map((challenge) => challenge.scheme)).toEqual([
      'Digest',
      'Basic',
      'Bearer',
    ]);
  });

  it('accepts Basic and Bearer, and refuses a wrong password and an unknown token', async () => {
    const session = await start(
      authenticate({
        realm: 'h2',
        schemes: [
          basic({ users }),
          bearer({ verify: (token) => (token === 'good-token' ? 'bob' : false) }),
        ],
      }),
      stack,
    );
    const asAlice = await send(session, '/', { authorization: basicAuth('alice', 'wonderland') });
    expect(asAlice.status).toBe(200);
    expect(JSON.parse(asAlice.body)).toMatchObject({ user: 'alice', version: '2.0' });
    expect(asAlice.headers['vary']).toBe('Authorization');
    const asBob = await send(session, '/', { authorization: 'Bearer good-token' });
    expect(JSON.parse(asBob.body)).toMatchObject({ user: 'bob' });

    const wrong = await send(session, '/', { authorization: basicAuth('alice', 'nope') });
    expect(wrong.status).toBe(401);
    const unknown = await send(session, '/', { authorization: 'Bearer bad-token' });
    expect(unknown.status).toBe(401);
    expect(challenges(unknown).find((c) => c.scheme === 'Bearer')?.params).toMatchObject({
      error: 'invalid_token',
    });
  });
});

describe('oversized fields on node:http2', () => {
  it('answers an authorization field over the codec limit with 400; nghttp2 refuses larger lists', async () => {
    const session = await start(authenticate({ schemes: [basic({ users })] }));
    const field = (length: number): string => `Basic ${'A'.repeat(length)}`;
    // Over the codec's maxLength (16 KiB) and under Node's header-list limit (64 KiB).
    expect((await send(session, '/', { authorization: field(17_000) })).status).toBe(400);
    expect((await send(session, '/', { authorization: field(60_000) })).status).toBe(400);
    // Beyond the header-list limit the stream is refused before any middleware runs.
    await expect(send(session, '/', { authorization: field(70_000) })).rejects.toThrow(
      /NGHTTP2_REFUSED_STREAM/,
    );
  });
});

// HTTP/1's maxHeadersCount (1000 lines unset) drops lines past it unseen, so a request that many
// lines cannot be told to carry Authorization once. node:http2 drops none: past the server's
// maxHeaderListPairs it resets the stream, and the middleware never runs.
describe('many header lines on node:http2', () => {
  const lines = (count: number): http2.OutgoingHttpHeaders => {
    const fields: http2.OutgoingHttpHeaders = {};
    for (let i = 0; i < count; i++) fields[`x-line-${i}`] = 'v';
    return fields;
  };

  it('reads Authorization among more lines than HTTP/1 would keep', async () => {
    const session = await start(authenticate({ schemes: [basic({ users })] }), 'http2', {
      maxHeaderListPairs: 3000,
    });
    const authorization = basicAuth('alice', 'wonderland');
    const many = await send(session, '/', { ...lines(1500), authorization });
    expect(many.status).toBe(200);
    expect(JSON.parse(many.body)).toMatchObject({ user: 'alice', version: '2.0' });
    const wrong = { ...lines(1500), authorization: basicAuth('alice', 'nope') };
    expect((await send(session, '/', wrong)).status).toBe(401);
  });

  it('never sees a request past maxHeaderListPairs: Node resets its stream', async () => {
    const session = await start(authenticate({ schemes: [basic({ users })] }), 'http2', {
      maxHeaderListPairs: 200,
    });
    const authorization = basicAuth('alice', 'wonderland');
    expect((await send(session, '/', { ...lines(150), authorization })).status).toBe(200);
    await expect(send(session, '/', { ...lines(250), authorization })).rejects.toThrow(
      /NGHTTP2_ENHANCE_YOUR_CALM/,
    );
  });
});

// With allowHTTP1, an HTTP/1.1 request on an http2 server gets node:http's IncomingMessage, whose
// parser drops lines past maxHeadersCount as on any HTTP/1 server: the hidden-line guard must hold
// there too, whatever version the request line claims.
describe('an HTTP/1 request on a node:http2 server with allowHTTP1', () => {
  it('refuses a second Authorization line hidden past 1000 lines with 400 (or Node’s 431)', async () => {
    const certificate = await makeCertificate();
    const server = http2.createSecureServer(
      { key: certificate.key, cert: certificate.cert, allowHTTP1: true },
      application(authenticate({ schemes: [basic({ users })] })) as never,
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const raw = (version: string, filler: number, last: string[]): Promise<string> => {
      const lines = [`GET / ${version}`, 'Host: localhost'];
      lines.push(`Authorization: ${basicAuth('alice', 'wonderland')}`);
      for (let i = 0; i < filler; i++) lines.push(`X-Line-${i}: v`);
      lines.push(...last, 'Connection: close', '', '');
      return new Promise((resolve, reject) => {
        const socket = tls.connect(
          {
            port: (server.address() as AddressInfo).port,
            host: '127.0.0.1',
            ca: certificate.cert,
            servername: 'localhost',
            ALPNProtocols: ['http/1.1'],
          },
          () => socket.end(lines.join('\r\n')),
        );
        let reply = '';
        socket.setEncoding('latin1');
        socket.on('data', (chunk: string) => (reply += chunk));
        socket.on('end', () => resolve(reply));
        socket.on('error', reject);
      });
    };
    try {
      const hidden = [`Authorization: ${basicAuth('eve', 'x')}`];
      for (const version of ['HTTP/1.1', 'HTTP/2.0']) {
        const plain = await raw(version, 40, []);
        expect(plain).toMatch(/^HTTP\/1\.1 200 /);
        expect(plain).toContain('"user":"alice"');
        // Ours, or Node's own 431 where it refuses the request (test/helpers/header-limit.ts).
        const status = (await nodeRefusesPastHeaderLimit()) ? 431 : 400;
        expect(await raw(version, 1100, hidden)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await certificate.remove();
    }
  });
});

// As on HTTP/1 (test/middleware/audit.test.ts): a success whose response something else began
// while the verifier worked is an `error`, with node:http2's own error, handed on once.
describe('a success whose response went out on node:http2', () => {
  it('is reported as an error and handed to next(err) once, with Node’s HTTP/2 error', async () => {
    const outcomes: string[] = [];
    const errors: unknown[] = [];
    const guard = authenticate({
      schemes: [
        basic({
          verify: async (user) => {
            await new Promise((resolve) => setTimeout(resolve, 20));
            return user === 'alice' && user;
          },
        }),
      ],
      audit: ({ outcome }) => void outcomes.push(outcome),
    });
    const server = http2.createServer((req, res) => {
      guard(req, res, (err) => errors.push(err));
      // Something else answers while the verifier works, its end after the verifier's answer.
      res.writeHead(503);
      res.write('bu');
      setTimeout(() => res.end('sy'), 40);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    sessions.push(session);
    const reply = await send(session, '/', { authorization: basicAuth('alice', 'x') });
    expect(reply.status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(outcomes).toEqual(['error']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_HTTP2_HEADERS_SENT' });
  });
});

describe('requireScopes on node:http2', () => {
  it('lets a token with the scope through and answers one without it 403', async () => {
    const guard = authenticate({
      realm: 'h2',
      schemes: [
        bearer({
          verify: (token) =>
            token === 'reader' ? { user: 'r', scopes: ['read'] } : { user: 'w', scopes: ['write'] },
        }),
      ],
    });
    const needsRead = requireScopes('read');
    const session = await start((req, res, next) => {
      guard(req, res, (err) => (err === undefined ? needsRead(req, res, next) : next(err)));
    });
    const reader = await send(session, '/', { authorization: 'Bearer reader' });
    expect(reader.status).toBe(200);
    expect(JSON.parse(reader.body)).toMatchObject({ user: 'r' });
    const writer = await send(session, '/', { authorization: 'Bearer writer' });
    expect(writer.status).toBe(403);
    expect(challenges(writer)[0]?.params).toMatchObject({
      error: 'insufficient_scope',
      scope: 'read',
    });
  });
});

describe('Digest on node:http2', () => {
  /** A handshake on `session`, answered for `uri` with the first qop offered unless told. */
  async function handshake(
    session: http2.ClientHttp2Session,
    uri: string,
    qop?: string,
  ): Promise<DigestAnswer> {
    const first = await send(session, uri);
    expect(first.status).toBe(401);
    const p = challenges(first).find((c) => c.scheme === 'Digest')!.params;
    return {
      username: 'alice',
      password: 'wonderland',
      method: 'GET',
      uri,
      realm: p.realm!,
      nonce: p.nonce!,
      opaque: p.opaque,
      algorithm: p.algorithm!,
      qop: qop ?? p.qop!.split(',')[0],
      nc: '00000001',
      cnonce: 'c0ffee00c0ffee00',
    };
  }

  const nc = (n: number): string => n.toString(16).padStart(8, '0');

  it('authenticates, sends Authentication-Info, and binds the uri to :path', async () => {
    const session = await start(authenticate({ realm: 'h2', schemes: [digest({ users })] }));
    const answer = await handshake(session, '/a?x=1');
    const ok = await send(session, '/a?x=1', { authorization: digestHeader(answer) });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ user: 'alice', version: '2.0' });
    expect(ok.headers['authentication-info']).toMatch(/rspauth="[0-9a-f]{64}"/);

    // The same answer sent for another :path is refused (RFC 7616 §3.4.6).
    const moved = await send(session, '/a?x=2', {
      authorization: digestHeader({ ...answer, nc: nc(2) }),
    });
    expect(moved.status).toBe(400);
  });

  it('takes an absolute uri naming :authority, as it takes one naming the Host on HTTP/1.1', async () => {
    // RFC 9113 §8.3.1: on HTTP/2 the target's authority is :authority; Node's client sends no Host.
    const session = await start(authenticate({ realm: 'h2', schemes: [digest({ users })] }));
    const answer = await handshake(session, '/a?x=1');
    const authority = `127.0.0.1:${session.socket.remotePort}`;
    const ok = await send(session, '/a?x=1', {
      authorization: digestHeader({ ...answer, uri: `http://${authority}/a?x=1` }),
    });
    expect(ok.status).toBe(200);
    // Another authority is another resource (RFC 7616 §3.4.6).
    const elsewhere = await send(session, '/a?x=1', {
      authorization: digestHeader({ ...answer, nc: nc(2), uri: 'http://example.com/a?x=1' }),
    });
    expect(elsewhere.status).toBe(400);
  });

  // RFC 9113 §8.5: a CONNECT carries no :path; its target is :authority, and Node's compatibility
  // API leaves req.url undefined. The target was taken to be "/": a proxy's Digest refused every
  // tunnel's answer (uri="host:port", as on HTTP/1.1) with 400, and took one made for "/".
  it('binds the uri of a CONNECT to its :authority in proxy mode', async () => {
    const guard = authenticate({ realm: 'h2', proxy: true, schemes: [digest({ users })] });
    // The compatibility API (and its `connect` event) is set up by a request listener.
    const server = http2.createServer((_req, res) => res.writeHead(404).end());
    server.on('connect', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
      guard(req, res, (err) => {
        const auth = (req as unknown as { auth?: { user: string } }).auth;
        res.writeHead(err === undefined ? 200 : 500).end(auth?.user ?? 'error');
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    sessions.push(session);
    const tunnel = (authority: string, fields: http2.OutgoingHttpHeaders = {}) =>
      new Promise<H2Reply>((resolve, reject) => {
        const stream = session.request(
          { ':method': 'CONNECT', ':authority': authority, ...fields },
          { endStream: false },
        );
        let headers: http2.IncomingHttpHeaders = {};
        let body = '';
        stream.setEncoding('utf8');
        stream.on('response', (received) => (headers = received));
        stream.on('data', (chunk: string) => (body += chunk));
        stream.on('end', () => resolve({ status: Number(headers[':status']), headers, body }));
        stream.on('error', reject);
        stream.end();
      });
    const first = await tunnel('example.com:443');
    expect(first.status).toBe(407);
    const p = parseChallenges(first.headers['proxy-authenticate'] as string)[0]!.params;
    const answer: DigestAnswer = {
      username: 'alice',
      password: 'wonderland',
      method: 'CONNECT',
      uri: 'example.com:443',
      realm: p.realm!,
      nonce: p.nonce!,
      opaque: p.opaque,
      algorithm: p.algorithm!,
      qop: 'auth',
      nc: '00000001',
      cnonce: 'c0ffee00c0ffee00',
    };
    const ok = await tunnel('example.com:443', { 'proxy-authorization': digestHeader(answer) });
    expect([ok.status, ok.body]).toEqual([200, 'alice']);
    // An answer made for another target is another resource (RFC 7616 §3.4.6).
    for (const uri of ['/', 'other.example:443']) {
      const moved = await tunnel('example.com:443', {
        'proxy-authorization': digestHeader({ ...answer, uri, nc: nc(2) }),
      });
      expect(moved.status).toBe(400);
    }
  });

  // Before: the error response carried the success's Authentication-Info, Cache-Control and Vary.
  it('sends none of the success headers when the audit hook throws after a success', async () => {
    const guard = authenticate({
      realm: 'h2',
      schemes: [digest({ users })],
      cacheControl: 'no-store',
      audit: (outcome) => {
        if (outcome.outcome === 'success') throw new Error('log full');
      },
    });
    const session = await start((req, res, next) => {
      // An application header of the same name, set before authenticate(): it stays.
      if (req.url === '/app') res.setHeader('Authentication-Info', 'from-the-app');
      res.setHeader('Vary', 'Origin');
      guard(req, res, next);
    });
    for (const uri of ['/', '/app']) {
      const answer = await handshake(session, uri);
      const reply = await send(session, uri, { authorization: digestHeader(answer) });
      expect([reply.status, reply.body]).toEqual([500, 'log full']);
      expect(reply.headers['authentication-info']).toBe(uri === '/' ? undefined : 'from-the-app');
      expect(reply.headers['cache-control']).toBeUndefined();
      expect(reply.headers['vary']).toBe('Origin');
    }
  });

  it('accepts nonce counts that arrive out of order on multiplexed streams, and no repeat', async () => {
    const session = await start(authenticate({ realm: 'h2', schemes: [digest({ users })] }));
    const answer = await handshake(session, '/');
    // Twenty streams on one connection at once, their nc shuffled.
    const counts = [7, 3, 12, 1, 20, 5, 9, 2, 16, 4, 11, 8, 19, 6, 14, 10, 18, 13, 17, 15];
    const replies = await Promise.all(
      counts.map((n) =>
        send(session, '/', { authorization: digestHeader({ ...answer, nc: nc(n) }) }),
      ),
    );
    expect(replies.map((reply) => reply.status)).toEqual(counts.map(() => 200));
    const again = await send(session, '/', {
      authorization: digestHeader({ ...answer, nc: nc(12) }),
    });
    expect(again.status).toBe(401);
  });

  describe('qop=auth-int', () => {
    const authInt = () =>
      authenticate({ realm: 'h2', schemes: [digest({ users, qop: ['auth-int'] })] });

    it('accepts a request that ends with its headers, hashed over the empty body', async () => {
      const session = await start(authInt());
      const answer = await handshake(session, '/', 'auth-int');
      const reply = await send(session, '/', { authorization: digestHeader(answer) });
      expect(reply.status).toBe(200);
    });

    it('refuses a body sent without content-length under a digest of the empty body', async () => {
      // HTTP/1.1's rule (no length, no Transfer-Encoding: no body) does not hold on HTTP/2:
      // DATA frames may follow anyway (RFC 9113 §8.1). The body is unknown, so it is refused.
      const session = await start(authInt());
      const answer = await handshake(session, '/', 'auth-int');
      const reply = await send(
        session,
        '/',
        { authorization: digestHeader({ ...answer, method: 'POST' }) },
        { method: 'POST', body: 'smuggled' },
      );
      expect(reply.status).toBe(401);
      expect(reply.body).not.toContain('smuggled');
    });

    it('accepts a body the application makes available, hashed as sent', async () => {
      // What the README tells applications to do: read the raw body before the middleware.
      const guard = authInt();
      const withBody: H2Middleware = (req, res, next) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          (req as { rawBody?: Buffer }).rawBody = Buffer.concat(chunks);
          guard(req, res, next);
        });
      };
      const session = await start(withBody);
      const answer = await handshake(session, '/', 'auth-int');
      const body = 'the body, as sent';
      const reply = await send(
        session,
        '/',
        { authorization: digestHeader({ ...answer, method: 'POST', body: Buffer.from(body) }) },
        { method: 'POST', body },
      );
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body)).toMatchObject({ user: 'alice' });
    });
  });
});

// Node's HTTP/1 setHeader refuses a name that is no token and a value with CR, LF, NUL or a
// character above U+00FF; its HTTP/2 compatibility setHeader does not. It took such a value (and
// sent CR LF, NUL, or the low byte of '€'), destroyed the stream after the handler ran for a name
// that is no token, and took connection-specific fields that HTTP/2 forbids (RFC 9113 §8.2.2),
// which threw in the handler's res.end().
describe("a scheme's success headers on node:http2", () => {
  /** A custom scheme that accepts any `Custom` credentials with these success headers. */
  const succeeding = (headers: Record<string, string>): Scheme => ({
    name: 'Custom',
    challenges: () => [{ scheme: 'Custom', params: {} }],
    verify: () => ({ ok: true, user: 'a', headers }),
  });

  /** The reply, and the code of the error next(err) got (the handler answers 200 with the user). */
  async function succeed(
    headers: Record<string, string>,
    before: (res: http2.Http2ServerResponse) => void = () => {},
    audit?: () => void,
  ): Promise<H2Reply & { code?: unknown }> {
    const guard = authenticate({ schemes: [succeeding(headers)], audit });
    let code: unknown;
    const session = await start((req, res, next) => {
      // What a middleware before authenticate() set.
      before(res);
      guard(req, res, (err) => {
        code = (err as { code?: unknown } | undefined)?.code;
        next(err);
      });
    });
    const reply = await send(session, '/', { authorization: 'Custom t' });
    return { ...reply, code };
  }

  it.each<[Record<string, string>, string]>([
    [
      { 'X-Ok': 'yes', 'X-Info': 'secret-part\r\nSet-Cookie: s=1' },
      'a header X-Info whose value holds U+000D, which no field value can carry (RFC 9110 §5.5)',
    ],
    [
      { 'X-Ok': 'yes', 'X-Info': 'secret-part\u0000' },
      'a header X-Info whose value holds U+0000, which no field value can carry (RFC 9110 §5.5)',
    ],
    [
      { 'X-Ok': 'yes', 'X-Info': 'secret-part \u20ac' },
      'a header X-Info whose value holds U+20AC, which no field value can carry (RFC 9110 §5.5)',
    ],
    [
      { 'X-Ok': 'yes', 'X\r\nInjected': 'a' },
      'a header named "X\\r\\nInjected", which is no field name (a token, RFC 9110 §5.1)',
    ],
    [
      { 'X-Ok': 'yes', ' X-Info': 'a' },
      'a header named " X-Info", which is no field name (a token, RFC 9110 §5.1)',
    ],
    [
      { 'X-Ok': 'yes', 'Transfer-Encoding': 'chunked' },
      'a header Transfer-Encoding, a connection-specific field that HTTP/2 forbids (RFC 9113 §8.2.2)',
    ],
    [
      { 'X-Ok': 'yes', Connection: 'close' },
      'a header Connection, a connection-specific field that HTTP/2 forbids (RFC 9113 §8.2.2)',
    ],
    ...['Keep-Alive', 'Proxy-Connection', 'Upgrade', 'HTTP2-Settings'].map(
      (name): [Record<string, string>, string] => [
        { 'X-Ok': 'yes', [name]: 'a' },
        `a header ${name}, a connection-specific field that HTTP/2 forbids (RFC 9113 §8.2.2)`,
      ],
    ),
    [
      { 'X-Ok': 'yes', TE: 'gzip' },
      'a header TE, a connection-specific field that HTTP/2 forbids (RFC 9113 §8.2.2)',
    ],
  ])('fail the request closed as on HTTP/1, none of them sent: %j', async (headers, problem) => {
    const reply = await succeed(headers);
    expect(reply.code).toBe('ERR_AUTH_VERIFIER_RESULT');
    expect(reply.status).toBe(500);
    expect(reply.body).toBe(`The Custom scheme's success carries ${problem}`);
    expect(reply.body).not.toContain('secret-part');
    expect(reply.headers['x-ok']).toBeUndefined();
    expect(reply.headers['x-info']).toBeUndefined();
  });

  // The undo once removed every name this success had set, an earlier middleware's Vary or
  // Cache-Control with it; and removeHeader('date') on HTTP/2 leaves a Date it was given and
  // only stops the one Node adds.
  it('leave a header set before them as it was when one is refused', async () => {
    const reply = await succeed(
      {
        'Cache-Control': 'private',
        Vary: 'Cookie',
        'X-New': 'a',
        Date: 'Thu, 01 Jan 1970 00:00:00 GMT',
        Connection: 'close',
      },
      (res) => {
        res.setHeader('Cache-Control', 'no-cache, app');
        res.setHeader('Vary', 'Origin');
      },
    );
    expect(reply.code).toBe('ERR_AUTH_VERIFIER_RESULT');
    expect(reply.status).toBe(500);
    expect(reply.headers['cache-control']).toBe('no-cache, app');
    expect(reply.headers['vary']).toBe('Origin');
    expect(reply.headers['x-new']).toBeUndefined();
    expect(reply.headers['date']).not.toBe('Thu, 01 Jan 1970 00:00:00 GMT');
    expect(Date.parse(reply.headers['date'] as string)).toBeGreaterThan(Date.now() - 60_000);
  });

  // removeHeader('date') on HTTP/2 leaves a Date it was given, and stops the one Node adds.
  it.each([true, false])(
    'are all undone when the audit hook throws: a Date goes back to Node’s (sendDate: %s)',
    async (sendDate) => {
      const reply = await succeed(
        { 'Cache-Control': 'private', 'X-New': 'a', Date: 'Thu, 01 Jan 1970 00:00:00 GMT' },
        (res) => {
          res.setHeader('Cache-Control', 'no-cache, app');
          res.sendDate = sendDate;
        },
        () => {
          throw new Error('log full');
        },
      );
      expect([reply.status, reply.body]).toEqual([500, 'log full']);
      expect(reply.headers['cache-control']).toBe('no-cache, app');
      expect(reply.headers['x-new']).toBeUndefined();
      if (sendDate) {
        expect(reply.headers['date']).not.toBe('Thu, 01 Jan 1970 00:00:00 GMT');
        expect(Date.parse(reply.headers['date'] as string)).toBeGreaterThan(Date.now() - 60_000);
      } else {
        // No Date, as Node sends none then.
        expect(reply.headers['date']).toBeUndefined();
      }
    },
  );

  // RFC 6265 §3: Set-Cookie cannot be combined; the scheme's went in place of the app's.
  it('put a Set-Cookie beside the cookies set before, and take only it back when refused', async () => {
    const app = (res: import('node:http2').Http2ServerResponse): void => {
      res.setHeader('Set-Cookie', ['csrf=1', 'theme=dark']);
    };
    const sent = await succeed({ 'Set-Cookie': 'session=2' }, app);
    expect(sent.status).toBe(200);
    expect(sent.headers['set-cookie']).toEqual(['csrf=1', 'theme=dark', 'session=2']);
    const refused = await succeed({ 'Set-Cookie': 'session=2', 'X-Info': 'a\nb' }, app);
    expect(refused.status).toBe(500);
    expect(refused.headers['set-cookie']).toEqual(['csrf=1', 'theme=dark']);
  });

  // RFC 6265 §4.1.1: no two Set-Cookie fields with one cookie-name; both went out before.
  it('put a Set-Cookie in place of the cookie of the same name set before', async () => {
    const replaced = await succeed({ 'Set-Cookie': 'session=2' }, (res) => {
      res.setHeader('Set-Cookie', ['csrf=1', ' session = old; Path=/', 'sessionid=3']);
    });
    expect(replaced.status).toBe(200);
    expect(replaced.headers['set-cookie']).toEqual(['csrf=1', 'sessionid=3', 'session=2']);
    const alone = await succeed({ 'Set-Cookie': 'session=2' }, (res) => {
      res.setHeader('Set-Cookie', 'session=old');
    });
    expect(alone.headers['set-cookie']).toEqual(['session=2']);
  });

  it('go out when they can: a tab, Latin-1, TE: trailers', async () => {
    const reply = await succeed({ 'X-Tab': 'a\tb', 'X-Latin1': 'caf\u00e9', TE: 'trailers' });
    expect(reply.code).toBeUndefined();
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ user: 'a', version: '2.0' });
    expect(reply.headers['x-tab']).toBe('a\tb');
    expect(reply.headers['x-latin1']).toBe('caf\u00e9');
    expect(reply.headers['te']).toBe('trailers');
  });
});
