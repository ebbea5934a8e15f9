/** fast-check arbitraries of well-formed challenges, shared by the codec's property tests. */
import fc from 'fast-check';
import { encodeExtValue } from '../../src/header';
import type { Challenge } from '../../src/header';

export const TCHARS =
  "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const TOKEN68_CHARS = '-._~+/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 10 });
export const scheme = fc.oneof(token, fc.constantFrom('Basic', 'Digest', 'Bearer', 'dIgEsT'));
/** Names ending in `*` carry RFC 8187 ext-values, generated separately. */
export const plainName = fc.oneof(
  token.filter((name) => !name.endsWith('*')),
  fc.constantFrom('realm', 'Nonce', 'algorithm', 'STALE', 'qop', 'nc', '__proto__', 'constructor'),
);
export const token68 = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...TOKEN68_CHARS), minLength: 1, maxLength: 40 }),
    fc.nat(2),
  )
  .map(([body, padding]) => body + '='.repeat(padding));

/** Every character a quoted-string can carry: HTAB, printable ASCII and obs-text. */
export const latin1Char = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  fc.integer({ min: 0x80, max: 0xff }).map((code) => String.fromCharCode(code)),
  fc.constantFrom('\t', '"', '\\', ',', '='),
);
export const value = fc.oneof(token, fc.string({ unit: latin1Char, maxLength: 30 }));
/**
 * RFC 8187 ext-values in UTF-8 as producers write them: the charset name in either case, with or
 * without a language tag, hex digits upper- or lower-case (RFC 3986 §2.1 makes them equivalent).
 */
export const extValue = fc
  .tuple(
    fc.string({ unit: 'binary' }),
    fc.constantFrom('UTF-8', 'utf-8'),
    fc.constantFrom('', 'en', 'de-DE', 'x-private'),
    fc.boolean(),
  )
  .map(([text, charset, language, lowerHex]) => {
    const chars = encodeExtValue(text).slice("UTF-8''".length);
    const hex = lowerHex ? chars.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()) : chars;
    return `${charset}'${language}'${hex}`;
  });
export const param = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(plainName, value) },
  {
    weight: 1,
    arbitrary: fc.tuple(
      token.map((name) => `${name}*`),
      extValue,
    ),
  },
);
export const params = fc
  .uniqueArray(param, { selector: ([name]) => name.toLowerCase(), maxLength: 8 })
  .map((entries) => Object.fromEntries(entries));

export const challenge: fc.Arbitrary<Challenge> = fc.oneof(
  fc.record({ scheme, token68, params: fc.constant({}) }),
  fc.record({ scheme, params }),
);

/** The challenge as the parser returns it: parameter names lower-cased. */
export function normalized(input: Challenge): unknown {
  const lowered = Object.fromEntries(
    Object.entries(input.params).map(([name, v]) => [name.toLowerCase(), v]),
  );
  return {
    scheme: input.scheme,
    token68: input.token68,
    params: Object.entries(lowered),
  };
}

export function comparable(parsed: Challenge): unknown {
  return { scheme: parsed.scheme, token68: parsed.token68, params: Object.entries(parsed.params) };
}
