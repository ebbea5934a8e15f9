/**
 * authscheme/negotiate under a flood of well-framed tokens: how many reach GSSAPI at once
 * (`maxConcurrent`), how many wait, what the rest get, and what becomes of a waiting request whose
 * client hung up or that `authenticate()` answered at its deadline. The GSSAPI binding is mocked:
 * each acceptor's step waits on a gate the test opens, so the turns can be counted; the requests
 * go over real sockets to a real node:http server.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { authenticate, type AuthOutcome } from 'authscheme';
import { negotiate, type NegotiateOptions } from 'authscheme/negotiate';

let open: () => void = () => undefined;
let gate: Promise<void> = Promise.resolve();
/** Acceptors set up and not yet past their step. */
let inGssapi = 0;
let mostInGssapi = 0;
const initializeServer = jest.fn(async () => {
  inGssapi++;
  mostInGssapi = Math.max(mostInGssapi, inGssapi);
  return {
    contextComplete: true,
    username: 'alice@EXAMPLE.COM',
    response: 'b2s=',
    step: async (): Promise<void> => {
      try {
        await gate;
      } finally {
        inGssapi--;
      }
    },
  };
});
jest.mock('kerberos', () => ({ initializeServer }));

/** Closes the gate: every step from now on waits for `open()`. */
function closeGate(): void {
  gate = new Promise((resolve) => {
    open = resolve;
  });
}

beforeEach(() => {
  initializeServer.mockClear();
  inGssapi = 0;
  mostInGssapi = 0;
  closeGate();
});
afterEach(() => open());

/** Token number `n`, framed as a GSS-API initial context token (RFC 2743 §3.1). */
function token(n: number): string {
  const body = Buffer.concat([Buffer.from('06062b0601050502', 'hex'), Buffer.from(`token ${n}`)]);
  return Buffer.concat([Buffer.from([0x60, body.length]), body]).toString('base64');
}

interface Server {
  port: number;
  /** Requests that reached the server, and responses that closed (answered or hung up on). */
  arrived: number;
  closed: number;
  close(): Promise<void>;
}

/**
 * A node:http server: `/` behind one authenticate(); `/late` the same after a middleware that lets
 * the request on only once its client has hung up; `/twice` behind two authenticate()s sharing one
 * negotiate(). An error to next() answers its status (else 500) with its code in `x-error-code`.
 */
async function serve(options: Partial<NegotiateOptions>, timeout?: number): Promise<Server> {
  const scheme = negotiate({ servicePrincipal: 'HTTP@localhost', ...options });
  const guard = authenticate({ schemes: [scheme], ...(timeout === undefined ? {} : { timeout }) });
  const app = express();
  const state = { arrived: 0, closed: 0 };
  app.use((req, res, next) => {
    state.arrived++;
    res.once('close', () => state.closed++);
    if (req.path === '/late') res.once('close', () => next());
    else next();
  });
  const show = (req: express.Request, res: express.Response): void => {
    res.json({ user: req.auth?.user });
  };
  app.get('/', guard, show);
  app.get('/late', guard, show);
  app.get('/twice', authenticate({ schemes: [scheme], credentialsRequired: false }), guard, show);
  app.use(
    (
      err: { status?: unknown; code?: unknown },
      _req: express.Request,
      res: express.Response,
      _next: unknown,
    ) => {
      if (typeof err.code === 'string') res.setHeader('x-error-code', err.code);
      res.status(typeof err.status === 'number' ? err.status : 500).end();
    },
  );
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get arrived() {
      return state.arrived;
    },
    get closed() {
      return state.closed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Answer {
  status: number;
  code: string | undefined;
}

/** A GET with `Authorization: Negotiate <token>`; `abort()` hangs up before the answer. */
function send(
  port: number,
  credentials: string,
  path = '/',
): { answer: Promise<Answer>; abort(): void } {
  const req = http.get({
    host: '127.0.0.1',
    port,
    path,
    agent: false,
    headers: { authorization: `Negotiate ${credentials}` },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      res.resume();
      res.once('end', () => {
        const code = res.headers['x-error-code'];
        resolve({ status: res.statusCode!, code: typeof code === 'string' ? code : undefined });
      });
    });
  });
  return { answer, abort: () => req.destroy() };
}

