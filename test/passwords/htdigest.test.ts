import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { loadHtdigest, loadHtdigestSync, parseHtdigest } from '../../src/passwords/htdigest';
import { RECENT_MS } from '../../src/passwords/reload';

const fixture = path.join(__dirname, 'htdigest-fixture.txt');
const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

describe('htdigest files', () => {
  it('loads a file written by Apache htdigest: HA1 = MD5(user:realm:password) per realm', async () => {
    for (const file of [await loadHtdigest(fixture), loadHtdigestSync(fixture)]) {
      expect(file.getHA1('Mufasa', 'testrealm@host.com', 'MD5')).toBe(
        md5('Mufasa:testrealm@host.com:Circle Of Life'),
      );
      expect(file.getHA1('alice', 'api', 'MD5')).toBe(md5('alice:api:secret'));
      expect(file.getHA1('alice', 'admin', 'MD5')).toBe(md5('alice:admin:other'));
      expect(file.getHA1('J\u00e4s\u00f8n Doe', 'api', 'MD5')).toBe(
        md5('J\u00e4s\u00f8n Doe:api:Secret, or not?'),
      );
      expect(file.getHA1('alice', 'nowhere', 'MD5')).toBeUndefined();
      expect(file.getHA1('bob', 'api', 'MD5')).toBeUndefined();
      // htdigest holds MD5 only.
      expect(file.getHA1('alice', 'api', 'SHA-256')).toBeUndefined();
    }
  });

  it('skips blank lines and comments, accepts CRLF and upper-case hex, keeps the first duplicate', () => {
    const a = md5('a:r:1');
    const file = parseHtdigest(`# users\r\n\r\na:r:${a.toUpperCase()}\r\na:r:${md5('a:r:2')}\n`);
    expect(file.getHA1('a', 'r', 'MD5')).toBe(a);
    expect(file.realms.get('r')?.size).toBe(1);
  });

  it('reads past a UTF-8 byte order mark at the start of the file, where Apache takes it into the first name', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htdigest-'));
    try {
      const file = path.join(dir, 'bom');
      fs.writeFileSync(file, `\ufeffalice:api:${md5('alice:api:pw')}\n`);
      for (const loaded of [loadHtdigestSync(file), parseHtdigest(fs.readFileSync(file, 'utf8'))]) {
        expect(loaded.getHA1('alice', 'api', 'MD5')).toBe(md5('alice:api:pw'));
        expect([...loaded.realms.get('api')!.keys()]).toEqual(['alice']);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ignores fields after the hash, as Apache does, and finds a name written in NFD under NFC', () => {
    const nfd = 'jo\u0308rg';
    const file = parseHtdigest(`a:r:${md5('a:r:1')}:a comment\n${nfd}:r:${md5(`${nfd}:r:pw`)}\n`);
    expect(file.getHA1('a', 'r', 'MD5')).toBe(md5('a:r:1'));
    // digest() looks names up in NFC; the HA1 is still that of the bytes the file was made from.
    expect(file.getHA1('j\u00f6rg', 'r', 'MD5')).toBe(md5(`${nfd}:r:pw`));
    expect([...file.realms.get('r')!.keys()]).toEqual(['a', 'j\u00f6rg']);
  });

  it('answers a realm beyond ASCII given as its UTF-8 octets; given as typed, throws saying so', () => {
    const ha1 = md5('alice:r\u00e9alm:pw');
    const file = parseHtdigest(`alice:r\u00e9alm:${ha1}\nbob:api:${md5('bob:api:pw')}\n`);
    expect(file.getHA1('alice', Buffer.from('r\u00e9alm').toString('latin1'), 'MD5')).toBe(ha1);
    // As typed, it goes out as ISO-8859-1, which clients hash: no HA1 of the file can match.
    expect(() => file.getHA1('alice', 'r\u00e9alm', 'MD5')).toThrow(
      /the file's HA1s were made from its UTF-8 octets.*Buffer\.from\("r\u00e9alm", 'utf8'\)/,
    );
    // A realm the file does not hold is no one's, whatever its characters.
    expect(file.getHA1('alice', 'Z\u00fcrich', 'MD5')).toBeUndefined();
    // A leading U+FEFF is a character of the realm, not a byte order mark to drop: the realm
    // 'r' is another one.
    const bom = md5('alice:\ufeffr:pw');
    const both = parseHtdigest(`alice:\ufeffr:${bom}\nalice:r:${md5('alice:r:pw')}\n`);
    expect(both.getHA1('alice', Buffer.from('\ufeffr').toString('latin1'), 'MD5')).toBe(bom);
  });

  it('warns once per realm the file does not hold (a realm spelt otherwise refuses everyone)', () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const file = parseHtdigest(
        `a:api:${md5('a:api:1')}\nb:Admin Area:${md5('b:Admin Area:2')}\n`,
      );
      expect(file.getHA1('a', 'api', 'MD5')).toBe(md5('a:api:1'));
      expect(file.getHA1('nobody', 'api', 'MD5')).toBeUndefined();
      expect(warn).not.toHaveBeenCalled();
      expect(file.getHA1('a', 'API', 'MD5')).toBeUndefined();
      expect(file.getHA1('b', 'API', 'MD5')).toBeUndefined();
      expect(warn).toHaveBeenCalledTimes(1);
      const [message, options] = warn.mock.calls[0]!;
      expect(message).toBe(
        'htdigest: the file has no entry for the realm "API", so every user is refused there; ' +
          'its realms: "api", "Admin Area"',
      );
      expect(options).toEqual({ code: 'AUTHSCHEME_HTDIGEST_REALM' });
      // Bounded: realms come from the configuration, yet a store of warnings must not grow.
      for (let i = 0; i < 40; i++) expect(file.getHA1('a', `realm ${i}`, 'MD5')).toBeUndefined();
      expect(warn).toHaveBeenCalledTimes(16);
      expect(parseHtdigest('').getHA1('a', 'r', 'MD5')).toBeUndefined();
      expect(warn).toHaveBeenLastCalledWith(
        'htdigest: the file has no entry for the realm "r", so every user is refused there; its realms: none',
        { code: 'AUTHSCHEME_HTDIGEST_REALM' },
      );
    } finally {
      warn.mockRestore();
    }
  });

  it("names the first five of the file's realms in the warning, and counts the others", () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const withRealms = (count: number) =>
        parseHtdigest(
          Array.from({ length: count }, (_, i) => `a:r${i}:${md5(`a:r${i}:1`)}\n`).join(''),
        );
      expect(withRealms(5).getHA1('a', 'R0', 'MD5')).toBeUndefined();
      expect(withRealms(7).getHA1('a', 'R0', 'MD5')).toBeUndefined();
      const said =
        'htdigest: the file has no entry for the realm "R0", so every user is refused there';
      expect(warn.mock.calls.map(([message]) => message)).toEqual([
        `${said}; its realms: "r0", "r1", "r2", "r3", "r4"`,
        `${said}; its realms: "r0", "r1", "r2", "r3", "r4", and 2 more`,
      ]);
    } finally {
      warn.mockRestore();
    }
  });

  it('hands out a copy of its entries: changing it changes no lookup', () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const file = parseHtdigest(`a:r:${md5('a:r:1')}\n`);
    (file.realms.get('r') as Set<string>).add('mallory');
    (file.realms as Map<string, Set<string>>).set('other', new Set(['a']));
    expect(file.getHA1('mallory', 'r', 'MD5')).toBeUndefined();
    expect(file.getHA1('a', 'other', 'MD5')).toBeUndefined();
    warn.mockRestore();
  });

  it('shows user names, never an HA1, to whoever logs the file', async () => {
    const ha1 = md5('alice:r:pw');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htdigest-'));
    try {
      const file = path.join(dir, 'users');
      fs.writeFileSync(file, `alice:r:${ha1}\n`);
      const reloading = await loadHtdigest(file, { reload: true });
      for (const loaded of [parseHtdigest(`alice:r:${ha1}\n`), loadHtdigestSync(file), reloading]) {
        expect([...loaded.realms.get('r')!]).toEqual(['alice']);
        const printed = [
          inspect(loaded, { depth: null, showHidden: true, getters: true }),
          inspect(loaded.realms, { depth: null }),
          JSON.stringify([...loaded.realms].map(([realm, users]) => [realm, [...users]])),
        ];
        for (const text of printed) expect(text).not.toContain(ha1);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses what is not a regular file before reading it (/dev/zero would never end)', async () => {
    await expect(loadHtdigest('/dev/zero')).rejects.toThrow('htdigest file is not a regular file');
    expect(() => loadHtdigestSync('/dev/zero')).toThrow('htdigest file is not a regular file');
    expect(() => loadHtdigestSync(os.tmpdir())).toThrow('htdigest file is not a regular file');
  });

  it.each([
    ['a line without three fields', 'alice:api\n'],
    [
      'a user name with a colon (htdigest writes it; no lookup can find it)',
      `alice:x:api:${md5('x')}\n`,
    ],
    ['a short hash', 'alice:api:abc\n'],
    ['a non-hex hash', `alice:api:${'z'.repeat(32)}\n`],
    ['an empty user', `:api:${md5('x')}\n`],
  ])('throws TypeError naming the line for %s, without its content', (_title, text) => {
    let error: unknown;
    try {
      parseHtdigest(`# ok\n${text}`);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TypeError);
    const { message } = error as Error;
    expect(message).toMatch(/^htdigest line 2: /);
    // None of the line's fields (user, realm, hash) shows in the message.
    for (const field of text
      .trim()
      .split(':')
      .filter((f) => f.length > 2)) {
      expect(message).not.toContain(field);
    }
  });

  // A reloaded file is read at every check that finds it changed, for as long as the server runs:
  // a descriptor left open by each read, or by each refusal, would run the process out of them.
  it('closes the file after every read, from either loader, whether it loads or is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htdigest-'));
    try {
      const good = path.join(dir, 'good');
      fs.writeFileSync(good, `alice:api:${md5('alice:api:pw')}\n`);
      const bad = path.join(dir, 'bad');
      fs.writeFileSync(bad, Buffer.from([0x61, 0xff, 0x3a, 0x72, 0x3a]));
      // The descriptors open on these files: any other (jest's, node's) may come and go meanwhile.
      const targets = new Set([good, bad, '/dev/zero'].map((file) => fs.realpathSync(file)));
      const open = () =>
        fs.readdirSync('/proc/self/fd').filter((fd) => {
          try {
            return targets.has(fs.readlinkSync(`/proc/self/fd/${fd}`));
          } catch {
            return false; // closed since listed (the listing's own)
          }
        });
      const before = open();
      for (let i = 0; i < 20; i++) {
        for (const file of [good, bad, '/dev/zero']) {
          await loadHtdigest(file).catch(() => undefined);
          try {
            loadHtdigestSync(file);
          } catch {
            // Refused: counted below all the same.
          }
        }
      }
      expect(open()).toEqual(before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file that is not UTF-8, and reports a missing file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htdigest-'));
    try {
      const bad = path.join(dir, 'bad');
      fs.writeFileSync(bad, Buffer.from([0x61, 0xff, 0x3a, 0x72, 0x3a]));
      await expect(loadHtdigest(bad)).rejects.toThrow(TypeError);
      await expect(loadHtdigest(path.join(dir, 'missing'))).rejects.toMatchObject({
        code: 'ENOENT',
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The bound on a password file's size (16 MB) holds however the file announced its size when it
// was opened: one appended to between that look and the read (or one that announces 0, as /proc's
// files do) is read to its end, and refused once past the bound, not cut at the bound and loaded.
describe('the size of a password file', () => {
  const MAX = 16 * 1024 * 1024;
  const line = `alice:api:${md5('alice:api:pw')}\n`;
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htdigest-size-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  /** A file of `bytes` bytes: comment lines (of 1 000 bytes, as Apache's limit allows), then alice's line last. */
  function fileOf(name: string, bytes: number): string {
    const file = path.join(dir, name);
    const rest = bytes - line.length;
    const short = rest % 1000;
    const first = short === 0 ? '' : short === 1 ? '\n' : `#${'x'.repeat(short - 2)}\n`;
    const comments = `#${'x'.repeat(998)}\n`.repeat(Math.floor(rest / 1000));
    fs.writeFileSync(file, `${first}${comments}${line}`);
    expect(fs.statSync(file).size).toBe(bytes);
    return file;
  }
  /** Both loaders, each told the file was `announced` bytes long when it was opened. */
  async function loadAll(file: string, announced?: number): Promise<unknown[]> {
    const fsp = require('node:fs/promises') as typeof import('node:fs/promises');
    const handle = await fsp.open(file);
    const proto = Object.getPrototypeOf(handle) as { stat: () => Promise<fs.Stats> };
    await handle.close();
    const realStat = proto.stat;
    const realFstatSync = fs.fstatSync;
    const spies =
      announced === undefined
        ? []
        : [
            jest.spyOn(proto, 'stat').mockImplementation(async function (this: unknown) {
              return Object.assign(await realStat.call(this), { size: announced });
            }),
            jest
              .spyOn(fs, 'fstatSync')
              .mockImplementation((fd: number) =>
                Object.assign(realFstatSync(fd), { size: announced }),
              ),
          ];
    try {
      const results: unknown[] = [];
      for (const load of [() => loadHtdigest(file), async () => loadHtdigestSync(file)]) {
        results.push(
          await load().then(
            (loaded) => loaded.getHA1('alice', 'api', 'MD5'),
            (error: Error) => error.message,
          ),
        );
      }
      if (announced !== undefined) for (const spy of spies) expect(spy).toHaveBeenCalled();
      return results;
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  }

  it('takes a file of exactly 16 MB and refuses one byte more, from either loader', async () => {
    const ha1 = md5('alice:api:pw');
    expect(await loadAll(fileOf('max', MAX))).toEqual([ha1, ha1]);
    const over = 'htdigest file is larger than 16 MB';
    expect(await loadAll(fileOf('over', MAX + 1))).toEqual([over, over]);
  });

  it('takes an empty file (as `touch` leaves it): nobody, from either loader', async () => {
    const file = path.join(dir, 'empty');
    fs.writeFileSync(file, '');
    expect(await loadAll(file)).toEqual([undefined, undefined]);
  });

  it('reads a file that grew after its size was looked at to its end, and refuses it past 16 MB', async () => {
    const ha1 = md5('alice:api:pw');
    expect(await loadAll(fileOf('grown', 4096), 0)).toEqual([ha1, ha1]);
    expect(await loadAll(fileOf('grown-max', MAX), 0)).toEqual([ha1, ha1]);
    const over = 'htdigest file is larger than 16 MB';
    expect(await loadAll(fileOf('grown-over', MAX + 1), 0)).toEqual([over, over]);
  });
});

describe('htdigest files that change (reload)', () => {
  it('follows changes, from either loader; a lookup then answers after the check', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htdigest-'));
    try {
      const file = path.join(dir, 'reloaded');
      fs.writeFileSync(file, `alice:api:${md5('alice:api:pw')}\n`);
      for (const loaded of [
        await loadHtdigest(file, { reload: { interval: 0 } }),
        loadHtdigestSync(file, { reload: { interval: 0 } }),
      ]) {
        await expect(loaded.getHA1('alice', 'api', 'MD5')).resolves.toBe(md5('alice:api:pw'));
        fs.writeFileSync(file, `bob:api:${md5('bob:api:pw')}\n`);
        await expect(loaded.getHA1('alice', 'api', 'MD5')).resolves.toBeUndefined();
        await expect(loaded.getHA1('bob', 'api', 'MD5')).resolves.toBe(md5('bob:api:pw'));
        expect([...loaded.realms.get('api')!.keys()]).toEqual(['bob']);
        fs.writeFileSync(file, `alice:api:${md5('alice:api:pw')}\n`);
      }
      // Between checks, a lookup answers at once from the version loaded.
      const slow = loadHtdigestSync(file, { reload: { interval: 60_000 } });
      expect(slow.getHA1('alice', 'api', 'MD5')).toBe(md5('alice:api:pw'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Spies on the looks (`stat`, `statSync`) and reads (`open`, `openSync`) a load takes at the file
 * and its pauses between reads (the timers/promises `setTimeout` of loadHtdigest, the
 * `Atomics.wait` of loadHtdigestSync); runs `step(n)` just before look n, as a writer that gets
 * on between two reads would.
 */
function watchLoads(step: (n: number) => void = () => undefined): {
  reads: () => number;
  pauses: () => number;
  restore: () => void;
} {
  const fsp = require('node:fs/promises') as typeof import('node:fs/promises');
  const timers = require('node:timers/promises') as typeof import('node:timers/promises');
  const { stat: realStat } = fsp;
  const { statSync: realStatSync } = fs;
  let looks = 0;
  const spies = [
    jest.spyOn(fsp, 'stat').mockImplementation(async (target: fs.PathLike) => {
      step(++looks);
      return realStat(target);
    }),
    jest.spyOn(fs, 'statSync').mockImplementation((target: fs.PathLike) => {
      step(++looks);
      return realStatSync(target);
    }),
  ];
  const opens = [jest.spyOn(fsp, 'open'), jest.spyOn(fs, 'openSync')];
  const pauses = [jest.spyOn(timers, 'setTimeout'), jest.spyOn(Atomics, 'wait')];
  const count = (list: jest.SpyInstance[]): number =>
    list.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
  return {
    reads: () => count(opens),
    pauses: () => count(pauses),
    restore: () => {
      for (const spy of [...spies, ...opens, ...pauses]) spy.mockRestore();
    },
  };
}

// The first read took whatever it found: a server started while `htdigest` copied a new version
// into the file (it truncates the file, then copies) failed on a cut line or refused users nobody
// changed. A file changed recently now counts once a read 100 ms later agrees, from either loader.
describe('the first read of an htdigest file being written', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'htdigest-first-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const lines = ['alice', 'bob', 'carol'].map((user) => `${user}:api:${md5(`${user}:api:pw`)}\n`);
  const text = lines.join('');

  it.each([
    ['loadHtdigest', loadHtdigest],
    ['loadHtdigestSync', loadHtdigestSync],
  ])('%s waits for a file written in two steps, cut in a line, to be whole', async (name, load) => {
    const file = path.join(dir, `two-steps-${name}`);
    const cut = text.indexOf('carol') + 'carol:ap'.length;
    fs.writeFileSync(file, text.slice(0, cut));
    const watch = watchLoads((n) => {
      if (n === 2) fs.appendFileSync(file, text.slice(cut));
    });
    try {
      const started = performance.now();
      const loaded = await load(file);
      expect([...loaded.realms.get('api')!.keys()]).toEqual(['alice', 'bob', 'carol']);
      expect(loaded.getHA1('carol', 'api', 'MD5')).toBe(md5('carol:api:pw'));
      // The cut read, the whole one, and the one 100 ms later that agreed.
      expect([watch.reads(), watch.pauses()]).toEqual([3, 2]);
      expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    } finally {
      watch.restore();
    }
  });

  it.each([
    ['loadHtdigest', loadHtdigest],
    ['loadHtdigestSync', loadHtdigestSync],
  ])(
    '%s takes the last of at most 10 reads, 100 ms apart, of a file that keeps changing',
    async (name, load) => {
      const file = path.join(dir, `restless-${name}`);
      const watch = watchLoads((n) => fs.writeFileSync(file, `${text}# version ${n}\n`));
      try {
        const started = performance.now();
        const loaded = await load(file);
        expect(loaded.getHA1('carol', 'api', 'MD5')).toBe(md5('carol:api:pw'));
        expect([watch.reads(), watch.pauses()]).toEqual([10, 9]);
        // Nine pauses of 100 ms (a timer may fire a millisecond early).
        expect(performance.now() - started).toBeGreaterThanOrEqual(850);
      } finally {
        watch.restore();
      }
    },
  );

  it(`reads a file untouched for ${RECENT_MS} ms once, without waiting, from either loader`, async () => {
    const file = path.join(dir, 'untouched');
    fs.writeFileSync(file, text);
    await new Promise((resolve) => setTimeout(resolve, RECENT_MS + 100));
    const stats = fs.statSync(file);
    expect(Date.now() - Math.max(stats.mtimeMs, stats.ctimeMs)).toBeGreaterThanOrEqual(RECENT_MS);
    const watch = watchLoads();
    try {
      const loaded = [
        await loadHtdigest(file),
        loadHtdigestSync(file),
        loadHtdigestSync(file, { reload: { interval: 60_000 } }),
      ];
      for (const file of loaded) expect(file.getHA1('bob', 'api', 'MD5')).toBe(md5('bob:api:pw'));
      expect([watch.reads(), watch.pauses()]).toEqual([3, 0]);
    } finally {
      watch.restore();
    }
  });
});
