/**
 * Model-based tests of the Digest nonce stores: random sequences of `use()` calls (counts in
 * order, repeated, late within and below the window, far ahead, out of range; nonces beyond
 * `maxEntries`; time moving past expiry) run against a model of the documented contract
 * (docs/digest.md "Replay protection", docs/redis.md "What is stored") and against
 * `MemoryNonceStore` and `RedisNonceStore` (a real redis-server), every answer compared.
 * Seeded, so the sequences are the same on every run.
 */
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { MemoryNonceStore } from 'authscheme';
import { RedisNonceStore, type RedisClientLike } from 'authscheme/redis';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';

/** Fixed, so every run checks the same sequences; MODEL_SEED and MODEL_RUNS explore further. */
const SEED = Number(process.env.MODEL_SEED ?? 20261204);
const RUNS = Number(process.env.MODEL_RUNS ?? 1);
const T0 = 1_000_000_000;
const MAX_NC = 0xffff_ffff;

interface NonceSpec {
  readonly nonce: string;
  readonly expiresAt: number;
  /** `undefined`: a version 1 nonce, without issue time. */
  readonly issuedAt: number | undefined;
}

interface ModelRecord {
  readonly expiresAt: number;
  readonly issuedAt: number;
  top: number;
  /** Every count at or below this one counts as seen (a record read under another window). */
  seenUpTo: number;
  readonly seen: Set<number>;
  /** The window the record was last written with (Redis). */
  window: number;
}

/** The documented contract, with counts as a set rather than a bitmap. */
class Model {
  private readonly records = new Map<string, ModelRecord>();
  private forgottenUpTo = 0;
  private forgottenIssuedUpTo = Number.NEGATIVE_INFINITY;

  constructor(
    /** Most live records; `Infinity` for Redis, which drops none. */
    private readonly maxEntries: number,
    /** The highest count the store takes (Redis: RFC 7616's 8 hex digits). */
    private readonly maxNc: number,
  ) {}

  clone(): Model {
    const copy = new Model(this.maxEntries, this.maxNc);
    for (const [nonce, r] of this.records) {
      copy.records.set(nonce, { ...r, seen: new Set(r.seen) });
    }
    copy.forgottenUpTo = this.forgottenUpTo;
    copy.forgottenIssuedUpTo = this.forgottenIssuedUpTo;
    return copy;
  }

  topOf(nonce: string): number {
    return this.records.get(nonce)?.top ?? 0;
  }

  use(spec: NonceSpec, nc: number, now: number, window: number): boolean {
    if (!Number.isSafeInteger(nc) || nc < 1 || nc > this.maxNc) return false;
    if (spec.expiresAt <= now) return false;
    // Expired records are gone (the store sweeps them lazily; an expired one is dropped first).
    for (const [nonce, r] of this.records) if (r.expiresAt <= now) this.records.delete(nonce);
    let record = this.records.get(spec.nonce);
    if (record === undefined) {
      const issuedAt = spec.issuedAt ?? Number.POSITIVE_INFINITY;
      // A nonce without issue time may be any of the forgotten ones.
      if (
        spec.expiresAt <= this.forgottenUpTo &&
        (spec.issuedAt === undefined || issuedAt <= this.forgottenIssuedUpTo)
      ) {
        return false;
      }
      if (this.records.size >= this.maxEntries) {
        let soonest: [string, ModelRecord] | undefined;
        for (const entry of this.records) {
          if (soonest === undefined || entry[1].expiresAt < soonest[1].expiresAt) soonest = entry;
        }
        this.records.delete(soonest![0]);
        this.forgottenUpTo = Math.max(this.forgottenUpTo, soonest![1].expiresAt);
        this.forgottenIssuedUpTo = Math.max(this.forgottenIssuedUpTo, soonest![1].issuedAt);
      }
      record = {
        expiresAt: spec.expiresAt,
        issuedAt,
        top: 0,
        seenUpTo: 0,
        seen: new Set(),
        window,
      };
      this.records.set(spec.nonce, record);
    }
    if (record.window !== window) {
      record.window = window;
      record.seenUpTo = record.top;
    }
    if (nc > record.top) {
      record.top = nc;
      record.seen.add(nc);
      return true;
    }
    if (record.top - nc >= window) return false;
    if (nc <= record.seenUpTo || record.seen.has(nc)) return false;
    record.seen.add(nc);
    return true;
  }
}

