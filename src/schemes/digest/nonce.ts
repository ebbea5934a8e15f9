import { createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

/*
 * A nonce is base64url(version ‖ expiresAt ‖ random ‖ mac):
 *   version    1 byte, 1
 *   expiresAt  6 bytes, big-endian milliseconds since the epoch (enough until the year 10889)
 *   random     16 bytes, so that every nonce is unique (the replay store keys on it)
 *   mac        16 bytes, HMAC-SHA-256(secret, "authscheme-digest-nonce" ‖ realm ‖ the bytes above), cut
 * RFC 7616 §3.3 and §5.4 ask for nonces the server can check without state and that no one else
 * can make; carrying the expiry (rather than the issue time) lets processes with different
 * lifetimes configured still agree on when a nonce goes stale.
 */
const VERSION = 1;
const TIME_BYTES = 6;
const RANDOM_BYTES = 16;
const MAC_BYTES = 16;
const BODY_BYTES = 1 + TIME_BYTES + RANDOM_BYTES;
const NONCE_BYTES = BODY_BYTES + MAC_BYTES;
/** base64url without padding of 39 bytes. */
const NONCE_LENGTH = Math.ceil((NONCE_BYTES * 4) / 3);
const MAC_LABEL = Buffer.from('authscheme-digest-nonce\0', 'latin1');

/** What checking a nonce tells. */
export type NonceCheck =
  | { valid: false }
  | {
      valid: true;
      /** When the nonce stops being accepted (ms since the epoch). */
      expiresAt: number;
    };

/** Random bytes come in batches: one `randomBytes` call per 256 nonces instead of one each (nonces are public). */
class RandomPool {
  private pool = Buffer.alloc(0);
  private offset = 0;

  take(length: number, into: Buffer, at: number): void {
    if (this.offset + length > this.pool.length) {
      this.pool = randomBytes(length * 256);
      this.offset = 0;
    }
    this.pool.copy(into, at, this.offset, this.offset + length);
    this.offset += length;
  }
}

/** Issues and checks the stateless, HMAC-signed nonces of one realm. */
export class NonceSigner {
  private readonly random = new RandomPool();

  constructor(private readonly key: KeyObject) {}

  /** A fresh nonce for `realm` that expires at `expiresAt`. */
  issue(realm: string, expiresAt: number): string {
    const nonce = Buffer.allocUnsafe(NONCE_BYTES);
    nonce[0] = VERSION;
    nonce.writeUIntBE(Math.max(0, Math.floor(expiresAt)), 1, TIME_BYTES);
    this.random.take(RANDOM_BYTES, nonce, 1 + TIME_BYTES);
    this.mac(realm, nonce).copy(nonce, BODY_BYTES, 0, MAC_BYTES);
    return nonce.toString('base64url');
  }

  /** Checks that `nonce` was issued by a holder of the key for `realm`; says when it expires. */
  check(realm: string, nonce: string): NonceCheck {
    if (nonce.length !== NONCE_LENGTH || !isBase64Url(nonce)) return { valid: false };
    const bytes = Buffer.from(nonce, 'base64url');
    // Buffer decoding is lenient about trailing bits: insist on the one canonical spelling.
    if (bytes.length !== NONCE_BYTES || bytes.toString('base64url') !== nonce)
      return { valid: false };
    if (bytes[0] !== VERSION) return { valid: false };
    const expected = this.mac(realm, bytes);
    if (!timingSafeEqual(expected.subarray(0, MAC_BYTES), bytes.subarray(BODY_BYTES))) {
      return { valid: false };
    }
    return { valid: true, expiresAt: bytes.readUIntBE(1, TIME_BYTES) };
  }

  private mac(realm: string, nonce: Buffer): Buffer {
    return createHmac('sha256', this.key)
      .update(MAC_LABEL)
      .update(realm, 'latin1')
      .update('\0', 'latin1')
      .update(nonce.subarray(0, BODY_BYTES))
      .digest();
  }
}

/** RFC 4648 §5 alphabet, checked by scanning (no regex on untrusted input). */
function isBase64Url(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    const ok =
      (code >= 0x41 && code <= 0x5a) ||
      (code >= 0x61 && code <= 0x7a) ||
      (code >= 0x30 && code <= 0x39) ||
      code === 0x2d ||
      code === 0x5f;
    if (!ok) return false;
  }
  return true;
}
