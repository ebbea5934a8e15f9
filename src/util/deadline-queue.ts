/**
 * Work waiting for a thread (passwords/hash-threads.ts) or a slot (slots.ts): password checks,
 * introspection calls. Each fails closed with `ERR_AUTH_STORE_FAILURE` once it has waited
 * `maxWaitMs`: by then the middleware has answered its request, and working for it would only
 * hold up the next.
 */
import { AuthschemeError } from '../errors';
import { Timer } from './timer';

export interface Waiting {
  /** `performance.now()` when it was queued. */
  queuedAt: number;
  reject: (error: Error) => void;
}

/** The longest delay setTimeout takes (a signed 32-bit count of ms). */
const MAX_DELAY = 2 ** 31 - 1;

export class DeadlineQueue<T extends Waiting> {
  /** Oldest first; callers may take from it, put back at its front or filter it. */
  items: T[] = [];
  readonly #maxWaitMs: number;
  readonly #waited: string;
  readonly #timer = new Timer();

  /**
   * @param waited the error's message for an item that waited too long, `{ms}` standing for
   *   `maxWaitMs` (`'htpasswd: a password check waited more than {ms} ms'`)
   */
  constructor(maxWaitMs: number, waited: string) {
    this.#maxWaitMs = maxWaitMs;
    this.#waited = waited.replace('{ms}', String(maxWaitMs));
  }

  /** Rejects the items that waited longer than `maxWaitMs` (the oldest are first). */
  expire(): void {
    const now = performance.now();
    while (this.items.length > 0 && now - this.items[0]!.queuedAt > this.#maxWaitMs) {
      this.items.shift()!.reject(overloaded(this.#waited));
    }
  }

  /** A timer for the oldest item's deadline: long work ahead of it must not hold it past it. */
  arm(): void {
    if (this.#timer.running() || this.items.length === 0) return;
    const wait = this.items[0]!.queuedAt + this.#maxWaitMs - performance.now();
    // Within setTimeout's limit, which turns a longer delay into 1 ms (with a warning): a
    // `maxWaitMs` near it (introspection's `timeout` may be 2^31 - 1) would fire at once. Fired
    // early, the timer finds nothing expired and arms itself again for the rest.
    this.#timer.once(Math.min(Math.max(0, wait) + 1, MAX_DELAY), () => {
      this.expire();
      this.arm();
    });
  }

  /** Empties the queue and stops its timer; returns what waited. */
  clear(): T[] {
    const items = this.items;
    this.items = [];
    this.#timer.stop();
    return items;
  }
}

export function storeFailure(message: string, cause?: unknown): AuthschemeError {
  return new AuthschemeError('ERR_AUTH_STORE_FAILURE', message, { cause });
}

/**
 * Work refused because too much waits already, or because it waited too long: the server is
 * overloaded for now. Still a store failure for code that switches on it, but with the `status`
 * (and `statusCode`) that Express's error handler answers: 503, not 500 (RFC 9110 §15.6.4).
 */
export function overloaded(message: string): AuthschemeError & { status: 503; statusCode: 503 } {
  return Object.assign(storeFailure(message), { status: 503, statusCode: 503 } as const);
}
