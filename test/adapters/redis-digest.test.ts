/**
 * RedisNonceStore behind digest() end to end: two Express apps standing for two processes (each
 * with its own digest(), its own Redis connection, one shared secret) on real servers, and a real
 * redis-server; then what a request gets when Redis dies or hangs.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import {
  authenticate,
  digest,
  formatCredentials,
  parseChallenges,
  type Challenge,
  type DigestOptions,
} from 'authscheme';
import { RedisNonceStore, type RedisNonceStoreOptions } from 'authscheme/redis';
import { answer } from '../schemes/digest/helpers';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';

const SECRET = 'shared-by-every-process-0123456789';
const alice = { user: 'alice', password: 'secret' };

const servers: http.Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

/** One "process": its own digest() over its own store instance and client connection. */
async function startApp(
  store: RedisNonceStoreOptions,
  options: Partial<DigestOptions> = {},
): Promise<string> {
  const app = express();
  app.use(
    authenticate({
      realm: 'api',
      schemes: [
        digest({
          users: { alice: 'secret' },
          algorithms: ['SHA-256'],
          secret: SECRET,
          store: new RedisNonceStore(store),
          ...options,
        } as DigestOptions),
      ],
    }),
  );
  app.get('/{*rest}', (req, res) => {
    res.json({ user: req.auth?.user });
  });
  app.use(
    (err: { code?: string }, _req: express.Request, res: express.Response, _next: unknown) => {
      res.status(500).json({ code: err.code });
    },
  );
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function challengeFrom(origin: string, path: string): Promise<Challenge> {
  const res = await request(origin).get(path);
  expect(res.status).toBe(401);
  return parseChallenges(res.headers['www-authenticate'] as string)[0] as Challenge;
}

function authorization(challenge: Challenge, path: string, nc: number): string {
  return formatCredentials(answer(challenge, { ...alice, uri: path, nc }));
}

/**
 * Answers `challenge` (count `nc`) at `path` while the store fails: a 500 with
 * ERR_AUTH_STORE_FAILURE, never a success (fail closed). Returns how long the answer took.
 */
async function expectStoreFailure(
  origin: string,
  challenge: Challenge,
  path: string,
  nc: number,
): Promise<number> {
  const started = Date.now();
  const res = await request(origin)
    .get(path)
    .set('Authorization', authorization(challenge, path, nc))
    .timeout(10_000);
  expect(res.status).toBe(500);
  expect(res.body).toEqual({ code: 'ERR_AUTH_STORE_FAILURE' });
  return Date.now() - started;
}

describe('two processes sharing a RedisNonceStore', () => {
  let redis: RedisServer;
  let ioredis: Redis;
  let nodeRedis: ReturnType<typeof createClient>;
  let originA: string;
  let originB: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    ioredis = new Redis(redis.port, redis.host, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    await ioredis.connect();
    nodeRedis = createClient({ url: redis.url, disableOfflineQueue: true });
    await nodeRedis.connect();
    // Process A talks to Redis through ioredis, process B through node-redis: one record format.
    originA = await startApp({ client: ioredis });
    originB = await startApp({ client: nodeRedis });
  });

  afterAll(async () => {
    ioredis?.disconnect();
    await nodeRedis?.quit();
    await redis?.stop();
  });

  it('accepts on B a nonce issued by A, and refuses a count replayed from A to B', async () => {
    const challenge = await challengeFrom(originA, '/items');
    const first = authorization(challenge, '/items', 1);

    const onB = await request(originB).get('/items').set('Authorization', first);
    expect(onB.status).toBe(200);
    expect(onB.body).toEqual({ user: 'alice' });

    // The same request again, on the other process and on the same one.
    for (const origin of [originA, originB]) {
      const replay = await request(origin).get('/items').set('Authorization', first);
      expect(replay.status).toBe(401);
      expect(parseChallenges(replay.headers['www-authenticate'] as string)[0]?.params.stale).toBe(
        'true',
      );
    }

    const next = await request(originA)
      .get('/items')
      .set('Authorization', authorization(challenge, '/items', 2));
    expect(next.status).toBe(200);
  });

  // From a review: the record's TTL was the nonce's time left, counted down by Redis in real
  // time, while digest()'s clock, stepped back, goes on at half pace: the nonce outlived its
  // record, and a replay then started a fresh one and was let in.
  it('refuses a replay after the wall clock was stepped back, once the nonce outlived its old TTL', async () => {
    let step = 0;
    const now = (): number => Date.now() + step;
    const LIFE = 1000;
    const origin = await startApp(
      { client: ioredis, clockSkew: 0, now },
      { nonceLifetime: LIFE, now },
    );
    const challenge = await challengeFrom(origin, '/');
    const captured = authorization(challenge, '/', 1);
    await request(origin).get('/').set('Authorization', captured).expect(200);
    step = -60_000; // NTP steps the clock back a minute
    // Past the nonce's time left in real time; digest()'s clock has gone on at half pace since.
    // Either the record is still there (a replay) or the nonce has expired (stale): a 401.
    for (const wait of [LIFE * 1.3, LIFE * 1.3]) {
      await new Promise((resolve) => setTimeout(resolve, wait));
      const replay = await request(origin).get('/').set('Authorization', captured);
      expect(replay.status).toBe(401);
    }
  });

  it('lets exactly one of 20 copies of a request through, spread over both processes', async () => {
    const challenge = await challengeFrom(originB, '/race');
    const header = authorization(challenge, '/race', 1);
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request(i % 2 === 0 ? originA : originB)
          .get('/race')
          .set('Authorization', header)
          .then((res) => res.status),
      ),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(19);
  });

  it('accepts counts that arrive out of order across processes, each once', async () => {
    const challenge = await challengeFrom(originA, '/late');
    const send = (origin: string, nc: number): Promise<number> =>
      request(origin)
        .get('/late')
        .set('Authorization', authorization(challenge, '/late', nc))
        .then((res) => res.status);
    expect(await send(originA, 5)).toBe(200);
    expect(await send(originB, 3)).toBe(200);
    expect(await send(originA, 3)).toBe(401);
    expect(await send(originB, 4)).toBe(200);
  });
});

