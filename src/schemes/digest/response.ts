import { timingSafeEqual } from 'node:crypto';
import { hashJoined, type AlgorithmInfo } from './algorithms';
import { detach } from '../../util/detach';
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
  return algorithm.session ? hashJoined(algorithm, `${ha1}:${nonce}:${cnonce}`) : ha1;
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
      : hashJoined(algorithm, `${method}:${directives.uri}:${bodyHash}`);
  const { nonce, ncText, cnonce, qopText } = directives;
  return hashJoined(algorithm, `${sessionKey}:${nonce}:${ncText}:${cnonce}:${qopText}:${ha2}`);
}

/**
 * Cached H(A2) per algorithm, by method then uri; A2 is public (method and uri), so caching reveals
 * nothing. H(A2) is computed before the password is checked, so the cache fills from
 * unauthenticated requests: it is bounded in entries (over all methods: HTTP/2 lets a client send
 * any token as its method) and in the length of what it keeps, and starts over when full.
 */
const A2_CACHE_ENTRIES = 4096;
/** Longest uri kept; longer ones are hashed each time. */
const A2_CACHE_MAX_URI = 256;
/** Longest method kept (the longest registered method names have 17 characters). */
const A2_CACHE_MAX_METHOD = 32;

interface A2Cache {
  entries: number;
  readonly byMethod: Map<string, Map<string, string>>;
}

const a2Caches = new Map<AlgorithmInfo, A2Cache>();

/**
 * `H(method ":" uri)`: the same few URIs come back with every request (and the rspauth's
 * `H(":" uri)`), so their hashes are kept. Looked up by method, then uri, so that a hit builds no
 * string.
 */
function hashA2(algorithm: AlgorithmInfo, method: string, uri: string): string {
  if (uri.length > A2_CACHE_MAX_URI || method.length > A2_CACHE_MAX_METHOD) {
    return hashJoined(algorithm, `${method}:${uri}`);
  }
  let cache = a2Caches.get(algorithm);
  if (cache === undefined) {
    cache = { entries: 0, byMethod: new Map() };
    a2Caches.set(algorithm, cache);
  }
  let byUri = cache.byMethod.get(method);
  let ha2 = byUri?.get(uri);
  if (ha2 !== undefined) return ha2;
  ha2 = hashJoined(algorithm, `${method}:${uri}`);
  if (cache.entries >= A2_CACHE_ENTRIES) {
    cache.byMethod.clear();
    cache.entries = 0;
    byUri = undefined;
  }
  // Copies: the uri read from a request holds its whole Authorization value (detach.ts).
  if (byUri === undefined) {
    byUri = new Map();
    cache.byMethod.set(detach(method), byUri);
  }
  byUri.set(detach(uri), ha2);
  cache.entries++;
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

/** How many H(A2) values are kept for `algorithm` (for tests of the bound). */
export function cachedA2Count(algorithm: AlgorithmInfo): number {
  return a2Caches.get(algorithm)?.entries ?? 0;
}
