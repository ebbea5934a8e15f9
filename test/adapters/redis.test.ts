/**
 * RedisNonceStore against a real redis-server (a child process on 127.0.0.1, ../helpers), through
 * both client libraries it accepts: ioredis and node-redis.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { RedisNonceStore, type RedisClientLike } from 'authscheme/redis';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';

let server: RedisServer;
/** A plain client for looking at what the store wrote. */
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

interface ClientKind {
  name: string;
  connect(): Promise<{ client: RedisClientLike; close(): Promise<void> }>;
}

/** An ioredis client with the options docs/redis.md recommends (fail fast), connected. */
async function connectRecommended(): Promise<Redis> {
  const client = new Redis(server.port, server.host, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  });
  await client.connect();
  return client;
}

const kinds: ClientKind[] = [
  {
    name: 'ioredis',
    async connect() {
      const client = await connectRecommended();
      return { client, close: async () => void (await client.quit()) };
    },
  },
  {
    name: 'ioredis with stringNumbers',
    async connect() {
      const client = new Redis(server.port, server.host, {
        lazyConnect: true,
        stringNumbers: true,
      });
      await client.connect();
      return { client, close: async () => void (await client.quit()) };
    },
  },
  {
    name: 'node-redis',
    async connect() {
      const client = createClient({ url: server.url, disableOfflineQueue: true });
      await client.connect();
      return { client, close: async () => void (await client.quit()) };
    },
  },
];

let sequence = 0;
/** A nonce nobody used yet (the server is shared by the tests of this file). */
function freshNonce(): string {
  return `nonce-${process.pid}-${++sequence}`;
}

const inAMinute = (): number => Date.now() + 60_000;

