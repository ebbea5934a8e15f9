import { isQuotable, isToken, isToken68 } from 'authscheme';

describe('isQuotable(value)', () => {
  it.each(['', 'plain', 'say "hi" \\o/', 'tab\there', 'caf\u00e9'])('accepts %j', (value) => {
    expect(isQuotable(value)).toBe(true);
  });

  it.each(['a\rb', 'a\nb', 'a\u0000b', 'a\u007fb', '\u20ac', 5 as unknown as string])(
    'refuses %j',
    (value) => {
      expect(isQuotable(value)).toBe(false);
    },
  );
});

describe('isToken68(value)', () => {
  it.each(['a', 'QWxhZGRpbjpvcGVuIHNlc2FtZQ==', 'mF_9.B5f-4.1JqM', 'a~+/-._Z9='])(
    'accepts %j',
    (v) => {
      expect(isToken68(v)).toBe(true);
    },
  );

  // RFC 9110 §11.2: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
  it.each(['', '==', 'a=b', 'a b', 'a!', '\u0100'])('refuses %j', (v) => {
    expect(isToken68(v)).toBe(false);
  });

  it('answers false, not a TypeError, for a value that is not a string, as isToken does', () => {
    for (const value of [['abc'], 5, null, undefined, { length: 1 }]) {
      expect(isToken68(value as unknown as string)).toBe(false);
      expect(isToken(value as unknown as string)).toBe(false);
    }
  });
});
