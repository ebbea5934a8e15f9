import { syntaxError } from '../helpers/codec';
import { decodeExtValue, encodeExtValue } from '../../src/header';

describe('decodeExtValue(value)', () => {
  it('decodes the RFC 7616 §3.9.2 username*', () => {
    expect(decodeExtValue("UTF-8''J%C3%A4s%C3%B8n%20Doe")).toBe('J\u00e4s\u00f8n Doe');
  });

  it('decodes the RFC 8187 §3.2.2 example, with a language tag', () => {
    expect(decodeExtValue("UTF-8'en'%C2%A3%20rates")).toBe('\u00a3 rates');
    expect(decodeExtValue("UTF-8'en-GB-x-1'%e2%82%ac")).toBe('\u20ac');
  });

  it('matches the charset case-insensitively and accepts an empty value', () => {
    expect(decodeExtValue("utf-8''abc")).toBe('abc');
    expect(decodeExtValue("Utf-8''")).toBe('');
  });

  it('keeps attr-chars as they are and decodes 4-byte sequences and a BOM', () => {
    expect(decodeExtValue("UTF-8''a!#$&+-.^_`|~Z9")).toBe('a!#$&+-.^_`|~Z9');
    expect(decodeExtValue("UTF-8''%F0%9F%98%80")).toBe('\u{1f600}');
    expect(decodeExtValue("UTF-8''%EF%BB%BFx")).toBe('\ufeffx');
  });

  it.each([
    ['another charset', "ISO-8859-1''%A3", 'unsupported ext-value charset', 0],
    ['no charset', "''abc", 'invalid ext-value charset', 0],
    ['no quotes', 'UTF-8abc', 'invalid ext-value charset', 8],
    ['one quote', "UTF-8'abc", 'invalid ext-value language', 9],
    ['a bad language character', "UTF-8'e_n'abc", 'invalid ext-value language', 7],
    ['a space', "UTF-8''a b", 'invalid character or percent-escape in ext-value', 8],
    ['a non-attr-char', "UTF-8''a*b", 'invalid character or percent-escape in ext-value', 8],
    ['a short escape', "UTF-8''%4", 'invalid character or percent-escape in ext-value', 7],
    ['a non-hex escape', "UTF-8''%4G", 'invalid character or percent-escape in ext-value', 7],
    ['a non-hex first digit', "UTF-8''%G4", 'invalid character or percent-escape in ext-value', 7],
    // Only "%" starts a pct-encoded octet: another character before two HEXDIG is no escape.
    [
      'a non-attr-char before hex digits',
      "UTF-8''a*2A",
      'invalid character or percent-escape in ext-value',
      8,
    ],
    ['a lone continuation byte', "UTF-8''%80", 'ext-value is not valid UTF-8', 7],
    ['an overlong encoding', "UTF-8''%C0%AF", 'ext-value is not valid UTF-8', 7],
    ['an encoded surrogate', "UTF-8''%ED%A0%80", 'ext-value is not valid UTF-8', 7],
    ['a truncated sequence', "UTF-8''%E2%82", 'ext-value is not valid UTF-8', 7],
    [
      'a character above U+00FF',
      "UTF-8''\u20ac",
      'invalid character or percent-escape in ext-value',
      7,
    ],
  ])('rejects %s', (_title, value, reason, index) => {
    const error = syntaxError(() => decodeExtValue(value));
    expect(error.reason).toBe(reason);
    expect(error.index).toBe(index);
  });

  it.each(['', 'en', 'en-US', 'zh-Hant-CN', 'x-private', 'i-klingon', 'de-DE-1996', 'abcdefgh'])(
    'accepts the language tag %j (RFC 5646 shape)',
    (tag) => {
      expect(decodeExtValue(`UTF-8'${tag}'x`)).toBe('x');
    },
  );

  it.each(['-', '--', 'en-', '-en', '1-', '1a', '9x', 'e9', 'en--US', 'abcdefghi', 'en-123456789'])(
    'refuses the language tag %j',
    (tag) => {
      expect(syntaxError(() => decodeExtValue(`UTF-8'${tag}'x`)).reason).toBe(
        'invalid ext-value language',
      );
    },
  );

  it('throws TypeError for a value that is not a string', () => {
    expect(() => decodeExtValue(null as unknown as string)).toThrow(TypeError);
  });
});

describe('encodeExtValue(value)', () => {
  it('encodes UTF-8 bytes and every non-attr-char, upper-case hex', () => {
    expect(encodeExtValue('\u00a3 rates')).toBe("UTF-8''%C2%A3%20rates");
    expect(encodeExtValue('J\u00e4s\u00f8n Doe')).toBe("UTF-8''J%C3%A4s%C3%B8n%20Doe");
    expect(encodeExtValue('*\'()%"\\,;=')).toBe("UTF-8''%2A%27%28%29%25%22%5C%2C%3B%3D");
    expect(encodeExtValue('a!-._~Z9')).toBe("UTF-8''a!-._~Z9");
    expect(encodeExtValue('')).toBe("UTF-8''");
  });

  it('round-trips through decodeExtValue', () => {
    for (const value of ['\u{1f600}', '\u0000\r\n', 'caf\u00e9 \u20ac', "#$&+^`|!'*()"]) {
      expect(decodeExtValue(encodeExtValue(value))).toBe(value);
    }
  });

  it('throws TypeError for a lone surrogate or a non-string', () => {
    expect(() => encodeExtValue('\ud800')).toThrow(TypeError);
    expect(() => encodeExtValue(1 as unknown as string)).toThrow(TypeError);
  });
});
