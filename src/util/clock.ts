/**
 * A wall clock that never goes back. Nonce expiries are wall-clock times (they must mean the same
 * in every process), but the clock can be stepped back (NTP correcting a machine that booted
 * fast): read as is, nonces would come back to life, or fresh ones would look older than the
 * process. Held at its highest reading, the clock stands still until the wall clock catches up.
 */
export function forwardClock(clock: () => number = Date.now): () => number {
  let highest = Number.NEGATIVE_INFINITY;
  return () => {
    const now = clock();
    if (now > highest) highest = now;
    return highest;
  };
}
