/**
 * SHA-crypt (`$5$`, `$6$`, src/passwords/sha-crypt.cjs) against the spec's test vectors, against
 * the system's crypt(3) (libxcrypt, through Perl) for every password length from 0 to 140 bytes,
 * and end to end with files written by Apache's `htpasswd` at the lengths where the package used
 * before went wrong (multiples of the digest's 32 or 64 bytes).
 */
import { execFileSync } from 'node:child_process';
import { parseHtpasswd } from '../../src/passwords/htpasswd';
import { shaCrypt } from '../../src/passwords/sha-crypt.cjs';

/** "Unix crypt using SHA-256 and SHA-512" (U. Drepper), its test vectors. */
const SPEC_VECTORS: [setting: string, password: string, hash: string][] = [
  ['$5$saltstring', 'Hello world!', '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'],
  [
    '$5$rounds=10000$saltstringsaltstring',
    'Hello world!',
    '$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA',
  ],
  [
    '$5$rounds=5000$toolongsaltstring',
    'This is just a test',
    '$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5',
  ],
  [
    '$5$rounds=1400$anotherlongsaltstring',
    'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1',
  ],
  [
    '$5$rounds=77777$short',
    'we have a short salt string but not a short password',
    '$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/',
  ],
  [
    '$5$rounds=123456$asaltof16chars..',
    'a short string',
    '$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD',
  ],
  [
    '$6$saltstring',
    'Hello world!',
    '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
  ],
  [
    '$6$rounds=10000$saltstringsaltstring',
    'Hello world!',
    '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
  ],
  [
    '$6$rounds=5000$toolongsaltstring',
    'This is just a test',
    '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0',
  ],
  [
    '$6$rounds=1400$anotherlongsaltstring',
    'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
  ],
  [
    '$6$rounds=77777$short',
    'we have a short salt string but not a short password',
    '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0',
  ],
  [
    '$6$rounds=123456$asaltof16chars..',
    'a short string',
    '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1',
  ],
];

it.each(SPEC_VECTORS)('computes the spec vector %s', (setting, password, hash) => {
  expect(shaCrypt(password, setting)).toBe(hash);
  // A whole hash is a setting too.
  expect(shaCrypt(password, hash)).toBe(hash);
});

it('agrees with the system crypt(3) for every password length from 0 to 140 bytes', () => {
  const cases: [setting: string, password: string][] = [];
  for (let length = 0; length <= 140; length++) {
    const password = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(4).slice(0, length);
    cases.push(['$5$lengths', password], ['$6$rounds=1000$lengths', password]);
  }
  for (const password of [
    'é'.repeat(16),
    'é'.repeat(32),
    'pässwörd ✓',
    '日本語のパスワード',
    'a:b',
  ]) {
    cases.push(['$5$utf8', password], ['$6$utf8', password]);
  }
  // Perl's crypt() is the C library's (libxcrypt on Debian, as Apache's): one process for all.
  const input = cases
    .map(([setting, password]) => `${setting} ${Buffer.from(password, 'utf8').toString('hex')}`)
    .join('\n');
  const system = execFileSync(
    'perl',
    ['-ne', 'chomp; my ($s, $h) = split / /; print crypt(pack("H*", $h // ""), $s), "\\n";'],
    { input, encoding: 'utf8' },
  )
    .trim()
    .split('\n');
  expect(system).toHaveLength(cases.length);
  expect(cases.map(([setting, password]) => shaCrypt(password, setting))).toEqual(system);
});

it('refuses a setting that is not SHA crypt, or rounds out of range or not canonical', () => {
  for (const setting of [
    '$1$salt',
    '$5$rounds=999$salt',
    '$5$rounds=05000$salt',
    '$6$rounds=x$s',
  ]) {
    expect(() => shaCrypt('pw', setting)).toThrow(TypeError);
  }
  expect(() => shaCrypt('pw', '$5$rounds=1000000000$salt')).toThrow(TypeError);
});

describe('htpasswd -2 and -5 files, at lengths that are multiples of the digest', () => {
  const passwords = [
    'a'.repeat(31),
    'a'.repeat(32),
    'a'.repeat(33),
    'é'.repeat(16),
    'b'.repeat(63),
    'b'.repeat(64),
    'b'.repeat(65),
    'c'.repeat(96),
    'd'.repeat(128),
  ];
  it.each([['-2'], ['-5']])(
    'htpasswd %s: every password verifies, and one more character does not',
    async (flag) => {
      const lines = passwords.map((password, i) =>
        execFileSync('/usr/bin/htpasswd', ['-nb', flag, `u${i}`, password], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        }).trim(),
      );
      const file = await parseHtpasswd(`${lines.join('\n')}\n`);
      const results = await Promise.all(
        passwords.map((password, i) => file.verify(`u${i}`, password)),
      );
      expect(results).toEqual(passwords.map((_, i) => `u${i}`));
      const wrong = await Promise.all(
        passwords.map((password, i) => file.verify(`u${i}`, `${password}x`)),
      );
      expect(wrong.every((result) => result === false)).toBe(true);
    },
  );
});
