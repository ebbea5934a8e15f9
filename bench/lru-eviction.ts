/**
 * `npx tsx bench/lru-eviction.ts`
 *
 * What making room in a full cache costs, by size: the first key of a Map deleted
 * (`map.delete(map.keys().next().value)`, how LruCache made room before), against `LruCache.set`
 * on a full cache, a new key each time, as a flood of made-up tokens writes Bearer's refusals.
 * V8 keeps a deleted entry's slot in the Map's table until it rebuilds the table, and a new
 * iterator walks over each such slot from the front; LruCache now takes its oldest entry from a
 * list through the entries.
 */
import { LruCache } from '../src/util/lru-cache';

const CALLS = 100_000;

function nsPerCall(run: (i: number) => void): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) run(i);
  return Number(process.hrtime.bigint() - started) / CALLS;
}

console.log("| entries | a Map's first key, ns | LruCache.set, ns |");
console.log('| ---: | ---: | ---: |');
for (const size of [1_000, 10_000, 100_000]) {
  const map = new Map<string, number>();
  for (let i = 0; i < size; i++) map.set(`k${i}`, i);
  const mapNs = nsPerCall((i) => {
    map.delete(map.keys().next().value!);
    map.set(`n${i}`, i);
  });
  const cache = new LruCache<number>(size);
  for (let i = 0; i < size; i++) cache.set(`k${i}`, i, Infinity);
  const cacheNs = nsPerCall((i) => cache.set(`n${i}`, i, Infinity));
  console.log(`| ${size} | ${mapNs.toFixed(0)} | ${cacheNs.toFixed(0)} |`);
}
