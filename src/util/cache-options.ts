/**
 * The public shape of a scheme's `cache` option, apart from the cache itself: the declarations
 * a consumer loads refer to this module, not to lru-cache.d.ts, whose class has private fields.
 * TypeScript 5 refuses a declared `#private` below target ES2015, its default (TS18028), even in
 * a dependency's declarations when skipLibCheck is off.
 */

/** Options of a scheme's cache of successful checks (`bearer({ cache })`, `basic({ cache })`). */
export interface CacheOptions {
  /** Most entries remembered. Default 1000. */
  max?: number | undefined;
  /** Longest time a success is reused, in ms. Default 60000. */
  maxAge?: number | undefined;
}
