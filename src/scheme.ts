/**
 * The contract between the `authenticate()` middleware and a scheme verifier (Basic, Digest,
 * Bearer, …). A scheme knows its wire name, what it challenges with and how to check credentials;
 * the middleware owns everything else (which header, parsing, status codes, challenge order,
 * `Cache-Control`, errors).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthErrorCode } from './errors';
import { AuthschemeError } from './errors';
import type { Challenge, Credentials } from './header/types';
import { isPromiseLike } from './util/promise';
import { nullObject } from './util/null-object';

/**
 * A request as Express, Connect or plain `node:http` hands it over.
 *
 * The callbacks given the request (`audit`, `verify`, `getHA1`, …) are typed with method syntax,
 * `{ verify(…, req: AuthRequest): … }['verify']`, whose parameters TypeScript compares both ways
 * even under `strictFunctionTypes`: a callback may declare `req` as the framework's request
 * (`express.Request`), which it is at run time there. An arrow function property would admit only
 * `AuthRequest` or wider. Return types are checked as usual.
 */
export type AuthRequest = IncomingMessage & {
  originalUrl?: string | undefined;
  body?: unknown;
  auth?: AuthInfo | undefined;
};

/** What a successful authentication puts on `req.auth`. */
export interface AuthInfo {
  /** The scheme's name as the server spells it, e.g. `Basic`. */
  scheme: string;
  /** The authenticated user. */
  user: string;
  /** Scheme- or verifier-specific details (e.g. `scopes`, `claims`). */
  [detail: string]: unknown;
}

/** Per-request context the middleware hands to a scheme. */
export interface RequestContext {
  req: AuthRequest;
  res: ServerResponse;
  /**
   * The `authenticate()` realm (default `"Restricted"`); a scheme with a realm of its own applies
   * that itself.
   */
  realm: string;
  /** Proxy mode: `Proxy-Authorization` in, `407` and `Proxy-Authenticate` out. */
  proxy: boolean;
  /** The request method as the client sent it. */
  method: string;
  /**
   * The request target as the client sent it (`req.originalUrl` under Express and Connect, else
   * `req.url`; for a CONNECT on node:http2, which has no :path, its `:authority`).
   */
  url: string;
  /**
   * The `Cache-Control` that `authenticate()` puts on authenticated responses the application has
   * not marked itself (its `cacheControl` option), or `false` for none.
   */
  cacheControl?: string | false | undefined;
}

/** A refusal. The middleware turns it into 400, 401/407 or 403 with challenges. */
export interface SchemeFailure {
  ok: false;
  code: AuthErrorCode;
  /** Why, for logs and `next(err)`. Never contains a secret. */
  message: string;
  /** 400 or 403 where the scheme's RFC says so; default 401 (407 in proxy mode). */
  status?: 400 | 401 | 403 | undefined;
  /**
   * The credentials were made for another protection space (a Digest response to another realm's
   * challenge, or to another `digest()`'s): an `authenticate()` with `credentialsRequired: false`
   * lets the request through unauthenticated, for the middleware they were made for, instead of
   * refusing it.
   */
  foreign?: boolean | undefined;
  /**
   * The user name the credentials claimed, when the scheme could read one: reported to `audit`
   * and on the `AuthenticationError`, never an identity. Never a secret.
   */
  user?: string | undefined;
}

/** An acceptance. */
export interface SchemeSuccess {
  ok: true;
  user: string;
  /** Copied onto `req.auth` beside `scheme` and `user`. */
  details?: Record<string, unknown> | undefined;
  /**
   * Response headers to set, e.g. `Authentication-Info` (RFC 7615); each replaces one of the
   * same name set before, but `Set-Cookie`, which goes beside the cookies set before (in place
   * of one with the same cookie-name, RFC 6265 §4.1.1), and `Vary`, whose names are added to
   * those set before (an app's or `cors()`'s `Origin` stays, RFC 9110 §12.5.5). A name that is
   * no token, a value that is no string or that a field cannot carry (CR, LF, another control
   * but HTAB, above U+00FF), and on HTTP/2 a connection-specific field (RFC 9113 §8.2.2), fails
   * the request closed (`ERR_AUTH_VERIFIER_RESULT`), none of them set: a header set before keeps
   * its value.
   */
  headers?: Record<string, string> | undefined;
}

export type VerifyResult = SchemeSuccess | SchemeFailure;

/** Setup-time facts a scheme may validate itself against. */
export interface SchemeSetup {
  realm: string;
  proxy: boolean;
}

