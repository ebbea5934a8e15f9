/**
 * README, "htpasswd files": lines are read as Apache reads them. One file, given to Apache httpd
 * 2.4's mod_authn_file and to loadHtpasswd(), and every user tried with the right password and a
 * wrong one on both: the same users get in. The file holds what Apache reads in its own way
 * (ap_cfg_getline's continuations and trimming, ap_getword's colons); its hashes come from
 * Apache's own `htpasswd`. The same for an htdigest file, given to mod_auth_digest (through
 * mod_authn_file, which reads it with ap_cfg_getline too) and to loadHtdigest().
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHtdigest, loadHtpasswd } from 'authscheme';
import { createAuthFetch } from 'authscheme/client';
import { authLocation, startApache, type Apache } from './helpers/apache';

/** The hash Apache's `htpasswd` makes of `password` with `flag` (`-s` SHA-1, `-B` bcrypt). */
function hashOf(flag: string, password: string): string {
  const line = execFileSync('/usr/bin/htpasswd', ['-nb', flag, 'x', password], {
    encoding: 'utf8',
  }).trim();
  return line.slice(line.indexOf(':') + 1);
}

const sha = hashOf('-s', 'pw');
const bcrypt = hashOf('-B', 'pw');
const other = hashOf('-s', 'other');

const FILE = [
  `alice:${sha}\n`,
  // A backslash just before the line feed (or CRLF) joins the next line.
  `bob:${sha.slice(0, 9)}\\\n${sha.slice(9)}\n`,
  `carol:${bcrypt.slice(0, 20)}\\\r\n${bcrypt.slice(20)}\r\n`,
  // A comment continued so: the next line is part of it.
  `# dave left\\\ndave:${sha}\n`,
  // Two backslashes continue it too (Apache 2.2 read them as an escaped one).
  `# erin left \\\\\nerin:${sha}\n`,
  // White space around a line (apr_isspace: SP, HTAB, CR, FF, VT) is dropped; blank lines skipped.
  ` \t frank:${sha} \x0b\x0c\t\r\n\n \t\r\n`,
  // A run of colons is one separator; fields after the hash are ignored.
  `gina::${sha}\n`,
  `hank:${sha}:Hank H.\n`,
  // The first line for a user wins.
  `ivy:${sha}\n`,
  `ivy:${other}\n`,
  // A backslash followed by a space continues nothing.
  `# jack's line comes next \\ \n`,
  `jack:${sha}\n`,
  // An empty line after one continued by the second of two backslashes: Apache looks for a
  // backslash in all it has read, finds the first one, and goes on (kim hidden, lee joined).
  `# kim left \\\\\n\nkim:${sha}\n`,
  `lee:${sha.slice(0, 9)}\\\\\r\n\r\n${sha.slice(9)}\n`,
].join('');
const USERS = 'alice bob carol dave erin frank gina hank ivy jack kim lee'.split(' ');

/** htdigest's HA1 of `user` in realm `d` with `password`. */
const ha1 = (user: string, password: string): string =>
  createHash('md5').update(`${user}:d:${password}`).digest('hex');

// The htdigest file's lines take the same turns (user:realm:HA1).
const DIGEST_FILE = [
  `alice:d:${ha1('alice', 'pw')}\n`,
  `bob:d:${ha1('bob', 'pw').slice(0, 9)}\\\n${ha1('bob', 'pw').slice(9)}\n`,
  `carol:d:${ha1('carol', 'pw').slice(0, 20)}\\\r\n${ha1('carol', 'pw').slice(20)}\r\n`,
  `# dave left\\\ndave:d:${ha1('dave', 'pw')}\n`,
  `# erin left \\\\\nerin:d:${ha1('erin', 'pw')}\n`,
  ` \t frank:d:${ha1('frank', 'pw')} \x0b\x0c\t\r\n\n \t\r\n`,
  `gina::d::${ha1('gina', 'pw')}\n`,
  `hank:d:${ha1('hank', 'pw')}:Hank H.\n`,
  `ivy:d:${ha1('ivy', 'pw')}\n`,
  `ivy:d:${ha1('ivy', 'other')}\n`,
  `# jack's line comes next \\ \n`,
  `jack:d:${ha1('jack', 'pw')}\n`,
  `# kim left \\\\\n\nkim:d:${ha1('kim', 'pw')}\n`,
  `lee:d:${ha1('lee', 'pw').slice(0, 9)}\\\\\r\n\r\n${ha1('lee', 'pw').slice(9)}\n`,
].join('');

