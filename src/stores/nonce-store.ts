/**
 * Where Digest keeps the nonce counts (`nc`) it has seen, for replay detection (RFC 7616 §3.4,
 * `nc`; §5.5).
 * A shared store (Redis) answers with a promise; an in-process one may answer at once, which
 * spares the request a promise. A store fails by throwing or rejecting, and the caller fails closed.
 */
export interface NonceStore {
  /**
   * Records that `nc` was used with `nonce`. `true` when the count is new (accept), `false` when
   * it was seen before or lies below the window (replay: refuse); or a promise of either.
   *
   * @param nonce the nonce value as issued (unique per issue)
   * @param nc the nonce count, 1 or more
   * @param expiresAt when the nonce expires (ms since the epoch); the record may be dropped then
   * @param issuedAt when the nonce was issued (ms since the epoch), if known: a store that had to
   *   drop live records can tell a nonce issued since, which cannot have lost its counts
   */
  use(nonce: string, nc: number, expiresAt: number, issuedAt?: number): boolean | Promise<boolean>;
  /**
   * `true` when several processes keep their counts here (Redis). `digest()` then requires its
   * `secret`: with a random key per process, each would refuse the others' nonces.
   */
  readonly shared?: boolean | undefined;
}
