/**
 * A bound on bcrypt compares under way and waiting. The native `bcrypt` package hashes on libuv's
 * thread pool (4 threads unless `UV_THREADPOOL_SIZE` says otherwise), which every `fs` call,
 * `dns.lookup`, asynchronous zlib and crypto of the process shares, first come first served: a
 * flood of wrong passwords queued there held up all file I/O (the reloaded file's own stat and
 * read too) for as long as the flood took to hash, and went on hashing for requests long answered.
 * Here at most half the pool hashes at once; checks wait in a bounded queue, at most `maxWaitMs`,
 * and fail closed (`ERR_AUTH_STORE_FAILURE`) past either bound, as the worker threads' do.
 */
import { DeadlineQueue, storeFailure, type Waiting } from './deadline-queue';

interface Task extends Waiting {
  start: () => void;
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
  readonly #queue: DeadlineQueue<Task>;
  #running = 0;

  constructor(options: SlotsOptions) {
    this.#slots = options.slots;
    this.#maxWaiting = options.maxWaiting;
    this.#queue = new DeadlineQueue(options.maxWaitMs, 'a bcrypt check');
  }

  /** `task()` once a slot is free; rejects past the bounds without running it. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.#queue.expire();
    if (this.#running < this.#slots) return this.#go(task);
    if (this.#queue.items.length >= this.#maxWaiting) {
      return Promise.reject(
        storeFailure(`htpasswd: more than ${this.#maxWaiting} bcrypt password checks waiting`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.items.push({
        start: () => {
          this.#go(task).then(resolve, reject);
        },
        reject,
        queuedAt: performance.now(),
      });
      this.#queue.arm();
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
      this.#queue.expire();
      this.#queue.items.shift()?.start();
    };
    result.then(done, done);
    return result;
  }
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
