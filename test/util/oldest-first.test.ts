import fc from 'fast-check';
import { LruCache } from '../../src/util/lru-cache';
import { OldestFirst } from '../../src/util/oldest-first';

/** What a Map and OldestFirst are asked to do, and a plain list of keys in insertion order beside. */
type Step =
  { op: 'set'; key: number } | { op: 'delete'; key: number } | { op: 'shift' } | { op: 'clear' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), key: fc.nat(40) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.nat(40) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('shift' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
);

describe('OldestFirst', () => {
  it('takes out the oldest entry, a re-inserted key counting as new, whatever else deleted', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
        const map = new Map<number, string>();
        const oldest = new OldestFirst(map);
        let order: number[] = [];
        for (const s of steps) {
          if (s.op === 'set') {
            // Deleted first, as LruCache re-inserts: the key goes last.
            map.delete(s.key);
            map.set(s.key, `v${s.key}`);
            order = [...order.filter((k) => k !== s.key), s.key];
          } else if (s.op === 'delete') {
            map.delete(s.key);
            order = order.filter((k) => k !== s.key);
          } else if (s.op === 'clear') {
            map.clear();
            order = [];
          } else {
            const expected = order.shift();
            expect(oldest.shift()).toEqual(
              expected === undefined ? undefined : [expected, `v${expected}`],
            );
          }
          expect([...map.keys()]).toEqual(order);
        }
      }),
    );
  });
});

describe('LruCache when full', () => {
  it('evicts the least recently used, over many rounds of eviction', () => {
    const cache = new LruCache<number>(4);
    cache.set('keep', -1, Infinity);
    for (let i = 0; i < 1000; i++) {
      cache.set(`k${i}`, i, Infinity);
      // Read at least once every max / 2 operations: never evicted.
      if (i % 2 === 0) expect(cache.get('keep')).toBe(-1);
    }
    expect(cache.size).toBe(4);
    expect([997, 998, 999].map((i) => cache.get(`k${i}`))).toEqual([997, 998, 999]);
    expect(cache.get('k996')).toBeUndefined();
    expect(cache.get('keep')).toBe(-1);
  });
});
