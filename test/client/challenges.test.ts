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

  it('takes linear time on values built to make it backtrack', () => {
    const started = process.hrtime.bigint();
    for (const unit of [', a', ', "', ',a=', ', \\"', '@,']) {
      readChallenges(unit.repeat(16384 / unit.length));
    }
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(500);
  });
});
