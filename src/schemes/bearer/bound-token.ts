/**
 * Sender-constrained access tokens. A token bound to a key (the `cnf` claim of RFC 7800: DPoP's
 * `jkt`, RFC 9449; mutual TLS's `x5t#S256`, RFC 8705) is only worth something together with
 * proof that the client holds that key, and a Bearer request carries no such proof. Presented as
 * a Bearer token, it is what someone who copied a DPoP or mTLS-bound token would send, so it is
 * refused (RFC 9449 §7.2 asks this of resources that take both schemes; we take Bearer only, and
 * accepting it would undo the binding).
 */
import { InvalidTokenError } from './errors';

/** Option shared by the verifiers that read token claims (`jwtVerifier`, `introspection`). */
export interface BoundTokenOptions {
  /**
   * Accept tokens bound to a key (a `cnf` claim, RFC 7800) although the request proves no
   * possession of it. Only for a server behind something that checks the binding itself, e.g. a
   * TLS-terminating proxy that enforces RFC 8705's certificate binding. Default `false`.
   */
  allowBoundTokens?: boolean | undefined;
}

/** Throws `invalid_token` when the claims bind the token to a key, unless allowed. */
export function refuseBoundToken(
  claims: Record<string, unknown>,
  options: BoundTokenOptions,
): void {
  if (options.allowBoundTokens !== true && claims['cnf'] !== undefined) {
    throw new InvalidTokenError(
      'The access token is bound to a key (cnf); a Bearer request cannot prove possession of it',
    );
  }
}
