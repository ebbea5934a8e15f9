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

describe('decodeBase64Strict', () => {
  // The alphabet table has 128 entries: a code past it reads undefined, outside the alphabet,
  // those whose low 7 bits spell a base64 digit (U+0141 is 'A' + 0x100) and surrogates too.
  it('refuses characters beyond ASCII, with or without padding', () => {
    expect(decodeBase64Strict('QUJD')).toEqual(Buffer.from('ABC'));
    for (const text of ['QUJ\u0144', '\u0141UJD', 'QU\u00c1D', 'QQ\u0100=', 'AA\u{1f600}']) {
      expect(decodeBase64Strict(text)).toBeUndefined();
    }
  });
});
