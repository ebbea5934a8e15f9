import { randomBytes, timingSafeEqual } from 'node:crypto';
import { detach } from '../../util/detach';
import { HmacSha256 } from '../../util/hmac';
import { PerRealm } from '../../util/per-realm';

/*
 * A nonce is base64url(version ‖ expiresAt ‖ issuedAt ‖ issuer ‖ random ‖ mac):
 *   version    1 byte, 2
 *   expiresAt  6 bytes, big-endian milliseconds since the epoch (enough until the year 10889)
 *   issuedAt   6 bytes, the same
 *   issuer     8 bytes, random per nonce store: which store holds the nonce's counts
 *   random     8 bytes, so that every nonce is unique (the replay store keys on it)
 *   mac        16 bytes, HMAC-SHA-256(secret, "authscheme-digest-nonce" ‖ realm ‖ the bytes above), cut
 * RFC 7616 §3.3 and §5.4 ask for nonces the server can check without state and that no one else
 * can make; carrying the expiry (rather than only the issue time) lets processes with different
 * lifetimes configured still agree on when a nonce goes stale. Version 1 (39 bytes, without
 * issuedAt and issuer, 16 random bytes) is still read, for the nonces in flight during an upgrade.
 */
const VERSION = 2;
const TIME_BYTES = 6;
const ISSUER_BYTES = 8;
const RANDOM_BYTES = 8;
const MAC_BYTES = 16;
const ISSUED_AT = 1 + TIME_BYTES;
const ISSUER_AT = ISSUED_AT + TIME_BYTES;
const BODY_BYTES = ISSUER_AT + ISSUER_BYTES + RANDOM_BYTES;
const NONCE_BYTES = BODY_BYTES + MAC_BYTES;
/** Version 1: version ‖ expiresAt ‖ 16 random bytes ‖ mac. */
const V1_BODY_BYTES = 1 + TIME_BYTES + 16;
const V1_NONCE_BYTES = V1_BODY_BYTES + MAC_BYTES;
/** base64url without padding. */
const base64UrlLength = (bytes: number): number => Math.ceil((bytes * 4) / 3);
const MAC_LABEL = Buffer.from('authscheme-digest-nonce\0', 'latin1');

/** What checking a nonce tells. */
export type NonceCheck =
  | { valid: false }
  | {
      valid: true;
      /** When the nonce stops being accepted (ms since the epoch). */
      expiresAt: number;
      /** When it was issued (ms since the epoch); `undefined` for a version 1 nonce. */
      issuedAt: number | undefined;
      /** The issuing store's id (base64url); `undefined` for a version 1 nonce. */
      issuer: string | undefined;
    };

/** A random id for a nonce store, as {@link NonceSigner} takes it. */
export function newIssuer(): Buffer {
  return randomBytes(ISSUER_BYTES);
}

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

/** SHA-256's block size: HMAC pads the key to it (RFC 2104 §2). */
const BLOCK_BYTES = 64;
/** Verified nonces remembered; a miss only costs the HMAC again. */
const MAX_VERIFIED = 10_000;

/**
 * Issues and checks stateless, HMAC-signed nonces.
 *
 * The MAC is {@link HmacSha256}'s (its key set up once, its digest a latin1 string); its message,
 * label ‖ realm ‖ 0 ‖ the nonce's body, is written into a buffer kept per realm.
 */
export class NonceSigner {
  private readonly random = new RandomPool();
  /** Nonces that passed the check, bounded (cleared when full). */
  private readonly verified = new Map<string, { realm: string; result: NonceCheck }>();
  private readonly hmac: HmacSha256;
  /** realm → the MAC's message buffers (see {@link MacMessage}). */
  private readonly messages = new PerRealm<MacMessage>((realm) =>
    macMessage(Buffer.concat([MAC_LABEL, Buffer.from(`${realm}\0`, 'latin1')])),
  );
  /** The MAC a nonce should carry, for timingSafeEqual. */
  private readonly expectedMac = Buffer.alloc(MAC_BYTES);

  private readonly issuer: Buffer;

  /**
   * @param key at least 32 bytes, at most one SHA-256 block (64).
   * @param issuer the id of the store that keeps the counts of the nonces issued ({@link newIssuer})
   */
  constructor(key: Buffer, issuer: Buffer) {
    if (key.length > BLOCK_BYTES) throw new TypeError('NonceSigner: key longer than 64 bytes');
    if (issuer.length !== ISSUER_BYTES) throw new TypeError('NonceSigner: issuer of 8 bytes');
    this.issuer = issuer;
    this.hmac = new HmacSha256(key);
  }

