/**
 * Constant-time handling of secrets. Secrets are hashed to a fixed length before comparison, so
 * `timingSafeEqual` never sees inputs of different lengths and the comparison time says nothing
 * about the secret's length or content.
 */
import { hash, timingSafeEqual } from 'node:crypto';

/** SHA-256 of a secret (UTF-8), as a fixed-length 32-byte buffer. */
export function hashSecret(secret: string): Buffer {
  // One-shot crypto.hash (Node >= 20.12): a fraction of createHash()'s cost per call.
  return hash('sha256', secret, 'buffer');
}

/** Constant-time equality of two buffers; different lengths compare unequal without a shortcut. */
export function secretsEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) {
    // Still spend a comparison so that a length mismatch does not return measurably faster.
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

/**
 * Compares two strings (a password a client sent and the one you keep) in constant time: both
 * are hashed to 32 bytes first, so the comparison shows neither where they differ nor whether
 * their lengths do (the hashing itself takes longer per 64-byte block of input). For
 * `basic({ verify })` callbacks, as express-basic-auth's `safeCompare`.
 *
 * @example
 * basic({ verify: (user, password) => (user === 'admin' && safeCompare(password, secret) ? user : false) });
 */
export function safeCompare(a: string, b: string): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') {
    throw new TypeError('safeCompare(): both arguments must be strings');
  }
  return secretsEqual(hashSecret(a), hashSecret(b));
}
