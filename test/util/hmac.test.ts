import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { HmacSha256, textHmac } from '../../src/util/hmac';

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

  it("gives createHmac's HMAC of bytes too, texts and bytes in turn on one key", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 100 })), {
          minLength: 1,
          maxLength: 6,
        }),
        (keyBytes, messages) => {
          const key = Buffer.from(keyBytes);
          const hmac = new HmacSha256(key);
          for (const message of messages) {
            const expected = createHmac('sha256', key).update(message).digest();
            const got =
              typeof message === 'string'
                ? hmac.ofText(message, 'binary')
                : hmac.ofBytes(message, 'binary');
            expect(Buffer.from(got, 'latin1')).toEqual(expected);
          }
        },
      ),
    );
    // Past what the reused buffer grows to (64 KiB), and a short one after it.
    const key = randomBytes(32);
    const hmac = new HmacSha256(key);
    for (const message of [randomBytes(70_000), randomBytes(3)]) {
      expect(hmac.ofBytes(message, 'base64')).toBe(
        createHmac('sha256', key).update(message).digest('base64'),
      );
    }
  });

  it('takes keys of one SHA-256 block at most', () => {
    expect(() => textHmac(Buffer.alloc(65))).toThrow(TypeError);
    const key = randomBytes(64);
    expect(textHmac(key)('x')).toBe(reference(key, 'x'));
  });
});
