/**
 * Where Digest keeps the nonce counts (`nc`) it has seen, for replay detection (RFC 7616 §3.4.5).
 * Async so that a shared store (Redis) plugs in; every method must fail by rejecting, and the
 * caller fails closed.
 */
export interface NonceStore {
  /**
   * Records that `nc` was used with `nonce`. Resolves `true` when the count is new (accept),
   * `false` when it was seen before or lies below the window (replay: refuse).
   *
   * @param nonce the nonce value as issued (unique per issue)
   * @param nc the nonce count, 1 or more
   * @param expiresAt when the nonce expires (ms since the epoch); the record may be dropped then
   */
  use(nonce: string, nc: number, expiresAt: number): Promise<boolean>;
}
