// Findings of an audit of src/passwords/: each test failed on the code it was written against.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseHtpasswd } from '../../src/passwords/htpasswd';
import { parseHtdigest } from '../../src/passwords/htdigest';
import { entryLines } from '../../src/passwords/file-text';
import { hashThreads } from '../../src/passwords/hash-threads';

/** One `user:hash` line from the real Apache tool. */
function htpasswd(flags: string[], user: string, password: string): string {
  return execFileSync('/usr/bin/htpasswd', ['-nb', ...flags, user, password], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}
const hashOf = (line: string): string => line.slice(line.indexOf(':') + 1);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-audit-'));
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await hashThreads.stop();
});

describe('bcrypt compares are bounded like the worker threads’ checks', () => {
  jest.setTimeout(60_000);

  it('a flood of wrong bcrypt passwords leaves libuv’s threads free for file I/O', async () => {
    const file = await parseHtpasswd(`${htpasswd(['-B', '-C', '10'], 'alice', 'secret')}\n`);
    let t = performance.now();
    await file.verify('alice', 'wrong');
    const one = performance.now() - t;
    // Enough wrong passwords for some 2 s of work on libuv's 4 threads.
    const n = Math.min(400, Math.ceil((2000 * 4) / one));
    const flood = Array.from({ length: n }, () => file.verify('alice', 'wrong').catch((e) => e));
    t = performance.now();
    await fs.promises.stat(dir); // any fs call, dns.lookup, zlib, the reload's own stat and read
    const stall = performance.now() - t;
    await Promise.all(flood);
    expect(stall).toBeLessThan(500);
  });

  it('checks past the bound of waiting bcrypt compares fail closed with ERR_AUTH_STORE_FAILURE', async () => {
    const file = await parseHtpasswd(`${htpasswd(['-B', '-C', '4'], 'alice', 'secret')}\n`);
    const results = await Promise.all(
      Array.from({ length: 3000 }, () => file.verify('alice', 'wrong').catch((e: unknown) => e)),
    );
    const refused = results.filter(
      (r) => (r as { code?: unknown } | null)?.code === 'ERR_AUTH_STORE_FAILURE',
    );
    expect(refused.length).toBeGreaterThan(0);
    // None succeeds; the others are plain refusals.
    expect(results.every((r) => r === false || refused.includes(r))).toBe(true);
    // After the flood, the right password still works.
    await expect(file.verify('alice', 'secret')).resolves.toBe('alice');
  });
});

describe('line formats Apache reads differently (checked against apache2 2.4 with mod_authn_file)', () => {
  it('htpasswd: `user::hash` is a user and hash (ap_getword skips repeated colons)', async () => {
    const line = htpasswd(['-m'], 'alice', 'secret');
    const file = await parseHtpasswd(`alice::${hashOf(line)}\n`);
    await expect(file.verify('alice', 'secret')).resolves.toBe('alice');
  });

  it('htdigest: `user:realm::HA1` is a user, realm and HA1 (mod_auth_digest uses ap_getword too)', () => {
    const file = parseHtdigest('alice:api::64daccb98e690d1130b2f0a509f0d34f\n');
    expect(file.getHA1('alice', 'api', 'MD5')).toBe('64daccb98e690d1130b2f0a509f0d34f');
  });

  it('a line ending in a backslash continues on the next one (ap_cfg_getline), hiding it', async () => {
    const line = htpasswd(['-m'], 'alice', 'secret');
    const file = await parseHtpasswd(`# disabled: \\\n${line}\n`);
    // Apache answers 401 for alice: her line is part of the comment.
    await expect(file.verify('alice', 'secret')).resolves.toBe(false);
  });

  it('continues a last line that ends in a backslash and a line break, as ap_cfg_getline does', () => {
    expect([...entryLines('a:1\\\n')]).toEqual([[1, 'a:1']]);
    expect([...entryLines('a:1\\\r\nb:2\\\n')]).toEqual([[1, 'a:1b:2']]);
  });

  it('drops the white space apr_isspace knows around a line: SP, HTAB, CR, FF, VT', () => {
    expect([...entryLines(' \t\f\va:1 \f\v\t\r\n\f\n\v\r\n')]).toEqual([[1, 'a:1']]);
  });

  // Tried with Apache 2.4.71: after `\\` too (2.2 took it as an escaped backslash), and a last
  // line with no line feed keeps its `\` (a `{SHA}` hash that ends in one matched no password).
  it('continues lines as ap_cfg_getline does: a backslash just before LF or CRLF', () => {
    const lines = [...entryLines('a:\\\r\n  b\nc:\\\\\n# x\\\nhidden\nd:1\\')];
    expect(lines).toEqual([
      [1, 'a:  b'],
      [3, 'c:\\# xhidden'],
      [6, 'd:1\\'],
    ]);
  });
});
