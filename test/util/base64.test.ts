/** The strict decoders' one-spelling rules, against Node's own encoder. */
import fc from 'fast-check';
import { decodeBase64Strict, isCanonicalBase64url } from '../../src/util/base64';

const DIGITS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];

describe('isCanonicalBase64url', () => {
  it("accepts exactly what Node's encoder writes for some bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const encoded = Buffer.from(bytes).toString('base64url');
        expect(isCanonicalBase64url(encoded)).toBe(true);
        // Any other spelling of the same bytes is refused.
        expect(isCanonicalBase64url(`${encoded}=`)).toBe(false);
        expect(isCanonicalBase64url(Buffer.from(bytes).toString('base64'))).toBe(
          Buffer.from(bytes).toString('base64') === encoded,
        );
      }),
    );
  });

  it('refuses characters beyond ASCII, which no alphabet of RFC 4648 holds', () => {
    for (const text of ['AA\u0080A', 'AAA\u00ff', '\u0100AAA', 'AAAA\u{1f600}']) {
      expect(isCanonicalBase64url(text)).toBe(false);
    }
  });

  it('refuses a string whose decoding does not re-encode to itself', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          // Mostly the alphabet (every length and final digit), sometimes anything ASCII.
          fc.string({ unit: fc.constantFrom(...DIGITS), maxLength: 12 }),
          fc.string({ unit: 'binary-ascii', maxLength: 12 }),
        ),
        (text) => {
          const decoded = Buffer.from(text, 'base64url');
          const canonical = decoded.toString('base64url') === text;
          expect(isCanonicalBase64url(text)).toBe(canonical);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

const STANDARD = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/='];

describe('decodeBase64Strict', () => {
  it("decodes exactly what Node's encoder writes for some bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (bytes) => {
        const encoded = Buffer.from(bytes).toString('base64');
        expect(decodeBase64Strict(encoded)).toEqual(Buffer.from(bytes));
        // Other spellings of the same bytes: unpadded, base64url, padding added.
        if (encoded.endsWith('='))
          expect(decodeBase64Strict(encoded.replace(/=+$/, ''))).toBeUndefined();
        const url = Buffer.from(bytes).toString('base64url');
        if (url !== encoded.replace(/=+$/, '')) expect(decodeBase64Strict(url)).toBeUndefined();
        expect(decodeBase64Strict(`${encoded}====`)).toBeUndefined();
      }),
    );
  });

  it('refuses a string whose decoding does not re-encode to itself (set bits past the last byte)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          // Mostly the alphabet and "=" (every length, final digit and padding), sometimes any ASCII.
          fc.string({ unit: fc.constantFrom(...STANDARD), maxLength: 12 }),
          fc.string({ unit: 'binary-ascii', maxLength: 12 }),
        ),
        (text) => {
          const decoded = Buffer.from(text, 'base64');
          const canonical = text !== '' && decoded.toString('base64') === text;
          expect(decodeBase64Strict(text)).toEqual(canonical ? decoded : undefined);
        },
      ),
      { numRuns: 5000 },
    );
    // Every last digit before one "=" and before two: only those with the spare bits clear pass.
    for (const digit of STANDARD.slice(0, 64)) {
      const one = `AA${digit}=`;
      const two = `A${digit}==`;
      expect(decodeBase64Strict(one) !== undefined).toBe(
        Buffer.from(one, 'base64').toString('base64') === one,
      );
      expect(decodeBase64Strict(two) !== undefined).toBe(
        Buffer.from(two, 'base64').toString('base64') === two,
      );
    }
  });

  // The alphabet table has 128 entries: a code past it reads undefined, outside the alphabet,
  // those whose low 7 bits spell a base64 digit (U+0141 is 'A' + 0x100) and surrogates too.
  it('refuses characters beyond ASCII, with or without padding', () => {
    expect(decodeBase64Strict('QUJD')).toEqual(Buffer.from('ABC'));
    for (const text of ['QUJ\u0144', '\u0141UJD', 'QU\u00c1D', 'QQ\u0100=', 'AA\u{1f600}']) {
      expect(decodeBase64Strict(text)).toBeUndefined();
    }
  });
});
