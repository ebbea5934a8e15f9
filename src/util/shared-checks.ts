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
  result: Promise<R>;
  /** `performance.now()` when the verifier was called. */
  readonly started: number;
}

/** Checks under way by key, each joined for {@link SHARE_MS}; see {@link SharedChecks.share}. */
export class SharedChecks<R> {
  /** In the order the checks started: the oldest come first. */
  readonly #checks = new Map<string, Check<R>>();

  /**
   * The result of the check under way for `key`, if it started less than {@link SHARE_MS} before
   * `now`. An older one is forgotten: the next check replaces it, and it may no longer fill the
   * cache (see {@link share}).
   */
  join(key: string, now: number): Promise<R> | undefined {
    const check = this.#checks.get(key);
    if (check === undefined) return undefined;
    if (now - check.started < SHARE_MS) return check.result;
    this.#checks.delete(key);
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
    const check: Check<R> = { result: undefined as unknown as Promise<R>, started };
    this.#hold(key, check);
    check.result = Promise.resolve(pending).then(
      (value) => settle(value, this.#checks.get(key) === check),
      rejected && ((error: unknown) => rejected(error, this.#checks.get(key) === check)),
    );
    // Forgotten once settled, unless a newer check took its place (or the table never held it).
    const done = (): void => {
      if (this.#checks.get(key) === check) this.#checks.delete(key);
    };
    check.result.then(done, done);
    return check.result;
  }

  /** Checks under way that are remembered (hung ones stay until the table needs their room). */
  get size(): number {
    return this.#checks.size;
  }

  /** Remembers `check` for `key`, unless the table is full of checks still shared. */
  #hold(key: string, check: Check<R>): void {
    if (this.#checks.size >= MAX_SHARED_CHECKS) {
      // Checks past sharing are no longer joined: make room from the oldest.
      for (const [other, old] of this.#checks) {
        if (check.started - old.started < SHARE_MS) break;
        this.#checks.delete(other);
      }
      if (this.#checks.size >= MAX_SHARED_CHECKS) return;
    }
    // Deleted first, so that the Map's order stays the order in which checks started.
    this.#checks.delete(key);
    this.#checks.set(key, check);
  }
}
