import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { textHmac } from '../../src/util/hmac';

const reference = (key: Buffer, text: string): string =>
  createHmac('sha256', key).update(text).digest('base64');

describe('textHmac', () => {
  it("gives createHmac's HMAC-SHA-256 of the text's UTF-8 bytes", () => {
    const key = randomBytes(32);
    const hmac = textHmac(key);
    for (const text of [
      '',
      'a',
      '["alice","correct horse battery staple"]',
      'ünïcødé 東京 😀',
      // A lone surrogate is written as U+FFFD by both.
      '\ud800x\udfff',
      'x'.repeat(300),
      '東'.repeat(5000),
      // Past what the reused buffer grows to: a buffer of its own.
      '東'.repeat(30_000),
      'short again',
    ]) {
      expect(hmac(text)).toBe(reference(key, text));
    }
  });

  it('agrees with createHmac on any text and key, calls following one another', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.array(fc.string({ unit: 'binary', maxLength: 400 }), { minLength: 1, maxLength: 5 }),
        (keyBytes, texts) => {
          const key = Buffer.from(keyBytes);
          const hmac = textHmac(key);
          for (const text of texts) expect(hmac(text)).toBe(reference(key, text));
        },
      ),
    );
  });

  it('takes keys of one SHA-256 block at most', () => {
    expect(() => textHmac(Buffer.alloc(65))).toThrow(TypeError);
    const key = randomBytes(64);
    expect(textHmac(key)('x')).toBe(reference(key, 'x'));
  });
});
