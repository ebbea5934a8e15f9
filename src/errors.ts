/**
 * Error classes of authscheme. Every error has a stable `code` to switch on.
 *
 * Protocol failures (bad credentials, malformed headers) are `AuthschemeError`s; misuse at setup
 * (a bad realm, no schemes) throws a plain `TypeError`.
 */

/** The codes an {@link AuthschemeError} can carry. */
export type AuthErrorCode =
  | 'ERR_AUTH_HEADER_SYNTAX'
  | 'ERR_AUTH_MISSING_CREDENTIALS'
  | 'ERR_AUTH_INVALID_CREDENTIALS'
  | 'ERR_AUTH_DUPLICATE_HEADER'
  | 'ERR_AUTH_UNSUPPORTED_SCHEME'
  | 'ERR_AUTH_INVALID_REQUEST'
  | 'ERR_AUTH_STALE_NONCE'
  | 'ERR_AUTH_INSUFFICIENT_SCOPE'
  | 'ERR_AUTH_STORE_FAILURE'
  | 'ERR_AUTH_VERIFIER_TIMEOUT'
  | 'ERR_AUTH_VERIFIER_RESULT';

/** Base class of every error authscheme throws or hands to `next(err)` on purpose. */
export class AuthschemeError extends Error {
  readonly code: AuthErrorCode;

  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * Thrown by the header codec on malformed input. The message says what was wrong and at which
 * character; it never echoes the field value, which may hold secrets.
 */
export class AuthHeaderSyntaxError extends AuthschemeError {
  /** Index in the field value where scanning stopped. */
  readonly index: number;
  /** Short reason, e.g. `unterminated quoted-string`. */
  readonly reason: string;

  constructor(reason: string, index: number) {
    super('ERR_AUTH_HEADER_SYNTAX', `Invalid authentication header: ${reason} at index ${index}`);
    this.reason = reason;
    this.index = index;
  }
}

/**
 * A failed authentication, as the middleware answers it. Shaped like the errors of `http-errors`
 * (`status`, `statusCode`, `expose`, `headers`) so that Express's default error handler (via
 * finalhandler) sends the right status and challenges when the middleware is told to call
 * `next(err)` instead of responding itself.
 */
export class AuthenticationError extends AuthschemeError {
  readonly status: number;
  readonly statusCode: number;
  /** As in `http-errors`: the message is for the client below 500, not for a server error (503). */
  readonly expose: boolean;
  /** Response headers to send: the challenges, formatted, plus `Cache-Control`. */
  readonly headers: Record<string, string | string[]>;
  /** The scheme that failed, if a scheme was tried. */
  readonly scheme: string | undefined;
  /**
   * The user name the refused credentials claimed, when the scheme could read one (Basic's
   * user-id, Digest's `username`): the client's word, for logs and lockouts, not an identity.
   * On Bearer's 403 `insufficient_scope`, the user of the token, which verified; on Negotiate's
   * refusals after GSSAPI accepted the token, the principal.
   */
  readonly user: string | undefined;

  constructor(
    code: AuthErrorCode,
    message: string,
    init: {
      status: number;
      headers?: Record<string, string | string[]> | undefined;
      scheme?: string | undefined;
      user?: string | undefined;
      cause?: unknown;
    },
  ) {
    super(code, message, { cause: init.cause });
    this.status = init.status;
    this.statusCode = init.status;
    this.expose = init.status < 500;
    this.headers = init.headers ?? {};
    this.scheme = init.scheme;
    this.user = init.user;
  }
}

/**
 * What goes to `next(err)` when a scheme, a verifier, a hook or a body function throws (in
 * `authenticate()` and `requireScopes()`). `next()`, `next(null)`, `next(false)` and
 * `next('route')` all let the request go on (Express, Connect), so a thrown value that is not an
 * object is wrapped: a failure never lets a request through.
 */
export function asError(err: unknown): unknown {
  if ((typeof err === 'object' && err !== null) || typeof err === 'function') return err;
  return new AuthschemeError(
    'ERR_AUTH_VERIFIER_RESULT',
    'A scheme, verifier or hook threw a non-error',
    { cause: err },
  );
}
