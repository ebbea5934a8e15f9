/**
 * A throw-away Kerberos realm for a test file: its own krb5.conf and kdc.conf in a temp dir, a
 * database made with `kdb5_util create -s`, principals added with `kadmin.local`, and `krb5kdc`
 * in the foreground on 127.0.0.1 and a free port, stopped by its PID.
 *
 * The realm also serves anonymous PKINIT (RFC 8062), as MIT's "Anonymous PKINIT" docs set it up:
 * a throw-away CA and KDC certificate made with `openssl` at start (EKU id-pkinit-KPKdc, and the
 * subjectAltName otherName KRB5PrincipalName `krbtgt/REALM@REALM` that the client checks), named by
 * `pkinit_identity` and `pkinit_anchors` in kdc.conf and trusted through `pkinit_anchors` in
 * krb5.conf, and the principal `WELLKNOWN/ANONYMOUS`. `kinitAnonymous()` gets a ticket with
 * `kinit -n @REALM`. The keys are EC P-256: made at once, where RSA would add 0.1-0.3 s to every
 * start.
 *
 * Nothing here touches the machine's /etc/krb5.conf or this process's environment: every command
 * (and every server the tests start) gets the realm through `realm.env`.
 *
 * The binaries come from Debian's krb5-kdc, krb5-admin-server, krb5-user, krb5-pkinit and openssl
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
  /**
   * A credentials cache holding an anonymous TGT, from `kinit -n @REALM` (anonymous PKINIT): its
   * client is `WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS`. Resolves to the cache name.
   */
  kinitAnonymous(cacheName: string): Promise<string>;
  /** An empty credentials cache name (nothing was ever stored in it). */
  emptyCache(cacheName: string): string;
  /** Stops the KDC by its PID (SIGTERM, then SIGKILL) and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_WITHIN_MS = 5000;
/** The anonymous principal (RFC 6111 §3.1.1), which the KDC issues anonymous tickets as. */
const ANONYMOUS = 'WELLKNOWN/ANONYMOUS';
/** MIT's PKINIT plugin (Debian's krb5-pkinit), in the multiarch library directory. */
const PKINIT_PLUGIN = 'krb5/plugins/preauth/pkinit.so';

function need(command: string, pkg: string): void {
  const probe = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `${command} is not installed (Debian package ${pkg}): run \`sudo bash scripts/provision.sh\``,
    );
  }
}

function needPkinitPlugin(): void {
  const found = fs
    .readdirSync('/usr/lib', { withFileTypes: true })
    .some(
      (entry) =>
        entry.isDirectory() && fs.existsSync(path.join('/usr/lib', entry.name, PKINIT_PLUGIN)),
    );
  if (!found) {
    throw new Error(
      `MIT's PKINIT plugin (/usr/lib/*/${PKINIT_PLUGIN}) is not installed (Debian package ` +
        'krb5-pkinit): run `sudo bash scripts/provision.sh`',
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
    // A command that reads no input may exit before the write lands: that EPIPE is no failure
    // of ours (the exit status above says whether the command worked).
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

export async function startKdc(): Promise<Kdc> {
  need('krb5kdc', 'krb5-kdc');
  need('kdb5_util', 'krb5-kdc');
  need('kadmin.local', 'krb5-admin-server');
  need('kinit', 'krb5-user');
  need('openssl', 'openssl');
  needPkinitPlugin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authscheme-kdc-'));
  const port = await freePort();
  const krb5Conf = path.join(dir, 'krb5.conf');
  const kdcConf = path.join(dir, 'kdc.conf');
  const caCert = path.join(dir, 'pkinit-ca.pem');
  const kdcCert = path.join(dir, 'pkinit-kdc.pem');
  const kdcKey = path.join(dir, 'pkinit-kdc-key.pem');
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
    pkinit_anchors = FILE:${caCert}
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
    pkinit_identity = FILE:${kdcCert},${kdcKey}
    pkinit_anchors = FILE:${caCert}
    # MIT's default, spelled out: an anonymous TGT gets service tickets too, as in a realm that
    # enables anonymous PKINIT for FAST armor and leaves this alone (the case the adapter refuses).
    restrict_anonymous_to_tgt = false
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
    kinitAnonymous: async (cacheName) => {
      const cache = `FILE:${path.join(dir, cacheName)}`;
      await run('kinit', ['-n', `@${REALM}`], { ...env, KRB5CCNAME: cache });
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
    await Promise.all([
      run('kdb5_util', ['-r', REALM, '-P', 'master-password', 'create', '-s'], env),
      makePkinitCertificates(dir, { caCert, kdcCert, kdcKey }),
    ]);
    await admin(`addprinc -randkey ${ANONYMOUS}`);
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

/**
 * A CA and a KDC certificate it signed, for PKINIT (MIT's "PKINIT configuration" docs): the KDC
 * certificate carries the EKU id-pkinit-KPKdc (1.3.6.1.5.2.3.5) and a subjectAltName otherName
 * id-pkinit-san (1.3.6.1.5.2.2) holding the KRB5PrincipalName `krbtgt/REALM@REALM`, which the
 * client checks against the realm it asked. The config file is ours, so the machine's
 * openssl.cnf does not matter.
 */
async function makePkinitCertificates(
  dir: string,
  files: { caCert: string; kdcCert: string; kdcKey: string },
): Promise<void> {
  const configFile = path.join(dir, 'pkinit-openssl.cnf');
  const caKey = path.join(dir, 'pkinit-ca-key.pem');
  const request = path.join(dir, 'pkinit-kdc.csr');
  fs.writeFileSync(
    configFile,
    `[req]
distinguished_name = dn
prompt = no
[dn]
CN = authscheme test
[ca_cert]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[kdc_cert]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = 1.3.6.1.5.2.3.5
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
subjectAltName = otherName:1.3.6.1.5.2.2;SEQUENCE:kdc_principal
[kdc_principal]
realm = EXP:0,GeneralString:${REALM}
principal_name = EXP:1,SEQUENCE:kdc_principal_name
[kdc_principal_name]
name_type = EXP:0,INTEGER:2
name_string = EXP:1,SEQUENCE:kdc_principal_components
[kdc_principal_components]
component1 = GeneralString:krbtgt
component2 = GeneralString:${REALM}
`,
  );
  // Each argument an option with its value, for reading.
  const openssl = (...args: string[][]): Promise<string> => run('openssl', args.flat(), {});
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const config = ['-config', configFile];
  const days = ['-days', '1'];
  // The CA, self-signed.
  await openssl(
    ['req', '-x509'],
    config,
    newKey,
    days,
    ['-extensions', 'ca_cert'],
    ['-subj', '/CN=authscheme test CA'],
    ['-keyout', caKey],
    ['-out', files.caCert],
  );
  // The KDC's key and certificate request, and its certificate signed by the CA.
  await openssl(
    ['req', '-new'],
    config,
    newKey,
    ['-subj', `/CN=krbtgt ${REALM}`],
    ['-keyout', files.kdcKey],
    ['-out', request],
  );
  await openssl(
    ['x509', '-req'],
    ['-in', request],
    ['-CA', files.caCert],
    ['-CAkey', caKey],
    ['-set_serial', '1'],
    days,
    ['-extfile', configFile],
    ['-extensions', 'kdc_cert'],
    ['-out', files.kdcCert],
  );
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
