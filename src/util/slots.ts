/**
 * A bound on tasks under way and waiting, for work whose unbounded concurrency hurts the whole
 * process: bcrypt compares (passwords/htpasswd.ts), which the native `bcrypt` package runs on
 * libuv's thread pool, shared with every `fs` call, `dns.lookup`, asynchronous zlib and crypto of
 * the process; GSSAPI's acceptor steps (adapters/kerberos.ts), on that same pool; and calls to an
 * introspection endpoint (schemes/bearer/introspection.ts), each a socket held until the endpoint
 * answers or its timeout passes. At most `slots` tasks run at once;
 * others wait in a bounded queue, at most `maxWaitMs`, and fail closed (`ERR_AUTH_STORE_FAILURE`,
 * with `status` 503: see overloaded()) past either bound.
 */
import { DeadlineQueue, overloaded, type Waiting } from './deadline-queue';

interface Task extends Waiting {
  start: () => void;
}

/**
 * Told when a task must wait for a slot, for a caller whose task may stop being wanted meanwhile
 * (its client hung up): `leave(error)` takes the task out of the queue, never to run, and rejects
 * it with `error`. Returns what undoes its watch; that runs once the task starts or fails, however.
 */
export type OnWait = (leave: (error: Error) => void) => () => void;

export interface SlotsOptions {
  /** Most tasks under way at once. */
  slots: number;
  /** Most tasks waiting for a slot. */
  maxWaiting: number;
  /** Longest a task waits for a slot before it fails. */
  maxWaitMs: number;
  /** The error's message for a task that waited too long; `{ms}` stands for `maxWaitMs`. */
  waited: string;
  /** The error's message for a task refused because `maxWaiting` wait already. */
  full: string;
}

export class Slots {
  readonly #slots: number;
  readonly #maxWaiting: number;
  readonly #full: string;
  readonly #queue: DeadlineQueue<Task>;
  #running = 0;

  constructor(options: SlotsOptions) {
    this.#slots = options.slots;
    this.#maxWaiting = options.maxWaiting;
    this.#full = options.full;
    this.#queue = new DeadlineQueue(options.maxWaitMs, options.waited);
  }

  /** Tasks under way. */
  get running(): number {
    return this.#running;
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.#queue.items.length;
  }

  /**
   * `task()` once a slot is free; rejects past the bounds without running it. `onWait`, if given,
   * is called only when the task has to wait (see {@link OnWait}).
   */
  run<T>(task: () => Promise<T>, onWait?: OnWait): Promise<T> {
    this.#queue.expire();
    if (this.#running < this.#slots) return this.#go(task);
    if (this.#queue.items.length >= this.#maxWaiting) {
      return Promise.reject(overloaded(this.#full));
    }
    return new Promise<T>((resolve, reject) => {
      let done = false;
      let unwatch: (() => void) | undefined;
      const settle = (): void => {
        done = true;
        unwatch?.();
        unwatch = undefined;
      };
      const item: Task = {
        start: () => {
          settle();
          this.#go(task).then(resolve, reject);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
        queuedAt: performance.now(),
      };
      this.#queue.items.push(item);
      this.#queue.arm();
      if (onWait === undefined) return;
      const undo = onWait((error) => {
        const at = this.#queue.items.indexOf(item);
        // Started or failed already: nothing to take back.
        if (at !== -1) {
          this.#queue.items.splice(at, 1);
          item.reject(error);
        }
      });
      // `leave` may have been called at once (the client was gone before the task queued).
      if (done) undo();
      else unwatch = undo;
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

/**
 * libuv's thread pool, sized as libuv sizes it (deps/uv/src/threadpool.c, init_threads): C's
 * `atoi(UV_THREADPOOL_SIZE)` into an unsigned count, 0 taken as 1, at most 1024. So `8.5` is 8,
 * `0` or `abc` is 1 (not the default 4), `-1` wraps past the cap to 1024, and `4294967296`
 * wraps to 0, so 1; `Number()` read these otherwise (8.5, 4, 4, 1), and a fraction made
 * negotiate()'s default `maxConcurrent` a setup error.
 */
export const THREAD_POOL_SIZE = threadPoolSize(process.env.UV_THREADPOOL_SIZE);

function threadPoolSize(value: string | undefined): number {
  if (value === undefined) return 4;
  // atoi(): leading white space, a sign, then digits up to the first character that is not one.
  const [, sign, digits] = /^[\t\n\v\f\r ]*([+-]?)(\d*)/.exec(value)!;
  // Past 19 digits it is beyond any long: no BigInt of a value of any length.
  const significant = digits!.replace(/^0+/, '');
  let parsed = significant.length > 19 ? 10n ** 19n : BigInt(significant === '' ? 0 : significant);
  if (sign === '-') parsed = -parsed;
  // glibc's atoi() is (int)strtol(): strtol() saturates at LONG_MIN and LONG_MAX (a 64-bit long
  // but on Windows, whose CRT saturates at INT_MIN and INT_MAX), then the cast keeps the low 32
  // bits, which libuv reads as unsigned. So 4294967296 is 0, a pool of 1, not the cap.
  const longMax = process.platform === 'win32' ? 0x7fffffffn : 0x7fffffffffffffffn;
  if (parsed > longMax) parsed = longMax;
  else if (parsed < -longMax - 1n) parsed = -longMax - 1n;
  const count = Number(BigInt.asUintN(32, parsed));
  return count === 0 ? 1 : Math.min(1024, count);
}
