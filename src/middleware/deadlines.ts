/**
 * Deadlines for asynchronous verifications. One timer per middleware sweeps the pending ones,
 * instead of a `setTimeout` created and cleared on every request (measurable at this scale).
 * A deadline fires up to `max(10 ms, min(timeout / 4, 1 s))` after it is due. Time is
 * `performance.now()`, which never jumps: a wall clock set back would delay every 503.
 *
 * Clock and timer are the globals, which an application's tests under fake timers (jest, sinon)
 * replace together; and the timer is made again when they change (see {@link Timer}).
 */
import { Timer } from '../util/timer';

export interface Deadline {
  readonly at: number;
  readonly expire: () => void;
}

export class Deadlines {
  readonly #timeout: number;
  readonly #pending = new Set<Deadline>();
  readonly #timer = new Timer();
  /** How often the timer sweeps. */
  readonly #every: number;

  constructor(timeout: number) {
    this.#timeout = timeout;
    this.#every = Math.max(10, Math.min(timeout / 4, 1000));
  }

  /**
   * Calls `expire` once the timeout has passed (or at `at`, a `performance.now()` time: what is
   * left of an earlier deadline), unless {@link Deadlines.clear} comes first.
   */
  add(expire: () => void, at = performance.now() + this.#timeout): Deadline {
    const deadline = { at, expire };
    this.#pending.add(deadline);
    // A pending verification must not keep the process alive on its own (the timer is unref'd).
    if (!this.#timer.running()) this.#timer.every(this.#every, () => this.#sweep());
    return deadline;
  }

  clear(deadline: Deadline): void {
    this.#pending.delete(deadline);
  }

  #sweep(): void {
    const now = performance.now();
    for (const deadline of this.#pending) {
      if (deadline.at > now) continue;
      this.#pending.delete(deadline);
      deadline.expire();
    }
    if (this.#pending.size === 0) this.#timer.stop();
  }
}
