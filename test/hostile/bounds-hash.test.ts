/**
 * The password hashing queue (src/passwords/hash-threads.ts) under a flood of distinct wrong
 * passwords at a real server: the process's pool, sized here for a machine of two CPUs (one
 * thread, 512 checks waiting), whatever this one has, so that the flood overflows it.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { authenticate, basic, parseHtpasswd } from 'authscheme';
import { DeadlineQueue, type Waiting } from '../../src/util/deadline-queue';
import { drive, send } from './bounds-drive';

jest.mock('node:os', () => ({
  ...jest.requireActual<typeof import('node:os')>('node:os'),
  availableParallelism: () => 2,
}));

afterEach(() => jest.restoreAllMocks());

it('keeps at most 512 checks waiting through 5 000 distinct wrong passwords, fails the rest closed at once, and empties', async () => {
  const queues = jest.spyOn(DeadlineQueue.prototype, 'expire');
  const waiting = () =>
    Math.max(0, ...(queues.mock.contexts as DeadlineQueue<Waiting>[]).map((q) => q.items.length));
  // Apache MD5 (1,000 rounds), hashed on the worker thread.
  const line = execFileSync('htpasswd', ['-nbm', 'alice', 'secret'], { encoding: 'utf8' }).trim();
  const file = await parseHtpasswd(`${line}\n`);
  // No deadline of the middleware's: on a busy machine a check's turn on the one thread came more
  // than its default 10 s after the request, which answered 503 and failed the test. The queue's
  // own bound on a wait (13 s) still ends a check that waits too long, failed closed.
  const middleware = authenticate({ schemes: [basic({ verify: file.verify })], timeout: 0 });
  const server = http.createServer((req, res) => {
    middleware(req as never, res as never, (err?: unknown) => {
      const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
      if (typeof code === 'string') res.setHeader('x-error-code', code);
      if (typeof message === 'string') res.setHeader('x-error-message', message);
      res.statusCode = err === undefined ? 200 : 500;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let most = 0;
  let refusedAtOnce = 0;
  try {
    await drive(
      port,
      5000,
      (i) => ({
        headers: {
          authorization: `Basic ${Buffer.from(`alice${i % 2 === 0 ? '' : i}:guess${i}`).toString('base64')}`,
        },
      }),
      (_i, reply) => {
        most = Math.max(most, waiting());
        if (reply.status === 401) return;
        // Past the bound: the verifier fails closed (next(err)), no check queued.
        expect(reply.status).toBe(500);
        expect(reply.headers['x-error-code']).toBe('ERR_AUTH_STORE_FAILURE');
        const message = String(reply.headers['x-error-message']);
        // Or, on a machine too slow for its turn to come within 13 s, queued and failed closed.
        if (message === 'htpasswd: a password check waited more than 13000 ms') return;
        expect(message).toBe('htpasswd: more than 512 password checks waiting');
        refusedAtOnce++;
      },
      // More requests at once than can wait: one on the thread, 512 waiting.
      560,
    );
    expect(refusedAtOnce).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(512);
    expect(most).toBeGreaterThan(400);
    expect(waiting()).toBe(0);
    const right = await send(undefined, port, '/', {
      authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}`,
    });
    expect(right.status).toBe(200);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  // 5 000 hashes on one thread: some 10 s alone, more beside other suites on two busy cores.
}, 120_000);
