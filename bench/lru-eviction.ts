/**
 * `npx tsx bench/lru-eviction.ts`
 *
 * What making room in a full cache costs, by size: the first key of a Map taken with a new
 * iterator each time (`map.delete(map.keys().next().value)`), against one iterator kept across
 * calls (src/util/oldest-first.ts), and our `LruCache.set` on a full cache (a new key each time,
 * as a flood of made-up tokens writes Bearer's refusals). V8 leaves a deleted entry's slot in the
 * Map's table until it rebuilds it, and a new iterator walks over each such slot from the front.
 */
import { LruCache } from '../src/util/lru-cache';
import { OldestFirst } from '../src/util/oldest-first';

const CALLS = 100_000;

function nsPerCall(run: (i: number) => void): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) run(i);
  return Number(process.hrtime.bigint() - started) / CALLS;
}

function full(size: number): Map<string, number> {
  const map = new Map<string, number>();
  for (let i = 0; i < size; i++) map.set(`k${i}`, i);
  return map;
}

console.log('| entries | new iterator, ns | kept iterator, ns | LruCache.set, ns |');
console.log('| ---: | ---: | ---: | ---: |');
for (const size of [1_000, 10_000, 100_000]) {
  const fresh = full(size);
  const freshNs = nsPerCall((i) => {
    fresh.delete(fresh.keys().next().value!);
    fresh.set(`n${i}`, i);
  });
  const kept = full(size);
  const oldest = new OldestFirst(kept);
  const keptNs = nsPerCall((i) => {
    oldest.shift();
    kept.set(`n${i}`, i);
  });
  const cache = new LruCache<number>(size);
  for (let i = 0; i < size; i++) cache.set(`k${i}`, i, Infinity);
  const cacheNs = nsPerCall((i) => cache.set(`n${i}`, i, Infinity));
  console.log(`| ${size} | ${freshNs.toFixed(0)} | ${keptNs.toFixed(0)} | ${cacheNs.toFixed(0)} |`);
}
