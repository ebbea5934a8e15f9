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
  return hashWire(
    algorithm,
    sessionKey,
    directives.nonce,
    directives.ncText,
    directives.cnonce,
    directives.qopText,
    ha2,
  );
}

/** Cached H(A2) per algorithm; A2 is public (method and uri), so caching reveals nothing. */
const A2_CACHE_SIZE = 1024;
const a2Caches = new Map<AlgorithmInfo, Map<string, string>>();

/**
 * `H(method ":" uri)`: the same few URIs come back with every request (and the rspauth's
 * `H(":" uri)`), so their hashes are kept, in a bounded map that starts over when full.
 */
function hashA2(algorithm: AlgorithmInfo, method: string, uri: string): string {
  let cache = a2Caches.get(algorithm);
  if (cache === undefined) {
    cache = new Map();
    a2Caches.set(algorithm, cache);
  }
  const key = `${method}:${uri}`;
  let ha2 = cache.get(key);
  if (ha2 === undefined) {
    ha2 = hashWire(algorithm, method, uri);
    if (cache.size >= A2_CACHE_SIZE) cache.clear();
    cache.set(key, ha2);
  }
  return ha2;
}

/** Constant-time comparison of two lower-case hex digests of the same algorithm. */
export function digestsEqual(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(received, 'latin1');
  // Lengths were checked when the directives were read; a mismatch here is refused all the same.
  return a.length === b.length && timingSafeEqual(a, b);
}
