/**
 * HTTP/1.1 on the wire around a refusal (from a review with raw sockets): the unread body of a
 * refused request is not read as the next request on a keep-alive connection, the
 * `Expect: 100-continue` recipe of docs/security.md with `onFailure: 'next'`, and an error handler
 * of the README's shape when something else answered while a verifier worked.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import express5, {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { authenticate, AuthenticationError, basic, type Scheme } from 'authscheme';

const express4 = require('express4') as typeof express5;

const GOOD = `Basic ${Buffer.from('alice:secret').toString('base64')}`;
const BAD = `Basic ${Buffer.from('alice:wrong').toString('base64')}`;

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(server: http.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/**
 * Writes each step (a string, or a pause in ms) on one connection and returns what came back
 * within `wait` ms of the last step, or until the server closed the connection.
 */
async function exchange(
  port: number,
  steps: (string | number)[],
  wait = 500,
  until?: (text: string) => boolean,
): Promise<{ text: string; closed: boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let text = '';
  let closed = false;
  let done!: () => void;
  const ended = new Promise<void>((resolve) => (done = resolve));
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    if (until?.(text) === true) done();
  });
  socket.on('end', () => {
    closed = true;
    done();
  });
  await new Promise((resolve) => socket.once('connect', resolve));
  for (const step of steps) {
    if (typeof step === 'number') await new Promise((resolve) => setTimeout(resolve, step));
    else socket.write(step);
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([ended, new Promise((resolve) => (timer = setTimeout(resolve, wait)))]);
  clearTimeout(timer);
  socket.destroy();
  return { text, closed };
}

const statuses = (text: string): number[] =>
  [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));

/** Stops waiting once `count` responses have come whole (the last one's body ends with `;`). */
const answered =
  (count: number) =>
  (text: string): boolean =>
    statuses(text).length >= count && text.endsWith(';');

/** The README's error handler for refusals with `onFailure: 'next'`. */
function refusalHandler(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  // The response went out already (something else answered while a verifier worked): there is
  // nothing left to send. Express's own handler would close the connection, which keep-alive may
  // by then have given to the client's next request.
  if (res.writableEnded) return;
  // A 503 (a verifier that did not answer in time) is a fault to log like any other.
  if (!(err instanceof AuthenticationError) || err.status >= 500) return next(err);
  res.status(err.status).set(err.headers).end(); // no string body: see onFailure above
}

describe.each([
  ['node:http', undefined],
  ['Express 5', express5],
  ['Express 4', express4],
] as const)('a refused request with a body, on %s', (_name, framework) => {
  async function start(): Promise<number> {
    const guard = authenticate({ realm: 'wire', schemes: [basic({ users: { alice: 'secret' } })] });
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      let length = 0;
      req.on('data', (chunk: Buffer) => (length += chunk.length));
      req.on('end', () => res.end(`ok ${req.method} ${req.url} ${length};`));
    };
    if (framework === undefined) {
      return listen(
        http.createServer((req, res) =>
          guard(req, res, (err) => {
            if (err !== undefined) res.writeHead(500).end();
            else handler(req, res);
          }),
        ),
      );
    }
    const app = framework();
    app.use(guard);
    app.use(handler);
    return listen(http.createServer(app));
  }

  // The body is a request of its own: read as one, it would be served with alice's credentials.
  const inner = `GET /smuggled HTTP/1.1\r\nHost: x\r\nAuthorization: ${GOOD}\r\n\r\n`;
  const next = `GET /next HTTP/1.1\r\nHost: x\r\nAuthorization: ${GOOD}\r\n\r\n`;

  it.each([
    ['Content-Length', `Content-Length: ${inner.length}\r\n\r\n${inner}`],
    [
      'chunked',
      `Transfer-Encoding: chunked\r\n\r\n${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n`,
    ],
  ])('(%s) is discarded, and the next request on the connection is served', async (_, rest) => {
    const port = await start();
    for (const auth of ['', `Authorization: ${BAD}\r\n`]) {
      const { text } = await exchange(
        port,
        [`POST /a HTTP/1.1\r\nHost: x\r\n${auth}${rest}`, next],
        2000,
        answered(2),
      );
      expect(statuses(text)).toEqual([401, 200]);
      expect(text).toContain('ok GET /next 0;');
      expect(text).not.toContain('smuggled');
    }
  });

  it('sends a HEAD refusal without body bytes', async () => {
    const port = await start();
    const { text } = await exchange(
      port,
      [`HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n`, next],
      2000,
      answered(2),
    );
    expect(statuses(text)).toEqual([401, 200]);
    expect(text).toMatch(/Content-Length: 12\r\n[^]*\r\n\r\nHTTP\/1\.1 200 /);
  });
});

