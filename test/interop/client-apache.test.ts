/**
 * authscheme/client against a server nobody here wrote: Apache httpd 2.4 (Debian's `apache2`,
 * which scripts/provision.sh installs) with mod_auth_digest (MD5, qop=auth) and mod_auth_basic,
 * on 127.0.0.1 and a free port, its password files made by Apache's own `htpasswd` and in
 * `htdigest`'s format. Stopped by its PID.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthFetch, ServerAuthenticationError } from 'authscheme/client';
import { authLocation, startApache, type Apache } from './helpers/apache';
import { ServerMatrixRecorder } from './helpers/matrix';
import { versionOf } from './helpers/run';

let root: string;
let apache: Apache | undefined;
let base: string;
const matrix = new ServerMatrixRecorder('apache', 'Apache httpd');

jest.setTimeout(30_000);

beforeAll(async () => {
  matrix.label = (await versionOf('/usr/sbin/apache2', ['-v'])).replace(
    /^Server version: Apache\/(\S+).*$/,
    'Apache httpd $1 (mod_auth_digest, mod_auth_basic)',
  );
  root = mkdtempSync(join(tmpdir(), 'authscheme-apache-'));
  for (const dir of ['basic', 'digest']) {
    mkdirSync(join(root, 'htdocs', dir), { recursive: true });
    writeFileSync(join(root, 'htdocs', dir, 'index.html'), `${dir} ok\n`);
  }
  const htpasswd = spawnSync('htpasswd', ['-cbB', join(root, 'htpasswd'), 'alice', 'secret']);
  if (htpasswd.status !== 0) throw new Error(`htpasswd failed: ${String(htpasswd.stderr)}`);
  const ha1 = createHash('md5').update('alice:digest-realm:secret').digest('hex');
  writeFileSync(join(root, 'htdigest'), `alice:digest-realm:${ha1}\n`);
  apache = await startApache(
    root,
    ['authn_core', 'authn_file', 'authz_user', 'auth_basic', 'auth_digest'],
    [
      ...authLocation('/basic/', 'Basic', 'basic-realm', `${root}/htpasswd`),
      ...authLocation('/digest/', 'Digest', 'digest-realm', `${root}/htdigest`),
    ],
  );
  base = apache.base;
});

afterAll(async () => {
  await apache?.stop();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  await matrix.write();
});

it('answers Apache’s Digest challenge, checks its rspauth, and reuses the nonce', async () => {
  const authFetch = createAuthFetch({ username: 'alice', password: 'secret' });
  const first = await authFetch(`${base}/digest/`);
  expect(first.status).toBe(200);
  expect(await first.text()).toBe('digest ok\n');
  // verifyServer is on: reaching here means Apache's rspauth matched ours.
  expect(first.headers.get('authentication-info')).toMatch(/rspauth="[0-9a-f]{32}".*nc=00000001/);
  const second = await authFetch(`${base}/digest/index.html`);
  expect(second.status).toBe(200);
  expect(second.headers.get('authentication-info')).toMatch(/nc=00000002/);
  matrix.record(
    'Digest MD5',
    true,
    'mod_auth_digest offers MD5 with qop=auth only: no other algorithm, no userhash.',
  );
  matrix.record('Nonce reused, nc counting up', true);
});

it("works with verifyServer 'require' (Apache sends rspauth) and answers no Basic then", async () => {
  const authFetch = createAuthFetch(
    { username: 'alice', password: 'secret' },
    { verifyServer: 'require' },
  );
  expect((await authFetch(`${base}/digest/`)).status).toBe(200);
  expect((await authFetch(`${base}/digest/index.html`)).status).toBe(200);
  // Apache's own error page carries no Authentication-Info: a 404 is handed back as it is.
  expect((await authFetch(`${base}/digest/missing.html`)).status).toBe(404);
  expect((await authFetch(`${base}/basic/`)).status).toBe(401);
  matrix.record(
    "Mutual authentication (rspauth; verifyServer: 'require')",
    true,
    'Apache sends rspauth in Authentication-Info on its successes (not on its error pages).',
  );
});

it("rejects Apache's redirects with verifyServer 'require': it sends no rspauth on them", async () => {
  const strict = createAuthFetch(
    { username: 'alice', password: 'secret' },
    { verifyServer: 'require' },
  );
  mkdirSync(join(root, 'htdocs', 'digest', 'sub'), { mode: 0o755 });
  writeFileSync(join(root, 'htdocs', 'digest', 'sub', 'index.html'), 'sub ok\n', { mode: 0o644 });
  expect((await strict(`${base}/digest/`)).status).toBe(200);
  // mod_dir's 301 to the slash form, sent after it took the answer (sent up front inside the
  // AuthDigestDomain), carries no Authentication-Info.
  const rejected = strict(`${base}/digest/sub`);
  await expect(rejected).rejects.toThrow(ServerAuthenticationError);
  await expect(rejected).rejects.toMatchObject({ response: { status: 301 } });
  // By default the 301 is followed and the next hop answered.
  const authFetch = createAuthFetch({ username: 'alice', password: 'secret' });
  expect((await authFetch(`${base}/digest/`)).status).toBe(200);
  const res = await authFetch(`${base}/digest/sub`);
  expect(res.status).toBe(200);
  expect(res.url).toBe(`${base}/digest/sub/`);
  expect(await res.text()).toBe('sub ok\n');
});

it('answers Apache’s Basic challenge on loopback', async () => {
  const res = await createAuthFetch({ username: 'alice', password: 'secret' })(`${base}/basic/`);
  expect(res.status).toBe(200);
  expect(await res.text()).toBe('basic ok\n');
  matrix.record('Basic', true, 'On loopback: the client sends Basic only there or over https.');
});

it('returns Apache’s 401 for a wrong password, after one answer', async () => {
  const authFetch = createAuthFetch({ username: 'alice', password: 'wrong' });
  expect((await authFetch(`${base}/digest/`)).status).toBe(401);
  expect((await authFetch(`${base}/basic/`)).status).toBe(401);
});

it('sends a password Apache refused only in answer to its next challenge, never up front', async () => {
  const sent: boolean[] = [];
  const logging: typeof fetch = async (input, init) => {
    sent.push((input as Request).headers.has('authorization'));
    return fetch(input, init);
  };
  const authFetch = createAuthFetch({ username: 'alice', password: 'wrong' }, { fetch: logging });
  for (const path of ['/digest/', '/digest/index.html', '/basic/', '/basic/index.html']) {
    expect((await authFetch(`${base}${path}`)).status).toBe(401);
  }
  expect(sent).toEqual([false, true, false, true, false, true, false, true]);
  matrix.record('Wrong password: the 401 back after one answer', true);
});
