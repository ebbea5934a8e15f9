import { safeCompare } from 'authscheme';

describe('safeCompare (exported for verify callbacks)', () => {
  it('tells equal strings from different ones, of any length and in UTF-8', () => {
    expect(safeCompare('supersecret', 'supersecret')).toBe(true);
    expect(safeCompare('supersecret', 'supersecreT')).toBe(false);
    expect(safeCompare('short', 'a much longer string')).toBe(false);
    expect(safeCompare('', '')).toBe(true);
    expect(safeCompare('', 'x')).toBe(false);
    expect(safeCompare('pässwörd', 'pässwörd')).toBe(true);
    expect(safeCompare('pässwörd', 'passwörd')).toBe(false);
  });

  it('throws for anything but two strings (an undefined password must not pass)', () => {
    expect(() => safeCompare(undefined as unknown as string, 'x')).toThrow(TypeError);
    expect(() => safeCompare('x', 1 as unknown as string)).toThrow(TypeError);
  });
});
