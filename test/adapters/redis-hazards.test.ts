/**
 * From an audit of RedisNonceStore against a real redis-server: a legacy-mode node-redis client,
 * and two hazards docs/redis.md describes because no code can remove them (a use() that timed out
 * may still run; volatile-* eviction drops the records, and a replay then gets through).
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { RedisNonceStore, type RedisClientLike } from 'authscheme/redis';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';

let server: RedisServer;
let inspector: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  inspector = new Redis(server.port, server.host, { lazyConnect: true });
  await inspector.connect();
});

afterAll(async () => {
  inspector?.disconnect();
  await server?.stop();
});

let sequence = 0;
const freshNonce = (): string => `audit75-${process.pid}-${++sequence}`;
const inAMinute = (): number => Date.now() + 60_000;

describe('RedisNonceStore: legacy clients, and what docs/redis.md warns of', () => {
  it('refuses a node-redis legacy-mode client at construction instead of failing every use()', async () => {
    const modern = createClient({ url: server.url, disableOfflineQueue: true });
    const events: Error[] = [];
    modern.on('error', (err: Error) => events.push(err));
    await modern.connect();
    try {
      // node-redis v5+: client.legacy(); v4: createClient({ legacyMode: true }). Both have
      // callback-style eval/evalSha methods that return undefined.
      const legacy = modern.legacy() as unknown as RedisClientLike;
      let store: RedisNonceStore | undefined;
      let thrown: unknown;
      try {
        store = new RedisNonceStore({ client: legacy });
      } catch (error) {
        thrown = error;
      }
      if (store !== undefined) {
        // What happens today: every use() rejects with "unexpected reply: undefined", and the
        // client emits an 'error' event per call (a process without a listener crashes).
        await store.use(freshNonce(), 1, inAMinute()).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(events.map((e) => e.message)).toEqual([]);
      expect(thrown).toBeInstanceOf(TypeError);
      expect((thrown as Error).message).toMatch(/legacy/);
    } finally {
      await modern.quit();
    }
  });

  it('a use() that rejected on its timeout may still run in Redis later (docs/redis.md)', async () => {
    const client = new Redis(server.port, server.host, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    await client.connect();
    const store = new RedisNonceStore({ client, timeout: 200 });
    const nonce = freshNonce();
    server.pause();
    try {
      await expect(store.use(nonce, 1, inAMinute())).rejects.toThrow(/within 200 ms/);
    } finally {
      server.resume();
    }
    // The store reported failure (the request got a 500), yet the script ran once Redis woke: the
    // client's retry of the same request finds its count used up (a stale=true 401, never a replay).
    await expect(store.use(nonce, 1, inAMinute())).resolves.toBe(false);
    await client.quit();
  });

  it('volatile-* eviction drops the records first, and a replay gets through: noeviction only (docs/redis.md)', async () => {
    const own = await startRedisServer();
    const client = new Redis(own.port, own.host, { maxRetriesPerRequest: 0 });
    try {
      // The default maxmemory-policy of managed Redis (e.g. ElastiCache): volatile-lru. The
      // application's own keys have no TTL; only the nonce records do.
      await client.config('SET', 'maxmemory-policy', 'volatile-lru');
      const used = Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
      await client.config('SET', 'maxmemory', String(used + 2_000_000));
      const store = new RedisNonceStore({ client });
      const nonce = freshNonce();
      await expect(store.use(nonce, 1, inAMinute())).resolves.toBe(true);
      // Application data without a TTL fills the memory: Redis evicts the TTL keys first.
      const chunk = 'x'.repeat(100_000);
      for (let i = 0; i < 100; i++) {
        try {
          await client.set(`app:data:${i}`, chunk);
        } catch {
          break; // OOM once nothing volatile is left
        }
      }
      // The count was used, but its record (a key with a TTL) was evicted: the replay is accepted.
      // That is why docs/redis.md asks for maxmemory-policy noeviction.
      await expect(store.use(nonce, 1, inAMinute())).resolves.toBe(true);
    } finally {
      client.disconnect();
      await own.stop();
    }
  });
});