  /** A fresh nonce for `realm`, issued at `issuedAt`, that expires at `expiresAt`. */
  issue(realm: string, issuedAt: number, expiresAt: number): string {
    const nonce = Buffer.allocUnsafe(NONCE_BYTES);
    nonce[0] = VERSION;
    nonce.writeUIntBE(Math.max(0, Math.floor(expiresAt)), 1, TIME_BYTES);
    nonce.writeUIntBE(Math.max(0, Math.floor(issuedAt)), ISSUED_AT, TIME_BYTES);
    this.issuer.copy(nonce, ISSUER_AT);
    this.random.take(RANDOM_BYTES, nonce, ISSUER_AT + ISSUER_BYTES);
    nonce.write(this.mac(realm, nonce, BODY_BYTES), BODY_BYTES, MAC_BYTES, 'latin1');
    return nonce.toString('base64url');
  }

  /** Checks that `nonce` was issued by a holder of the key for `realm`; says when it expires. */
  check(realm: string, nonce: string): NonceCheck {
    // A client reuses its nonce for many requests (nc counts up): remember the ones that passed.
    // Nonces are public, so a hit tells nothing; only verified nonces are kept, and forging one
    // still needs the key.
    const known = this.verified.get(nonce);
    if (known !== undefined && known.realm === realm) return known.result;
    const result = this.verify(realm, nonce);
    if (result.valid) {
      if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
      // Copies: the nonce read from a request holds its whole Authorization value (detach.ts),
      // and so does the realm when it is the client's spelling (digest()'s foreign check).
      this.verified.set(detach(nonce), { realm: detach(realm), result });
    }
    return result;
  }

  private verify(realm: string, nonce: string): NonceCheck {
    const v1 = nonce.length === base64UrlLength(V1_NONCE_BYTES);
    // Checked before the MAC, which timingSafeEqual compares only at the length it expects.
    if (!(v1 || nonce.length === base64UrlLength(NONCE_BYTES))) return { valid: false };
    const bytes = Buffer.from(nonce, 'base64url');
    // Buffer decoding skips characters outside the alphabet and takes `+` `/` for `-` `_`: only
    // the one canonical spelling is the nonce (another would get counts of its own in the store).
    if (bytes.toString('base64url') !== nonce || bytes[0] !== (v1 ? 1 : VERSION)) {
      return { valid: false };
    }
    const body = v1 ? V1_BODY_BYTES : BODY_BYTES;
    this.expectedMac.write(this.mac(realm, bytes, body), 0, MAC_BYTES, 'latin1');
    if (!timingSafeEqual(this.expectedMac, bytes.subarray(body))) {
      return { valid: false };
    }
    const expiresAt = bytes.readUIntBE(1, TIME_BYTES);
    if (v1) return { valid: true, expiresAt, issuedAt: undefined, issuer: undefined };
    return {
      valid: true,
      expiresAt,
      issuedAt: bytes.readUIntBE(ISSUED_AT, TIME_BYTES),
      issuer: bytes.toString('base64url', ISSUER_AT, ISSUER_AT + ISSUER_BYTES),
    };
  }

  /** This signer's issuer, as {@link NonceCheck} reports it. */
  get issuerId(): string {
    return this.issuer.toString('base64url');
  }

  /** The HMAC of `nonce`'s first `body` bytes for `realm`, as a latin1 string of 32 bytes. */
  private mac(realm: string, nonce: Buffer, body: number): string {
    const message = this.messages.get(realm);
    nonce.copy(message.buffer, message.bodyAt, 0, body);
    return this.hmac.ofBytes(body === BODY_BYTES ? message.v2 : message.v1, 'binary');
  }
}

/**
 * The MAC's message for one realm: `label ‖ realm ‖ 0` written once, the nonce's body after it on
 * each MAC; `v2` and `v1` view it at the length of either version's body.
 */
interface MacMessage {
  buffer: Buffer;
  bodyAt: number;
  v2: Buffer;
  v1: Buffer;
}

function macMessage(prefix: Buffer): MacMessage {
  const buffer = Buffer.alloc(prefix.length + Math.max(BODY_BYTES, V1_BODY_BYTES));
  prefix.copy(buffer);
  const bodyAt = prefix.length;
  return {
    buffer,
    bodyAt,
    v2: buffer.subarray(0, bodyAt + BODY_BYTES),
    v1: buffer.subarray(0, bodyAt + V1_BODY_BYTES),
  };
}
