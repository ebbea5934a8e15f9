/**
 * RFC 6750 §3.1 error codes, the failures that carry them, and the error a verifier throws to
 * refuse a token with a description.
 */
import type { AuthErrorCode } from '../../errors';
import { AuthschemeError } from '../../errors';
import type { SchemeFailure } from '../../scheme';
import { hexValue, PERCENT, URI_CHAR } from '../../header/grammar';

/** The `error` values of RFC 6750 §3.1. */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/** A Bearer refusal: a {@link SchemeFailure} plus what the challenge needs (RFC 6750 §3). */
export interface BearerFailure extends SchemeFailure {
  /** The `error` parameter; absent when the request carried no token at all (RFC 6750 §3.1). */
  bearerError?: BearerErrorCode | undefined;
  /** The `error_description` parameter, already restricted to the characters RFC 6750 allows. */
  bearerErrorDescription?: string | undefined;
}

// invalid_token keeps the default status, so that proxy mode turns it into 407.
const STATUS: Record<BearerErrorCode, 400 | 403 | undefined> = {
  invalid_request: 400,
  invalid_token: undefined,
  insufficient_scope: 403,
};

const CODE: Record<BearerErrorCode, AuthErrorCode> = {
  invalid_request: 'ERR_AUTH_INVALID_REQUEST',
  invalid_token: 'ERR_AUTH_INVALID_CREDENTIALS',
  insufficient_scope: 'ERR_AUTH_INSUFFICIENT_SCOPE',
};

/** Longest `error_description` sent; a verifier's message beyond this is cut. */
export const MAX_DESCRIPTION_LENGTH = 200;

/** A failure with the status RFC 6750 §3.1 gives `error`. */
export function bearerFailure(error: BearerErrorCode, description?: string): BearerFailure {
  const failure: BearerFailure = {
    ok: false,
    code: CODE[error],
    message: description ?? error,
    bearerError: error,
  };
  const status = STATUS[error];
  if (status !== undefined) failure.status = status;
  const sanitised = description === undefined ? '' : sanitiseDescription(description);
  if (sanitised !== '') failure.bearerErrorDescription = sanitised;
  return failure;
}

/**
 * RFC 6750 §3: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E ). A quote becomes `'`, a
 * backslash `/`, anything else outside the set (controls, non-ASCII) `?`, so a verifier's message
 * can never break the header nor trip the codec.
 */
export function sanitiseDescription(text: string): string {
  const length = Math.min(text.length, MAX_DESCRIPTION_LENGTH);
  let out = '';
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) out += "'";
    else if (code === 0x5c) out += '/';
    else if (code >= 0x20 && code <= 0x7e) out += text[i];
    else out += '?';
  }
  return out.trim();
}

/** RFC 6750 §3: true when every character of `value` is in %x21 / %x23-5B / %x5D-7E. */
export function isNqchar(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x21 || code > 0x7e || code === 0x22 || code === 0x5c) return false;
  }
  return true;
}

/**
 * An `error_uri` for the challenge, checked at setup: RFC 6750 §3 wants a URI of its restricted
 * characters (error-uri = *( %x21 / %x23-5B / %x5D-7E )) for a web page about the error, so an
 * absolute http(s) URI of the characters RFC 3986 allows: whole percent-escapes, one fragment at
 * most, brackets only around an IPv6 host.
 */
export function checkErrorUri(value: unknown, what: string): string {
  if (typeof value !== 'string' || !isNqchar(value) || !isHttpUri(value)) {
    throw new TypeError(
      `${what}: errorUri must be an absolute http(s) URI (RFC 3986: printable ASCII without space, quote, backslash, <, >, ^, \`, {, |, }; whole %-escapes)`,
    );
  }
  return value;
}

function isHttpUri(value: string): boolean {
  const parts = /^https?:\/\/[^/?#]+(.*)$/is.exec(value);
  if (parts === null || !URL.canParse(value)) return false;
  // After the authority: no brackets (IPv6 hosts only), one fragment at most.
  const rest = parts[1]!;
  if (/[[\]]/.test(rest) || rest.indexOf('#') !== rest.lastIndexOf('#')) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (URI_CHAR[code] !== 1) return false;
    if (
      code === PERCENT &&
      (hexValue(value.charCodeAt(i + 1)) < 0 || hexValue(value.charCodeAt(i + 2)) < 0)
    ) {
      return false;
    }
  }
  return true;
}

const BRAND = Symbol.for('authscheme.InvalidTokenError');

/**
 * Thrown by a token verifier to refuse a token with a reason: the client gets 401
 * `error="invalid_token"` and `error_description` set to the message (restricted to printable
 * ASCII, RFC 6750 §3). Any other error a verifier throws goes to `next(err)`.
 *
 * @example
 * bearer({
 *   verify: (token) => {
 *     const session = sessions.get(token);
 *     if (session && session.expires < Date.now()) throw new InvalidTokenError('The access token expired');
 *     return session?.user ?? false;
 *   },
 * });
 */
export class InvalidTokenError extends AuthschemeError {
  /** Brand that survives two copies of the package (ESM and CommonJS) in one process. */
  readonly [BRAND] = true;

  constructor(description = 'The access token is invalid', options?: { cause?: unknown }) {
    super('ERR_AUTH_INVALID_CREDENTIALS', description, options);
  }
}

/** True for an {@link InvalidTokenError}, from this copy of the package or another. */
export function isInvalidTokenError(value: unknown): value is InvalidTokenError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[BRAND] === true &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}
