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
  extValue,
  latin1Char,
  normalized,
  plainName,
  scheme,
  token,
  token68,
} from '../helpers/challenge-arbitraries';
import { ReferenceSyntaxError, referenceParse } from '../helpers/reference-parser';

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
    const paramText = fc.oneof(
      fc
        .tuple(
          plainName,
          ows,
          ows,
          fc.oneof(
            token,
            quotedContent.map((c) => `"${c}"`),
          ),
        )
        .map(([name, before, after, v]) => `${name}${before}=${after}${v}`),
      // RFC 8187 ext-values in UTF-8, bare (RFC 7616 §3.4.4) or quoted: format writes them bare.
      fc
        .tuple(token, extValue, fc.boolean())
        .map(([name, v, quoted]) => `${name}*=${quoted ? `"${v}"` : v}`),
    );
    const separator = fc
      .tuple(ows, fc.constantFrom(',', ',,', ', ,'), ows)
      .map((parts) => parts.join(''));
    const paramList = fc
      .array(fc.tuple(paramText, separator), { minLength: 1, maxLength: 5 })
      .map((items) => items.map(([p, sep], k) => (k === 0 ? p : sep + p)).join(''));
    // 1*SP after the scheme (RFC 9110 §11.3), and OWS, HTAB included, after a scheme alone.
    const spaces = fc.constantFrom(' ', '  ');
    const challengeText = fc.oneof(
      fc.tuple(scheme, ows).map(([s, after]) => s + after),
      fc.tuple(scheme, spaces, token68, ows).map((parts) => parts.join('')),
      fc.tuple(scheme, spaces, paramList, ows).map((parts) => parts.join('')),
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
      unit: fc.constantFrom(
        ...['"', '\\', ',', '=', ' ', '\t', 'a', 'B', 'c', '=', '/', '*', "'", '%'],
        // What no header may carry unquoted, or at all: CTLs, DEL, obs-text, beyond U+00FF.
        ...['\r', '\n', '\u0000', '\u007f', '\u00e9', '\u0100', '\ud83d'],
      ),
      maxLength: 40,
    });
    const inputs: [string, fc.Arbitrary<string>][] = [
      ['fc.string()', fc.string()],
      ['full Unicode strings', fc.string({ unit: 'binary' })],
      ['the grammar’s special characters', grammarSoup],
      ['a scheme then special characters', grammarSoup.map((rest) => `Digest ${rest}`)],
    ];

    it.each(inputs)('for %s', (_title, input) => {
      const property = fc.property(input, (text) => {
        onlySyntaxErrors(() => parseChallenges(text));
        onlySyntaxErrors(() => parseChallenges([text, text]));
        onlySyntaxErrors(() => parseCredentials(text));
        onlySyntaxErrors(() => parseAuthParams(text));
        onlySyntaxErrors(() => decodeExtValue(text));
        onlySyntaxErrors(() => decodeExtValue(`UTF-8''${text}`));
      });
      expect(() => fc.assert(property, { numRuns: 300 })).not.toThrow();
    });
  });
});

describe('the parsers read the grammar as a plain reading of it does (test/helpers/reference-parser.ts)', () => {
  // Fields built to the grammar, so that many parse (with parameters, token68s, several
  // challenges), then perhaps a character or two of noise inserted. The pieces reach the parsers'
  // shortcuts: known parameter names (the automaton) in several cases, their prefixes and
  // extensions, the 32nd character of a token68 and the 256th of a quoted-string (where
  // src/header/scanner.ts changes method), quoted-pairs, obs-text.
  const ows = fc.constantFrom('', '', ' ', '\t', ' \t');
  const separator = fc
    .tuple(ows, fc.constantFrom(',', ',,', ', ,'), ows)
    .map((parts) => parts.join(''));
  const joined = (items: [string, string][]): string =>
    items.map(([sep, item], k) => (k === 0 ? item : sep + item)).join('');
  const name = fc.constantFrom(
    ...['realm', 'REALM', 'Realm', 'rea', 'realmy', 'nc', 'Nc', 'username*', 'error_description'],
    ...['a', 'x-y', '__proto__', 'T'.repeat(33)],
  );
  const paramValue = fc.constantFrom(
    ...['r', '00000001', "UTF-8''%E2%82%ac", '""', '"v"', '"a, b=\\"c\\""', '"\\a\\\\"'],
    ...['"\t\u00ff"', `"${'\u00e9'.repeat(130)}${'\\"'.repeat(70)}"`],
  );
  const paramList = fc
    .array(
      fc.tuple(
        separator,
        fc
          .tuple(name, ows, ows, paramValue)
          .map(([n, before, after, v]) => `${n}${before}=${after}${v}`),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map(joined);
  const challengeText = fc.oneof(
    fc.tuple(fc.constantFrom('Basic', 'digest', 'X', 'realm'), ows).map((parts) => parts.join('')),
    fc
      .tuple(
        fc.constantFrom('Bearer ', 'Negotiate  '),
        fc.constantFrom('abc', 'a=', 'realm', 'Realm=', 'nc==', 'x/+~._-', `${'Q'.repeat(40)}==`),
        ows,
      )
      .map((parts) => parts.join('')),
    fc
      .tuple(fc.constantFrom('Digest ', 'X  ', 'Basic ,', 'Y \t,'), paramList, ows)
      .map((parts) => parts.join('')),
  );
  const noise = fc.array(
    fc.tuple(
      fc.nat(),
      fc.constantFrom(
        ...['"', '\\', ',', '=', ' ', '\t', '*', 'a'],
        ...['\r', '\n', '\u0000', '\u001f', '\u007f', '\u0080', '\u0100', '\ud83d'],
      ),
    ),
    { maxLength: 2 },
  );
  const withNoise = (field: fc.Arbitrary<string>): fc.Arbitrary<string> =>
    fc.tuple(field, noise).map(([text, edits]) =>
      edits.reduce((acc, [at, piece]) => {
        const k = at % (acc.length + 1);
        return acc.slice(0, k) + piece + acc.slice(k);
      }, text),
    );
  const challengeList = fc
    .array(fc.tuple(separator, challengeText), { minLength: 1, maxLength: 3 })
    .map(joined);

  type Mode = 'challenges' | 'credentials' | 'auth-params';
  const parsers: Record<Mode, (value: string) => unknown> = {
    challenges: (value) => parseChallenges(value),
    credentials: (value) => parseCredentials(value),
    'auth-params': (value) => parseAuthParams(value),
  };

  /** The result in a comparable shape, or 'syntax error'; anything else thrown fails the test. */
  function outcome(parse: () => unknown): unknown {
    let result: unknown;
    try {
      result = parse();
    } catch (error) {
      if (error instanceof AuthHeaderSyntaxError || error instanceof ReferenceSyntaxError) {
        return 'syntax error';
      }
      throw error;
    }
    if (Array.isArray(result)) return (result as Challenge[]).map(comparable);
    if ('scheme' in (result as object)) return comparable(result as Challenge);
    return Object.entries(result as Record<string, string>);
  }

  const fields: Record<Mode, fc.Arbitrary<string>> = {
    challenges: withNoise(challengeList),
    credentials: withNoise(fc.oneof(challengeText, challengeList)),
    'auth-params': withNoise(fc.oneof(paramList, challengeList)),
  };

  it.each<Mode>(['challenges', 'credentials', 'auth-params'])('for %s', (mode) => {
    fc.assert(
      fc.property(fields[mode], (value) => {
        expect(outcome(() => parsers[mode](value))).toEqual(
          outcome(() => referenceParse(value, mode as 'challenges')),
        );
      }),
      { numRuns: 3000 },
    );
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
