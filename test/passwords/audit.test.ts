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
    expect([...entryLines('a:1\\\n', 'htpasswd')]).toEqual([[1, 'a:1']]);
    expect([...entryLines('a:1\\\r\nb:2\\\n', 'htpasswd')]).toEqual([[1, 'a:1b:2']]);
  });

  it('drops the white space apr_isspace knows around a line: SP, HTAB, CR, FF, VT', () => {
    expect([...entryLines(' \t\f\va:1 \f\v\t\r\n\f\n\v\r\n', 'htpasswd')]).toEqual([[1, 'a:1']]);
  });

  // Tried with Apache 2.4.71: after `\\` too (2.2 took it as an escaped backslash), and a last
  // line with no line feed keeps its `\` (a `{SHA}` hash that ends in one matched no password).
  it('continues lines as ap_cfg_getline does: a backslash just before LF or CRLF', () => {
    const lines = [...entryLines('a:\\\r\n  b\nc:\\\\\n# x\\\nhidden\nd:1\\', 'htpasswd')];
    expect(lines).toEqual([
      [1, 'a:  b'],
      [3, 'c:\\# xhidden'],
      [6, 'd:1\\'],
    ]);
  });
});

// Apache 2.4's mod_authn_file reads a line (continuations included) into 8 192 bytes and stops
// reading the file at one that does not fit, and a NUL byte ends its line: the users after such a
// line, or the rest of it, are read differently there, so the file is refused here (compared with
// a running Apache in test/interop/htpasswd-apache.test.ts).
describe('lines Apache would read differently: refused with their number', () => {
  /** A `#` comment of exactly `bytes` UTF-8 bytes, written with `fill` (1 to 4 bytes each). */
  function comment(bytes: number, fill = 'x'): string {
    const each = Buffer.byteLength(fill);
    const count = Math.floor((bytes - 1) / each);
    return '#' + fill.repeat(count) + 'x'.repeat(bytes - 1 - count * each);
  }
  const lines = (text: string): number[] => [...entryLines(text, 'htpasswd')].map(([n]) => n);
  const TOO_LONG = /^htpasswd line (\d+): longer than the 8190 bytes Apache reads/;
  const refusedAt = (text: string): number => {
    try {
      lines(text);
    } catch (error) {
      const match = TOO_LONG.exec((error as Error).message);
      if (match !== null) return Number(match[1]);
      throw error;
    }
    throw new Error('read, not refused');
  };

  it('reads a line of 8 190 bytes and its line feed, and refuses one of 8 191', () => {
    expect(lines(`${comment(8190)}\na:1\n`)).toEqual([2]);
    expect(refusedAt(`a:1\n${comment(8191)}\na:2\n`)).toBe(2);
    // A CR is a byte like any other before the line feed (it is dropped afterwards).
    expect(refusedAt(`${comment(8190)}\r\na:1\n`)).toBe(1);
  });

  it('reads a last line without a line feed up to 8 190 bytes', () => {
    expect(lines(`a:1\n${comment(8190)}`)).toEqual([1]);
    expect(refusedAt(`a:1\n${comment(8191)}`)).toBe(2);
  });

  it('counts UTF-8 bytes, not characters', () => {
    for (const [fill, size] of [
      ['é', 2],
      ['€', 3],
      ['😀', 4],
      ['\ud800', 3], // a lone surrogate, as encoding it gives U+FFFD
    ] as const) {
      expect(Buffer.byteLength(fill)).toBe(size);
      expect(lines(`${comment(8190, fill)}\na:1`)).toEqual([2]);
      expect(refusedAt(`${comment(8191, fill)}\na:1`)).toBe(1);
      // The line is as long in characters as one that is read, in bytes it is too long.
      expect(refusedAt(`a:1\n#${fill.repeat(Math.ceil(8191 / size))}`)).toBe(2);
    }
  });

  it('counts a continued line whole, less each backslash, CR and line feed it drops', () => {
    // 5 000 bytes kept, then 3 190 and the line feed: 8 191 in Apache's buffer, which fits.
    expect(lines(`${comment(5000)}\\\n${'x'.repeat(3190)}\na:1\n`)).toEqual([3]);
    expect(lines(`${comment(5000)}\\\r\n${'x'.repeat(3190)}\na:1\n`)).toEqual([3]);
    expect(refusedAt(`${comment(5000)}\\\n${'x'.repeat(3191)}\na:1\n`)).toBe(2);
    expect(refusedAt(`${comment(5000)}\\\r\n${'x'.repeat(3191)}\na:1\n`)).toBe(2);
    // Many short pieces add up the same way.
    const piece = `${'x'.repeat(98)}\\\n`; // 98 bytes kept of each
    expect(lines(`#${piece.repeat(83)}${'x'.repeat(55)}\na:1`)).toEqual([85]);
    expect(refusedAt(`#${piece.repeat(83)}${'x'.repeat(56)}\na:1`)).toBe(84);
  });

  it('counts what an empty line takes back after `\\\\` and a line feed', () => {
    // `#…\\` LF keeps 8 189 bytes and one backslash; the empty line takes it: 8 188 bytes kept.
    const text = (rest: number): string => `${comment(8188)}\\\\\n\n${'x'.repeat(rest)}\na:1`;
    expect(lines(text(2))).toEqual([4]);
    expect(refusedAt(text(3))).toBe(3);
  });

  it('counts a byte order mark in the first line, as Apache reads it', () => {
    expect(lines(`\ufeff${comment(8187)}\na:1`)).toEqual([2]);
    expect(refusedAt(`\ufeff${comment(8188)}\na:1`)).toBe(1);
  });

  it('refuses a NUL byte, where Apache ends the line, with its line number', async () => {
    expect(() => lines('a:1\n# x\0y\na:2')).toThrow(
      /^htpasswd line 2: a NUL byte \(Apache ends the line there\)$/,
    );
    expect(() => lines('\0')).toThrow(/^htpasswd line 1: a NUL byte/);
    const line = htpasswd(['-s'], 'alice', 'secret');
    await expect(parseHtpasswd(`${line}\0x\n`)).rejects.toThrow(/^htpasswd line 1: a NUL byte/);
    expect(() => parseHtdigest(`a:r:${'0'.repeat(32)}\n${comment(8191)}`)).toThrow(
      /^htdigest line 2: longer than the 8190 bytes Apache reads/,
    );
  });
});
