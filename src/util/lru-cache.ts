import type { CacheOptions } from './cache-options';
import { OldestFirst } from './oldest-first';
import { isPlainObject, optionNames, rejectUnknownOptions } from './options';

/**
 * A bounded map whose entries expire. Least recently used entries go first when it is full;
 * an expired entry is dropped when it is read. `Map` keeps insertion order, so re-inserting on
 * read makes the first key the least recently used one.
 *
 * A read re-inserts only an entry that has not moved for `max / 2` operations (reads and writes):
 * a hot entry then costs a lookup, not a delete and an insert (whose dead slots make the Map
 * rebuild its table). Fewer than `max / 2` entries can have been written since it last moved, so
 * it is still in the newer half when eviction takes the oldest: an entry read at least once every
 * `max / 2` operations is never evicted, however many new entries arrive.
 */
export class LruCache<V> {
  readonly #max: number;
  readonly #entries = new Map<string, { value: V; expiresAt: number; movedAt: number }>();
  /** Eviction in constant time, however many entries went before (oldest-first.ts). */
  readonly #oldest = new OldestFirst(this.#entries);
  /** Reads and writes so far: the clock for `movedAt`. */
  #ticks = 0;

  /** @param max most entries kept, a positive integer */
  constructor(max: number) {
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new TypeError('LruCache: max must be a positive integer');
    }
    this.#max = max;
  }

  /** Most entries kept. */
  get max(): number {
    return this.#max;
  }

  /** Entries held, expired ones included until they are read or pushed out. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value for `key`, or `undefined` when absent or expired at `now` (ms since the epoch). */
  get(key: string, now = Date.now()): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    const tick = ++this.#ticks;
    if (tick - entry.movedAt >= this.#max / 2) {
      this.#entries.delete(key);
      entry.movedAt = tick;
      this.#entries.set(key, entry);
    }
    return entry.value;
  }

  /** Keeps `value` until `expiresAt` (ms since the epoch), evicting the least recently used. */
  set(key: string, value: V, expiresAt: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) {
      // Full, so not empty (max >= 1): the first key is the least recently used.
      this.#oldest.shift();
    }
    this.#entries.set(key, { value, expiresAt, movedAt: ++this.#ticks });
  }

  /** Forgets `key`. */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
  }
}

/** A cache configured by a scheme's `cache` option, with its `maxAge`. */
export interface ConfiguredCache<V> {
  cache: LruCache<V>;
  maxAge: number;
}

/**
 * The cache `option` asks for: `undefined` or `false` for none, `true` for the defaults,
 * {@link CacheOptions} otherwise. `owner` names the option in errors (`bearer`, `basic()`);
 * `names` are the option names allowed (a scheme's own beside `max` and `maxAge`).
 */
export function configuredCache<V>(
  owner: string,
  option: unknown,
  names: ReadonlySet<string> = CACHE_OPTION_NAMES,
): ConfiguredCache<V> | undefined {
  if (option === undefined || option === false) return undefined;
  const settings = option === true ? {} : option;
  // A Map or a class instance would be read as empty: the defaults, in silence.
  if (!isPlainObject(settings)) {
    throw new TypeError(`${owner}: cache must be a boolean or { ${[...names].join(', ')} }`);
  }
  rejectUnknownOptions(`${owner}: cache`, settings, names);
  const { max, maxAge } = settings as CacheOptions;
  return {
    cache: new LruCache(positive(owner, max, 1000, 'cache.max')),
    maxAge: positive(owner, maxAge, 60_000, 'cache.maxAge'),
  };
}

const CACHE_OPTION_NAMES = optionNames<CacheOptions>()(['max', 'maxAge']);

function positive(owner: string, value: unknown, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`${owner}: ${what} must be a positive integer`);
  }
  return value;
}
