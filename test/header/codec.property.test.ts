import fc from 'fast-check';
import { AuthHeaderSyntaxError } from '../../src/errors';
import {
  decodeExtValue,
  encodeExtValue,
  formatChallenge,
  formatCredentials,
  parseAuthParams,
  parseChallenges,
  parseCredentials,
} from '../../src/header';
import type { Challenge } from '../../src/header';
import {
  challenge,
  comparable,
  latin1Char,
  normalized,
  plainName,
  scheme,
  token,
  token68,
} from '../helpers/challenge-arbitraries';

/** Runs `fn`; anything thrown must be an AuthHeaderSyntaxError. */
function onlySyntaxErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof AuthHeaderSyntaxError)) throw error;
  }
}

describe('header codec properties', () => {
  it('format → parse gives back any valid challenge list', () => {
    fc.assert(
      fc.property(fc.array(challenge, { minLength: 1, maxLength: 5 }), (challenges) => {
        const lines = challenges.map(formatChallenge);
        const parsed = parseChallenges(lines.join(', '));
        expect(parsed.map(comparable)).toEqual(challenges.map(normalized));
        expect(parseChallenges(lines).map(comparable)).toEqual(challenges.map(normalized));
        for (const p of parsed) expect(Object.getPrototypeOf(p.params)).toBeNull();
      }),
      { numRuns: 400 },
    );
  });

  it('format → parse gives back any valid credentials', () => {
    fc.assert(
      fc.property(challenge, (credentials) => {
        const parsed = parseCredentials(formatCredentials(credentials));
        expect(comparable(parsed)).toEqual(normalized(credentials));
      }),
      { numRuns: 400 },
    );
  });

  it('encodeExtValue → decodeExtValue gives back any well-formed string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(decodeExtValue(encodeExtValue(text))).toBe(text);
      }),
    );
  });

  describe('parse → format → parse is stable', () => {
    const ows = fc.constantFrom('', ' ', '\t', ' \t ');
    const quotedContent = fc.string({
      unit: fc.oneof(
        latin1Char.filter((c) => c !== '"' && c !== '\\'),
        fc.constantFrom('\\"', '\\\\', '\\a', '\\\t'),
      ),
      maxLength: 12,
    });
    const paramText = fc
      .tuple(
        plainName,
        ows,
        ows,
        fc.oneof(
          token,
          quotedContent.map((c) => `"${c}"`),
        ),
      )
      .map(([name, before, after, v]) => `${name}${before}=${after}${v}`);
    const separator = fc
      .tuple(ows, fc.constantFrom(',', ',,', ', ,'), ows)
      .map((parts) => parts.join(''));
    const paramList = fc
      .array(fc.tuple(paramText, separator), { minLength: 1, maxLength: 5 })
      .map((items) => items.map(([p, sep], k) => (k === 0 ? p : sep + p)).join(''));
    const challengeText = fc.oneof(
      scheme,
      fc.tuple(scheme, token68).map(([s, t]) => `${s} ${t}`),
      fc.tuple(scheme, paramList).map(([s, list]) => `${s} ${list}`),
    );
    const header = fc
      .array(fc.tuple(challengeText, separator), { maxLength: 4 })
      .map((items) => items.map(([c, sep]) => sep + c).join(''));

    it('for challenge lists', () => {
      fc.assert(
        fc.property(header, (text) => {
          let first: Challenge[];
          try {
            first = parseChallenges(text);
          } catch (error) {
            // Duplicates and similar are real syntax errors; nothing else may be thrown.
            expect(error).toBeInstanceOf(AuthHeaderSyntaxError);
            return;
          }
          const again = parseChallenges(first.map(formatChallenge).join(', '));
          expect(again.map(comparable)).toEqual(first.map(comparable));
        }),
        { numRuns: 500 },
      );
    });

    it('for credentials', () => {
      fc.assert(
        fc.property(challengeText, (text) => {
          let first: Challenge;
          try {
            first = parseCredentials(text);
          } catch (error) {
            expect(error).toBeInstanceOf(AuthHeaderSyntaxError);
            return;
          }
          expect(comparable(parseCredentials(formatCredentials(first)))).toEqual(comparable(first));
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('arbitrary input throws nothing but AuthHeaderSyntaxError', () => {
    const grammarSoup = fc.string({
      unit: fc.constantFrom('"', '\\', ',', '=', ' ', '\t', 'a', 'B', 'c', '=', '/', '*', "'", '%'),
      maxLength: 40,
    });
    const inputs: [string, fc.Arbitrary<string>][] = [
      ['fc.string()', fc.string()],
      ['full Unicode strings', fc.string({ unit: 'binary' })],
      ['the grammar’s special characters', grammarSoup],
      ['a scheme then special characters', grammarSoup.map((rest) => `Digest ${rest}`)],
    ];

    it.each(inputs)('for %s', (_title, input) => {
      fc.assert(
        fc.property(input, (text) => {
          onlySyntaxErrors(() => parseChallenges(text));
          onlySyntaxErrors(() => parseChallenges([text, text]));
          onlySyntaxErrors(() => parseCredentials(text));
          onlySyntaxErrors(() => parseAuthParams(text));
          onlySyntaxErrors(() => decodeExtValue(text));
          onlySyntaxErrors(() => decodeExtValue(`UTF-8''${text}`));
        }),
        { numRuns: 300 },
      );
    });
  });
});

describe('hostile input is linear', () => {
  const MB = 1 << 20;
  const limits = { maxLength: 8 * MB, maxParams: 1 << 20, maxChallenges: 1 << 20 };

  /**
   * Least CPU time of five runs, in ms: the least disturbed by a busy machine (CPU time leaves out
   * the time other processes hold the CPU; the least leaves out garbage collection's swings).
   */
  function timeOf(parse: (input: string) => unknown, input: string): number {
    let best = Infinity;
    for (let run = 0; run < 5; run++) {
      const start = process.cpuUsage();
      onlySyntaxErrors(() => parse(input));
      const used = process.cpuUsage(start);
      best = Math.min(best, (used.user + used.system) / 1000);
    }
    return best;
  }

  function distinctParams(size: number): string {
    const parts: string[] = [];
    let length = 2;
    for (let k = 0; length < size; k++) {
      parts.push(`p${k}="v"`);
      length += parts[k]!.length + 2;
    }
    return `X ${parts.join(', ')}`;
  }

  const challenges = (input: string) => parseChallenges(input, limits);
  const credentials = (input: string) => parseCredentials(input, limits);
  // [title, parser, input of a given size, budget in ms for 1 MB]. 50 ms for what an attacker can
  // send; building 100k distinct parameters or decoding a 1 MB ext-value is real work, so those
  // get more room (they are only reachable with raised limits anyway).
  const cases: [string, (input: string) => unknown, (size: number) => string, number?][] = [
    ['a million commas', challenges, (n) => ','.repeat(n)],
    ['"a=" repeated', challenges, (n) => `X ${'a='.repeat(n / 2)}`],
    ['"a=," repeated', challenges, (n) => `X ${'a=,'.repeat(n / 3)}`],
    ['100k distinct params', challenges, distinctParams, 400],
    ['backslashes in an unterminated quote', challenges, (n) => `X a="${'\\\\'.repeat(n / 2)}`],
    ['escaped quotes in a quote', credentials, (n) => `X a="${'\\"'.repeat(n / 2)}"`],
    ['DQUOTE runs', challenges, (n) => `X a=${'"'.repeat(n)}`],
    ['a 1 MB token68', credentials, (n) => `Bearer ${'a'.repeat(n)}`],
    ['whitespace runs', credentials, (n) => `X ${' '.repeat(n)}a`],
    ['an ext-value', decodeExtValue, (n) => `UTF-8''${'%C3%A4'.repeat(n / 6)}`, 200],
  ];

  it.each(cases)('parses or fails fast on %s', (_title, parse, make, budget = 50) => {
    const quarterMB = timeOf(parse, make(MB / 4));
    const oneMB = timeOf(parse, make(MB));
    expect(oneMB).toBeLessThan(budget);
    // Linear: 4x the input takes about 4x the time; quadratic would take 16x. The slack absorbs
    // timer noise on tiny times and a busy machine.
    expect(oneMB).toBeLessThan(8 * quarterMB + 10);
  });
});
