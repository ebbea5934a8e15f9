import crypto from 'node:crypto';
import { passwordChecker } from '../../src/util/secret';

describe('passwordChecker (basic({ users }))', () => {
  /** The padded table (every password at most 256 bytes) and the hashed one (a longer one). */
  const tables = {
    padded: passwordChecker(
      new Map([
        ['alice', 'secret'],
        ['bob', 'pässwörd😀'],
        ['carol', ''],
        ['dave', 'x'.repeat(256)],
      ]),
    ),
    hashed: passwordChecker(
      new Map([
        ['alice', 'secret'],
        ['bob', 'pässwörd😀'],
        ['carol', ''],
        ['dave', 'x'.repeat(257)],
      ]),
    ),
  };

  it.each(Object.entries(tables))(
    '%s: takes each password exactly, and nothing else',
    (_, check) => {
      const longest = check === tables.padded ? 256 : 257;
      expect(check('alice', 'secret')).toBe(true);
      expect(check('bob', 'pässwörd😀')).toBe(true);
      expect(check('carol', '')).toBe(true);
      expect(check('dave', 'x'.repeat(longest))).toBe(true);
      for (const wrong of ['secre', 'secret!', 'Secret', '', 'secret\0', 'secret'.repeat(60)]) {
        expect(check('alice', wrong)).toBe(false);
      }
      // Cut at the buffer's size, a longer password would match the longest one: its length tells.
      expect(check('dave', 'x'.repeat(longest + 1))).toBe(false);
      expect(check('dave', `${'x'.repeat(longest)}é`)).toBe(false);
      expect(check('dave', 'x'.repeat(longest - 1))).toBe(false);
      expect(check('bob', 'pässwörd😀 ')).toBe(false);
      expect(check('bob', 'pässwörd')).toBe(false);
      expect(check('carol', 'x')).toBe(false);
      // Nobody else's password, and no name that is not there, even with an empty password.
      expect(check('alice', 'pässwörd😀')).toBe(false);
      expect(check('mallory', '')).toBe(false);
      // Not even with the text an unknown name is compared with.
      expect(check('mallory', '\u0000no such user\u0000')).toBe(false);
      expect(check('mallory', 'secret')).toBe(false);
      expect(check('', '')).toBe(false);
    },
  );

  it('takes an empty password when every password is empty, and nothing else', () => {
    const check = passwordChecker(new Map([['carol', '']]));
    expect(check('carol', '')).toBe(true);
    expect(check('carol', 'x')).toBe(false);
    expect(check('mallory', '')).toBe(false);
    expect(passwordChecker(new Map())('', '')).toBe(false);
  });

  it('compares buffers of one size, whoever asks and whatever they send', () => {
    const compare = jest.spyOn(crypto, 'timingSafeEqual');
    try {
      const sizes = (name: string, password: string): number[] => {
        compare.mockClear();
        tables.padded(name, password);
        return compare.mock.calls.flatMap(([a, b]) => [a.byteLength, b.byteLength]);
      };
      // A known name with a wrong password, an unknown name, a long password: the same work.
      for (const [name, password] of [
        ['alice', 'wrong'],
        ['alice', 'secret'],
        ['carol', 'x'],
        ['mallory', 'secret'],
        ['dave', 'y'.repeat(1000)],
      ]) {
        expect(sizes(name!, password!)).toEqual([256, 256]);
      }
    } finally {
      compare.mockRestore();
    }
  });

  it('hashes both sides once past 256 bytes: the same work for an unknown name', () => {
    const hash = jest.spyOn(crypto, 'hash');
    const compare = jest.spyOn(crypto, 'timingSafeEqual');
    try {
      const work = (name: string, password: string): number[] => {
        hash.mockClear();
        compare.mockClear();
        tables.hashed(name, password);
        return [
          hash.mock.calls.length,
          ...compare.mock.calls.flatMap(([a, b]) => [a.byteLength, b.byteLength]),
        ];
      };
      expect(work('alice', 'wrong')).toEqual([1, 32, 32]);
      expect(work('mallory', 'wrong')).toEqual([1, 32, 32]);
    } finally {
      hash.mockRestore();
      compare.mockRestore();
    }
  });
});
