import { isQuotable } from 'authscheme';

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