/** Whatever the model says: a count accepted once per nonce, never after expiry or below the window. */
class SafetyLog {
  private readonly accepted = new Map<string, { top: number; counts: Set<number> }>();

  check(spec: NonceSpec, nc: number, now: number, window: number, answer: boolean): void {
    if (!answer) return;
    expect(spec.expiresAt).toBeGreaterThan(now);
    let entry = this.accepted.get(spec.nonce);
    if (entry === undefined) {
      entry = { top: 0, counts: new Set() };
      this.accepted.set(spec.nonce, entry);
    }
    expect(entry.counts.has(nc)).toBe(false);
    expect(entry.top - nc).toBeLessThan(window);
    entry.counts.add(nc);
    entry.top = Math.max(entry.top, nc);
  }
}

type Op =
  | { t: 'use'; n: number; delta: number; abs: number | undefined; alt: boolean }
  | { t: 'tick'; ms: number }
  | { t: 'issue'; lifetime: number; v1: boolean }
  | { t: 'burst'; n: number; deltas: number[] };

const oddCounts = [0, -1, 1.5, MAX_NC, MAX_NC + 1, Number.MAX_SAFE_INTEGER, Number.NaN];

function opArb(window: number): fc.Arbitrary<Op> {
  const delta = fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: -3, max: 3 }) },
    { weight: 3, arbitrary: fc.integer({ min: -window - 2, max: -window + 2 }) },
    { weight: 2, arbitrary: fc.integer({ min: -2 * window, max: 2 * window }) },
    { weight: 1, arbitrary: fc.integer({ min: window - 2, max: 3 * window + 40 }) },
  );
  return fc.oneof(
    {
      weight: 12,
      arbitrary: fc.record({
        t: fc.constant('use' as const),
        n: fc.nat(40),
        delta,
        abs: fc.oneof(
          { weight: 14, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.constantFrom(...oddCounts) },
        ),
        alt: fc.boolean(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('tick' as const),
        ms: fc.oneof(
          { weight: 3, arbitrary: fc.nat(50) },
          { weight: 1, arbitrary: fc.integer({ min: 1000, max: 40_000 }) },
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('issue' as const),
        lifetime: fc.constantFrom(5_000, 30_000, 300_000),
        v1: fc.boolean(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('burst' as const),
        n: fc.nat(40),
        deltas: fc.array(fc.integer({ min: -window - 1, max: 3 }), { minLength: 2, maxLength: 5 }),
      }),
    },
  );
}

/** A few nonces issued before the sequence starts, with distinct expiries (ties make the drop order arbitrary). */
function initialNonces(prefix: string): NonceSpec[] {
  return [7_000, 12_000, 20_000, 45_000, 90_000].map((lifetime, i) => ({
    nonce: `${prefix}-init-${i}`,
    expiresAt: T0 + lifetime + i,
    issuedAt: i === 3 ? undefined : T0 - 1000 + i,
  }));
}

/** The count an op asks for, relative to the highest the model has for its nonce. */
function countFor(top: number, delta: number, abs: number | undefined): number {
  if (abs !== undefined) return abs;
  return Math.max(1, top + delta);
}

function* permutations<T>(items: T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield items.slice();
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const p of permutations(rest)) yield [items[i]!, ...p];
  }
}

