import { createHmac } from 'node:crypto';
import { NonceSigner, newIssuer } from '../../../src/schemes/digest/nonce';

const key = Buffer.alloc(32, 7);
const issuer = Buffer.from('0102030405060708', 'hex');
const ISSUER_ID = issuer.toString('base64url');

function signer(signingKey = key): NonceSigner {
  return new NonceSigner(signingKey, issuer);
}

/**
 * The nonce's MAC as the format defines it: HMAC-SHA-256 over a label, the realm's ISO-8859-1
 * octets and the nonce body, its first 16 bytes.
 */
function macOf(signingKey: Buffer, realmLatin1: string, body: Buffer): Buffer {
  return createHmac('sha256', signingKey)
    .update(`authscheme-digest-nonce\0${realmLatin1}\0`, 'latin1')
    .update(body)
    .digest()
    .subarray(0, 16);
}

/** A valid check's result for a nonce of `issuer`. */
const valid = (expiresAt: number, issuedAt: number) => ({
  valid: true,
  expiresAt,
  issuedAt,
  issuer: ISSUER_ID,
});

describe('NonceSigner', () => {
  it('signs with HMAC-SHA-256 (RFC 2104) over label, realm and the nonce body', () => {
    const nonce = signer().issue('api', 1_699_999_000_000, 1_700_000_000_000);
    const bytes = Buffer.from(nonce, 'base64url');
    expect(bytes).toHaveLength(45);
    expect(nonce).toHaveLength(60);
    expect(bytes.subarray(29)).toEqual(macOf(key, 'api', bytes.subarray(0, 29)));
    expect(bytes[0]).toBe(2);
    expect(bytes.readUIntBE(1, 6)).toBe(1_700_000_000_000);
    expect(bytes.readUIntBE(7, 6)).toBe(1_699_999_000_000);
    expect(bytes.subarray(13, 21)).toEqual(issuer);
  });

  it('still reads version 1 nonces (in flight during an upgrade), which name no issuer', () => {
    // version 1 ‖ expiresAt ‖ 16 random bytes ‖ mac, as the previous version issued them.
    const body = Buffer.alloc(23, 9);
    body[0] = 1;
    body.writeUIntBE(5678, 1, 6);
    const nonce = Buffer.concat([body, macOf(key, 'api', body)]).toString('base64url');
    expect(signer().check('api', nonce)).toEqual({
      valid: true,
      expiresAt: 5678,
      issuedAt: undefined,
      issuer: undefined,
    });
    expect(signer().check('other', nonce)).toEqual({ valid: false });
  });

  it('signs right whatever came before: realms and both versions interleaved on one signer', () => {
    // The HMAC inputs are buffers the signer reuses: a realm's, and the outer hash's.
    const nonces = signer();
    const v1 = (realm: string, expiresAt: number): string => {
      const body = Buffer.alloc(23, expiresAt % 256);
      body[0] = 1;
      body.writeUIntBE(expiresAt, 1, 6);
      return Buffer.concat([body, macOf(key, realm, body)]).toString('base64url');
    };
    const realms = ['api', 'a much longer realm, with spaces', 'caf\u00e9'];
    for (let round = 0; round < 3; round++) {
      for (const realm of realms) {
        const issued = nonces.issue(realm, 1000 + round, 2000 + round);
        const bytes = Buffer.from(issued, 'base64url');
        expect(bytes.subarray(29)).toEqual(macOf(key, realm, bytes.subarray(0, 29)));
        const old = v1(realm, 3000 + round);
        expect(nonces.check(realm, old)).toEqual({
          valid: true,
          expiresAt: 3000 + round,
          issuedAt: undefined,
          issuer: undefined,
        });
        for (const other of realms.filter((name) => name !== realm)) {
          expect(nonces.check(other, issued)).toEqual({ valid: false });
          expect(nonces.check(other, old)).toEqual({ valid: false });
        }
        expect(nonces.check(realm, issued)).toEqual(valid(2000 + round, 1000 + round));
      }
    }
  });

  it('remembers verified nonces without weakening the check', () => {
    const nonces = signer();
    const nonce = nonces.issue('api', 1000, 1234);
    for (let i = 0; i < 3; i++) expect(nonces.check('api', nonce)).toEqual(valid(1234, 1000));
    expect(nonces.check('other', nonce)).toEqual({ valid: false });
    const last = nonce.at(-1) === 'A' ? 'B' : 'A';
    expect(nonces.check('api', nonce.slice(0, -1) + last)).toEqual({ valid: false });
    // Past the bound the memory starts over; nonces still verify.
    const many = Array.from({ length: 10_050 }, () => nonces.issue('api', 1, 99));
    for (const other of many) expect(nonces.check('api', other).valid).toBe(true);
    expect(nonces.check('api', nonce)).toEqual(valid(1234, 1000));
  });

  it('checks its own nonces and gives their times and issuer; realm-bound; unique', () => {
    const nonces = signer();
    const nonce = nonces.issue('api', 1000, 1234);
    expect(nonces.check('api', nonce)).toEqual(valid(1234, 1000));
    expect(nonces.issuerId).toBe(ISSUER_ID);
    expect(nonces.check('other', nonce)).toEqual({ valid: false });
    expect(signer(Buffer.alloc(32, 8)).check('api', nonce)).toEqual({ valid: false });
    // Another store's signer with the same key reads it, and sees whose it is.
    const sibling = new NonceSigner(key, newIssuer());
    expect(sibling.check('api', nonce)).toEqual(valid(1234, 1000));
    expect(sibling.issuerId).not.toBe(ISSUER_ID);
    const many = new Set(Array.from({ length: 1000 }, () => nonces.issue('api', 1000, 1234)));
    expect(many.size).toBe(1000);
  });

  it('refuses every single-character change and non-canonical spellings', () => {
    const nonces = signer();
    const nonce = nonces.issue('api', 1, 99_999);
    for (let i = 0; i < nonce.length; i++) {
      const changed = nonce.slice(0, i) + (nonce[i] === 'A' ? 'B' : 'A') + nonce.slice(i + 1);
      expect(nonces.check('api', changed).valid).toBe(false);
    }
    for (const bad of [
      '',
      nonce.slice(1),
      nonce.slice(0, 52),
      `${nonce}=`,
      nonce.replace(/^./, '+'),
      `${nonce.slice(0, -1)}\u00e9`,
    ]) {
      expect(nonces.check('api', bad).valid).toBe(false);
    }
  });

  it('refuses the same bytes in another spelling: +/ for -_ (each spelling would count apart)', () => {
    const nonces = signer();
    let nonce = '';
    while (!/[-_]/.test(nonce)) nonce = nonces.issue('api', 1, 99_999);
    const other = nonce.replace(/-/g, '+').replace(/_/g, '/');
    expect(Buffer.from(other, 'base64url')).toEqual(Buffer.from(nonce, 'base64url'));
    expect(nonces.check('api', other)).toEqual({ valid: false });
    expect(nonces.check('api', nonce).valid).toBe(true);
  });

  // Node's base64 decoder reads a character above U+00FF by its low byte: 'Ł' (U+0141), a lone
  // surrogate U+D841 and 'A' decode alike. Such a nonce has the right bytes and the right length;
  // only the canonical spelling check refuses it.
  it('refuses the same bytes spelled with characters above U+00FF (their low byte decoded)', () => {
    const nonces = signer();
    const nonce = nonces.issue('api', 1, 99_999);
    for (const high of [0x100, 0xd800]) {
      const other = String.fromCharCode(high + nonce.charCodeAt(0)) + nonce.slice(1);
      expect(Buffer.from(other, 'base64url')).toEqual(Buffer.from(nonce, 'base64url'));
      expect(nonces.check('api', other)).toEqual({ valid: false });
    }
  });

  it('refuses well-formed base64url of another length (a nonce grown or cut short)', () => {
    const nonces = signer();
    const nonce = nonces.issue('api', 1, 99_999);
    for (const bad of [
      `${nonce}AAAA`,
      nonce.slice(0, -4),
      nonce.slice(0, 52),
      `${nonce}${nonce}`,
    ]) {
      expect(nonces.check('api', bad)).toEqual({ valid: false });
    }
  });

  it('takes a key of a whole SHA-256 block (64 bytes) and signs the realm as ISO-8859-1 octets', () => {
    const long = Buffer.alloc(64, 3);
    const nonce = signer(long).issue('café', 1, 99_999);
    const bytes = Buffer.from(nonce, 'base64url');
    expect(bytes.subarray(29)).toEqual(macOf(long, 'caf\xe9', bytes.subarray(0, 29)));
    expect(signer(long).check('café', nonce).valid).toBe(true);
  });

  it('refuses keys longer than one SHA-256 block, and issuers not of 8 bytes', () => {
    expect(() => new NonceSigner(Buffer.alloc(65), issuer)).toThrow(TypeError);
    expect(() => new NonceSigner(key, Buffer.alloc(7))).toThrow(TypeError);
  });
});
