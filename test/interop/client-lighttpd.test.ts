/**
 * authscheme/client against a second server nobody here wrote: lighttpd 1.4 (Debian's `lighttpd`,
 * which scripts/provision.sh installs and never starts as a service) with mod_auth, which does
 * RFC 7616 where Apache's mod_auth_digest does MD5 only: SHA-256 and SHA-512-256, several
 * algorithms offered at once, userhash, username*, stale=true and nextnonce. On 127.0.0.1 and a
 * free port with its own configuration, password files written here (Basic's by Apache's
 * `htpasswd`). Stopped by its PID.
 *
 * What lighttpd 1.4.69 does (src/mod_auth.c): one challenge per algorithm offered, each with
 * `qop="auth"` (never auth-int, never a -sess algorithm) and `charset="UTF-8"`; no `rspauth`; `nc`
 * is not checked (a nonce is good for 600 seconds, a lifetime no option changes); a nonce older
 * than that gets `stale=true`, and one older than 540 seconds a `nextnonce` in
 * Authentication-Info. Without a nonce-secret it reads only the nonce's timestamp, so a nonce aged
 * here by rewriting its timestamp is, to lighttpd, one it issued that long ago. With a
 * nonce-secret, 1.4.69 refuses every answer (fixed upstream in 1.4.77).
 *
 * Each test records its cells in the servers table of docs/interop.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthFetch, ServerAuthenticationError } from 'authscheme/client';
import { freePort } from '../helpers/free-port';
import { ServerMatrixRecorder } from './helpers/matrix';
import { directive, versionOf } from './helpers/run';

const LIGHTTPD = '/usr/sbin/lighttpd';
const USER = 'alice';
const PASSWORD = 'secret';
// NFC, as the client sends it (RFC 7616 §4); written to the password files as UTF-8.
const UNICODE_USER = 'Jürgen';
const UNICODE_PASSWORD = 'pässwörd€';

/** Protected directories: the realm is the name, each with its own mod_auth settings. */
const AREAS = {
  md5: { algorithm: 'MD5', backend: 'htdigest' },
  sha256: { algorithm: 'SHA-256', backend: 'htdigest' },
  'sha512-256': { algorithm: 'SHA-512-256', backend: 'htdigest' },
  both: { algorithm: 'MD5|SHA-256', backend: 'htdigest' },
  // An htdigest file finds a user's digest by its length: SHA-256 and SHA-512-256 (both 64 hex
  // digits) cannot both be in it for one realm. From cleartext lighttpd computes either.
  all: { algorithm: 'MD5|SHA-256|SHA-512-256', backend: 'plain' },
  userhash: { algorithm: 'SHA-256', backend: 'htdigest', userhash: true },
  secret: { algorithm: 'SHA-256', backend: 'htdigest', nonceSecret: true },
} as const;
type Area = keyof typeof AREAS;

const HASHES: Record<string, string> = {
  MD5: 'md5',
  'SHA-256': 'sha256',
  'SHA-512-256': 'sha512-256',
};
const hex = (algorithm: string, text: string): string =>
  createHash(HASHES[algorithm]!).update(text, 'utf8').digest('hex');

let root: string;
let port: number;
let base: string;
let lighttpd: ChildProcess;
const matrix = new ServerMatrixRecorder('lighttpd', 'lighttpd');

jest.setTimeout(30_000);

