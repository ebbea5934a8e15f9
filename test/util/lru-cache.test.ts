import fc from 'fast-check';
import { LruCache } from '../../src/util/lru-cache';

type Step =
  | { op: 'set'; key: number; expiresAt: number }
  | { op: 'get'; key: number }
  | { op: 'delete'; key: number }
  | { op: 'clear' };

const key = fc.nat(12);
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      key,
      expiresAt: fc.integer({ min: 0, max: 20 }),
    }),
  },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('get' as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
);

/** The cache's rules over a plain list, oldest first, for comparison. */
class Model {
  list: { key: string; value: number; expiresAt: number; movedAt: number }[] = [];
  ticks = 0;
  constructor(readonly max: number) {}
  get(key: string, now: number): number | undefined {
    const index = this.list.findIndex((e) => e.key === key);
    if (index === -1) return undefined;
    const entry = this.list[index]!;
    if (entry.expiresAt <= now) {
      this.list.splice(index, 1);
      return undefined;
    }
    const tick = ++this.ticks;
    if (tick - entry.movedAt >= this.max / 2) {
      this.list.splice(index, 1);
      entry.movedAt = tick;
      this.list.push(entry);
    }
    return entry.value;
  }
  set(key: string, value: number, expiresAt: number): void {
    const index = this.list.findIndex((e) => e.key === key);
    if (index !== -1) this.list.splice(index, 1);
    else if (this.list.length >= this.max) this.list.shift();
    this.list.push({ key, value, expiresAt, movedAt: ++this.ticks });
  }
}

describe('LruCache', () => {
  it('keeps, moves and evicts as its rules say (least recently used first), against a model', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(step, { maxLength: 200 }),
        (max, steps) => {
          const cache = new LruCache<number>(max);
          let model = new Model(max);
          let value = 0;
          const now = 10;
          for (const s of steps) {
            if (s.op === 'set') {
              value++;
              cache.set(`k${s.key}`, value, s.expiresAt);
              model.set(`k${s.key}`, value, s.expiresAt);
            } else if (s.op === 'get') {
              expect(cache.get(`k${s.key}`, now)).toBe(model.get(`k${s.key}`, now));
            } else if (s.op === 'delete') {
              cache.delete(`k${s.key}`);
              model.list = model.list.filter((e) => e.key !== `k${s.key}`);
            } else {
              cache.clear();
              const ticks = model.ticks;
              model = new Model(max);
              model.ticks = ticks;
            }
            expect(cache.size).toBe(model.list.length);
          }
          // Every entry the model holds, and only those, in the cache (read far in the past: no expiry).
          for (let k = 0; k <= 12; k++) {
            const held = model.list.find((e) => e.key === `k${k}`)?.value;
            expect(cache.get(`k${k}`, -1)).toBe(held);
            if (held !== undefined) model.get(`k${k}`, -1);
          }
        },
      ),
    );
  });

  it('never evicts an entry read once every max / 2 operations, over many rounds of eviction', () => {
    const cache = new LruCache<number>(4);
    cache.set('keep', -1, Infinity);
    for (let i = 0; i < 1000; i++) {
      cache.set(`k${i}`, i, Infinity);
      if (i % 2 === 0) expect(cache.get('keep')).toBe(-1);
    }
    expect(cache.size).toBe(4);
    expect([997, 998, 999].map((i) => cache.get(`k${i}`))).toEqual([997, 998, 999]);
    expect(cache.get('k996')).toBeUndefined();
    expect(cache.get('keep')).toBe(-1);
  });
});
