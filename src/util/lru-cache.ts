import type { CacheOptions } from './cache-options';
import { isPlainObject, optionNames, rejectUnknownOptions } from './options';

/** An entry, and its place in the list from least to most recently used. */
interface Entry<V> {
  readonly key: string;
  readonly value: V;
  readonly expiresAt: number;
  movedAt: number;
  older: Entry<V> | undefined;
  newer: Entry<V> | undefined;
}

/**
 * A bounded map whose entries expire. Least recently used entries go first when it is full;
 * an expired entry is dropped when it is read.
 *
 * The order of use is a list through the entries, so that making room takes the oldest at once.
 * A Map's first key would cost a walk over the slot of every entry deleted before it, which V8
 * keeps until it rebuilds the table: about 0.4 µs at 1 000 entries, 20 to 64 µs at 100 000, and
 * a flood of made-up tokens fills Bearer's refusals (docs/bench.md, `npx tsx
 * bench/lru-eviction.ts`).
 *
 * A read moves an entry to the newest end only if it has not moved for `max / 2` operations
 * (reads and writes): a hot entry then costs a lookup, not writes to itself and two neighbours.
 * Fewer than `max / 2` entries can have been written since it last moved, so it is still in the
 * newer half when eviction takes the oldest: an entry read at least once every `max / 2`
 * operations is never evicted, however many new entries arrive.
 */
export class LruCache<V> {
  readonly #max: number;
  readonly #entries = new Map<string, Entry<V>>();
  #oldest: Entry<V> | undefined = undefined;
  #newest: Entry<V> | undefined = undefined;
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
      this.#remove(entry);
      return undefined;
    }
    const tick = ++this.#ticks;
    if (tick - entry.movedAt >= this.#max / 2) {
      this.#unlink(entry);
      this.#append(entry);
      entry.movedAt = tick;
    }
    return entry.value;
  }

  /** Keeps `value` until `expiresAt` (ms since the epoch), evicting the least recently used. */
  set(key: string, value: V, expiresAt: number): void {
    const old = this.#entries.get(key);
    if (old !== undefined) this.#remove(old);
    // Full, so not empty (max >= 1): there is an oldest.
    else if (this.#entries.size >= this.#max) this.#remove(this.#oldest!);
    const entry: Entry<V> = {
      key,
      value,
      expiresAt,
      movedAt: ++this.#ticks,
      older: undefined,
      newer: undefined,
    };
    this.#entries.set(key, entry);
    this.#append(entry);
  }

  /** Forgets `key`. */
  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined) this.#remove(entry);
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
    this.#oldest = undefined;
    this.#newest = undefined;
  }

  #remove(entry: Entry<V>): void {
    this.#entries.delete(entry.key);
    this.#unlink(entry);
  }

  #unlink(entry: Entry<V>): void {
    if (entry.older === undefined) this.#oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) this.#newest = entry.older;
    else entry.newer.older = entry.older;
    entry.older = undefined;
    entry.newer = undefined;
  }

  #append(entry: Entry<V>): void {
    entry.older = this.#newest;
    if (this.#newest === undefined) this.#oldest = entry;
    else this.#newest.newer = entry;
    this.#newest = entry;
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
