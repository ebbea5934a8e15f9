import { equalsLowerAscii } from '../../src/util/text';

describe('equalsLowerAscii', () => {
  it('folds the case of ASCII letters only', () => {
    expect(equalsLowerAscii('Authorization', 'authorization')).toBe(true);
    expect(equalsLowerAscii('SHA-256-SESS', 'sha-256-sess')).toBe(true);
    expect(equalsLowerAscii('bAsIc', 'basic')).toBe(true);
    expect(equalsLowerAscii('basic', 'basic')).toBe(true);
  });

  it('tells apart what toLowerCase() would fold, and the characters beside A and Z', () => {
    // U+212A KELVIN SIGN lower-cases to "k" and U+0130 to "i̇": no token holds them (RFC 9110
    // §5.6.2), so no scheme, field or algorithm name may match through them.
    expect(equalsLowerAscii('\u212Aerberos', 'kerberos')).toBe(false);
    expect(equalsLowerAscii('\u0130', 'i')).toBe(false);
    // "@" and "[" sit just outside A-Z: or-ing 0x20 into them gives "`" and "{".
    expect(equalsLowerAscii('@', '`')).toBe(false);
    expect(equalsLowerAscii('[', '{')).toBe(false);
  });

  it('needs the same length', () => {
    expect(equalsLowerAscii('Basic', 'basi')).toBe(false);
    expect(equalsLowerAscii('', '')).toBe(true);
    expect(equalsLowerAscii('', 'a')).toBe(false);
  });
});