describe.each(kinds)('RedisNonceStore with $name', (kind) => {
  let client: RedisClientLike;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ client, close } = await kind.connect());
  });
  afterAll(async () => {
    await close();
  });

  it('accepts a new count once, and counts per nonce', async () => {
    const store = new RedisNonceStore({ client });
    const [a, b] = [freshNonce(), freshNonce()];
    await expect(store.use(a, 1, inAMinute())).resolves.toBe(true);
    await expect(store.use(a, 1, inAMinute())).resolves.toBe(false);
    await expect(store.use(b, 1, inAMinute())).resolves.toBe(true);
    await expect(store.use(a, 2, inAMinute())).resolves.toBe(true);
    await expect(store.use(a, 2, inAMinute())).resolves.toBe(false);
  });

  it('is a sliding window: late counts inside it once, below it never (as MemoryNonceStore)', async () => {
    const store = new RedisNonceStore({ client, window: 64 });
    const n = freshNonce();
    const later = inAMinute();
    await expect(store.use(n, 100, later)).resolves.toBe(true);
    await expect(store.use(n, 37, later)).resolves.toBe(true);
    await expect(store.use(n, 37, later)).resolves.toBe(false);
    await expect(store.use(n, 36, later)).resolves.toBe(false);
    await expect(store.use(n, 99, later)).resolves.toBe(true);
    // Sliding up by less than the window keeps what was seen inside it…
    await expect(store.use(n, 120, later)).resolves.toBe(true);
    await expect(store.use(n, 99, later)).resolves.toBe(false);
    await expect(store.use(n, 98, later)).resolves.toBe(true);
    await expect(store.use(n, 56, later)).resolves.toBe(false);
    // …and a jump beyond the window forgets everything below it.
    await expect(store.use(n, 1000, later)).resolves.toBe(true);
    await expect(store.use(n, 999, later)).resolves.toBe(true);
    await expect(store.use(n, 937, later)).resolves.toBe(true);
    await expect(store.use(n, 936, later)).resolves.toBe(false);
    // The highest count RFC 7616 allows (8LHEX) still fits.
    await expect(store.use(n, 0xffff_ffff, later)).resolves.toBe(true);
    await expect(store.use(n, 0xffff_ffff, later)).resolves.toBe(false);
    await expect(store.use(n, 0xffff_ffff - 63, later)).resolves.toBe(true);
    await expect(store.use(n, 0xffff_ffff - 64, later)).resolves.toBe(false);
  });

  it('refuses a replay between processes set up with different windows (fail closed)', async () => {
    const narrow = new RedisNonceStore({ client, window: 64 });
    const wide = new RedisNonceStore({ client, window: 128 });
    const n = freshNonce();
    const later = inAMinute();
    await expect(narrow.use(n, 100, later)).resolves.toBe(true);
    // The record's slots mean nothing under another window: every count up to the top is seen.
    await expect(wide.use(n, 100, later)).resolves.toBe(false);
    await expect(wide.use(n, 99, later)).resolves.toBe(false);
    await expect(wide.use(n, 101, later)).resolves.toBe(true);
    await expect(narrow.use(n, 101, later)).resolves.toBe(false);
    await expect(narrow.use(n, 102, later)).resolves.toBe(true);
    await expect(narrow.use(n, 102, later)).resolves.toBe(false);
  });

  it('matches a reference model on random count sequences, for several window sizes', async () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    // Windows that are and are not whole bytes; slides that clear bits, whole bytes and wrap.
    for (const window of [1, 5, 8, 33, 64, 100, 4096]) {
      const store = new RedisNonceStore({ client, window });
      const n = freshNonce();
      const seen = new Set<number>();
      let top = 0;
      const answers: Promise<boolean>[] = [];
      const expected: boolean[] = [];
      for (let i = 0; i < 300; i++) {
        const jump = random(10) === 0 ? window * 3 : 0;
        const nc = Math.max(1, top + random(window * 2) - window + jump);
        const fresh = !seen.has(nc) && nc > top - window;
        if (fresh) seen.add(nc);
        top = Math.max(top, nc);
        expected.push(fresh);
        // Pipelined on one connection: Redis runs them in order.
        answers.push(store.use(n, nc, inAMinute()));
      }
      expect(await Promise.all(answers)).toEqual(expected);
    }
  });

  it('lets exactly one of 50 concurrent uses of one count through', async () => {
    const store = new RedisNonceStore({ client });
    const n = freshNonce();
    await expect(store.use(n, 1, inAMinute())).resolves.toBe(true);
    for (const nc of [2, 1]) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => store.use(n, nc, inAMinute())),
      );
      expect(answers.filter((a) => a === true)).toHaveLength(nc === 2 ? 1 : 0);
    }
  });

  it('keeps one small key per nonce under keyPrefix, expiring with the nonce', async () => {
    const store = new RedisNonceStore({ client, keyPrefix: `t:${kind.name}:`, clockSkew: 0 });
    const n = freshNonce();
    const key = `t:${kind.name}:${n}`;
    // Long enough for the round trips below on a busy machine: with 300 ms the record could
    // expire in their middle, and a later use start a new one.
    const LIFE = 2000;
    const expiresAt = Date.now() + LIFE;
    await expect(store.use(n, 5, expiresAt)).resolves.toBe(true);
    // 4 bytes of highest count, 2 of window, then the bitmap, grown up to window / 8 bytes as
    // slots are used.
    expect(await inspector.strlen(key)).toBe(6 + 1);
    await expect(store.use(n, 63, expiresAt)).resolves.toBe(true);
    expect(await inspector.strlen(key)).toBe(6 + 64 / 8);
    // Twice the time left (a clock stepped back keeps the nonce good up to that long): set at
    // the use, counted down since, so at least 2 × (expiresAt − readAt) however slow the trips.
    const ttl = await inspector.pttl(key);
    const readAt = Date.now();
    expect(ttl).toBeGreaterThanOrEqual(2 * (expiresAt - readAt) - 2);
    expect(ttl).toBeLessThanOrEqual(2 * LIFE);
    // Later uses do not extend the record's life.
    await expect(store.use(n, 64, Date.now() + 60_000)).resolves.toBe(true);
    expect(await inspector.pttl(key)).toBeLessThanOrEqual(2 * LIFE);
    // Gone by twice the nonce's life: looked for until then, and for 5 s more at most.
    while ((await inspector.exists(key)) === 1 && Date.now() < expiresAt + LIFE + 5000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await inspector.exists(key)).toBe(0);
  });

  it('keeps records clockSkew ms beyond twice the time left on the nonce', async () => {
    const store = new RedisNonceStore({ client, clockSkew: 30_000 });
    const n = freshNonce();
    const expiresAt = Date.now() + 1000;
    await expect(store.use(n, 1, expiresAt)).resolves.toBe(true);
    const ttl = await inspector.pttl(`authscheme:nc:${n}`);
    const readAt = Date.now();
    expect(ttl).toBeGreaterThanOrEqual(30_000 + 2 * (expiresAt - readAt) - 2);
    expect(ttl).toBeGreaterThan(30_000);
    expect(ttl).toBeLessThanOrEqual(32_000);
  });

  it('refuses without asking Redis when the nonce has expired, or the count is out of range', async () => {
    const store = new RedisNonceStore({ client });
    const n = freshNonce();
    await expect(store.use(n, 1, Date.now() - 1)).resolves.toBe(false);
    for (const nc of [0, -1, 1.5, Number.NaN, 0x1_0000_0000]) {
      await expect(store.use(n, nc, inAMinute())).resolves.toBe(false);
    }
    // An expiry no nonce has: its TTL would not reach Redis as an integer.
    await expect(store.use(n, 1, 1e22)).resolves.toBe(false);
    expect(await inspector.exists(`authscheme:nc:${n}`)).toBe(0);
    // Lone surrogates would all become U+FFFD in the key: such a nonce is none of digest()'s.
    const lone = `${freshNonce()}\uD800`;
    await expect(store.use(lone, 1, inAMinute())).resolves.toBe(false);
  });

  it('takes a nonce as expired from its expiresAt on, as MemoryNonceStore does', async () => {
    const at = Date.now() + 60_000;
    const store = new RedisNonceStore({ client, now: () => at });
    const n = freshNonce();
    await expect(store.use(n, 1, at)).resolves.toBe(false);
    expect(await inspector.exists(`authscheme:nc:${n}`)).toBe(0);
    await expect(store.use(n, 1, at + 1)).resolves.toBe(true);
  });

  it.each([0, 2 ** 31 - 1])(
    'takes timeout %p (0: the client decides; the most setTimeout keeps)',
    async (timeout) => {
      const store = new RedisNonceStore({ client, timeout });
      expect(store.timeout).toBe(timeout);
      const n = freshNonce();
      await expect(store.use(n, 1, inAMinute())).resolves.toBe(true);
      await expect(store.use(n, 1, inAMinute())).resolves.toBe(false);
    },
  );

  it('loads its script again after SCRIPT FLUSH (EVALSHA, then EVAL on NOSCRIPT)', async () => {
    const store = new RedisNonceStore({ client });
    const n = freshNonce();
    await expect(store.use(n, 1, inAMinute())).resolves.toBe(true);
    await inspector.script('FLUSH');
    await expect(store.use(n, 1, inAMinute())).resolves.toBe(false);
    await expect(store.use(n, 2, inAMinute())).resolves.toBe(true);
  });

  it('rejects on a Redis error (fail closed)', async () => {
    const store = new RedisNonceStore({ client });
    const n = freshNonce();
    // A key of another type makes the script's commands fail (WRONGTYPE).
    await inspector.hset(`authscheme:nc:${n}`, 'x', '1');
    await expect(store.use(n, 1, inAMinute())).rejects.toThrow(/WRONGTYPE/);
  });

  // A keyPrefix shared with another application: its strings were taken for records, written
  // over, and kept without a TTL for ever; one that read as a low count let the use through.
  it.each([
    ['an empty string without TTL', '', undefined],
    ['a binary string without TTL', Buffer.from([0, 0, 0, 0, 0, 64, 1, 2]), undefined],
    ['a JSON string without TTL', '{"session":"abc"}', undefined],
    ['a short string with a TTL', 'abc', 60_000],
    ['a long string with a TTL', Buffer.alloc(600), 60_000],
  ])(
    'refuses to touch a key of another application: %s (fail closed, clear error)',
    async (_name, value, ttl) => {
      const store = new RedisNonceStore({ client });
      const n = freshNonce();
      const key = `authscheme:nc:${n}`;
      if (ttl === undefined) await inspector.set(key, value);
      else await inspector.set(key, value, 'PX', ttl);
      await expect(store.use(n, 1, inAMinute())).rejects.toThrow(
        /RedisNonceStore: authscheme:nc:\S+ is no record of this store/,
      );
      expect(await inspector.getBuffer(key)).toEqual(Buffer.from(value));
      const left = await inspector.pttl(key);
      if (ttl === undefined) expect(left).toBe(-1);
      else expect(left).toBeGreaterThan(0);
    },
  );
});

