import fc from 'fast-check';
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

  it('tells apart strings that UTF-8 cannot: lone surrogates, and U+FFFD', () => {
    // UTF-8 writes each lone surrogate as U+FFFD: compared as UTF-8, these were equal.
    expect(safeCompare('x\ud800', 'x\ufffd')).toBe(false);
    expect(safeCompare('\udc00', '\ud800')).toBe(false);
    expect(safeCompare('x\ud800', 'x\ud800')).toBe(true);
    expect(safeCompare('😀', '\ud83d\ude00')).toBe(true);
  });

  it('answers a === b for any two strings, long or short, one call after another', () => {
    // The buffers it hashes into are reused and grow: a long call must not leave bytes behind
    // that a shorter one then reads.
    const long = 'k'.repeat(5000);
    expect(safeCompare(long, long)).toBe(true);
    expect(safeCompare(`${long}a`, `${long}b`)).toBe(false);
    expect(safeCompare('k', long)).toBe(false);
    expect(safeCompare('k', 'k')).toBe(true);
    // Past what the reused buffer grows to (64 KiB): a buffer of its own.
    const huge = 'h'.repeat(40_000);
    expect(safeCompare(huge, huge)).toBe(true);
    expect(safeCompare(huge, `${huge.slice(1)}i`)).toBe(false);
    expect(safeCompare('k', 'k')).toBe(true);
    const text = fc.string({ unit: 'binary', maxLength: 700 });
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(safeCompare(a, b)).toBe(a === b);
        expect(safeCompare(a, a)).toBe(true);
      }),
    );
  });

  it('throws for anything but two strings (an undefined password must not pass)', () => {
    expect(() => safeCompare(undefined as unknown as string, 'x')).toThrow(TypeError);
    expect(() => safeCompare('x', 1 as unknown as string)).toThrow(TypeError);
  });
});
