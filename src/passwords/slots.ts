/**
 * A bound on bcrypt compares under way and waiting. The native `bcrypt` package hashes on libuv's
 * thread pool (4 threads unless `UV_THREADPOOL_SIZE` says otherwise), which every `fs` call,
 * `dns.lookup`, asynchronous zlib and crypto of the process shares, first come first served: a
 * flood of wrong passwords queued there held up all file I/O (the reloaded file's own stat and
 * read too) for as long as the flood took to hash, and went on hashing for requests long answered.
 * Here at most half the pool hashes at once; checks wait in a bounded queue, at most `maxWaitMs`,
 * and fail closed (`ERR_AUTH_STORE_FAILURE`) past either bound, as the worker threads' do.
 */
import { AuthschemeError } from '../errors';

interface Waiting {
  start: () => void;
  reject: (error: Error) => void;
  queuedAt: number;
}

export interface SlotsOptions {
  /** Most tasks under way at once. */
  slots: number;
  /** Most tasks waiting for a slot. */
  maxWaiting: number;
  /** Longest a task waits for a slot before it fails. */
  maxWaitMs: number;
}

export class Slots {
  readonly #slots: number;
  readonly #maxWaiting: number;
  readonly #maxWaitMs: number;
  #running = 0;
  #queue: Waiting[] = [];
  #expiry: NodeJS.Timeout | undefined;

  constructor(options: SlotsOptions) {
    this.#slots = options.slots;
    this.#maxWaiting = options.maxWaiting;
    this.#maxWaitMs = options.maxWaitMs;
  }

  /** `task()` once a slot is free; rejects past the bounds without running it. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.#expire();
    if (this.#running < this.#slots) return this.#go(task);
    if (this.#queue.length >= this.#maxWaiting) {
      return Promise.reject(
        failure(`htpasswd: more than ${this.#maxWaiting} bcrypt password checks waiting`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        start: () => {
          this.#go(task).then(resolve, reject);
        },
        reject,
        queuedAt: performance.now(),
      });
      this.#arm();
    });
  }

  #go<T>(task: () => Promise<T>): Promise<T> {
    this.#running++;
    let result: Promise<T>;
    try {
      result = Promise.resolve(task());
    } catch (error) {
      result = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const done = (): void => {
      this.#running--;
      this.#expire();
      this.#queue.shift()?.start();
    };
    result.then(done, done);
    return result;
  }

  /** Rejects the tasks that waited longer than `maxWaitMs` (the oldest are first). */
  #expire(): void {
    const now = performance.now();
    while (this.#queue.length > 0 && now - this.#queue[0]!.queuedAt > this.#maxWaitMs) {
      this.#queue
        .shift()!
        .reject(failure(`htpasswd: a bcrypt check waited more than ${this.#maxWaitMs} ms`));
    }
  }

  /** A timer for the oldest waiting task's deadline: a slow compare must not hold it past it. */
  #arm(): void {
    if (this.#expiry !== undefined || this.#queue.length === 0) return;
    const wait = this.#queue[0]!.queuedAt + this.#maxWaitMs - performance.now();
    this.#expiry = setTimeout(
      () => {
        this.#expiry = undefined;
        this.#expire();
        this.#arm();
      },
      Math.max(0, wait) + 1,
    );
    this.#expiry.unref();
  }
}

function failure(message: string): AuthschemeError {
  return new AuthschemeError('ERR_AUTH_STORE_FAILURE', message);
}

/** libuv's thread pool, as Node sizes it. */
const POOL = Math.min(1024, Math.max(1, Number(process.env.UV_THREADPOOL_SIZE) || 4));

/**
 * The process's bcrypt checks: half of libuv's pool (at least one thread), 512 waiting per slot,
 * at most 13 s each (by then the middleware's default timeout of 10 s has answered).
 */
export const bcryptSlots = new Slots({
  slots: Math.max(1, Math.floor(POOL / 2)),
  maxWaiting: 512 * Math.max(1, Math.floor(POOL / 2)),
  maxWaitMs: 13_000,
});