/** A `#` comment of exactly `bytes` UTF-8 bytes (a thousand of them in two-byte characters). */
const comment = (bytes: number): string => `#${'é'.repeat(1000)}${'x'.repeat(bytes - 2001)}`;
/** mia's line, last in its file with no line feed, made `bytes` long by a trailing field. */
const miaLast = (bytes: number): string => `mia:${sha}:${'x'.repeat(bytes - 5 - sha.length)}`;

// Apache reads a line (continuations included) into 8 192 bytes, its line feed and a NUL
// included, and mod_authn_file stops reading the file at a line that does not fit; a NUL byte
// ends a line there. Each file has mia on its last line.
const LIMITS: [name: string, text: string][] = [
  ['a comment of 8 190 bytes', `${comment(8190)}\nmia:${sha}\n`],
  ['a comment of 8 191 bytes', `${comment(8191)}\nmia:${sha}\n`],
  [
    'a comment of 8 190 bytes on two lines',
    `${comment(5000)}\\\n${'x'.repeat(3190)}\nmia:${sha}\n`,
  ],
  [
    'a comment of 8 191 bytes on two lines',
    `${comment(5000)}\\\n${'x'.repeat(3191)}\nmia:${sha}\n`,
  ],
  ['a comment of 8 190 bytes, its CR included', `${comment(8189)}\r\nmia:${sha}\n`],
  ['a comment of 8 191 bytes, its CR included', `${comment(8190)}\r\nmia:${sha}\n`],
  // `\\` LF keeps one backslash, which the empty line after it takes back: 8 188 bytes kept.
  [
    'a comment of 8 190 bytes after `\\\\` and an empty line',
    `${comment(8188)}\\\\\n\n${'x'.repeat(2)}\nmia:${sha}\n`,
  ],
  [
    'a comment of 8 191 bytes after `\\\\` and an empty line',
    `${comment(8188)}\\\\\n\n${'x'.repeat(3)}\nmia:${sha}\n`,
  ],
  ['a byte order mark and 8 187 bytes', `\ufeff${comment(8187)}\nmia:${sha}\n`],
  ['a byte order mark and 8 188 bytes', `\ufeff${comment(8188)}\nmia:${sha}\n`],
  ['mia’s line of 8 190 bytes, no line feed', `# x\n${miaLast(8190)}`],
  ['mia’s line of 8 191 bytes, no line feed', `# x\n${miaLast(8191)}`],
  ['a NUL byte after mia’s hash', `mia:${sha}\0 and more\n`],
];

let root: string;
let apache: Apache | undefined;

/** Whether Apache's Basic `<Location>` at `path` lets `user` in with `password`. */
async function apacheLets(path: string, user: string, password: string): Promise<boolean> {
  const credentials = Buffer.from(`${user}:${password}`).toString('base64');
  const res = await fetch(`${apache!.base}${path}`, {
    headers: { authorization: `Basic ${credentials}` },
  });
  expect([200, 401]).toContain(res.status);
  return res.status === 200;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'authscheme-htpasswd-apache-'));
  const limits = LIMITS.map((_, i) => `limit${i}`);
  for (const dir of ['basic', 'digest', ...limits]) {
    mkdirSync(join(root, 'htdocs', dir), { recursive: true });
    writeFileSync(join(root, 'htdocs', dir, 'index.html'), 'ok\n');
  }
  writeFileSync(join(root, 'htpasswd'), FILE);
  writeFileSync(join(root, 'htdigest'), DIGEST_FILE);
  LIMITS.forEach(([, text], i) => writeFileSync(join(root, limits[i]!), text));
  apache = await startApache(
    root,
    ['authn_core', 'authn_file', 'authz_user', 'auth_basic', 'auth_digest'],
    [
      ...authLocation('/basic/', 'Basic', 'r', `${root}/htpasswd`),
      ...authLocation('/digest/', 'Digest', 'd', `${root}/htdigest`),
      ...limits.flatMap((name) => authLocation(`/${name}/`, 'Basic', 'r', `${root}/${name}`)),
    ],
  );
});

