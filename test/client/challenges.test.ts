/** The client's tolerant reading of WWW-Authenticate: the good challenges beside a malformed one. */
import fc from 'fast-check';
import { formatChallenge, parseChallenges } from 'authscheme';
import { readChallenges } from '../../src/client/challenges';
import { challenge, comparable, normalized } from '../helpers/challenge-arbitraries';

const schemes = (value: string) => readChallenges(value).map((c) => c.scheme);

describe('readChallenges', () => {
  it('reads a well-formed value exactly as parseChallenges does', () => {
    fc.assert(
      fc.property(fc.array(challenge, { maxLength: 6 }), (list) => {
        const value = list.map(formatChallenge).join(', ');
        expect(readChallenges(value)).toEqual(parseChallenges(value));
      }),
    );
  });

  it('holds the codec’s maxLength (16,384) for the whole value, not for each piece', () => {
    // A malformed element, then padding in a quoted string: the whole fails, the pieces may not.
    const sized = (length: number) => {
      const head = 'Basic realm="r", @@@, Other realm="';
      return head + 'x'.repeat(length - head.length - 1) + '"';
    };
    expect(sized(16_384)).toHaveLength(16_384);
    expect(schemes(sized(16_384))).toEqual(['Basic', 'Other']);
    expect(schemes(sized(16_385))).toEqual([]);
  });

  it('keeps every well-formed challenge when malformed elements stand between them', () => {
    const junk = fc.constantFrom('@@@', '"quoted"', 'Newauth realm=@', '=x', 'Bad realm="a" b');
    const entry = fc.oneof(
      { weight: 3, arbitrary: challenge.map((c) => ({ text: formatChallenge(c), c })) },
      { weight: 1, arbitrary: junk.map((text) => ({ text, c: undefined })) },
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), (entries) => {
        const read = readChallenges(entries.map((e) => e.text).join(', '));
        const expected = entries.flatMap((e) => (e.c === undefined ? [] : [normalized(e.c)]));
        expect(read.map(comparable)).toEqual(expected);
      }),
    );
  });

  it('keeps the challenges around a malformed one (field lines joined by fetch)', () => {
    expect(schemes('Newauth realm=@@@, Digest realm="r", nonce="n"')).toEqual(['Digest']);
    expect(schemes('Basic realm="a", "junk", Digest realm="r", nonce="n"')).toEqual([
      'Basic',
      'Digest',
    ]);
    // Junk inside a challenge, its parameters after it: that challenge is malformed, skipped.
    expect(readChallenges('Digest realm="r", @, nonce="n", Basic realm="b"')).toEqual([
      { scheme: 'Basic', params: Object.assign(Object.create(null), { realm: 'b' }) },
    ]);
    // A comma inside a quoted string, escaped quotes, and an unterminated string at the end.
    expect(schemes('Foo x="a, \\" Bar", Basic realm="b", Baz y="open, Qux')).toEqual([
      'Foo',
      'Basic',
    ]);
  });

  it('reads nothing from a value over the length limit, and at most 32 challenges', () => {
    expect(readChallenges(`@, Basic realm="${'x'.repeat(16384)}"`)).toEqual([]);
    expect(readChallenges(`@, ${'Basic, '.repeat(40)}`)).toHaveLength(32);
  });

  // Each malformed piece is a thrown syntax error: 16 KB of them took 50 ms of the client's CPU.
  it('reads nothing from a value with more than 32 malformed elements', () => {
    const junk = (count: number) => Array.from({ length: count }, () => '@@').join(', ');
    expect(schemes(`Basic realm="a", ${junk(32)}, Digest realm="r", nonce="n"`)).toEqual([
      'Basic',
      'Digest',
    ]);
    expect(schemes(`Basic realm="a", ${junk(33)}, Digest realm="r", nonce="n"`)).toEqual([]);
    expect(schemes(`Basic realm="a", ${'a@, '.repeat(5000)}Digest realm="r"`)).toEqual([]);
  });

  it('takes linear time on values built to make it backtrack', () => {
    /**
     * The least CPU time (ms) of five reads of `value`: CPU time leaves out the time other
     * processes hold the CPU, and the least the garbage collector's swings. A floor of 0.2 ms
     * keeps the timer's granularity from faking a ratio.
     */
    const cpuTime = (value: string): number => {
      let least = Infinity;
      for (let run = 0; run < 5; run++) {
        const before = process.cpuUsage();
        readChallenges(value);
        const used = process.cpuUsage(before);
        least = Math.min(least, (used.user + used.system) / 1000);
      }
      return Math.max(least, 0.2);
    };
    for (const unit of [', a', ', "', ',a=', ', \\"', '@,']) {
      // A quarter of the length limit, then all of it: linear time takes about four times as
      // long, backtracking (quadratic) sixteen. Wall time is no measure on a busy machine.
      const [quarter, whole] = [4096, 16384].map((length) =>
        cpuTime(unit.repeat(Math.floor(length / unit.length))),
      );
      expect(whole! / quarter!).toBeLessThan(8);
    }
  });
});

