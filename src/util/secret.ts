/**
 * Constant-time handling of secrets. Secrets are hashed to a fixed length before comparison, so
 * `timingSafeEqual` never sees inputs of different lengths and the comparison time says nothing
 * about the secret's length or content.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { Scratch } from './scratch';

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
 * Compare both, then combine: `user === 'admin' && safeCompare(…)` would skip the comparison for
 * any other name, and so answer sooner when the name is wrong.
 *
 * @example
 * basic({
 *   verify: (user, password) => {
 *     const userMatches = safeCompare(user, 'admin');
 *     const passwordMatches = safeCompare(password, secret);
 *     return userMatches && passwordMatches ? user : false;
 *   },
 * });
 */
export function safeCompare(a: string, b: string): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') {
    throw new TypeError('safeCompare(): both arguments must be strings');
  }
  digestCodeUnits(a, digestOfA);
  digestCodeUnits(b, digestOfB);
  return timingSafeEqual(digestOfA, digestOfB);
}

/**
 * Buffers reused by every safeCompare() (each step is synchronous): a Buffer per input and one per
 * digest made half its cost (Node 20: 2.5 µs a call against 1.3), `crypto.hash`'s own Buffer
 * costing more than the hash; its digest is taken as a latin1 string instead.
 */
const codeUnits = new Scratch(Buffer.alloc(512));
const digestOfA = Buffer.alloc(32);
const digestOfB = Buffer.alloc(32);

/** SHA-256 of `text`'s UTF-16 code units, written into `out`. */
function digestCodeUnits(text: string, out: Buffer): void {
  // Code units, not UTF-8, which writes every lone surrogate as U+FFFD: two different strings
  // would compare equal.
  const units = codeUnits.room(text.length * 2);
  const length = units.write(text, 0, 'utf16le');
  // 'binary' is latin1 (Node's alias, the one @types/node lets crypto.hash take).
  out.write(hash('sha256', units.subarray(0, length), 'binary'), 0, 'latin1');
}

/**
 * Beyond this many UTF-8 bytes in the longest password, {@link passwordChecker} hashes rather than
 * pads: every entry is kept as long as the longest one.
 */
const MAX_PADDED_BYTES = 256;

/**
 * A check of a name and password against `passwords` (name → password) whose time says nothing of
 * the stored password, nor of whether the name is there (a missing name is compared with a dummy).
 *
 * Each password is kept in UTF-8, zero-padded to the length of the longest, and the password sent
 * is written into a buffer of that size and compared whole with `timingSafeEqual`; its length,
 * compared apart, tells a longer one that was cut. That is a few hundred ns less per check than
 * hashing both sides, and the time depends only on that size and on what was sent. Past
 * {@link MAX_PADDED_BYTES}, both sides are hashed ({@link hashSecret}).
 */
export function passwordChecker(
  passwords: ReadonlyMap<string, string>,
): (name: string, password: string) => boolean {
  let longest = 0;
  for (const password of passwords.values()) {
    longest = Math.max(longest, Buffer.byteLength(password, 'utf8'));
  }
  if (longest > MAX_PADDED_BYTES) {
    const hashes = new Map([...passwords].map(([name, password]) => [name, hashSecret(password)]));
    const missing = hashSecret('\u0000no such user\u0000');
    return (name, password) => {
      const expected = hashes.get(name);
      return secretsEqual(hashSecret(password), expected ?? missing) && expected !== undefined;
    };
  }
  const padded = new Map<string, { bytes: Buffer; length: number }>();
  for (const [name, password] of passwords) {
    const bytes = Buffer.alloc(longest);
    padded.set(name, { bytes, length: bytes.write(password, 'utf8') });
  }
  const missing = { bytes: Buffer.alloc(longest), length: -1 };
  const sent = Buffer.alloc(longest);
  return (name, password) => {
    const expected = padded.get(name) ?? missing;
    const length = Buffer.byteLength(password, 'utf8');
    // At most `longest` bytes, whole characters only; the length below tells a longer one apart.
    sent.fill(0, sent.write(password, 'utf8'));
    const equal = timingSafeEqual(sent, expected.bytes);
    return equal && length === expected.length;
  };
}