afterAll(async () => {
  await apache?.stop();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

it('lets in the same users as Apache’s mod_authn_file, from the same file', async () => {
  const file = await loadHtpasswd(join(root, 'htpasswd'));
  const apacheDecided: Record<string, boolean> = {};
  const weDecided: Record<string, boolean> = {};
  for (const user of USERS) {
    for (const password of ['pw', 'other']) {
      apacheDecided[`${user}:${password}`] = await apacheLets('/basic/', user, password);
      weDecided[`${user}:${password}`] = (await file.verify(user, password)) === user;
    }
  }
  expect(weDecided).toEqual(apacheDecided);
  // What Apache decided, so that the two cannot agree by refusing everybody.
  const letIn = Object.keys(apacheDecided).filter((key) => apacheDecided[key]);
  expect(letIn).toEqual(
    ['alice', 'bob', 'carol', 'frank', 'gina', 'hank', 'ivy', 'jack', 'lee'].map(
      (user) => `${user}:pw`,
    ),
  );
});

it('lets in the same users as Apache’s mod_auth_digest, from the same htdigest file', async () => {
  const file = await loadHtdigest(join(root, 'htdigest'));
  const apacheDecided: Record<string, boolean> = {};
  const weDecided: Record<string, boolean> = {};
  for (const user of USERS) {
    for (const password of ['pw', 'other']) {
      const res = await createAuthFetch({ username: user, password })(`${apache!.base}/digest/`);
      expect([200, 401]).toContain(res.status);
      apacheDecided[`${user}:${password}`] = res.status === 200;
      weDecided[`${user}:${password}`] = file.getHA1(user, 'd', 'MD5') === ha1(user, password);
    }
  }
  expect(weDecided).toEqual(apacheDecided);
  const letIn = Object.keys(apacheDecided).filter((key) => apacheDecided[key]);
  expect(letIn).toEqual(
    ['alice', 'bob', 'carol', 'frank', 'gina', 'hank', 'ivy', 'jack', 'lee'].map(
      (user) => `${user}:pw`,
    ),
  );
});

it('refuses the files Apache reads only in part, and reads the ones it reads whole', async () => {
  const apacheDecided: Record<string, string> = {};
  const weDecided: Record<string, string> = {};
  const verdict = (lets: boolean): string => (lets ? 'lets mia in' : 'refuses mia');
  for (const [i, [name]] of LIMITS.entries()) {
    apacheDecided[name] = verdict(await apacheLets(`/limit${i}/`, 'mia', 'pw'));
    weDecided[name] = await loadHtpasswd(join(root, `limit${i}`)).then(
      async (file) => verdict((await file.verify('mia', 'pw')) === 'mia'),
      (error: Error) => error.message,
    );
  }
  expect(apacheDecided).toEqual({
    'a comment of 8 190 bytes': 'lets mia in',
    'a comment of 8 191 bytes': 'refuses mia',
    'a comment of 8 190 bytes on two lines': 'lets mia in',
    'a comment of 8 191 bytes on two lines': 'refuses mia',
    'a comment of 8 190 bytes, its CR included': 'lets mia in',
    'a comment of 8 191 bytes, its CR included': 'refuses mia',
    'a comment of 8 190 bytes after `\\\\` and an empty line': 'lets mia in',
    'a comment of 8 191 bytes after `\\\\` and an empty line': 'refuses mia',
    'a byte order mark and 8 187 bytes': 'lets mia in',
    'a byte order mark and 8 188 bytes': 'refuses mia',
    'mia’s line of 8 190 bytes, no line feed': 'lets mia in',
    'mia’s line of 8 191 bytes, no line feed': 'refuses mia',
    'a NUL byte after mia’s hash': 'lets mia in',
  });
  const tooLong = (line: number, from?: number): string =>
    `htpasswd line ${line}: longer than the 8190 bytes Apache reads` +
    (from === undefined ? '' : `, counted from line ${from}, which it continues`) +
    ' (Apache stops reading the file there)';
  expect(weDecided).toEqual({
    'a comment of 8 190 bytes': 'lets mia in',
    'a comment of 8 191 bytes': tooLong(1),
    'a comment of 8 190 bytes on two lines': 'lets mia in',
    'a comment of 8 191 bytes on two lines': tooLong(2, 1),
    'a comment of 8 190 bytes, its CR included': 'lets mia in',
    'a comment of 8 191 bytes, its CR included': tooLong(1),
    'a comment of 8 190 bytes after `\\\\` and an empty line': 'lets mia in',
    'a comment of 8 191 bytes after `\\\\` and an empty line': tooLong(3, 1),
    'a byte order mark and 8 187 bytes': 'lets mia in',
    'a byte order mark and 8 188 bytes': tooLong(1),
    'mia’s line of 8 190 bytes, no line feed': 'lets mia in',
    'mia’s line of 8 191 bytes, no line feed': tooLong(2),
    // Apache reads `mia:{SHA}…` and lets her in; a reader that took the NUL as a character would
    // not: the file is refused rather than read either way.
    'a NUL byte after mia’s hash': 'htpasswd line 1: a NUL byte (Apache ends the line there)',
  });
});
