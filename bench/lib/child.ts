/**
 * One benchmark process (a server, the codec bench): started with Node and
 * tsx, optionally pinned to a CPU with `taskset`, spoken to over the IPC channel with
 * request/reply messages that each carry a deadline, and stopped by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { findRepoRoot } from './compile';

export const REPO_ROOT = findRepoRoot(__dirname);

let buildRoot: string | undefined;

/** Children run the compiled JavaScript under this folder (see compile.ts) with plain node. */
export function useBuild(root: string): void {
  buildRoot = root;
}

export interface ChildSpec {
  /** For messages and logs. */
  name: string;
  /** A .ts file under bench/; run compiled with plain node once `useBuild` was called, else with tsx. */
  script: string;
  args?: string[];
  /** Pin to this CPU with `taskset -c` (only when `pin` is true). */
  cpu?: number;
  pin: boolean;
  /** Extra Node flags, e.g. `--cpu-prof`. */
  nodeFlags?: string[];
  /** A command that runs node, e.g. `['valgrind', '--tool=callgrind']`; the PID is then its. */
  wrapper?: string[];
  env?: NodeJS.ProcessEnv;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const live = new Set<BenchChild>();

/** Kills every child still running; used on exit paths so nothing outlives the run. */
export function killAllChildren(): void {
  for (const child of live) child.kill();
}

process.once('exit', killAllChildren);

export class BenchChild {
  readonly pid: number;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited = false;
  private readonly exitPromise: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
  ) {
    if (proc.pid === undefined) throw new Error(`${name}: could not start`);
    this.pid = proc.pid;
    live.add(this);
    proc.on('message', (message: unknown) => this.onMessage(message));
    this.exitPromise = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exited = true;
        live.delete(this);
        for (const [, waiter] of this.pending) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error(`${name} exited (code ${code}, signal ${signal})`));
        }
        this.pending.clear();
        resolve();
      });
    });
  }

  /** Starts the process and waits (bounded) for its `{ type: 'ready' }` message. */
  static async start<Ready>(
    spec: ChildSpec,
    readyTimeoutMs = 30_000,
  ): Promise<{ child: BenchChild; ready: Ready }> {
    const script =
      buildRoot === undefined
        ? ['--import', 'tsx', path.join(REPO_ROOT, 'bench', spec.script)]
        : [path.join(buildRoot, 'bench', spec.script.replace(/\.ts$/, '.js'))];
    const pin = spec.pin && spec.cpu !== undefined ? ['taskset', '-c', String(spec.cpu)] : [];
    const [command = '', ...args] = [
      ...pin,
      ...(spec.wrapper ?? []),
      process.execPath,
      ...(spec.nodeFlags ?? []),
      ...script,
      ...(spec.args ?? []),
    ];
    const proc = spawn(command, args, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...spec.env, NODE_ENV: 'production' },
    });
    const child = new BenchChild(spec.name, proc);
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`${spec.name}: not ready within ${readyTimeoutMs} ms`));
      }, readyTimeoutMs);
      const onMessage = (message: unknown): void => {
        if (isMessage(message) && message.type === 'ready') {
          clearTimeout(timer);
          proc.off('message', onMessage);
          resolve(message as Ready);
        } else if (isMessage(message) && message.type === 'fatal') {
          clearTimeout(timer);
          reject(new Error(`${spec.name}: ${String((message as { error?: unknown }).error)}`));
        }
      };
      proc.on('message', onMessage);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${spec.name} exited with code ${code} before it was ready`));
      });
    });
    return { child, ready };
  }

  /** Sends `{ type, id, ...payload }` and resolves with the child's reply carrying the same id. */
  request<Reply>(type: string, payload: object, timeoutMs: number): Promise<Reply> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running`));
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no reply to ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve, reject, timer });
      // A child that just died may not have reported its exit yet: the send then fails (without
      // a callback, Node would raise that as an 'error' event nobody listens to, and end the run).
      this.proc.send({ ...payload, type, id }, (error) => {
        if (!error || !this.pending.delete(id)) return;
        clearTimeout(timer);
        reject(new Error(`${this.name}: ${type} could not be sent (${error.message})`));
      });
    });
  }

  private onMessage(message: unknown): void {
    if (!isMessage(message) || typeof message.id !== 'number') return;
    const waiter = this.pending.get(message.id);
    if (!waiter) return;
    this.pending.delete(message.id);
    clearTimeout(waiter.timer);
    if (message.type === 'error')
      waiter.reject(new Error(`${this.name}: ${String(message.error)}`));
    else waiter.resolve(message);
  }

  /** Asks the child to exit (so `--cpu-prof` can write its profile), then kills it by PID. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exited) return;
    // If the channel is already closed, the kill below settles it.
    this.proc.send({ type: 'stop', id: 0 }, () => undefined);
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
  }

  /** SIGKILL by PID, never by name. */
  kill(): void {
    if (this.exited) return;
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

interface Message {
  type: string;
  id?: number;
  error?: unknown;
}

function isMessage(value: unknown): value is Message {
  return typeof value === 'object' && value !== null && typeof (value as Message).type === 'string';
}

/** Child side: answers requests from the parent. The handler's result is merged into the reply. */
export function serveParent(
  handlers: Record<string, (message: Record<string, unknown>) => unknown>,
): void {
  process.on('message', (raw: unknown) => {
    if (!isMessage(raw)) return;
    const message = raw as Message & Record<string, unknown>;
    if (message.type === 'stop') {
      process.exit(0);
    }
    const handler = handlers[message.type];
    if (!handler) {
      process.send?.({ type: 'error', id: message.id, error: `unknown request ${message.type}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(message))
      .then(
        (result) => process.send?.({ ...(result as object), type: 'reply', id: message.id }),
        (error: unknown) =>
          process.send?.({
            type: 'error',
            id: message.id,
            error: error instanceof Error ? error.message : String(error),
          }),
      );
  });
  // The parent went away: nothing else should keep this process alive.
  process.on('disconnect', () => process.exit(0));
}
