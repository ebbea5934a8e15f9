/**
 * Debian's Apache httpd 2.4 (`apache2`, which scripts/provision.sh installs) in a folder of its
 * own, on 127.0.0.1 and a free port, in the foreground: a server nobody here wrote, for the
 * client's tests and for reading password files as Apache reads them.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../helpers/free-port';

const MODULES = '/usr/lib/apache2/modules';

export interface Apache {
  /** `http://127.0.0.1:<port>`. */
  base: string;
  /** Stops it (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts Apache on `root`, which holds what `config` names: its document root is `root/htdocs`
 * (created if missing), `modules` are loaded beside mpm_event, authz_core and dir, and `config`
 * follows (`<Location>` blocks). Everything directly in `root` and `htdocs` is made readable:
 * Apache's workers run as nobody.
 */
export async function startApache(
  root: string,
  modules: readonly string[],
  config: readonly string[],
): Promise<Apache> {
  mkdirSync(join(root, 'htdocs'), { recursive: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(root, 'httpd.conf'),
    [
      `ServerRoot ${root}`,
      'ServerName 127.0.0.1',
      `Listen 127.0.0.1:${port}`,
      `PidFile ${root}/httpd.pid`,
      `DefaultRuntimeDir ${root}`,
      `ErrorLog ${root}/error.log`,
      ...['mpm_event', 'authz_core', 'dir', ...modules].map(
        (name) => `LoadModule ${name}_module ${MODULES}/mod_${name}.so`,
      ),
      'User nobody',
      'Group nogroup',
      `DocumentRoot ${root}/htdocs`,
      'DirectoryIndex index.html',
      `<Directory ${root}/htdocs>`,
      '  Require all granted',
      '</Directory>',
      ...config,
      '',
    ].join('\n'),
  );
  chmodSync(root, 0o755);
  for (const dir of [root, join(root, 'htdocs')]) {
    for (const name of readdirSync(dir)) chmodSync(join(dir, name), 0o755);
  }
  const apache = spawn('/usr/sbin/apache2', ['-f', join(root, 'httpd.conf'), '-DFOREGROUND'], {
    stdio: 'ignore',
  });
  const stop = async (): Promise<void> => {
    if (apache.exitCode !== null || apache.signalCode !== null) return;
    const exited = new Promise((resolve) => apache.once('exit', resolve));
    apache.kill('SIGTERM');
    await exited;
  };
  // Up to 20 s: it serves within a second, more on a busy machine.
  for (const until = Date.now() + 20_000; Date.now() < until;) {
    try {
      await fetch(base);
      return { base, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  await stop();
  throw new Error(`apache2 did not start:\n${readFileSync(join(root, 'error.log'), 'utf8')}`);
}

/**
 * A `<Location>` for `startApache`'s `config` that lets in the users of `userFile` (an htpasswd
 * file for Basic, an htdigest one for Digest) in `realm`.
 */
export function authLocation(
  path: string,
  type: 'Basic' | 'Digest',
  realm: string,
  userFile: string,
): string[] {
  return [
    `<Location ${path}>`,
    `  AuthType ${type}`,
    `  AuthName "${realm}"`,
    ...(type === 'Digest' ? [`  AuthDigestDomain ${path}`] : []),
    `  AuthUserFile ${userFile}`,
    '  Require valid-user',
    '</Location>',
  ];
}
