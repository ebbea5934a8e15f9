/**
 * Nothing keeps the process alive: once the application closes its servers, no timer, worker
 * thread, file watcher or socket of authscheme's holds the event loop, so there is nothing to close
 * or dispose (the Redis client given to `RedisNonceStore` stays the application's to quit).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

it('a process that used every part exits on its own once its servers close', async () => {
  const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>(
    (resolve, reject) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', path.join(__dirname, '..', 'helpers', 'lifecycle-app.ts')],
        { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8', timeout: 40_000 },
        (error, out, err) => {
          if (error !== null && child.exitCode === null) {
            reject(new Error(`did not exit on its own: ${err}`));
            return;
          }
          resolve({ stdout: out, code: child.exitCode });
        },
      );
    },
  );
  expect(code).toBe(0);
  const [statuses, exit] = stdout.trim().split('\n');
  // Basic through Apache MD5, bcrypt, SHA crypt and the reloaded file; Digest twice (the second
  // from memory); introspection; a JWT refused after a fetch of the key set.
  expect(statuses).toBe('200 200 200 200 200 200 200 401');
  // At once, not when something times out: hash threads stop after 10 s without work, the key
  // set's fetch and introspection's calls time out after 5 s. A generous bound for a loaded machine.
  expect(Number(/^exit (\d+)$/.exec(exit ?? '')?.[1])).toBeLessThan(4000);
}, 45_000);
