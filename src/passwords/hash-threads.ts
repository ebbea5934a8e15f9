/**
 * Worker threads for the password hashes that would block the event loop: Apache MD5 (1,000 MD5
 * rounds, about 1 ms in JavaScript) and SHA crypt (5,000 rounds, 6 to 10 ms, more with `rounds=`).
 * Computed on the main thread, a few wrong passwords a second kept every other request waiting;
 * bcrypt needs none of this, its packages hash on libuv's threads already.
 *
 * Threads start on demand, one more whenever every running one is busy, up to one fewer than the
 * CPUs (at most 4), and stop after 10 s without work. Checks waiting are bounded: past the bound,
 * or when a thread dies, a check rejects, and the verifier fails closed.
 *
 * Where the worker's file is not beside this module (a bundle that left it out) or no thread can
 * start, hashes are computed on the main thread, as before.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** The libraries hash-worker.mjs knows. */
export type SlowHashLibrary = 'apache-md5' | 'unixcrypt';

interface Check {
  resolve(hash: string): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  checks: Map<number, Check>;
  idle: NodeJS.Timeout | undefined;
}

const IDLE_MS = 10_000;

export class HashThreads {
  readonly #file: string;
  readonly #maxThreads: number;
  readonly #maxWaiting: number;
  #threads: Thread[] = [];
  #nextId = 0;
  #available: boolean | undefined;

  constructor(
    file: string,
    maxThreads = Math.max(1, Math.min(4, availableParallelism() - 1)),
    maxWaiting = 4096,
  ) {
    this.#file = file;
    this.#maxThreads = maxThreads;
    this.#maxWaiting = maxWaiting;
  }

  /**
   * `inThread(password, salt)`, computed by `library` on a worker thread when the worker's file
   * is there, else on this one.
   */
  hash(
    library: SlowHashLibrary,
    inThread: (password: string, salt: string) => string,
    password: string,
    salt: string,
  ): Promise<string> {
    this.#available ??= existsSync(this.#file);
    if (!this.#available) return Promise.resolve(inThread(password, salt));
    let waiting = 0;
    for (const thread of this.#threads) waiting += thread.checks.size;
    if (waiting >= this.#maxWaiting) {
      return Promise.reject(
        new Error(`htpasswd: more than ${this.#maxWaiting} password checks waiting`),
      );
    }
    let thread: Thread;
    try {
      thread = this.#pick();
    } catch {
      // No thread can start (Node's permission model without --allow-worker, say): as before.
      return Promise.resolve(inThread(password, salt));
    }
    const id = this.#nextId++;
    return new Promise<string>((resolve, reject) => {
      if (thread.idle !== undefined) clearTimeout(thread.idle);
      thread.idle = undefined;
      thread.checks.set(id, { resolve, reject });
      thread.worker.ref(); // a check waiting keeps the process alive, as any pending I/O does
      thread.worker.postMessage({ id, library, password, salt });
    });
  }

  /** Stops every thread; their checks reject. */
  async stop(): Promise<void> {
    const threads = this.#threads;
    this.#threads = [];
    for (const thread of threads) this.#fail(thread, new Error('htpasswd: hash thread stopped'));
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  /** The least busy thread, or a new one when every thread is busy and there is room. */
  #pick(): Thread {
    let best: Thread | undefined;
    for (const thread of this.#threads) {
      if (best === undefined || thread.checks.size < best.checks.size) best = thread;
    }
    if (
      best !== undefined &&
      (best.checks.size === 0 || this.#threads.length >= this.#maxThreads)
    ) {
      return best;
    }
    return this.#start();
  }

  #start(): Thread {
    // No flags of the process's (`--input-type`, loaders): the worker needs none, and some fail it.
    const worker = new Worker(this.#file, { execArgv: [] });
    const thread: Thread = { worker, checks: new Map(), idle: undefined };
    thread.worker.unref();
    thread.worker.on('message', (message: { id: number; hash?: string; error?: string }) => {
      const check = thread.checks.get(message.id);
      if (check === undefined) return;
      thread.checks.delete(message.id);
      if (typeof message.hash === 'string') check.resolve(message.hash);
      else check.reject(new Error(`htpasswd: hashing failed: ${String(message.error)}`));
      if (thread.checks.size === 0) this.#rest(thread);
    });
    // A thread that dies takes its checks with it: they reject (fail closed), and the next check
    // starts a new thread.
    const died = (error: unknown): void => {
      this.#threads = this.#threads.filter((t) => t !== thread);
      this.#fail(
        thread,
        error instanceof Error
          ? error
          : new Error('htpasswd: hash thread exited', { cause: error }),
      );
    };
    thread.worker.on('error', died);
    thread.worker.on('messageerror', died);
    thread.worker.on('exit', died);
    this.#threads.push(thread);
    return thread;
  }

  #rest(thread: Thread): void {
    thread.worker.unref();
    thread.idle = setTimeout(() => {
      this.#threads = this.#threads.filter((t) => t !== thread);
      void thread.worker.terminate();
    }, IDLE_MS);
    thread.idle.unref();
  }

  #fail(thread: Thread, error: Error): void {
    if (thread.idle !== undefined) clearTimeout(thread.idle);
    const checks = [...thread.checks.values()];
    thread.checks.clear();
    for (const check of checks) check.reject(error);
  }
}

/**
 * The process's threads, for every htpasswd file. An ES module bundle of this package has no
 * `__dirname` (nor the worker's file): there hashes stay on the main thread.
 */
export const hashThreads = new HashThreads(
  typeof __dirname === 'string' ? join(__dirname, 'hash-worker.mjs') : '',
);