describe('RedisNonceStore setup and failures', () => {
  it.each([
    [{ window: 0 }, /window/],
    [{ window: 4097 }, /window/],
    [{ window: 1.5 }, /window/],
    [{ timeout: -1 }, /timeout/],
    // Above 2^31 - 1 ms, setTimeout fires after 1 ms: every use() would reject (a 500 each).
    [{ timeout: 2 ** 31 }, /timeout/],
    [{ timeout: Number.MAX_SAFE_INTEGER }, /timeout/],
    [{ clockSkew: Number.NaN }, /clockSkew/],
    [{ maxPending: 0 }, /maxPending must be/],
    [{ maxPending: 2.5 }, /maxPending must be/],
    [{ keyPrefix: 5 as unknown as string }, /keyPrefix/],
    [{ now: 'soon' as unknown as () => number }, /now/],
  ])('refuses bad options with a TypeError (%#)', (options, message) => {
    expect(() => new RedisNonceStore({ client: inspector, ...options })).toThrow(TypeError);
    expect(() => new RedisNonceStore({ client: inspector, ...options })).toThrow(message);
  });

  it.each([{}, { eval: () => 1 }, 'redis://127.0.0.1'])(
    'refuses what is neither an ioredis nor a node-redis client: %p',
    (client) => {
      expect(() => new RedisNonceStore({ client: client as unknown as RedisClientLike })).toThrow(
        /ioredis .* node-redis/,
      );
    },
  );

  it('refuses a null client as every option is refused null', () => {
    expect(() => new RedisNonceStore({ client: null as unknown as RedisClientLike })).toThrow(
      new TypeError(
        'RedisNonceStore: `client` is null: give a value, or leave the option out (or undefined) where it has a default',
      ),
    );
  });

  it.each(kinds)('rejects after timeout when Redis hangs ($name)', async (kind) => {
    const { client, close } = await kind.connect();
    // A timeout a live Redis answers well within on a loaded machine: the use() after the resume
    // must be answered in time (with 200 ms, a busy CI machine could let the timer win).
    const store = new RedisNonceStore({ client, timeout: 1000 });
    server.pause();
    try {
      const started = Date.now();
      await expect(store.use(freshNonce(), 1, inAMinute())).rejects.toThrow(/within 1000 ms/);
      // The timeout rejected it, not the resume (which never comes before the rejection).
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      server.resume();
    }
    // Once Redis answers again, so does the store.
    await expect(store.use(freshNonce(), 1, inAMinute())).resolves.toBe(true);
    await close();
  });
});

