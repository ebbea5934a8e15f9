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
      ? hashWire(algorithm, method, directives.uri)
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

/** Constant-time comparison of two lower-case hex digests of the same algorithm. */
export function digestsEqual(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(received, 'latin1');
  // Lengths were checked when the directives were read; a mismatch here is refused all the same.
  return a.length === b.length && timingSafeEqual(a, b);
}
