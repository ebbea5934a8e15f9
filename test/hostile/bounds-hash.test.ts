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
  const middleware = authenticate({ schemes: [basic({ verify: file.verify })] });
  const server = http.createServer((req, res) => {
    middleware(req as never, res as never, (err?: unknown) => {
      const code = (err as { code?: unknown } | undefined)?.code;
      if (typeof code === 'string') res.setHeader('x-error-code', code);
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
}, 30_000);
