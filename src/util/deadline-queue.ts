/**
 * Work waiting for a thread (passwords/hash-threads.ts) or a slot (slots.ts): password checks,
 * introspection calls. Each fails closed with `ERR_AUTH_STORE_FAILURE` once it has waited
 * `maxWaitMs`: by then the middleware has answered its request, and working for it would only
 * hold up the next.
 */
import { AuthschemeError } from '../errors';

export interface Waiting {
  /** `performance.now()` when it was queued. */
  queuedAt: number;
  reject: (error: Error) => void;
}

export class DeadlineQueue<T extends Waiting> {
  /** Oldest first; callers may take from it, put back at its front or filter it. */
  items: T[] = [];
  readonly #maxWaitMs: number;
  readonly #waited: string;
  #timer: NodeJS.Timeout | undefined;

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
      this.items.shift()!.reject(storeFailure(this.#waited));
    }
  }

  /** A timer for the oldest item's deadline: long work ahead of it must not hold it past it. */
  arm(): void {
    if (this.#timer !== undefined || this.items.length === 0) return;
    const wait = this.items[0]!.queuedAt + this.#maxWaitMs - performance.now();
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.expire();
        this.arm();
      },
      Math.max(0, wait) + 1,
    );
    this.#timer.unref();
  }

  /** Empties the queue and stops its timer; returns what waited. */
  clear(): T[] {
    const items = this.items;
    this.items = [];
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return items;
  }
}

export function storeFailure(message: string, cause?: unknown): AuthschemeError {
  return new AuthschemeError('ERR_AUTH_STORE_FAILURE', message, { cause });
}
