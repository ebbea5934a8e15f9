/**
 * Worker threads for the password hashes that would block the event loop: Apache MD5 (1,000 MD5
 * rounds, about 1 ms in JavaScript) and SHA crypt (5,000 rounds, 6 to 10 ms, more with `rounds=`).
 * Computed on the main thread, a few wrong passwords a second kept every other request waiting;
 * bcrypt needs none of this, its packages hash on libuv's threads already.
 *
 * Checks wait in one queue here and go to a thread only when it is free, so a slow hash holds up
 * no check that another thread could take. Threads start on demand, up to one fewer than the CPUs
 * (at most 4), and stop after 10 s without work. The queue is bounded: past the bound, when a
 * check has waited longer than anyone waits for it, or when a thread dies, a check rejects with
 * `ERR_AUTH_STORE_FAILURE`, and the verifier fails closed.
 *
 * Hashes are computed on the main thread, as before, where the worker's file is not beside this
 * module (a bundle that left it out); and for a minute, then threads are tried again, where no
 * thread can start (Node's permission model: `new Worker` throws), the worker's module does not
 * run or a library does not load in it although the main thread did (a loader or symlink layout
 * that only the main thread's flags make work) — or seemed not to, for a passing reason
 * (descriptors exhausted).
 * There too checks wait in a queue, bounded as a thread's is (its share of `maxWaiting`, and
 * `maxWaitMs`), and are hashed one per turn of the event loop, so that a flood of wrong passwords
 * fails closed past the bound rather than hold the event loop for as long as it lasts.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DeadlineQueue, overloaded, storeFailure, type Waiting } from '../util/deadline-queue';

/** The libraries hash-worker.mjs knows. */
export type SlowHashLibrary = 'apache-md5' | 'sha-crypt';

interface Check extends Waiting {
  library: SlowHashLibrary;
  inThread: (password: string, salt: string) => string;
  password: string;
  salt: string;
  resolve: (hash: string) => void;
}

interface Thread {
  worker: Worker;
  busy: Check | undefined;
  idle: NodeJS.Timeout | undefined;
  /** Ends the thread when its check runs longer than anything the files allow takes. */
  running: NodeJS.Timeout | undefined;
  /** It was ended for that. */
  overran: boolean;
  /** The worker's module loaded and said so. */
  ready: boolean;
}

/** What hash-worker.mjs answers. */
interface Reply {
  /** Sent once, when the worker's module has loaded. */
  ready?: boolean | undefined;
  hash?: string | undefined;
  error?: string | undefined;
  /** The library did not load in the worker. */
  unavailable?: boolean | undefined;
}

const IDLE_MS = 10_000;
/** Threads in a row that die before loading the worker's module before hashing stays here. */
const START_FAILURES = 3;
/**
 * Longest a worker may take to load its module before hashing moves to the main thread: well
 * within the middleware's default timeout of 10 s. Loading takes some 20 to 50 ms.
 */
const READY_MS = 3000;
/** How long hashing stays on the main thread after threads failed to start, or a library to load. */
const FALLBACK_MS = 60_000;
/**
 * Longest a check waits for a thread. By then the middleware (default timeout 10 s, its deadline
 * a little late at worst) has answered the request: hashing for it would only hold up the next.
 */
const MAX_WAIT_MS = 13_000;
/**
 * Longest a check may run on a thread: some ten times the costliest hash a file may hold (SHA
 * crypt at 1,000,000 rounds, 2 to 4 s). A thread stuck in a check (a library's bug) is stopped
 * then, its check fails, and the others get a new thread, rather than wait behind it for good.
 */
const MAX_RUN_MS = 30_000;

/** Settings of a {@link HashThreads}; the defaults are the process's pool's. */
export interface HashThreadsOptions {
  /** Most threads at once: one fewer than the CPUs, at most 4. */
  maxThreads?: number | undefined;
  /**
   * Most checks waiting for a thread: 512 per thread, about 5 s of SHA-512 crypt. Waiting for the
   * main thread, when threads cannot be used: one thread's share (`maxWaiting / maxThreads`).
   */
  maxWaiting?: number | undefined;
  /** Longest a worker may take to load before it counts as one that did not start. */
  readyMs?: number | undefined;
  /** How long hashing stays on the main thread after threads failed to start. */
  fallbackMs?: number | undefined;
  /** Longest a check waits for a thread before it fails. */
  maxWaitMs?: number | undefined;
  /** Longest a check may run on a thread before the thread is stopped and the check fails. */
  maxRunMs?: number | undefined;
  /** How long a thread without work stays before it stops. */
  idleMs?: number | undefined;
}

