import { ignoreRejection, isPromiseLike } from './promise';

/**
 * A wall clock that never goes back. Nonce expiries are wall-clock times (they must mean the same
 * in every process), but the wall clock can be stepped back (NTP correcting a machine that booted
 * fast). Read as is, nonces whose records were dropped would come back to life, and fresh ones
 * would look older than the process. So while the wall clock is behind its highest reading, this
 * clock goes on from there at half the pace of the monotonic clock: its readings keep rising
 * (fresh nonces keep distinct, later expiries) and the wall clock catches up after twice the
 * step, so that a step forward that was corrected does not keep the clock ahead for good.
 */
export function forwardClock(clock: () => number): () => number {
  let highest = Number.NEGATIVE_INFINITY;
  /**
   * `performance.now()` at the last reading. Kept on every reading, not only once behind: the time
   * from the last reading before a step to the first after it counts too, or the clock would
   * stand still for it, and a nonce outlive the records a store keeps for twice its time left.
   */
  let readAt = 0;
  return () => {
    const wall = clock();
    const now = performance.now();
    // The usual case, and a test's clock that stands still: the wall clock.
    if (wall >= highest) {
      highest = wall;
      readAt = now;
      return wall;
    }
    // Behind: go on from the highest reading (the check above ends this once the wall catches up).
    // Never a negative step: the monotonic clock of a test (fake timers) may be set back too.
    highest += Math.max(0, now - readAt) / 2;
    readAt = now;
    return highest;
  };
}

/**
 * A forward clock over the `now` option (tests), checked by {@link checkedClock}, or over
 * `Date.now`.
 */
export function clockFrom(now: unknown, caller: string): () => number {
  return forwardClock(checkedClock(now, caller) ?? (() => Date.now()));
}

/**
 * The `now` option, checked: a function whose every reading is a finite number of ms, else the
 * request fails closed (NaN, read as a time, made every nonce live for ever; a promise too). Not
 * read at setup: a test's clock may be set later, or scripted reading by reading.
 */
export function checkedClock(now: unknown, caller: string): (() => number) | undefined {
  if (now === undefined) return undefined;
  if (typeof now !== 'function') throw new TypeError(`${caller}: now must be a function`);
  const read = (): number => {
    const reading: unknown = (now as () => unknown)();
    if (typeof reading !== 'number' || !Number.isFinite(reading)) {
      // An async clock's rejection is caught: unhandled, it would end the process.
      ignoreRejection(reading);
      throw new TypeError(
        `${caller}: now() must return a finite number of ms, not ${isPromiseLike(reading) ? 'a promise' : String(reading)}`,
      );
    }
    return reading;
  };
  return read;
}
