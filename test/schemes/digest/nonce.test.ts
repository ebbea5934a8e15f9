import { createHmac } from 'node:crypto';
import { NonceSigner } from '../../../src/schemes/digest/nonce';

const key = Buffer.alloc(32, 7);

describe('NonceSigner', () => {
  it('signs with HMAC-SHA-256 (RFC 2104) over label, realm and the nonce body', () => {
    const signer = new NonceSigner(key);
    const nonce = signer.issue('api', 1_700_000_000_000);
    const bytes = Buffer.from(nonce, 'base64url');
    expect(bytes).toHaveLength(39);
    const expected = createHmac('sha256', key)
      .update('authscheme-digest-nonce\0api\0', 'latin1')
      .update(bytes.subarray(0, 23))
      .digest()
      .subarray(0, 16);
    expect(bytes.subarray(23)).toEqual(expected);
    expect(bytes.readUIntBE(1, 6)).toBe(1_700_000_000_000);
  });

  it('remembers verified nonces without weakening the check', () => {
    const signer = new NonceSigner(key);
    const nonce = signer.issue('api', 1234);
    for (let i = 0; i < 3; i++)
      expect(signer.check('api', nonce)).toEqual({ valid: true, expiresAt: 1234 });
    expect(signer.check('other', nonce)).toEqual({ valid: false });
    const last = nonce.at(-1) === 'A' ? 'B' : 'A';
    expect(signer.check('api', nonce.slice(0, -1) + last)).toEqual({ valid: false });
    // Past the bound the memory starts over; nonces still verify.
    const many = Array.from({ length: 10_050 }, () => signer.issue('api', 99));
    for (const other of many) expect(signer.check('api', other).valid).toBe(true);
    expect(signer.check('api', nonce)).toEqual({ valid: true, expiresAt: 1234 });
  });

  it('checks its own nonces and gives their expiry; realm-bound; unique', () => {
    const signer = new NonceSigner(key);
    const nonce = signer.issue('api', 1234);
    expect(signer.check('api', nonce)).toEqual({ valid: true, expiresAt: 1234 });
    expect(signer.check('other', nonce)).toEqual({ valid: false });
    expect(new NonceSigner(Buffer.alloc(32, 8)).check('api', nonce)).toEqual({ valid: false });
    const many = new Set(Array.from({ length: 1000 }, () => signer.issue('api', 1234)));
    expect(many.size).toBe(1000);
  });

  it('refuses every single-character change and non-canonical spellings', () => {
    const signer = new NonceSigner(key);
    const nonce = signer.issue('api', 99_999);
    for (let i = 0; i < nonce.length; i++) {
      const changed = nonce.slice(0, i) + (nonce[i] === 'A' ? 'B' : 'A') + nonce.slice(i + 1);
      expect(signer.check('api', changed).valid).toBe(false);
    }
    for (const bad of [
      '',
      nonce.slice(1),
      `${nonce}=`,
      nonce.replace(/^./, '+'),
      `${nonce.slice(0, -1)}\u00e9`,
    ]) {
      expect(signer.check('api', bad).valid).toBe(false);
    }
  });

  it('refuses keys longer than one SHA-256 block', () => {
    expect(() => new NonceSigner(Buffer.alloc(65))).toThrow(TypeError);
  });
});
