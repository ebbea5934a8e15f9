/**
 * A wall clock that never goes back. Nonce expiries are wall-clock times (they must mean the same
 * in every process), but the wall clock can be stepped back (NTP correcting a machine that booted
 * fast). Read as is, nonces whose records were dropped would come back to life, and fresh ones
 * would look older than the process. So after a step back the clock goes on from its highest
 * reading at the pace of the monotonic clock, until the wall clock is ahead again.
 */
export function forwardClock(clock: () => number = Date.now): () => number {
  let highest = Number.NEGATIVE_INFINITY;
  let readAt = performance.now();
  return () => {
    const wall = clock();
    const now = performance.now();
    const carriedOn = highest + (now - readAt);
    highest = wall > carriedOn ? wall : carriedOn;
    readAt = now;
    return highest;
  };
}
