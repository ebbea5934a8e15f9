import { quotedStringEnd } from '../../src/header/scanner';

describe('quotedStringEnd(s, i, length)', () => {
  it('returns the index past the closing quote of a plain quoted-string', () => {
    const s = 'a="plain", b';
    expect(quotedStringEnd(s, 2, s.length)).toBe(9);
  });

  it('returns that index bitwise-negated when the content holds a quoted-pair', () => {
    const s = '"a\\"b"';
    expect(quotedStringEnd(s, 0, s.length)).toBe(~6);
  });
});