/**
 * A scheme verifier. Implement this to plug a new scheme into `authenticate()`.
 *
 * @example
 * const key = process.env.KEY;
 * // Unset, it would be `undefined`, as the token68 of a bare `Authorization: ApiKey` is.
 * if (!key) throw new Error('KEY is not set');
 * const apiKey: Scheme = {
 *   name: 'ApiKey',
 *   challenges: (ctx) => [{ scheme: 'ApiKey', params: { realm: ctx.realm } }],
 *   verify: (credentials) =>
 *     credentials.token68 !== undefined && safeCompare(credentials.token68, key)
 *       ? { ok: true, user: 'service' }
 *       : refuse(),
 * };
 */
export interface Scheme {
  /** The wire name, spelled as it is sent in challenges; matched case-insensitively. */
  readonly name: string;
  /**
   * The challenges this scheme sends (Digest may send one per algorithm). `failure` is this
   * scheme's own refusal when it was the scheme that was tried, so that it can add parameters
   * such as `stale=true` or `error="invalid_token"`. A challenge frozen with frozen, plain-data
   * `params` is formatted once and its line reused; one with getters is formatted every time.
   */
  challenges(ctx: RequestContext, failure?: SchemeFailure): Challenge[] | Promise<Challenge[]>;
  /** Checks credentials that named this scheme. Throwing or rejecting means `next(err)`. */
  verify(credentials: Credentials, ctx: RequestContext): VerifyResult | Promise<VerifyResult>;
  /**
   * Optional: finds credentials outside the authorization header (RFC 6750 §2.2, §2.3). Called
   * on every request with what the header held for this scheme (if anything). Returns the
   * credentials to verify, `undefined` for none, or a failure (e.g. a token in two places). A
   * failure with code `ERR_AUTH_MISSING_CREDENTIALS` means none, and why (Bearer's: a form body
   * that was never parsed): its message replaces "No credentials were sent" when no credentials
   * are found anywhere, and it refuses nothing by itself.
   * `authenticate({ proxy: true })` refuses a scheme that has one: a proxy's request target and
   * body are the origin's. Synchronous: a promise it returns fails the request closed
   * (`ERR_AUTH_VERIFIER_RESULT`).
   */
  locate?(
    ctx: RequestContext,
    fromHeader: Credentials | undefined,
  ): Credentials | SchemeFailure | undefined;
  /**
   * Optional: called once by `authenticate()`; throws `TypeError` on a configuration error.
   * Synchronous: one that returns a promise makes `authenticate()` throw a `TypeError`.
   */
  setup?(setup: SchemeSetup): void;
}

/** A refusal with the default status (401, or 407 in proxy mode). */
export function refuse(
  message = 'Invalid credentials',
  code: AuthErrorCode = 'ERR_AUTH_INVALID_CREDENTIALS',
): SchemeFailure {
  return { ok: false, code, message };
}

/**
 * What a user's verifier callback may return: the user name, an object with a `user` field (its
 * other own enumerable fields land on `req.auth`), or `false`/`null`/`undefined` for "refused".
 * The object may be typed by an interface or a class of the application (a database row): the
 * second member admits what has no index signature.
 *
 * An async verifier whose only answer is `false` (`async () => false`, a stub that refuses all)
 * does not compile: TypeScript types it `Promise<boolean>`, as it keeps a lone `false` literal in
 * an async function only where the expected return type is a promise, not a union with one.
 * Write `async () => false as const`. One that may also return a name or an object compiles.
 */
export type Identity =
  | string
  | ({ user: string } & Record<string, unknown>)
  | { readonly user: string }
  | false
  | null
  | undefined;

/**
 * Turns a verifier's return value into a result. Anything that is not a documented identity
 * (`true`, a number, an object without a string `user`) is a programming error and throws, so the
 * middleware calls `next(err)` and never authenticates.
 */
export function identityResult(value: unknown): SchemeSuccess | SchemeFailure {
  if (value === false || value === null || value === undefined) return refuse();
  if (typeof value === 'string' && value !== '') return { ok: true, user: value };
  if (typeof value === 'object' && !Array.isArray(value)) {
    const user = (value as { user?: unknown }).user;
    if (typeof user === 'string' && user !== '') {
      const details = nullObject<unknown>();
      for (const key of Object.keys(value)) {
        if (key !== 'user' && key !== 'scheme')
          details[key] = (value as Record<string, unknown>)[key];
      }
      return { ok: true, user, details };
    }
  }
  // `{ user: lookup(name) }` with an async lookup not awaited.
  const pending =
    typeof value === 'object' && isPromiseLike((value as { user?: unknown }).user)
      ? ' (its `user` is a promise: await it first)'
      : '';
  throw new AuthschemeError(
    'ERR_AUTH_VERIFIER_RESULT',
    'A verifier must return a non-empty user name, an object with a non-empty string `user`, ' +
      `or false/null/undefined${pending}`,
  );
}
