/**
 * A throw-away Redis server for a test file: `redis-server` as a child process (not daemonized) on
 * 127.0.0.1 and a free port, without persistence, stopped by its PID.
 *
 * `redis-server` comes from the Debian package of that name (`scripts/provision.sh` installs it).
 * Without it, `startRedisServer()` rejects with a message saying so, and the tests fail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from './free-port';

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  /** Stops the server (SIGTERM, then SIGKILL) and resolves when it has exited. Idempotent. */
  stop(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void;
  /** Undoes `pause()` (SIGCONT). */
  resume(): void;
}

const HOST = '127.0.0.1';
const READY_WITHIN_MS = 5000;

export async function startRedisServer(): Promise<RedisServer> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      'redis-server is not installed (Debian package redis-server): run `sudo bash scripts/provision.sh`',
    );
  }
  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Redis logs to stdout; kept (bounded) to explain a failed start.
  let log = '';
  const keep = (chunk: Buffer): void => {
    if (log.length < 4000) log += chunk.toString('utf8');
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const server: RedisServer = {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    stop: () => stopChild(child, exited),
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
  };
  try {
    await waitForPong(port, child);
  } catch (error) {
    await server.stop();
    throw new Error(`redis-server did not start: ${(error as Error).message}\n${log}`);
  }
  return server;
}

/** Retries PING (inline command) until +PONG, for at most READY_WITHIN_MS. */
async function waitForPong(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_WITHIN_MS;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`exited with ${child.exitCode ?? child.signalCode}`);
    }
    try {
      if ((await ping(port)).startsWith('+PONG')) return;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no PONG within ${READY_WITHIN_MS} ms (${lastError})`);
}

function ping(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, HOST);
    let reply = '';
    socket.setTimeout(500, () => socket.destroy(new Error('ping timed out')));
    socket.once('error', reject);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply);
      }
    });
  });
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGCONT'); // a paused server would not act on SIGTERM
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}
