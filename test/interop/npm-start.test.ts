/**
 * `npm start` as a newcomer runs it: tsx runs examples/demo/server.ts directly, the start-up log
 * prints the URLs and credentials, the landing page answers, and Ctrl-C (SIGINT) stops it cleanly.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

// A process to start (tsx compiling on a busy machine: up to 20 s) and to stop (up to 15 s).
jest.setTimeout(60_000);

it('npm start serves the landing page, logs URLs and credentials, and exits 0 on SIGINT', async () => {
  // PORT=0: free ports for the page and the proxy beside it (the log prints the real ones).
  const child = spawn(TSX, ['examples/demo/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let log = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  let errors = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  try {
    const deadline = Date.now() + 20_000;
    while (!log.includes('Ctrl-C to stop.') && Date.now() < deadline && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(errors).toBe('');
    const origin = /playground on (http:\/\/localhost:\d+)\//.exec(log)?.[1];
    expect(origin).toBeDefined();
    expect(log).toContain('alice / wonderland');
    expect(log).toMatch(/forward proxy {2}http:\/\/localhost:\d+ \(user bob \/ builder\)/);
    expect(log).toMatch(/bearer token {3}[\w-]{43} /);

    const page = await fetch(`${origin!.replace('localhost', '127.0.0.1')}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>authscheme playground</title>');
  } finally {
    child.kill('SIGINT');
  }
  let timer: NodeJS.Timeout | undefined;
  const tooLate = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('no exit within 15 s of SIGINT'));
      // Only a process that does not stop takes this long: 5 s could pass on a loaded machine.
    }, 15_000);
  });
  const { code, signal } = await Promise.race([exited, tooLate]).finally(() => clearTimeout(timer));
  expect({ code, signal }).toEqual({ code: 0, signal: null });
  expect(log).toContain('SIGINT: closing');
});