describe('a Redis that dies or hangs', () => {
  /** Each case gets its own server, since it stops or freezes it. */
  const cases: {
    name: string;
    /** How soon the 500 comes, at most. */
    within: number;
    connect(server: RedisServer): Promise<{
      options: RedisNonceStoreOptions;
      close(): Promise<void> | void;
    }>;
  }[] = [
    {
      name: 'ioredis without offline queue or retries',
      // At once: well before the store's default timeout (2000 ms) would answer.
      within: 2000,
      async connect(server) {
        const client = new Redis(server.port, server.host, {
          lazyConnect: true,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
        });
        client.on('error', () => {});
        await client.connect();
        return { options: { client }, close: () => client.disconnect() };
      },
    },
    {
      name: 'node-redis without offline queue',
      within: 2000,
      async connect(server) {
        const client = createClient({ url: server.url, disableOfflineQueue: true });
        client.on('error', () => {});
        await client.connect();
        return { options: { client }, close: () => client.destroy() };
      },
    },
    {
      name: 'node-redis with its defaults (offline queue): the store timeout answers',
      // The offline queue holds the command for good: the store's timeout answers. The request
      // before the stop must be answered within it, hence 1000 ms, not 300, on a busy machine.
      within: 5000,
      async connect(server) {
        const client = createClient({ url: server.url });
        client.on('error', () => {});
        await client.connect();
        return { options: { client, timeout: 1000 }, close: () => client.destroy() };
      },
    },
  ];

  it.each(cases)(
    'stopped mid-test: 500 (ERR_AUTH_STORE_FAILURE), quickly, with $name',
    async (c) => {
      const server = await startRedisServer();
      const { options, close } = await c.connect(server);
      try {
        const origin = await startApp(options);
        const challenge = await challengeFrom(origin, '/down');
        const ok = await request(origin)
          .get('/down')
          .set('Authorization', authorization(challenge, '/down', 1));
        expect(ok.status).toBe(200);

        await server.stop();
        expect(await expectStoreFailure(origin, challenge, '/down', 2)).toBeLessThan(c.within);
      } finally {
        await close();
        await server.stop();
      }
    },
  );

  it('frozen (no answers on an open connection): 500 after the store timeout', async () => {
    const server = await startRedisServer();
    const client = new Redis(server.port, server.host, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => {});
    await client.connect();
    try {
      const origin = await startApp({ client, timeout: 300 });
      const challenge = await challengeFrom(origin, '/hang');
      server.pause();
      const took = await expectStoreFailure(origin, challenge, '/hang', 1);
      expect(took).toBeGreaterThanOrEqual(250);
      expect(took).toBeLessThan(2000);
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});