/** A pool of hash worker threads with its queue of checks (one per process: `hashThreads`). */
export class HashThreads {
  readonly #file: string;
  readonly #maxThreads: number;
  readonly #maxWaiting: number;
  readonly #readyMs: number;
  readonly #fallbackMs: number;
  readonly #maxRunMs: number;
  readonly #idleMs: number;
  #threads: Thread[] = [];
  readonly #queue: DeadlineQueue<Check>;
  /** Checks waiting for this thread (threads cannot be used), hashed one per turn. */
  readonly #here: DeadlineQueue<Check>;
  readonly #maxWaitingHere: number;
  /** The next turn that hashes one of `#here`, while one is due. */
  #hereTurn: NodeJS.Immediate | undefined;
  /** Whether the worker's file exists. */
  #available: boolean | undefined;
  /** Until when (`performance.now()`) hashing stays here: no thread started. */
  #inThreadUntil = -Infinity;
  /** Until when each library is hashed here: it did not load in a thread. */
  readonly #libraryInThreadUntil = new Map<SlowHashLibrary, number>();
  /** Threads in a row that died before loading the worker's module. */
  #startFailures = 0;
  #warned = new Set<string>();

  /** @param file the worker's module */
  constructor(file: string, options: HashThreadsOptions = {}) {
    this.#file = file;
    this.#maxThreads = options.maxThreads ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    this.#maxWaiting = options.maxWaiting ?? 512 * this.#maxThreads;
    this.#readyMs = options.readyMs ?? READY_MS;
    this.#fallbackMs = options.fallbackMs ?? FALLBACK_MS;
    this.#maxRunMs = options.maxRunMs ?? MAX_RUN_MS;
    this.#idleMs = options.idleMs ?? IDLE_MS;
    const maxWaitMs = options.maxWaitMs ?? MAX_WAIT_MS;
    const waited = 'htpasswd: a password check waited more than {ms} ms';
    this.#queue = new DeadlineQueue(maxWaitMs, waited);
    // The main thread is one more thread: its share, the same deadline.
    this.#here = new DeadlineQueue(maxWaitMs, waited);
    this.#maxWaitingHere = Math.ceil(this.#maxWaiting / this.#maxThreads);
  }

