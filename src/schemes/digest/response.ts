import { timingSafeEqual } from 'node:crypto';
import { hashWire, type AlgorithmInfo } from './algorithms';
import type { DigestDirectives } from './directives';

/**
 * The session key: HA1 itself, or for a `-sess` algorithm `H(HA1 ":" nonce ":" cnonce)`
 * (RFC 7616 §3.4.2).
 */
export function sessionHA1(
  algorithm: AlgorithmInfo,
  ha1: string,
  nonce: string,
  cnonce: string,
): string {
  return algorithm.session ? hashWire(algorithm, ha1, nonce, cnonce) : ha1;
}

/**
 * `request-digest = KD(HA1, nonce ":" nc ":" cnonce ":" qop ":" H(A2))` with
 * `A2 = method ":" uri`, plus `":" H(entity-body)` for auth-int (RFC 7616 §3.4.1, §3.4.3).
 * For `rspauth` the method is empty (RFC 7616 §3.5).
 */
export function requestDigest(
  directives: DigestDirectives,
  sessionKey: string,
  method: string,
  bodyHash: string | undefined,
): string {
  const { algorithm } = directives;
  const ha2 =
    bodyHash === undefined
      ? hashA2(algorithm, method, directives.uri)
      : hashWire(algorithm, method, directives.uri, bodyHash);
  const { nonce, ncText, cnonce, qopText } = directives;
  return hashWire(algorithm, sessionKey, nonce, ncText, cnonce, qopText, ha2);
}

/** Cached H(A2) per algorithm and method; A2 is public (method and uri), so caching reveals nothing. */
const A2_CACHE_SIZE = 1024;
/**
 * Longest uri kept. H(A2) is computed before the password is checked, so the cache fills from
 * unauthenticated requests: without a bound on each entry, 1024 uris of up to the header size
 * per method and algorithm held hundreds of MB. Longer uris are hashed each time.
 */
const A2_CACHE_MAX_URI = 256;
const a2Caches = new Map<AlgorithmInfo, Map<string, Map<string, string>>>();

/**
 * `H(method ":" uri)`: the same few URIs come back with every request (and the rspauth's
 * `H(":" uri)`), so their hashes are kept, in bounded maps that start over when full. Looked up
 * by method, then uri, so that a hit builds no string.
 */
function hashA2(algorithm: AlgorithmInfo, method: string, uri: string): string {
  if (uri.length > A2_CACHE_MAX_URI) return hashWire(algorithm, method, uri);
  let byMethod = a2Caches.get(algorithm);
  if (byMethod === undefined) {
    byMethod = new Map();
    a2Caches.set(algorithm, byMethod);
  }
  let cache = byMethod.get(method);
  if (cache === undefined) {
    // Methods are few, but they come from the client: bound them too.
    if (byMethod.size >= A2_CACHE_SIZE) byMethod.clear();
    cache = new Map();
    byMethod.set(method, cache);
  }
  let ha2 = cache.get(uri);
  if (ha2 === undefined) {
    ha2 = hashWire(algorithm, method, uri);
    if (cache.size >= A2_CACHE_SIZE) cache.clear();
    cache.set(uri, ha2);
  }
  return ha2;
}

/** Scratch space for {@link digestsEqual}, one pair per digest length: nothing is allocated per call. */
const scratch = new Map<number, [Buffer, Buffer]>();

/** Constant-time comparison of two lower-case hex digests of the same algorithm. */
export function digestsEqual(expected: string, received: string): boolean {
  // Lengths were checked when the directives were read; a mismatch here is refused all the same.
  const length = expected.length;
  if (received.length !== length) return false;
  let pair = scratch.get(length);
  if (pair === undefined) {
    pair = [Buffer.alloc(length), Buffer.alloc(length)];
    scratch.set(length, pair);
  }
  // latin1 writes one byte per character: the whole string, whatever it holds.
  pair[0].write(expected, 0, length, 'latin1');
  pair[1].write(received, 0, length, 'latin1');
  return timingSafeEqual(pair[0], pair[1]);
}
