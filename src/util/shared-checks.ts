/**
 * Checks under way, by cache key, for the schemes that cache their successes (`basic({ cache })`,
 * `bearer({ cache })`): a burst of first requests with the same credentials waits for one call of
 * a slow verifier instead of making one each.
 */

/** How long requests wait for another request's check: a check that hangs is not shared for ever. */
export const SHARE_MS = 2000;
/** Checks remembered at once: wrong passwords start checks too, so this is not the cache's `max`. */
export const MAX_SHARED_CHECKS = 10_000;

interface Check<R> {
  /** What joiners wait for; dropped once the check is past sharing (see {@link SharedChecks}). */
  result: Promise<R> | undefined;
  /** `performance.now()` when the verifier was called. */
  readonly started: number;
}

/**
 * Checks under way by key, each joined for {@link SHARE_MS}; see {@link SharedChecks.share}.
 *
 * A check past sharing moves to a table of its own, without its result: it may still fill the
 * cache when it settles (unless its key was asked for again since), but the table no longer
 * holds the requests that joined it. A verifier that never answers kept every request that
 * waited for it (each answered 503 at the middleware's timeout) for as long as its key stayed;
 * now only as long as the verifier itself holds its promise.
 */
export class SharedChecks<R> {
  /** Checks shared, in the order they started: the oldest come first. */
  readonly #shared = new Map<string, Check<R>>();
  /** Checks past sharing, still under way, in the order they passed. */
  readonly #past = new Map<string, Check<R>>();

  /**
   * The result of the check under way for `key`, if it started less than {@link SHARE_MS} before
   * `now`. An older one is no longer joined: the next check replaces it, and it may no longer
   * fill the cache (see {@link share}).
   */
  join(key: string, now: number): Promise<R> | undefined {
    this.#pass(now);
    const check = this.#shared.get(key);
    if (check !== undefined && now - check.started < SHARE_MS) return check.result;
    // No longer current, whether a newer check follows or the caller answers by itself (a
    // verifier that refuses a locked account synchronously): a late success must not fill the
    // cache behind that refusal.
    if (check !== undefined) this.#shared.delete(key);
    this.#past.delete(key);
    return undefined;
  }

  /**
   * Shares the check that `pending` answers, started at `started`. `settle` turns its value into
   * the result and is told whether the check is still the one for `key`: a check that a newer one
   * replaced must not fill the cache, as the newer may already have refused what it accepts (a
   * password revoked in between); nor may one the full table could not hold. `rejected` is told
   * the same.
   */
  share(
    key: string,
    started: number,
    pending: PromiseLike<unknown>,
    settle: (value: unknown, current: boolean) => R,
    rejected?: (error: unknown, current: boolean) => R,
  ): Promise<R> {
    const check: Check<R> = { result: undefined, started };
    this.#hold(key, check);
    const current = (): boolean => this.#shared.get(key) === check || this.#past.get(key) === check;
    const result = Promise.resolve(pending).then(
      (value) => settle(value, current()),
      rejected && ((error: unknown) => rejected(error, current())),
    );
    if (this.#shared.get(key) === check) check.result = result;
    // Forgotten once settled, unless a newer check took its place (or the table never held it).
    const done = (): void => {
      if (this.#shared.get(key) === check) this.#shared.delete(key);
      else if (this.#past.get(key) === check) this.#past.delete(key);
    };
    result.then(done, done);
    return result;
  }

  /** Checks shared now (hung ones pass out of sharing after SHARE_MS). */
  get size(): number {
    return this.#shared.size;
  }

  /** Checks past sharing still under way, remembered for `current` (at most MAX_SHARED_CHECKS). */
  get pastSharing(): number {
    return this.#past.size;
  }

  /** Remembers `check` for `key`, unless the table is full of checks still shared. */
  #hold(key: string, check: Check<R>): void {
    this.#pass(check.started);
    // Replaced: an older check for the key, past sharing, may no longer fill the cache.
    this.#past.delete(key);
    if (this.#shared.size >= MAX_SHARED_CHECKS) return;
    // Deleted first, so that the Map's order stays the order in which checks started.
    this.#shared.delete(key);
    this.#shared.set(key, check);
  }

  /** Moves the checks that started SHARE_MS or more before `now` out of sharing. */
  #pass(now: number): void {
    for (const [key, check] of this.#shared) {
      if (now - check.started < SHARE_MS) break;
      this.#shared.delete(key);
      check.result = undefined;
      if (this.#past.size >= MAX_SHARED_CHECKS) this.#past.delete(this.#past.keys().next().value!);
      this.#past.set(key, check);
    }
  }
}