describe('MemoryNonceStore against the model', () => {
  for (const [window, maxEntries] of [
    [64, 3],
    [5, 4],
    [33, 2],
    [1, 6],
    [32, 3],
    [100, 5],
    [4096, 3],
    [64, 16],
  ] as const) {
    it(`window ${window}, maxEntries ${maxEntries}`, () => {
      let run = 0;
      fc.assert(
        fc.property(
          fc.array(opArb(window), { minLength: 10, maxLength: 100, size: 'max' }),
          (ops) => {
            const prefix = `m${run++}`;
            let now = T0;
            const store = new MemoryNonceStore({ window, maxEntries, now: () => now });
            const model = new Model(maxEntries, Number.MAX_SAFE_INTEGER);
            const safety = new SafetyLog();
            const nonces = initialNonces(prefix);
            const step = (spec: NonceSpec, nc: number): void => {
              const expected = model.use(spec, nc, now, window);
              const got = store.use(spec.nonce, nc, spec.expiresAt, spec.issuedAt);
              safety.check(spec, nc, now, window, got);
              expect({ nonce: spec.nonce, nc, now, got }).toEqual({
                nonce: spec.nonce,
                nc,
                now,
                got: expected,
              });
            };
            for (const op of ops) {
              if (op.t === 'tick') now += op.ms;
              else if (op.t === 'issue') {
                nonces.push({
                  nonce: `${prefix}-${nonces.length}`,
                  expiresAt: now + op.lifetime + nonces.length,
                  issuedAt: op.v1 ? undefined : now,
                });
              } else {
                const spec = nonces[op.n % nonces.length]!;
                if (op.t === 'use') step(spec, countFor(model.topOf(spec.nonce), op.delta, op.abs));
                else {
                  const top = model.topOf(spec.nonce);
                  for (const d of op.deltas) step(spec, countFor(top, d, undefined));
                }
              }
            }
          },
        ),
        { seed: SEED, numRuns: RUNS * 200 },
      );
    });
  }
});

describe('MemoryNonceStore with expiries that tie', () => {
  // Which of several live records expiring together is dropped is not specified: only safety.
  it('never accepts a count twice, nor below the window, nor after expiry', () => {
    let run = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            n: fc.nat(12),
            nc: fc.integer({ min: 1, max: 80 }),
            tick: fc.oneof(
              { weight: 6, arbitrary: fc.constant(0) },
              { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }) },
            ),
          }),
          { minLength: 10, maxLength: 150, size: 'max' },
        ),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 40 }),
        (ops, maxEntries, window) => {
          const prefix = `t${run++}`;
          let now = T0;
          const store = new MemoryNonceStore({ window, maxEntries, now: () => now });
          const safety = new SafetyLog();
          // Three expiries and two issue times among 13 nonces: many ties.
          const nonces: NonceSpec[] = Array.from({ length: 13 }, (_, i) => ({
            nonce: `${prefix}-${i}`,
            expiresAt: T0 + [2000, 4000, 4000][i % 3]!,
            issuedAt: i % 4 === 0 ? undefined : T0 - (i % 2) * 100,
          }));
          for (const op of ops) {
            now += op.tick;
            const spec = nonces[op.n]!;
            const got = store.use(spec.nonce, op.nc, spec.expiresAt, spec.issuedAt);
            safety.check(spec, op.nc, now, window, got);
          }
          expect(store.size).toBeLessThanOrEqual(maxEntries);
        },
      ),
      { seed: SEED, numRuns: RUNS * 500 },
    );
  });
});