beforeAll(async () => {
  matrix.label = (await versionOf(LIGHTTPD, ['-v'])).replace(
    /^lighttpd\/(\S+).*$/,
    'lighttpd $1 (mod_auth, mod_authn_file)',
  );
  root = mkdtempSync(join(tmpdir(), 'authscheme-lighttpd-'));
  for (const dir of ['basic', ...Object.keys(AREAS)]) {
    mkdirSync(join(root, 'htdocs', dir), { recursive: true });
    writeFileSync(join(root, 'htdocs', dir, 'index.html'), `${dir} ok\n`);
  }
  mkdirSync(join(root, 'htdocs', 'sha256', 'sub'));
  writeFileSync(join(root, 'htdocs', 'sha256', 'sub', 'index.html'), 'sub ok\n');
  const users = [
    [USER, PASSWORD],
    [UNICODE_USER, UNICODE_PASSWORD],
  ] as const;
  for (const [index, [user, password]] of users.entries()) {
    const flags = index === 0 ? '-cbB' : '-bB';
    const htpasswd = spawnSync('htpasswd', [flags, join(root, 'htpasswd'), user, password]);
    if (htpasswd.status !== 0) throw new Error(`htpasswd failed: ${String(htpasswd.stderr)}`);
  }
  // user:realm:H(user:realm:password):H(user:realm), the fourth field for userhash lookups.
  const htdigest: string[] = [];
  for (const [area, { algorithm, backend }] of Object.entries(AREAS)) {
    if (backend !== 'htdigest') continue;
    for (const name of algorithm.split('|')) {
      for (const [user, password] of users) {
        const ha1 = hex(name, `${user}:${area}:${password}`);
        htdigest.push(`${user}:${area}:${ha1}:${hex(name, `${user}:${area}`)}`);
      }
    }
  }
  writeFileSync(join(root, 'htdigest'), `${htdigest.join('\n')}\n`);
  writeFileSync(join(root, 'plain'), users.map((pair) => `${pair.join(':')}\n`).join(''));
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const file = join(root, 'lighttpd.conf');
  writeFileSync(file, config(randomBytes(16).toString('hex')));
  // -D: in the foreground, so that the PID spawned is the server's.
  lighttpd = spawn(LIGHTTPD, ['-D', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  // What it says before its error log is open (a configuration it refuses).
  let stderr = '';
  lighttpd.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await waitUntilServing(lighttpd, () => stderr);
});

afterAll(async () => {
  if (lighttpd?.exitCode === null) {
    const exited = new Promise((resolve) => lighttpd.once('exit', resolve));
    lighttpd.kill('SIGTERM');
    await exited;
  }
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  await matrix.write();
});

/** lighttpd's configuration; `nonceSecret` signs the nonces of the `secret` area. */
function config(nonceSecret: string): string {
  const lines = [
    `server.document-root = "${root}/htdocs"`,
    'server.bind = "127.0.0.1"',
    `server.port = ${port}`,
    `server.errorlog = "${root}/error.log"`,
    'server.modules = ("mod_auth", "mod_authn_file")',
    'index-file.names = ("index.html")',
    'mimetype.assign = (".html" => "text/html")',
    // lighttpd holds back each refusal of credentials up to a second (against guessing): the
    // client does the same without it, and these tests make a dozen refusals.
    'server.feature-flags = ("auth.delay-invalid-creds" => "disable")',
    '$HTTP["url"] =~ "^/basic/" {',
    '  auth.backend = "htpasswd"',
    `  auth.backend.htpasswd.userfile = "${root}/htpasswd"`,
    '  auth.require = ("/basic/" => ("method" => "basic", "realm" => "basic", "require" => "valid-user"))',
    '}',
  ];
  for (const [area, settings] of Object.entries(AREAS)) {
    const options = [
      '"method" => "digest"',
      `"realm" => "${area}"`,
      '"require" => "valid-user"',
      `"algorithm" => "${settings.algorithm}"`,
    ];
    if ('userhash' in settings) options.push('"userhash" => "enable"');
    if ('nonceSecret' in settings) options.push(`"nonce-secret" => "${nonceSecret}"`);
    lines.push(
      `$HTTP["url"] =~ "^/${area}/" {`,
      `  auth.backend = "${settings.backend}"`,
      `  auth.backend.${settings.backend}.userfile = "${root}/${settings.backend}"`,
      `  auth.require = ("/${area}/" => (${options.join(', ')}))`,
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

async function waitUntilServing(child: ChildProcess, stderr: () => string): Promise<void> {
  // Up to 20 s: it serves within a second, more on a busy machine (100 tries 50 ms apart, some
  // 5 s, was the limit).
  for (const until = Date.now() + 20_000; Date.now() < until && child.exitCode === null;) {
    try {
      await fetch(`${base}/`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  let log = '';
  try {
    log = readFileSync(join(root, 'error.log'), 'utf8');
  } catch {
    // It stopped before opening its log: stderr says why.
  }
  throw new Error(`lighttpd did not start (exit code ${child.exitCode}):\n${stderr()}${log}`);
}

/** What went out to lighttpd and what came back, one entry per request. */
interface Exchange {
  authorization: string | null;
  status: number;
  wwwAuthenticate: string | null;
  authenticationInfo: string | null;
}

/** A `fetch` that logs each exchange; `rewrite` may change a response before the client sees it. */
function logging(
  exchanges: Exchange[],
  rewrite?: (response: Response, index: number) => Response,
): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    let response = await fetch(request);
    if (rewrite !== undefined) response = rewrite(response, exchanges.length);
    exchanges.push({
      authorization: request.headers.get('authorization'),
      status: response.status,
      wwwAuthenticate: response.headers.get('www-authenticate'),
      authenticationInfo: response.headers.get('authentication-info'),
    });
    return response;
  };
}

/** A client for `user` that logs its exchanges. */
function client(
  user = USER,
  password = PASSWORD,
  options: Parameters<typeof createAuthFetch>[1] = {},
): { authFetch: typeof fetch; exchanges: Exchange[] } {
  const exchanges: Exchange[] = [];
  const authFetch = createAuthFetch(
    { username: user, password },
    { ...options, fetch: logging(exchanges) },
  );
  return { authFetch, exchanges };
}

const sent = (exchanges: Exchange[]): boolean[] => exchanges.map((e) => e.authorization !== null);
const param = (exchange: Exchange | undefined, name: string): string | undefined =>
  directive(exchange?.authorization, name.replace('*', '\\*'));

/** The algorithms lighttpd offered in its challenges, in its order. */
const offered = (exchange: Exchange | undefined): string[] =>
  [...(exchange?.wwwAuthenticate ?? '').matchAll(/algorithm=([\w-]+)/g)].map((m) => m[1]!);

/**
 * `response` with each Digest nonce's timestamp (lighttpd's clock, hex seconds before the first
 * colon) moved `seconds` into the past.
 */
function aged(response: Response, seconds: number): Response {
  const challenge = response.headers.get('www-authenticate');
  if (challenge === null) return response;
  const headers = new Headers(response.headers);
  headers.set(
    'www-authenticate',
    challenge.replace(/nonce="([0-9a-f]+):/g, (_, ts: string) => {
      const older = (parseInt(ts, 16) - seconds).toString(16);
      return `nonce="${older}:`;
    }),
  );
  return new Response(response.body, { status: response.status, headers });
}

async function get(authFetch: typeof fetch, path: string): Promise<[number, string]> {
  const res = await authFetch(`${base}${path}`);
  return [res.status, await res.text()];
}

describe.each([
  ['md5', 'MD5'],
  ['sha256', 'SHA-256'],
  ['sha512-256', 'SHA-512-256'],
] as const)('Digest %s', (area: Area, algorithm) => {
  it(`answers lighttpd’s ${algorithm} challenge and reuses the nonce, nc counting up`, async () => {
    const { authFetch, exchanges } = client();
    expect(await get(authFetch, `/${area}/`)).toEqual([200, `${area} ok\n`]);
    expect(offered(exchanges[0])).toEqual([algorithm]);
    // A query string is part of the uri lighttpd compares with its request-target.
    expect(await get(authFetch, `/${area}/index.html?q=a%20b&r=1`)).toEqual([200, `${area} ok\n`]);
    expect(await get(authFetch, `/${area}/index.html`)).toEqual([200, `${area} ok\n`]);
    // One challenge, then every request answered up front on its nonce.
    expect(sent(exchanges)).toEqual([false, true, true, true]);
    expect(exchanges.map((e) => e.status)).toEqual([401, 200, 200, 200]);
    const answers = exchanges.slice(1);
    expect(answers.map((e) => param(e, 'algorithm'))).toEqual([algorithm, algorithm, algorithm]);
    expect(answers.map((e) => param(e, 'nc'))).toEqual(['00000001', '00000002', '00000003']);
    expect(new Set(answers.map((e) => param(e, 'nonce'))).size).toBe(1);
    expect(answers.map((e) => param(e, 'uri'))).toEqual([
      `/${area}/`,
      `/${area}/index.html?q=a%20b&r=1`,
      `/${area}/index.html`,
    ]);
    expect(answers.map((e) => param(e, 'qop'))).toEqual(['auth', 'auth', 'auth']);
    matrix.record(`Digest ${algorithm}`, true);
    matrix.record(
      'Nonce reused, nc counting up',
      true,
      'lighttpd takes any nc: it checks only that the nonce is under 600 seconds old.',
    );
  });

  it(`returns lighttpd’s 401 for a wrong ${algorithm} password, after one answer each time`, async () => {
    const { authFetch, exchanges } = client(USER, 'wrong');
    expect((await get(authFetch, `/${area}/`))[0]).toBe(401);
    expect((await get(authFetch, `/${area}/index.html`))[0]).toBe(401);
    // Refused credentials are not sent up front again.
    expect(sent(exchanges)).toEqual([false, true, false, true]);
    matrix.record('Wrong password: the 401 back after one answer', true);
  });
});

it('answers each hop of a redirect lighttpd sends inside the realm afresh', async () => {
  const { authFetch, exchanges } = client();
  // A directory without its slash: lighttpd checks the answer, then redirects to /sha256/sub/.
  const res = await authFetch(`${base}/sha256/sub`);
  expect([res.status, await res.text()]).toEqual([200, 'sub ok\n']);
  expect(res.redirected).toBe(true);
  expect(exchanges.map((e) => e.status)).toEqual([401, 301, 200]);
  // An answer holds for one request-target: each hop has its own uri and nc.
  expect(exchanges.slice(1).map((e) => param(e, 'uri'))).toEqual(['/sha256/sub', '/sha256/sub/']);
  expect(exchanges.slice(1).map((e) => param(e, 'nc'))).toEqual(['00000001', '00000002']);
  matrix.record(
    'Redirect inside the realm (each hop answered)',
    true,
    'lighttpd redirects a directory without its slash after checking the answer; the client followed the 301 itself and answered the next hop with its own uri.',
  );
});

it('takes the strongest of the algorithms lighttpd offers', async () => {
  const both = client();
  expect(await get(both.authFetch, '/both/')).toEqual([200, 'both ok\n']);
  expect(offered(both.exchanges[0])).toEqual(['SHA-256', 'MD5']);
  expect(param(both.exchanges[1], 'algorithm')).toBe('SHA-256');

  const all = client();
  expect(await get(all.authFetch, '/all/')).toEqual([200, 'all ok\n']);
  expect(offered(all.exchanges[0])).toEqual(['SHA-512-256', 'SHA-256', 'MD5']);
  expect(param(all.exchanges[1], 'algorithm')).toBe('SHA-512-256');
  expect(sent(all.exchanges)).toEqual([false, true]);
  matrix.record(
    'Several algorithms offered (the strongest answered)',
    true,
    'lighttpd sends one challenge per algorithm ("algorithm" => "MD5|SHA-256|SHA-512-256"); the client answered SHA-512-256, or the first offered of its own `algorithms`.',
  );
});

it('takes the algorithm its own list puts first when lighttpd offers several', async () => {
  for (const [algorithms, expected] of [
    [['MD5'], 'MD5'],
    [['SHA-256', 'MD5'], 'SHA-256'],
    [['MD5', 'SHA-512-256'], 'MD5'],
  ] as const) {
    const { authFetch, exchanges } = client(USER, PASSWORD, { algorithms });
    expect(await get(authFetch, '/all/')).toEqual([200, 'all ok\n']);
    expect(param(exchanges[1], 'algorithm')).toBe(expected);
  }
  // Only what lighttpd does not offer: its 401 comes back unanswered.
  const { authFetch, exchanges } = client(USER, PASSWORD, { algorithms: ['SHA-256-sess'] });
  expect((await get(authFetch, '/all/'))[0]).toBe(401);
  expect(sent(exchanges)).toEqual([false]);
});

it('answers lighttpd’s userhash challenge with the hashed name', async () => {
  for (const [user, password] of [
    [USER, PASSWORD],
    [UNICODE_USER, UNICODE_PASSWORD],
  ] as const) {
    const { authFetch, exchanges } = client(user, password);
    expect(await get(authFetch, '/userhash/')).toEqual([200, 'userhash ok\n']);
    expect(await get(authFetch, '/userhash/index.html')).toEqual([200, 'userhash ok\n']);
    expect(exchanges[0]?.wwwAuthenticate).toMatch(/userhash=true/);
    expect(param(exchanges[1], 'userhash')).toBe('true');
    // RFC 7616 §3.4.4: H(username ":" realm), the name itself never sent.
    expect(param(exchanges[1], 'username')).toBe(hex('SHA-256', `${user}:userhash`));
    expect(exchanges[1]?.authorization).not.toContain(encodeURIComponent(user));
    expect(sent(exchanges)).toEqual([false, true, true]);
  }
  const { authFetch, exchanges } = client(USER, 'wrong');
  expect((await get(authFetch, '/userhash/'))[0]).toBe(401);
  expect(sent(exchanges)).toEqual([false, true]);
  matrix.record(
    'userhash',
    true,
    'With lighttpd’s htdigest backend, whose file holds H(user:realm) as a fourth field.',
  );
});

it('sends a non-ASCII user name as username*, and UTF-8 passwords, to Digest and Basic', async () => {
  for (const area of ['md5', 'sha256', 'all'] as const) {
    const { authFetch, exchanges } = client(UNICODE_USER, UNICODE_PASSWORD);
    expect(await get(authFetch, `/${area}/`)).toEqual([200, `${area} ok\n`]);
    // RFC 7616 §3.4.4 and RFC 8187: a quoted-string cannot carry it.
    expect(param(exchanges[1], 'username*')).toBe("UTF-8''J%C3%BCrgen");
    expect(param(exchanges[1], 'username')).toBeUndefined();
  }
  // Given decomposed (NFD), sent composed (NFC), as the files hold them.
  const nfd = client(UNICODE_USER.normalize('NFD'), UNICODE_PASSWORD.normalize('NFD'));
  expect(await get(nfd.authFetch, '/sha256/')).toEqual([200, 'sha256 ok\n']);
  const basic = client(UNICODE_USER, UNICODE_PASSWORD);
  expect(await get(basic.authFetch, '/basic/')).toEqual([200, 'basic ok\n']);
  expect(basic.exchanges[1]?.authorization).toBe(
    `Basic ${Buffer.from(`${UNICODE_USER}:${UNICODE_PASSWORD}`, 'utf8').toString('base64')}`,
  );
  matrix.record(
    'Non-ASCII user name (username*) and password',
    true,
    'lighttpd’s challenges say charset="UTF-8"; the client sent username*=UTF-8\'\'… (RFC 8187) to Digest, or H(user:realm) with userhash, and UTF-8 in Basic.',
  );
});

it('answers lighttpd’s Basic challenge on loopback, then sends Basic up front', async () => {
  const { authFetch, exchanges } = client();
  expect(await get(authFetch, '/basic/')).toEqual([200, 'basic ok\n']);
  expect(exchanges[0]?.wwwAuthenticate).toBe('Basic realm="basic", charset="UTF-8"');
  expect(await get(authFetch, '/basic/index.html')).toEqual([200, 'basic ok\n']);
  expect(sent(exchanges)).toEqual([false, true, true]);

  const wrong = client(USER, 'wrong');
  expect((await get(wrong.authFetch, '/basic/'))[0]).toBe(401);
  expect((await get(wrong.authFetch, '/basic/'))[0]).toBe(401);
  expect(sent(wrong.exchanges)).toEqual([false, true, false, true]);
  matrix.record('Basic', true, 'On loopback: the client sends Basic only there or over https.');
});

it('retries once with the new nonce when lighttpd says stale=true', async () => {
  for (const area of ['md5', 'sha256', 'all'] as const) {
    const exchanges: Exchange[] = [];
    // The first challenge's nonces, 700 seconds old: past lighttpd's 600.
    const authFetch = createAuthFetch(
      { username: USER, password: PASSWORD },
      { fetch: logging(exchanges, (res, index) => (index === 0 ? aged(res, 700) : res)) },
    );
    expect(await get(authFetch, `/${area}/`)).toEqual([200, `${area} ok\n`]);
    expect(exchanges.map((e) => e.status)).toEqual([401, 401, 200]);
    const [, stale, fresh] = exchanges;
    // lighttpd's stale challenge offers only the algorithm answered, with a nonce of now.
    expect(stale?.wwwAuthenticate).toMatch(/stale=true/);
    expect(offered(stale)).toEqual([param(stale, 'algorithm')]);
    expect(param(fresh, 'nonce')).toBe(directive(stale?.wwwAuthenticate, 'nonce'));
    expect(param(fresh, 'nonce')).not.toBe(param(stale, 'nonce'));
    expect(param(fresh, 'nc')).toBe('00000001');
    // The new nonce is kept for what follows.
    expect(await get(authFetch, `/${area}/`)).toEqual([200, `${area} ok\n`]);
    expect(param(exchanges[3], 'nonce')).toBe(param(fresh, 'nonce'));
    expect(exchanges).toHaveLength(4);
  }
  matrix.record(
    'Stale nonce (stale=true) retried',
    true,
    'lighttpd’s nonces last 600 seconds, which no option changes: the test moved a challenge’s nonce timestamp (all lighttpd checks without a nonce-secret) 700 seconds back. lighttpd answered stale=true; the client retried once, with the new nonce.',
  );
});

it('gives up after the stale retry when the password is wrong', async () => {
  const exchanges: Exchange[] = [];
  const authFetch = createAuthFetch(
    { username: USER, password: 'wrong' },
    { fetch: logging(exchanges, (res, index) => (index === 0 ? aged(res, 700) : res)) },
  );
  expect((await get(authFetch, '/sha256/'))[0]).toBe(401);
  // lighttpd looks at the nonce's age before the password: stale, then wrong.
  expect(exchanges.map((e) => e.status)).toEqual([401, 401, 401]);
  expect(exchanges[1]?.wwwAuthenticate).toMatch(/stale=true/);
  expect(exchanges[2]?.wwwAuthenticate).not.toMatch(/stale/);
  matrix.record('Wrong password: the 401 back after one answer', true);
});

it('takes up the nextnonce lighttpd sends when a nonce nears its end', async () => {
  const exchanges: Exchange[] = [];
  // 570 seconds old: still good (600), but past the 540 after which lighttpd sends a nextnonce.
  const authFetch = createAuthFetch(
    { username: USER, password: PASSWORD },
    { fetch: logging(exchanges, (res, index) => (index === 0 ? aged(res, 570) : res)) },
  );
  expect(await get(authFetch, '/sha256/')).toEqual([200, 'sha256 ok\n']);
  const nextnonce = directive(exchanges[1]?.authenticationInfo, 'nextnonce');
  expect(nextnonce).toMatch(/^[0-9a-f]+:[0-9a-f]{64}$/);
  expect(await get(authFetch, '/sha256/index.html')).toEqual([200, 'sha256 ok\n']);
  expect(await get(authFetch, '/sha256/')).toEqual([200, 'sha256 ok\n']);
  // Up front on the nextnonce, its count starting over; lighttpd sends no other.
  expect(sent(exchanges)).toEqual([false, true, true, true]);
  expect(exchanges.slice(2).map((e) => param(e, 'nonce'))).toEqual([nextnonce, nextnonce]);
  expect(exchanges.slice(2).map((e) => param(e, 'nc'))).toEqual(['00000001', '00000002']);
  expect(exchanges[2]?.authenticationInfo).toBeNull();
  matrix.record(
    'nextnonce taken up',
    true,
    'lighttpd sends Authentication-Info with a nextnonce (and no rspauth) once a nonce is over 540 seconds old (aged so here); the client sent the next requests on it, nc from 00000001.',
  );
});

it('gives back lighttpd’s 401 after one answer where its nonce-secret refuses every nonce', async () => {
  const { authFetch, exchanges } = client();
  expect((await get(authFetch, '/secret/'))[0]).toBe(401);
  expect((await get(authFetch, '/secret/'))[0]).toBe(401);
  // The nonce carries the random field a nonce-secret adds, which 1.4.69 then misreads.
  expect(param(exchanges[1], 'nonce')).toMatch(/^[0-9a-f]+:[0-9a-f]+:[0-9a-f]{32,}$/);
  expect(sent(exchanges)).toEqual([false, true, false, true]);
  expect(exchanges[1]?.wwwAuthenticate).not.toMatch(/stale/);
  expect(readFileSync(join(root, 'error.log'), 'utf8')).toMatch(/digest: nonce mismatch/);
  matrix.record(
    'A realm with a nonce-secret',
    false,
    'lighttpd 1.4.69 refuses every answer there ("digest: nonce mismatch" in its log: it rebuilds the nonce to compare from the current second, not the nonce’s, and reads its random field as 0; fixed in 1.4.77). The client gave the 401 back after one answer.',
  );
});

it("rejects with verifyServer 'require': lighttpd sends no rspauth", async () => {
  const { authFetch, exchanges } = client(USER, PASSWORD, { verifyServer: 'require' });
  const attempt = authFetch(`${base}/sha256/`);
  await expect(attempt).rejects.toThrow(ServerAuthenticationError);
  await expect(attempt).rejects.toThrow(/sent no rspauth/);
  // It did authenticate; it just proved nothing back.
  expect(exchanges.map((e) => e.status)).toEqual([401, 200]);
  expect(exchanges[1]?.authenticationInfo).toBeNull();
  matrix.record(
    "Mutual authentication (rspauth; verifyServer: 'require')",
    false,
    "lighttpd sends no rspauth: with verifyServer 'require' the promise rejects with ServerAuthenticationError; by default the response is taken as it is.",
  );
});