// From a review of the severing rule.
describe('readChallenges: severing', () => {
  const P = (o: object) => Object.assign(Object.create(null), o);
  // A token68 challenge takes no auth-params: junk and parameters after it cannot have been
  // cut off from it. It is well-formed, yet dropped.
  it('keeps a token68 challenge followed by junk and parameters', () => {
    const read = readChallenges('Negotiate YIIBhg==, @@@, realm="x", Basic realm="b"');
    expect(read.map((c) => [c.scheme, c.token68 ?? c.params])).toEqual([
      ['Negotiate', 'YIIBhg=='],
      ['Basic', P({ realm: 'b' })],
    ]);
  });

  // The commit's own case with "@" is skipped; "a@b" cannot start a challenge either (a scheme
  // is followed by SP, "," or the end), but only the first character is checked: the Digest
  // challenge is kept without its algorithm (answered with MD5, as in test/client/audit.test.ts).
  it('skips a challenge cut short by junk that starts with a token character', () => {
    expect(readChallenges('Digest realm="r", @b, algorithm=SHA-256').map((c) => c.scheme)).toEqual(
      [],
    );
    expect(readChallenges('Digest realm="r", a@b, algorithm=SHA-256').map((c) => c.scheme)).toEqual(
      [],
    );
  });

  // A bare scheme or a token68 takes no auth-params after a comma (RFC 9110 §11.6.1): a `name=`
  // after one was cut off from the challenge before, here its algorithm (answered as MD5 else).
  it.each([
    ['an unquoted qop list', 'Digest realm="r", nonce="n", qop=auth, auth-int, algorithm=SHA-256'],
    ['a bare token', 'Digest realm="r", qop="auth", junk, algorithm=SHA-256'],
    ['a token and a token68', 'Digest realm="r", qop="auth", junk more, algorithm=SHA-256'],
    ['a token and a tab', 'Digest realm="r", qop="auth", junk\tx=1, algorithm=SHA-256'],
    // From a second review: the first fix dropped only the bare token just before the parameters.
    [
      'two bare tokens',
      'Digest realm="r", nonce="n", qop=auth, auth-int, auth-conf, algorithm=SHA-256',
    ],
    [
      'bare tokens without spaces',
      'Digest realm="r", nonce="n", qop=auth,auth-int,auth-conf, algorithm=SHA-256',
    ],
    ['two quoted strings', 'Digest realm="r", nonce="n", qop=auth, "x", "y", algorithm=SHA-256'],
    [
      'a token68 and a bare token',
      'Digest realm="r", nonce="n", qop=auth, a b c, d, algorithm=SHA-256',
    ],
  ])('skips a challenge cut short by %s', (_what, value) => {
    // What is left are the bare tokens, read as challenges without parameters (none is Digest).
    expect(schemes(value)).not.toContain('Digest');
    expect(schemes(`${value}, Basic realm="b"`)).toContain('Basic');
    expect(schemes(`${value}, Basic realm="b"`)).not.toContain('Digest');
  });

  it('keeps the challenge before one whose auth-params start past a comma (`Basic , realm=`)', () => {
    // #auth-param allows an empty first element (RFC 9110 §5.6.1): that is Basic's realm, not
    // a parameter cut off from Digest. (The `@@` at the end makes the value malformed.)
    expect(readChallenges('Digest realm="r", Basic , realm="b", @@')).toEqual([
      { scheme: 'Digest', params: P({ realm: 'r' }) },
      { scheme: 'Basic', params: P({ realm: 'b' }) },
    ]);
    expect(schemes('Digest realm="r", Basic  realm="b", charset=UTF-8, @@')).toEqual([
      'Digest',
      'Basic',
    ]);
  });

  // At 32 challenges readChallenges returns before seeing the piece that severs the last one.
  it('does not keep the 32nd challenge when junk cuts its parameters off', () => {
    const read = readChallenges(`${'Basic, '.repeat(31)}Digest realm="r", @, algorithm=SHA-256`);
    expect(read.map((c) => c.scheme)).not.toContain('Digest');
  });
});