describe('RedisNonceStore against the model', () => {
  let server: RedisServer;
  /** Two processes: one on ioredis, one on node-redis (each with the fail-fast options). */
  let io: Redis;
  let node: ReturnType<typeof createClient>;
  let clients: RedisClientLike[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    io = new Redis(server.port, server.host, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    await io.connect();
    node = createClient({ url: server.url, disableOfflineQueue: true });
    await node.connect();
    clients = [io, node];
  });

  afterAll(async () => {
    io?.disconnect();
    await node?.quit();
    await server?.stop();
  });

  for (const [window, altWindow] of [
    [64, 64],
    [5, 12],
    [33, 8],
    [1, 3],
    [8, 9],
    [100, 64],
    [4096, 4095],
    [17, 4096],
  ] as const) {
    it(`window ${window}${altWindow === window ? '' : `, another process with window ${altWindow}`}`, async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(opArb(window), { minLength: 10, maxLength: 100, size: 'max' }),
          async (ops) => {
            const prefix = `r${window}-${run++}`;
            let now = T0;
            // Two processes sharing the records: one client each, and maybe another window.
            const stores = [
              new RedisNonceStore({ client: clients[0]!, window, now: () => now }),
              new RedisNonceStore({ client: clients[1]!, window: altWindow, now: () => now }),
            ];
            const sameWindow = clients.map(
              (client) => new RedisNonceStore({ client, window, now: () => now }),
            );
            const model = new Model(Number.POSITIVE_INFINITY, MAX_NC);
            const safety = new SafetyLog();
            const nonces = initialNonces(prefix);
            for (const op of ops) {
              if (op.t === 'tick') {
                now += op.ms;
                // Now and then the server forgets the script (a restart, SCRIPT FLUSH): NOSCRIPT.
                if (op.ms % 10 === 3) {
                  await io.script('FLUSH');
                }
              } else if (op.t === 'issue') {
                nonces.push({
                  nonce: `${prefix}-${nonces.length}`,
                  expiresAt: now + op.lifetime + nonces.length,
                  issuedAt: op.v1 ? undefined : now,
                });
              } else if (op.t === 'use') {
                const spec = nonces[op.n % nonces.length]!;
                const nc = countFor(model.topOf(spec.nonce), op.delta, op.abs);
                const w = op.alt ? altWindow : window;
                const expected = model.use(spec, nc, now, w);
                const got = await stores[op.alt ? 1 : 0]!.use(spec.nonce, nc, spec.expiresAt);
                safety.check(spec, nc, now, Math.max(window, altWindow), got);
                expect({ nonce: spec.nonce, nc, w, now, got }).toEqual({
                  nonce: spec.nonce,
                  nc,
                  w,
                  now,
                  got: expected,
                });
              } else {
                // Several uses of one nonce in flight at once, over both connections (one window):
                // the answers must be those of the uses run one after another in some order.
                const spec = nonces[op.n % nonces.length]!;
                const top = model.topOf(spec.nonce);
                const counts = op.deltas.map((d) => countFor(top, d, undefined));
                const got = await Promise.all(
                  counts.map((nc, i) => sameWindow[i % 2]!.use(spec.nonce, nc, spec.expiresAt)),
                );
                let matched: number[] | undefined;
                for (const perm of permutations([...counts.keys()])) {
                  const trial = model.clone();
                  const answers: boolean[] = [];
                  for (const i of perm) answers[i] = trial.use(spec, counts[i]!, now, window);
                  if (answers.every((a, i) => a === got[i])) {
                    matched = perm;
                    break;
                  }
                }
                // The model and the safety log follow the order that matched.
                for (const i of matched ?? []) {
                  model.use(spec, counts[i]!, now, window);
                  safety.check(spec, counts[i]!, now, Math.max(window, altWindow), got[i]!);
                }
                expect({ counts, got, serializable: matched !== undefined }).toEqual({
                  counts,
                  got,
                  serializable: true,
                });
              }
            }
          },
        ),
        { seed: SEED, numRuns: RUNS * 80 },
      );
    });
  }

  it('lets exactly one of many identical concurrent uses through, over two connections', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: MAX_NC }),
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 1, max: 4096 }),
        async (nc, copies, window) => {
          const nonce = `dup-${run++}`;
          const stores = clients.map((client) => new RedisNonceStore({ client, window }));
          const expiresAt = Date.now() + 60_000;
          const got = await Promise.all(
            Array.from({ length: copies }, (_, i) => stores[i % 2]!.use(nonce, nc, expiresAt)),
          );
          expect(got.filter(Boolean)).toHaveLength(1);
          expect(await stores[0]!.use(nonce, nc, expiresAt)).toBe(false);
        },
      ),
      { seed: SEED, numRuns: RUNS * 100 },
    );
  });
});
