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