describe("the Expect: 100-continue recipe with onFailure: 'next' (docs/security.md)", () => {
  async function start(handler: 'readme' | 'express'): Promise<number> {
    const app = express5();
    app.use(
      authenticate({
        realm: 'wire',
        onFailure: 'next',
        schemes: [basic({ users: { alice: 'secret' } })],
      }),
    );
    app.use((req, res, next) => {
      if (req.httpVersion === '1.1' && /\b100-continue\b/i.test(req.headers.expect ?? '')) {
        res.writeContinue();
      }
      next();
    });
    app.post('/upload', (req, res) => {
      req.resume();
      req.on('end', () => res.send('uploaded'));
    });
    // Express's own handler, quiet: it would log each refusal's stack.
    if (handler === 'readme') app.use(refusalHandler);
    else app.set('env', 'test');
    const server = http.createServer(app);
    server.on('checkContinue', app);
    return listen(server);
  }
  const head = `POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n`;

  it("refuses before the upload with the README's error handler", async () => {
    const port = await start('readme');
    const { text, closed } = await exchange(port, [`${head}\r\n`], 2000);
    expect(statuses(text)).toEqual([401]);
    expect(text).toContain('WWW-Authenticate: Basic realm="wire"');
    expect(text).toContain('Connection: close');
    expect(closed).toBe(true);
    const ok = await exchange(port, [`${head}Authorization: ${GOOD}\r\n\r\n`, 200, 'hello']);
    expect(statuses(ok.text)).toEqual([100, 200]);
  });

  it("Express's default handler answers only once the body came, which the client holds back", async () => {
    const port = await start('express');
    const waiting = await exchange(port, [`${head}\r\n`], 500);
    expect(waiting.text).toBe('');
    // A client that gives up waiting for the 100 (curl after 1 s) uploads, and is then refused.
    const late = await exchange(port, [`${head}\r\n`, 300, 'hello']);
    expect(statuses(late.text)).toEqual([401]);
  });
});

/**
 * An app whose timeout middleware answers `/a` with a 503 after 50 ms, while `guard` works on it,
 * and whose `/b` answers 200 after 400 ms; `errorHandler`, if given, after both.
 */
function timedOutApp(guard: RequestHandler, errorHandler?: ErrorRequestHandler) {
  const app = express5();
  app.use((req, res, next) => {
    if (req.url === '/a') setTimeout(() => res.status(503).end('timed out'), 50);
    next();
  });
  app.use(guard);
  app.get('/b', (_req, res) => void setTimeout(() => res.send('second'), 400));
  if (errorHandler !== undefined) app.use(errorHandler);
  return app;
}

/** A Basic verifier that takes 250 ms for the user `slow`, and fails for the password `store down`. */
const slowBasic = () =>
  basic({
    verify: async (user, password) => {
      if (user === 'slow') await new Promise((resolve) => setTimeout(resolve, 250));
      if (password === 'store down') throw new Error('store down');
      return password === 'secret' ? user : false;
    },
  });

/** `/a` with `authorization` (its 503 comes while the guard works), then `/b` on the same connection: both answered. */
async function expectBothAnswered(port: number, authorization: string | undefined) {
  const first = authorization === undefined ? '' : `Authorization: ${authorization}\r\n`;
  const { text } = await exchange(
    port,
    [
      `GET /a HTTP/1.1\r\nHost: x\r\n${first}\r\n`,
      100,
      `GET /b HTTP/1.1\r\nHost: x\r\nAuthorization: ${GOOD}\r\n\r\n`,
    ],
    2000,
    (received) => received.endsWith('second'),
  );
  expect(statuses(text)).toEqual([503, 200]);
  expect(text).toMatch(/second$/);
}

const slowAs = (password: string) => `Basic ${Buffer.from(`slow:${password}`).toString('base64')}`;

describe('a late result after something else answered, with Express’s own error handler', () => {
  // The response ended while the verifier worked: nothing is handed on, so Express's default
  // handler never destroys the socket that keep-alive gave to the request after it.
  it.each(['respond', 'next'] as const)(
    'onFailure: %s leaves the connection, and the request after it, alone',
    async (onFailure) => {
      const guard = authenticate({ realm: 'wire', onFailure, timeout: 0, schemes: [slowBasic()] });
      const port = await listen(http.createServer(timedOutApp(guard)));
      // A refusal, a success and a verifier's error, each after the 503.
      for (const password of ['wrong', 'secret', 'store down']) {
        await expectBothAnswered(port, slowAs(password));
      }
    },
  );
  // The same when nothing but a scheme's asynchronous challenges() was awaited: a request
  // without credentials (a browser's first) is refused after the response ended.
  it('a refusal whose challenges came after the response ended leaves the request after it alone', async () => {
    const slowChallenges: Scheme = {
      name: 'Custom',
      challenges: async () => {
        await new Promise((resolve) => setTimeout(resolve, 250));
        return [{ scheme: 'Custom', params: { realm: 'wire' } }];
      },
      verify: () => ({ ok: false, code: 'ERR_AUTH_INVALID_CREDENTIALS', message: 'no' }),
    };
    const guard = authenticate({
      realm: 'wire',
      timeout: 0,
      schemes: [slowChallenges, basic({ users: { alice: 'secret' } })],
    });
    const port = await listen(http.createServer(timedOutApp(guard)));
    await expectBothAnswered(port, undefined);
  });
});

describe('a refusal handed on after something else answered (onFailure: next)', () => {
  it("the README's error handler leaves the connection, and the request after it, alone", async () => {
    // Still working when the first request's refusal reaches the error handler.
    const guard = authenticate({
      realm: 'wire',
      onFailure: 'next',
      timeout: 0,
      schemes: [slowBasic()],
    });
    const port = await listen(http.createServer(timedOutApp(guard, refusalHandler)));
    await expectBothAnswered(port, slowAs('wrong'));
  });
});