  /**
   * `inThread(password, salt)`, computed by `library` on a worker thread when it can be, else on
   * this one.
   */
  hash(
    library: SlowHashLibrary,
    inThread: (password: string, salt: string) => string,
    password: string,
    salt: string,
  ): Promise<string> {
    this.#available ??= existsSync(this.#file);
    const now = performance.now();
    if (
      !this.#available ||
      now < this.#inThreadUntil ||
      now < (this.#libraryInThreadUntil.get(library) ?? -Infinity)
    ) {
      return this.#hashHere({ library, inThread, password, salt, queuedAt: now });
    }
    if (this.#queue.items.length >= this.#maxWaiting) {
      return Promise.reject(
        overloaded(`htpasswd: more than ${this.#maxWaiting} password checks waiting`),
      );
    }
    return new Promise<string>((resolve, reject) => {
      this.#queue.items.push({ library, inThread, password, salt, queuedAt: now, resolve, reject });
      this.#dispatch();
    });
  }

  /** Stops every thread; the checks they are on and those waiting reject. */
  async stop(): Promise<void> {
    const threads = this.#threads;
    const waiting = [...this.#queue.clear(), ...this.#here.clear()];
    clearImmediate(this.#hereTurn);
    this.#hereTurn = undefined;
    this.#threads = [];
    const error = storeFailure('htpasswd: hash thread stopped');
    for (const thread of threads) this.#fail(thread, error);
    for (const check of waiting) check.reject(error);
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  /** Hands waiting checks to free threads, starting threads while there is room. */
  #dispatch(): void {
    this.#queue.expire();
    /** Checks of a library that does not load in a thread (since they were queued). */
    const here: Check[] = [];
    const now = performance.now();
    for (const [library, until] of this.#libraryInThreadUntil) {
      if (until <= now) this.#libraryInThreadUntil.delete(library);
    }
    // From anywhere in the queue: they need no thread, so they wait for none.
    if (this.#libraryInThreadUntil.size > 0) {
      this.#queue.items = this.#queue.items.filter((check) => {
        if (!this.#libraryInThreadUntil.has(check.library)) return true;
        here.push(check);
        return false;
      });
    }
    while (this.#queue.items.length > 0) {
      let thread = this.#threads.find((t) => t.busy === undefined);
      if (thread === undefined) {
        if (this.#threads.length >= this.#maxThreads) break;
        try {
          thread = this.#start();
        } catch {
          // No thread can start (the permission model without --allow-worker: `new Worker`
          // throws): hashing stays here for fallbackMs, as after threads that die unloaded, so
          // that later checks wait in this thread's bounded queue (hash() sends them there)
          // rather than each try a thread and join it past every bound. Those let in already go.
          this.#inThreadUntil = performance.now() + this.#fallbackMs;
          here.push(...this.#queue.clear());
          break;
        }
      }
      const check = this.#queue.items.shift()!;
      thread.busy = check;
      if (thread.idle !== undefined) clearTimeout(thread.idle);
      thread.idle = undefined;
      thread.worker.ref(); // a check under way keeps the process alive, as any pending I/O does
      thread.worker.postMessage({
        library: check.library,
        password: check.password,
        salt: check.salt,
      });
      const running = thread;
      thread.running = setTimeout(() => {
        running.overran = true;
        void running.worker.terminate(); // its check fails closed on 'exit'
      }, this.#maxRunMs);
      thread.running.unref();
    }
    this.#runEachHere(here);
    this.#queue.arm();
  }

  #start(): Thread {
    // No flags of the process's (`--input-type`, loaders): the worker needs none, and some fail
    // it. A library it cannot load without them is hashed on the main thread (see `unavailable`).
    const worker = new Worker(this.#file, { execArgv: [] });
    const thread: Thread = {
      worker,
      busy: undefined,
      idle: undefined,
      running: undefined,
      overran: false,
      ready: false,
    };
    worker.unref();
    /** Why the thread died, when Node said (an error); else its exit code says. */
    let cause: unknown;
    // A worker that neither loads nor dies (a top-level await that never ends) would hold its
    // check and its place for ever: it counts as one that did not start.
    let timedOut = false;
    const loading = setTimeout(() => {
      // An event loop that stood still (a handler that ran long) leaves the ready message waiting
      // behind this timer: messages come in before setImmediate's turn.
      setImmediate(() => {
        if (thread.ready || !this.#threads.includes(thread)) return;
        timedOut = true;
        cause ??= new Error(`not loaded within ${this.#readyMs} ms`);
        void worker.terminate();
      }).unref();
    }, this.#readyMs);
    loading.unref();
    worker.on('message', (reply: unknown) => {
      if (!isReply(reply)) {
        cause = new Error('the worker sent a malformed message');
        void worker.terminate(); // its check fails closed on 'exit'
        return;
      }
      if (reply.ready === true) {
        // Too late: the thread is being stopped, its check goes back to the queue (see died).
        if (timedOut) return;
        clearTimeout(loading);
        thread.ready = true;
        this.#startFailures = 0;
        return;
      }
      const check = thread.busy;
      if (check === undefined) return;
      thread.busy = undefined;
      clearTimeout(thread.running);
      if (typeof reply.hash === 'string') {
        check.resolve(reply.hash);
      } else if (reply.unavailable === true) {
        this.#libraryInThreadUntil.set(check.library, performance.now() + this.#fallbackMs);
        this.#warnOnce(
          check.library,
          `htpasswd: ${check.library} does not load in a worker thread (${String(reply.error)}); its hashes are computed on the main thread`,
        );
        // At once: its turn came, on the thread (those still waiting queue for this one).
        runInThread(check);
        // A thread remembers a module it failed to load: a fresh one tries again, after fallbackMs.
        this.#threads = this.#threads.filter((t) => t !== thread);
        void worker.terminate();
        this.#dispatch();
        return;
      } else {
        check.reject(storeFailure(`htpasswd: hashing failed: ${String(reply.error)}`));
      }
      this.#dispatch();
      if (thread.busy === undefined) this.#rest(thread);
    });
    // A thread that dies takes the check it was on with it (fail closed); the others go on, on
    // a new thread if need be. Decided on 'exit', not 'error': Node may report the error before
    // the worker's `ready`, which it delivers before 'exit'.
    const died = (code: number): void => {
      clearTimeout(loading);
      clearTimeout(thread.running);
      if (thread.overran) cause = new Error(`a check ran longer than ${this.#maxRunMs} ms`);
      cause ??= new Error(`exited with code ${code}`);
      if (!this.#threads.includes(thread)) return;
      this.#threads = this.#threads.filter((t) => t !== thread);
      if (!thread.ready) {
        // Its check never ran: it goes back to the queue. Three threads in a row that die before
        // loading the worker's module (a bundler rewrote it, a file gone) mean it does not run
        // here: hash on the main thread from now on rather than fail every check.
        // A worker that hung while loading will hang again: one is enough, or the checks
        // waiting meanwhile would outlast the middleware's timeout.
        if (timedOut) this.#startFailures = START_FAILURES - 1;
        if (++this.#startFailures < START_FAILURES) {
          if (thread.busy !== undefined) this.#queue.items.unshift(thread.busy);
          thread.busy = undefined;
          this.#dispatch();
          return;
        }
        // For a while: the cause may pass (descriptors exhausted by a flood of connections).
        this.#inThreadUntil = performance.now() + this.#fallbackMs;
        this.#startFailures = 0;
        this.#warnOnce(
          'start',
          `htpasswd: the hash worker does not start (${messageOf(cause)}); hashes are computed on the main thread`,
        );
        const checks = [thread.busy, ...this.#queue.clear()].filter((c) => c !== undefined);
        thread.busy = undefined;
        this.#runEachHere(checks);
        return;
      }
      this.#fail(thread, storeFailure('htpasswd: hash thread failed', cause));
      this.#dispatch();
    };
    worker.on('error', (error) => {
      cause = error;
    });
    worker.on('messageerror', (error) => {
      cause = error;
      void worker.terminate();
    });
    worker.on('exit', died);
    this.#threads.push(thread);
    return thread;
  }

  /** `check` on this thread once its turn comes; refused past the bound, as a thread's queue does. */
  #hashHere(check: Omit<Check, 'resolve' | 'reject'>): Promise<string> {
    this.#here.expire();
    if (this.#here.items.length >= this.#maxWaitingHere) {
      return Promise.reject(
        overloaded(
          `htpasswd: more than ${this.#maxWaitingHere} password checks waiting for the main thread`,
        ),
      );
    }
    return new Promise<string>((resolve, reject) => {
      this.#here.items.push({ ...check, resolve, reject });
      this.#hereTurn ??= this.#turnHere();
      this.#here.arm();
    });
  }

  /**
   * Runs `checks`, already queued for a thread, on this one in their turn (past the bound: they
   * were let in), in the order they came, so that the oldest expire first.
   */
  #runEachHere(checks: Check[]): void {
    if (checks.length === 0) return;
    this.#here.items.push(...checks);
    this.#here.items.sort((a, b) => a.queuedAt - b.queuedAt);
    this.#hereTurn ??= this.#turnHere();
    this.#here.arm();
  }

  /**
   * Hashes the oldest check waiting for this thread, unless it waited too long, and leaves the
   * next to the next turn of the event loop, so that I/O and timers get on in between; returns
   * that turn, or `undefined` when none waits.
   */
  #turnHere(): NodeJS.Immediate | undefined {
    this.#here.expire();
    const check = this.#here.items.shift();
    if (check === undefined) return undefined;
    const next = setImmediate(() => {
      this.#hereTurn = this.#turnHere();
    });
    runInThread(check);
    this.#here.arm();
    return next;
  }

  /** One warning per kind of trouble: a fallback that recurs every minute says nothing new. */
  #warnOnce(kind: string, message: string): void {
    if (this.#warned.has(kind)) return;
    this.#warned.add(kind);
    process.emitWarning(message, { code: 'AUTHSCHEME_HASH_THREAD' });
  }

  #rest(thread: Thread): void {
    thread.worker.unref();
    thread.idle = setTimeout(() => {
      this.#threads = this.#threads.filter((t) => t !== thread);
      void thread.worker.terminate();
    }, this.#idleMs);
    thread.idle.unref();
  }

  #fail(thread: Thread, error: Error): void {
    if (thread.idle !== undefined) clearTimeout(thread.idle);
    const check = thread.busy;
    thread.busy = undefined;
    check?.reject(error);
  }
}

function isReply(value: unknown): value is Reply {
  return typeof value === 'object' && value !== null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function runInThread(check: Check): void {
  settleInThread(check.inThread, check.password, check.salt).then(check.resolve, check.reject);
}

function settleInThread(
  inThread: (password: string, salt: string) => string,
  password: string,
  salt: string,
): Promise<string> {
  try {
    return Promise.resolve(inThread(password, salt));
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * The process's threads, for every htpasswd file. An ES module bundle of this package has no
 * `__dirname` (nor the worker's file): there hashes stay on the main thread.
 */
export const hashThreads = new HashThreads(
  typeof __dirname === 'string' ? join(__dirname, 'hash-worker.mjs') : '',
);
