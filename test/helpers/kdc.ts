/**
 * A throw-away Kerberos realm for a test file: its own krb5.conf and kdc.conf in a temp dir, a
 * database made with `kdb5_util create -s`, principals added with `kadmin.local`, and `krb5kdc`
 * in the foreground on 127.0.0.1 and a free port, stopped by its PID.
 *
 * Nothing here touches the machine's /etc/krb5.conf or this process's environment: every command
 * (and every server the tests start) gets the realm through `realm.env`.
 *
 * The binaries come from Debian's krb5-kdc, krb5-admin-server and krb5-user
 * (`scripts/provision.sh` installs them). Without them, `startKdc()` rejects saying so.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';

export const REALM = 'AUTHSCHEME.TEST';

export interface Kdc {
  readonly realm: string;
  readonly dir: string;
  readonly port: number;
  /** KRB5_CONFIG, KRB5_KDC_PROFILE and a replay-cache dir: the environment of every krb5 user. */
  readonly env: Record<string, string>;
  /** Adds a user principal with a password (`name` without realm). */
  addUser(name: string, password: string): Promise<void>;
  /** Adds `HTTP/<host>` with a random key and writes it to a new keytab; resolves to its path. */
  addService(principal: string, keytabName: string): Promise<string>;
  /**
   * A credentials cache holding a TGT of `user`, from `kinit` (password on stdin). Resolves to the
   * cache name, for KRB5CCNAME.
   */
  kinit(user: string, password: string, cacheName: string): Promise<string>;
  /** An empty credentials cache name (nothing was ever stored in it). */
  emptyCache(cacheName: string): string;
  /** Stops the KDC by its PID (SIGTERM, then SIGKILL) and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_WITHIN_MS = 5000;

function need(command: string, pkg: string): void {
  const probe = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `${command} is not installed (Debian package ${pkg}): run \`sudo bash scripts/provision.sh\``,
    );
  }
}

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  input?: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 10_000 },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`${command} ${args[0] ?? ''} failed: ${stderr || error.message}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end(input ?? '');
  });
}

export async function startKdc(): Promise<Kdc> {
  need('krb5kdc', 'krb5-kdc');
  need('kdb5_util', 'krb5-kdc');
  need('kadmin.local', 'krb5-admin-server');
  need('kinit', 'krb5-user');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authscheme-kdc-'));
  const port = await freePort();
  const krb5Conf = path.join(dir, 'krb5.conf');
  const kdcConf = path.join(dir, 'kdc.conf');
  fs.writeFileSync(
    krb5Conf,
    `[libdefaults]
  default_realm = ${REALM}
  dns_lookup_realm = false
  dns_lookup_kdc = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
  ticket_lifetime = 1h
[realms]
  ${REALM} = {
    kdc = ${HOST}:${port}
  }
[domain_realm]
  localhost = ${REALM}
  .test = ${REALM}
`,
  );
  fs.writeFileSync(
    kdcConf,
    `[kdcdefaults]
  kdc_ports = ${port}
  kdc_tcp_ports = ${port}
[realms]
  ${REALM} = {
    database_name = ${path.join(dir, 'principal')}
    key_stash_file = ${path.join(dir, 'stash')}
    acl_file = ${path.join(dir, 'kadm5.acl')}
    kdc_listen = ${HOST}:${port}
    kdc_tcp_listen = ${HOST}:${port}
    max_life = 1h
  }
[logging]
  kdc = FILE:${path.join(dir, 'kdc.log')}
`,
  );
  fs.writeFileSync(path.join(dir, 'kadm5.acl'), '');
  fs.mkdirSync(path.join(dir, 'rcache'));
  const env = {
    KRB5_CONFIG: krb5Conf,
    KRB5_KDC_PROFILE: kdcConf,
    KRB5RCACHEDIR: path.join(dir, 'rcache'),
  };
  const admin = (query: string): Promise<string> =>
    run('kadmin.local', ['-r', REALM, '-q', query], env);

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const kdc: Kdc = {
    realm: REALM,
    dir,
    port,
    env,
    addUser: async (name, password) => {
      await admin(`addprinc -pw ${password} ${name}`);
    },
    addService: async (principal, keytabName) => {
      const keytab = path.join(dir, keytabName);
      await admin(`addprinc -randkey ${principal}`);
      await admin(`ktadd -k ${keytab} ${principal}`);
      return keytab;
    },
    kinit: async (user, password, cacheName) => {
      const cache = `FILE:${path.join(dir, cacheName)}`;
      await run('kinit', [`${user}@${REALM}`], { ...env, KRB5CCNAME: cache }, `${password}\n`);
      return cache;
    },
    emptyCache: (cacheName) => `FILE:${path.join(dir, cacheName)}`,
    stop: async () => {
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child?.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    await run('kdb5_util', ['-r', REALM, '-P', 'master-password', 'create', '-s'], env);
    // -n: stay in the foreground, so that the child's PID is the KDC's.
    child = spawn('krb5kdc', ['-n', '-r', REALM], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const keep = (chunk: Buffer): void => {
      if (log.length < 4000) log += chunk.toString('utf8');
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const started = child;
    exited = new Promise<void>((resolve) => started.once('exit', () => resolve()));
    try {
      await waitForPort(port, started);
    } catch (error) {
      throw new Error(`krb5kdc did not start: ${(error as Error).message}\n${log}`);
    }
  } catch (error) {
    await kdc.stop();
    throw error;
  }
  return kdc;
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_WITHIN_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`exited with ${child.exitCode ?? child.signalCode}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, HOST);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`port ${port} not open within ${READY_WITHIN_MS} ms`);
}