// While Redis does not answer, the client keeps every command it is given: in its offline queue
// when disconnected, in its command queue when a frozen server reads nothing. The store's timeout
// rejects the use(), not the command, so each request added one, without limit (20 000 uses
// against a frozen server grew the heap by about 100 MB, and all ran once it woke).
describe('RedisNonceStore: a bounded number of commands unanswered', () => {
  it('sends at most 10 000 (the default maxPending) to a frozen Redis; beyond, rejects at once', async () => {
    const client = await connectRecommended();
    try {
      const keyPrefix = `bounded:${process.pid}:`;
      // The use() after the resume must be answered within it: 1000 ms, not 300, on a busy machine.
      const store = new RedisNonceStore({ client, keyPrefix, timeout: 1000 });
      const extra = 25;
      const outcomes: Promise<string>[] = [];
      server.pause();
      try {
        for (let i = 0; i < 10_000 + extra; i++) {
          outcomes.push(
            store.use(freshNonce(), 1, Date.now() + 10_000).then(
              (fresh) => `resolved ${String(fresh)}`,
              (error: Error) => error.message,
            ),
          );
        }
        const messages = await Promise.all(outcomes);
        const count = (pattern: RegExp): number => messages.filter((m) => pattern.test(m)).length;
        expect(count(/within 1000 ms/)).toBe(10_000);
        expect(count(/10000 commands sent to Redis are still unanswered \(maxPending\)/)).toBe(
          extra,
        );
      } finally {
        server.resume();
      }
      // Redis answers the commands sent (their counts are used up, as docs/redis.md says), and
      // no more; once it has, the store sends again.
      await client.ping();
      expect(await inspector.keys(`${keyPrefix}*`)).toHaveLength(10_000);
      await expect(store.use(freshNonce(), 1, inAMinute())).resolves.toBe(true);
    } finally {
      client.disconnect();
    }
  });

  // The count must come back exactly once per use: a command Redis answers with an error, or one
  // that went EVALSHA, NOSCRIPT, then EVAL. Not given back on an error, every error would use up a
  // place for good (after maxPending of them, say during an outage, the store refused every use);
  // given back twice, the bound would let more through than it says.
  it('gives a place back once per use: after an error reply, and after the EVAL fallback', async () => {
    const client = await connectRecommended();
    try {
      const keyPrefix = `places:${process.pid}:`;
      // Redis must answer the uses before and after the freeze within the timeout: 1000 ms, not
      // 300, on a busy machine.
      const store = new RedisNonceStore({ client, keyPrefix, maxPending: 1, timeout: 1000 });
      const foreign = freshNonce();
      await inspector.set(`${keyPrefix}${foreign}`, 'not a record');
      // The first through the fallback (NOSCRIPT, then an EVAL that errs), the others by EVALSHA.
      await inspector.script('FLUSH');
      for (let i = 0; i < 3; i++) {
        await expect(store.use(foreign, 1, inAMinute())).rejects.toThrow(/is no record/);
      }
      await inspector.script('FLUSH');
      await expect(store.use(freshNonce(), 1, inAMinute())).resolves.toBe(true);
      // Nothing is pending now: of two uses against a frozen Redis, one is sent, one refused.
      server.pause();
      let messages: string[];
      try {
        messages = await Promise.all(
          [freshNonce(), freshNonce()].map((n) =>
            store.use(n, 1, inAMinute()).then(String, (error: Error) => error.message),
          ),
        );
      } finally {
        server.resume();
      }
      expect(messages).toEqual([
        expect.stringMatching(/no answer from Redis within 1000 ms/),
        expect.stringMatching(/1 commands sent to Redis are still unanswered \(maxPending\)/),
      ]);
      // Once Redis has answered the one sent (and the store has seen it settle), it sends again.
      await client.ping();
      await new Promise((resolve) => setImmediate(resolve));
      await expect(store.use(freshNonce(), 1, inAMinute())).resolves.toBe(true);
    } finally {
      client.disconnect();
    }
  });

  it('counts the commands an offline queue holds (ioredis defaults, Redis stopped)', async () => {
    const own = await startRedisServer();
    // ioredis's defaults (offline queue, 20 retries), but for how long disconnect() waits for a
    // socket that closed long ago: 2 s, which keeps jest from exiting.
    const client = new Redis(own.port, own.host, { lazyConnect: true, disconnectTimeout: 10 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      // The first use must be answered within it: 1000 ms, not 200, on a busy machine.
      const store = new RedisNonceStore({ client, maxPending: 3, timeout: 1000 });
      await expect(store.use(freshNonce(), 1, inAMinute())).resolves.toBe(true);
      await own.stop();
      const messages = await Promise.all(
        Array.from({ length: 8 }, () =>
          store.use(freshNonce(), 1, inAMinute()).then(String, (error: Error) => error.message),
        ),
      );
      expect(messages.filter((m) => /within 1000 ms/.test(m))).toHaveLength(3);
      expect(messages.filter((m) => /3 commands .* still unanswered/.test(m))).toHaveLength(5);
    } finally {
      client.disconnect();
      await own.stop();
    }
  });
});

// From an audit against a real redis-server: a legacy-mode node-redis client, and two hazards
// docs/redis.md describes because no code can remove them (a use() that timed out may still
// run; volatile-* eviction drops the records, and a replay then gets through).
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

  // node-redis 4 (the devDependency redis4): without legacyMode its `v4` getter throws, with it
  // the promise API lives under `v4`.
  it.each([false, true])('takes a node-redis 4 client, legacyMode %s', async (legacyMode) => {
    const { createClient: createClient4 } = require('redis4') as typeof import('redis');
    const client = createClient4({ url: server.url, legacyMode } as Parameters<
      typeof createClient4
    >[0]);
    client.on('error', () => undefined);
    await client.connect();
    try {
      const store = new RedisNonceStore({ client: client });
      const nonce = freshNonce();
      await expect(store.use(nonce, 1, inAMinute())).resolves.toBe(true);
      await expect(store.use(nonce, 1, inAMinute())).resolves.toBe(false);
    } finally {
      await client.disconnect();
    }
  });

  it('a use() that rejected on its timeout may still run in Redis later (docs/redis.md)', async () => {
    const client = await connectRecommended();
    // The use() after the resume must be answered within it: 1000 ms, not 200, on a busy machine.
    const store = new RedisNonceStore({ client, timeout: 1000 });
    const nonce = freshNonce();
    server.pause();
    try {
      await expect(store.use(nonce, 1, inAMinute())).rejects.toThrow(/within 1000 ms/);
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