/** Resolves once `condition()` holds, polling; fails after `ms`. */
async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets every pending callback and timer of a few ms run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

/** `promise`, or `'no answer'` if it has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'no answer'> {
  return Promise.race([
    promise,
    new Promise<'no answer'>((resolve) => setTimeout(() => resolve('no answer'), ms).unref()),
  ]);
}

describe('negotiate() maxConcurrent: the GSSAPI work a flood of tokens can queue', () => {
  it('has at most maxConcurrent tokens in GSSAPI at once; the others wait, and all proceed once released', async () => {
    const server = await serve({ maxConcurrent: 3 });
    try {
      const sent = Array.from({ length: 20 }, (_, i) => send(server.port, token(i)));
      await until(() => server.arrived === 20, 'the requests to arrive');
      // The first three reach GSSAPI (waited for: a busy machine may take longer than settle());
      // then time for any more to, which they must not.
      await until(() => initializeServer.mock.calls.length >= 3, 'three tokens in GSSAPI');
      await settle();
      expect(initializeServer).toHaveBeenCalledTimes(3);
      expect(inGssapi).toBe(3);
      open();
      const answers = await Promise.all(sent.map((s) => s.answer));
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      expect(initializeServer).toHaveBeenCalledTimes(20);
      expect(mostInGssapi).toBe(3);
    } finally {
      await server.close();
    }
  });

  it('past the queue (256 per turn) fails closed at once with ERR_AUTH_STORE_FAILURE, a 503 (overloaded, RFC 9110 §15.6.4) through next(err), without reaching GSSAPI', async () => {
    const server = await serve({ maxConcurrent: 1 });
    try {
      // One in GSSAPI, 256 waiting: the queue is full.
      const sent = Array.from({ length: 257 }, (_, i) => send(server.port, token(i)));
      await until(() => server.arrived === 257, 'the requests to arrive');
      await settle();
      const extra = send(server.port, token(257));
      // Answered while the gate is still closed: it did not wait.
      expect(await within(extra.answer, 2000)).toEqual({
        status: 503,
        code: 'ERR_AUTH_STORE_FAILURE',
      });
      expect(initializeServer).toHaveBeenCalledTimes(1);
      open();
      const answers = await Promise.all(sent.map((s) => s.answer));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(initializeServer).toHaveBeenCalledTimes(257);
      expect(mostInGssapi).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('a client that hangs up while its token waits frees its place, and its token never reaches GSSAPI', async () => {
    const server = await serve({ maxConcurrent: 1 });
    try {
      const first = Array.from({ length: 257 }, (_, i) => send(server.port, token(i)));
      await until(() => server.arrived === 257, 'the requests to arrive');
      await settle();
      // Ten waiting clients hang up: their places are free for ten more.
      const gone = first.slice(100, 110);
      for (const s of gone) {
        s.answer.catch(() => undefined);
        s.abort();
      }
      await until(() => server.closed === 10, 'the server to see the clients go');
      const more = Array.from({ length: 10 }, (_, i) => send(server.port, token(1000 + i)));
      await until(() => server.arrived === 267, 'the new requests to arrive');
      await settle();
      // None was refused: the queue had room for them.
      expect(server.closed).toBe(10);
      open();
      const live = [...first.slice(0, 100), ...first.slice(110), ...more];
      const answers = await Promise.all(live.map((s) => s.answer));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(initializeServer).toHaveBeenCalledTimes(live.length);
    } finally {
      await server.close();
    }
  });

  it("a waiter whose client hung up is refused, as any request whose client left mid-check: no error for Express's default handler to log", async () => {
    const outcomes: AuthOutcome[] = [];
    const guard = authenticate({
      schemes: [negotiate({ servicePrincipal: 'HTTP@localhost', maxConcurrent: 1 })],
      audit: (outcome) => void outcomes.push(outcome),
    });
    // Express's own final handler, as in production: it logs every error's stack to stderr.
    const app = express();
    app.set('env', 'production');
    let arrived = 0;
    let closed = 0;
    app.use((_req, res, next) => {
      arrived++;
      res.once('close', () => closed++);
      next();
    });
    app.get('/', guard, (req, res) => void res.json({ user: req.auth?.user }));
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const sent = Array.from({ length: 8 }, (_, i) => send(port, token(i)));
      // Awaited below, unless an expectation fails first.
      for (const s of sent) s.answer.catch(() => undefined);
      await until(() => arrived === 8, 'the requests to arrive');
      await settle();
      // One in GSSAPI, seven waiting; five of those hang up.
      for (const s of sent.slice(3)) s.abort();
      await until(() => closed === 5, 'the server to see the clients go');
      // Their outcomes, waited for (settle() alone was a guess), then time for anything more.
      await until(() => outcomes.length >= 5, 'the outcomes of the five');
      await settle();
      expect(logged).not.toHaveBeenCalled();
      expect(outcomes.map((o) => [o.outcome, o.status])).toEqual(Array(5).fill(['refused', 401]));
      // Not ERR_AUTH_INVALID_CREDENTIALS, which lockouts count (README, audit): no token was
      // checked, and a browser whose tab closed while the turns were busy failed no login.
      expect(outcomes.map((o) => o.code)).toEqual(Array(5).fill('ERR_AUTH_INVALID_REQUEST'));
      open();
      const answers = await Promise.all(sent.slice(0, 3).map((s) => s.answer));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(initializeServer).toHaveBeenCalledTimes(3);
    } finally {
      logged.mockRestore();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a request whose client hung up before authenticate() ran never waits for GSSAPI', async () => {
    const server = await serve({ maxConcurrent: 1 });
    try {
      const holder = send(server.port, token(0));
      await until(() => initializeServer.mock.calls.length === 1, 'the first token in GSSAPI');
      const late = send(server.port, token(1), '/late');
      late.answer.catch(() => undefined);
      await until(() => server.arrived === 2, 'the second request to arrive');
      late.abort();
      await until(() => server.closed === 1, 'the server to see the client go');
      await settle();
      open();
      expect((await holder.answer).status).toBe(200);
      await settle();
      expect(initializeServer).toHaveBeenCalledTimes(1);
    } finally {
      await server.close();
    }
  });

  it("a request answered 503 at authenticate()'s deadline leaves the queue, and the turn goes on to the next", async () => {
    const server = await serve({ maxConcurrent: 1 }, 200);
    try {
      const holder = send(server.port, token(0));
      const waiter = send(server.port, token(1));
      // Both get 503 at the deadline: the holder's step is still in GSSAPI, the waiter never got in.
      expect(await within(waiter.answer, 3000)).toEqual({
        status: 503,
        code: undefined,
      });
      expect((await holder.answer).status).toBe(503);
      expect(initializeServer).toHaveBeenCalledTimes(1);
      open();
      await settle();
      expect(initializeServer).toHaveBeenCalledTimes(1);
      // The holder's turn ended with its step: the next token gets in.
      expect((await send(server.port, token(2)).answer).status).toBe(200);
      expect(initializeServer).toHaveBeenCalledTimes(2);
    } finally {
      await server.close();
    }
  });

  it('a request through two authenticate()s takes one turn: the second reuses what GSSAPI accepted', async () => {
    const server = await serve({ maxConcurrent: 1 });
    try {
      open();
      const answer = await send(server.port, token(0), '/twice').answer;
      expect(answer.status).toBe(200);
      expect(initializeServer).toHaveBeenCalledTimes(1);
    } finally {
      await server.close();
    }
  });

  it('a token that waited for its turn leaves no close listener behind on its response once it runs', async () => {
    // untilClosed() watches a waiting token's response for `close`; the watch must go once the
    // token gets its turn, or each queued request keeps a listener (and its closure) until its
    // response closes, for a `leave` that can no longer do anything.
    const guard = authenticate({
      schemes: [negotiate({ servicePrincipal: 'HTTP@localhost', maxConcurrent: 1 })],
    });
    const app = express();
    let arrived = 0;
    const added: number[] = [];
    app.use((_req, res, next) => {
      arrived++;
      const before = res.listenerCount('close');
      res.locals.before = before;
      next();
    });
    app.get('/', guard, (req, res) => {
      added.push(res.listenerCount('close') - (res.locals.before as number));
      res.json({ user: req.auth?.user });
    });
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const sent = Array.from({ length: 5 }, (_, i) => send(port, token(i)));
      await until(() => arrived === 5, 'the requests to arrive');
      await until(() => initializeServer.mock.calls.length >= 1, 'a token in GSSAPI');
      await settle();
      // One in GSSAPI, four waiting, each watched.
      expect(initializeServer).toHaveBeenCalledTimes(1);
      open();
      const answers = await Promise.all(sent.map((s) => s.answer));
      expect(answers.map((a) => a.status)).toEqual(Array(5).fill(200));
      // Neither the one that never waited nor the four that did: no listener of ours left.
      expect(added).toEqual([0, 0, 0, 0, 0]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('fails a token closed once it has waited 13 s for a turn (timeout: 0), not before, and keeps it from GSSAPI', async () => {
    // The backstop (docs/negotiate.md) for a request no deadline answers: ERR_AUTH_STORE_FAILURE
    // through next(err). Fake timers for the 13 s (performance.now too); I/O and setImmediate real.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const poll = async (condition: () => boolean): Promise<void> => {
      for (let i = 0; !condition(); i++) {
        if (i > 100_000) throw new Error('condition not met');
        await turn();
      }
    };
    const server = await serve({ maxConcurrent: 1 }, 0);
    try {
      const holder = send(server.port, token(0));
      holder.answer.catch(() => undefined);
      await poll(() => initializeServer.mock.calls.length === 1);
      const waiter = send(server.port, token(1));
      let answered: Answer | undefined;
      waiter.answer.then(
        (answer) => (answered = answer),
        () => undefined, // the server closed on a failed assertion
      );
      await poll(() => server.arrived === 2);
      // The token is in the queue once the queue's timer for its deadline is set (the only fake
      // timer here). A fixed number of turns was a guess: queued after the clock moved on, the
      // token's 13 s would start late, and the test fail.
      await poll(() => jest.getTimerCount() === 1);
      await jest.advanceTimersByTimeAsync(12_990);
      for (let i = 0; i < 50; i++) await turn();
      expect(answered).toBeUndefined();
      await jest.advanceTimersByTimeAsync(20);
      await poll(() => answered !== undefined);
      expect(answered).toEqual({ status: 503, code: 'ERR_AUTH_STORE_FAILURE' });
      open();
      expect((await holder.answer).status).toBe(200);
      expect(initializeServer).toHaveBeenCalledTimes(1);
    } finally {
      jest.useRealTimers();
      await server.close();
    }
  });

  it.each<[string, unknown]>([
    ['0', 0],
    ['a negative number', -1],
    ['a fraction', 1.5],
    ['a string', '4'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('refuses maxConcurrent %s with a TypeError at setup', (_what, maxConcurrent) => {
    expect(() =>
      negotiate({ servicePrincipal: 'HTTP@localhost', maxConcurrent } as NegotiateOptions),
    ).toThrow(/maxConcurrent must be a positive integer/);
  });
});
