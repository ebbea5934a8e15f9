/**
 * The Bearer scheme (RFC 6750): token location, verification through the user's callback, an
 * optional validation cache, required scopes and the §3 challenges.
 */
import { hash } from 'node:crypto';
import { AuthschemeError } from '../../errors';
import { isToken68 } from '../../header/grammar';
import type { Challenge, Credentials } from '../../header/types';
import type {
  AuthRequest,
  RequestContext,
  Scheme,
  SchemeFailure,
  SchemeSuccess,
  VerifyResult,
} from '../../scheme';
import { identityResult } from '../../scheme';
import type { CacheOptions } from '../../util/cache-options';
import { configuredCache, LruCache } from '../../util/lru-cache';
import { PerRealm } from '../../util/per-realm';
import { detach } from '../../util/detach';
import { SharedChecks } from '../../util/shared-checks';
import { isPromiseLike } from '../../util/promise';
import { checkRealm } from '../../util/realm';
import type { BearerErrorCode, BearerFailure } from './errors';
import { bearerFailure, checkErrorUri, isInvalidTokenError } from './errors';
import { locateToken } from './locate';
import type { CompiledScopes, ScopeRequirement } from './scopes';
import { compileScopes, hasScopes, normaliseScopes } from './scopes';
import { checkBooleanOptions, optionNames, rejectUnknownOptions } from '../../util/options';
import { nullObject } from '../../util/null-object';

/** The fields of an identity that `bearer()` reads itself, with the values it takes. */
interface BearerFields {
  /** The token's scopes: a space-separated string (a `scope` claim) or a list (`scp`). */
  scopes?: string | readonly string[] | undefined;
  /** When the token expires: a `Date` or ms since the epoch (not a JWT's `exp` in seconds). */
  expiresAt?: Date | number | undefined;
}

/**
 * What a {@link BearerVerify} returns: an `Identity` whose `scopes` and `expiresAt`, when
 * it has them, are of the types `bearer()` reads (another type is `next(err)` at run time).
 */
export type BearerIdentity =
  | string
  | ({ user: string } & BearerFields & Record<string, unknown>)
  | ({ readonly user: string } & Readonly<BearerFields>)
  | false
  | null
  | undefined;

/**
 * Checks a token. Returns the identity (a user name, or an object with `user` and optional
 * `scopes`, `expiresAt` and other fields that land on `req.auth`), or `false`/`null`/`undefined`
 * to refuse. Throw an `InvalidTokenError` to refuse with a description; any other throw or
 * rejection goes to `next(err)`. Method syntax, so that `req` may be declared as the framework's
 * request: see {@link AuthRequest}.
 */
export type BearerVerify = {
  verify(token: string, req: AuthRequest): BearerIdentity | Promise<BearerIdentity>;
}['verify'];

/** Options of the validation cache. An entry never outlives the token's own `expiresAt`. */
export interface BearerCacheOptions extends CacheOptions {
  /**
   * How long a token the verifier refused (`invalid_token`: it returned `false`, threw an
   * `InvalidTokenError`, or gave an `expiresAt` already past) is refused again without asking it,
   * in ms; at most `max` such tokens, apart from the successes. Default 0: every refusal reaches
   * the verifier. Spares an introspection endpoint or a database a client that retries a revoked
   * token in a loop; a token refused by mistake (an authorization server's replica that has not
   * seen it yet) stays refused that long. Kept per token, whatever the request: not for a
   * verifier that refuses by the request it is given (address, host, path).
   */
  refusedMaxAge?: number | undefined;
}

/** Options of {@link bearer}. */
export interface BearerOptions {
  /** The token check; see {@link BearerVerify}. */
  verify: BearerVerify;
  /** The challenge's realm; default the one `authenticate()` is given (else `"Restricted"`). */
  realm?: string | undefined;
  /**
   * Scopes every request through this scheme needs: a list (all of them), `{ allOf }` or
   * `{ anyOf }`. Missing ones are answered 403 `error="insufficient_scope"`; every challenge
   * names them in `scope` (RFC 6750 §3).
   */
  requiredScopes?: ScopeRequirement | undefined;
  /** Accept `access_token` from a form-encoded body (RFC 6750 §2.2). Default `false`. */
  allowFormToken?: boolean | undefined;
  /**
   * Accept `access_token` from the URI query (RFC 6750 §2.3), and mark such responses
   * `Cache-Control: private`. Default `false`: tokens in URLs end up in logs and `Referer`.
   */
  allowQueryToken?: boolean | undefined;
  /** `error_uri` sent with every error challenge (RFC 6750 §3): a page explaining the errors. */
  errorUri?: string | undefined;
  /**
   * Reuse successful validations of the same token: `true` for the defaults or
   * {@link BearerCacheOptions}. Default off. A revoked token stays accepted until its entry
   * expires (at most `maxAge`); the verifier is not called again, nor given that request.
   * Refusals are kept only with `refusedMaxAge`.
   */
  cache?: boolean | BearerCacheOptions | undefined;
}

/** Every option of {@link bearer}. */
export const BEARER_OPTION_NAMES = optionNames<BearerOptions>()([
  'verify',
  'realm',
  'requiredScopes',
  'allowFormToken',
  'allowQueryToken',
  'errorUri',
  'cache',
]);

/** The success reused for a token, with its normalised scopes. */
interface Verified {
  success: SchemeSuccess;
  scopes: readonly string[];
  /** The token's expiry, ms since the epoch (Infinity when the verifier gave none). */
  expiresAt: number;
}

/** 1e11 ms is March 1973; 1e11 s is the year 5138. */
const SECONDS_NOT_MS = 1e11;

/** `expiresAt` from a verifier: a `Date` or ms since the epoch. */
function expiryOf(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const time = value instanceof Date ? value.getTime() : value;
  if (typeof time !== 'number' || Number.isNaN(time)) {
    throw new AuthschemeError(
      'ERR_AUTH_VERIFIER_RESULT',
      'bearer: a verifier’s expiresAt must be a Date or a number of ms since the epoch',
    );
  }
  // A JWT's or introspection's `exp` passed on as is counts seconds: every token would read as
  // expired in 1970. A number that is a future time in seconds is taken for that mistake; other
  // small ones (0 for "expired") are past times, as they say.
  if (time < SECONDS_NOT_MS && time * 1000 > Date.now()) {
    throw new AuthschemeError(
      'ERR_AUTH_VERIFIER_RESULT',
      'bearer: a verifier’s expiresAt looks like seconds since the epoch; give ms (exp * 1000)',
    );
  }
  return time;
}

/** The RFC 6750 error a failure stands for, when it did not come from this module. */
function errorOf(failure: SchemeFailure): BearerErrorCode | undefined {
  const own = (failure as BearerFailure).bearerError;
  if (own !== undefined) return own;
  switch (failure.code) {
    case 'ERR_AUTH_MISSING_CREDENTIALS':
      return undefined;
    case 'ERR_AUTH_INSUFFICIENT_SCOPE':
      return 'insufficient_scope';
    case 'ERR_AUTH_HEADER_SYNTAX':
    case 'ERR_AUTH_DUPLICATE_HEADER':
    case 'ERR_AUTH_INVALID_REQUEST':
      return 'invalid_request';
    default:
      return 'invalid_token';
  }
}

/**
 * The Bearer scheme of RFC 6750, for `authenticate()`.
 *
 * Statuses and challenges (RFC 6750 §3.1): no token → 401 with no `error`; a token that the
 * verifier refuses → 401 `error="invalid_token"`; a malformed request (no token after `Bearer`,
 * a token outside b64token syntax, a token in two places) → 400 `error="invalid_request"`; a
 * token without the required scopes → 403 `error="insufficient_scope"` with `scope`.
 *
 * @example
 * app.use(authenticate({ realm: 'api', schemes: [bearer({
 *   verify: async (token) => {
 *     const row = await db.tokens.find(token);
 *     return row ? { user: row.user, scopes: row.scopes } : false;
 *   },
 *   requiredScopes: ['read'],
 * })] }));
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750
 */
export function bearer(options: BearerOptions): Scheme {
  if (typeof options !== 'object' || options === null || typeof options.verify !== 'function') {
    throw new TypeError(
      'bearer: options.verify must be a function (token, req) => identity | false',
    );
  }
  rejectUnknownOptions('bearer', options, BEARER_OPTION_NAMES);
  checkBooleanOptions('bearer', options, ['allowFormToken', 'allowQueryToken']);
  const verifyToken = options.verify;
  const realm = options.realm === undefined ? undefined : checkRealm('bearer', options.realm);
  const requiredScopes: unknown = options.requiredScopes;
  if (
    typeof requiredScopes === 'object' &&
    requiredScopes !== null &&
    !Array.isArray(requiredScopes)
  ) {
    // realm or errorUri copied from a requireScopes() spec would be ignored here in silence.
    rejectUnknownOptions('bearer: requiredScopes', requiredScopes, SCOPE_KEYS);
  }
  const required: CompiledScopes | undefined =
    options.requiredScopes === undefined
      ? undefined
      : compileScopes(options.requiredScopes, 'bearer: requiredScopes');
  const errorUri =
    options.errorUri === undefined ? undefined : checkErrorUri(options.errorUri, 'bearer');
  const places = { form: options.allowFormToken === true, query: options.allowQueryToken === true };
  const configured = configuredCache<Verified>('bearer', options.cache, BEARER_CACHE_OPTION_NAMES);
  const cache = configured?.cache;
  const cacheMaxAge = configured?.maxAge ?? 0;
  const refusedMaxAge = refusedMaxAgeOf(options.cache);
  /** Refused tokens' failures, apart: a flood of bad tokens evicts no success. */
  const refusals =
    cache !== undefined && refusedMaxAge > 0 ? new LruCache<BearerFailure>(cache.max) : undefined;

  /** The refusal of a token the verifier refused, kept with the cache's `refusedMaxAge`. */
  function invalidToken(
    key: string | undefined,
    description: string | undefined,
    started: number,
    current: boolean,
  ): BearerFailure {
    const failure = bearerFailure('invalid_token', description);
    if (refusals !== undefined && key !== undefined && current) {
      // A newer check refused what an older one accepted (revoked in between): the refusal wins.
      cache?.delete(key);
      // The whole failure, so that `audit` and the AuthenticationError get the verifier's message
      // again, not the challenge's sanitised description; one too long to hold is not kept.
      if (failure.message.length <= MAX_KEPT_MESSAGE) {
        // (A copy of the message: a slice of a larger string would keep all of it, detach.ts.)
        refusals.set(
          key,
          { ...failure, message: detach(failure.message) },
          started + refusedMaxAge,
        );
      }
    }
    return failure;
  }

  function grant(verified: Verified): VerifyResult {
    if (required !== undefined && !hasScopes(verified.scopes, required)) {
      // The token verified: the user it names is known, for audit and the AuthenticationError.
      const failure = bearerFailure(
        'insufficient_scope',
        'The access token lacks the required scope',
      );
      failure.user = verified.success.user;
      return failure;
    }
    return verified.success;
  }

  /**
   * A verifier's throw: `InvalidTokenError` refuses with its description; anything else (a store
   * failure, never kept) is rethrown.
   */
  function refused(
    key: string | undefined,
    error: unknown,
    started: number,
    current: boolean,
  ): BearerFailure {
    if (isInvalidTokenError(error)) return invalidToken(key, error.message, started, current);
    throw error;
  }

  /** `realm` and `scope` (RFC 6750 §3), the parameters every challenge has. */
  function challengeParams(forRealm: string): Record<string, string> {
    const params = nullObject<string>();
    params['realm'] = forRealm;
    if (required !== undefined) params['scope'] = required.challengeValue;
    return params;
  }
  /** Frozen: formatChallengeCached formats a frozen challenge once. */
  const plainChallenges = new PerRealm<Challenge[]>((forRealm) => [
    Object.freeze({ scheme: 'Bearer', params: Object.freeze(challengeParams(forRealm)) }),
  ]);

  /** Checks under way, by cache key: only with the cache, whose reuse of results they extend. */
  const checking = new SharedChecks<VerifyResult>();

  /**
   * Turns what the verifier returned into a result. A success is cached under `key` by a check
   * that is still `current` (see SharedChecks), for `maxAge` from `started`, when it was asked.
   */
  function settle(
    key: string | undefined,
    value: unknown,
    started: number,
    current: boolean,
  ): VerifyResult {
    const result = identityResult(value);
    if (!result.ok) return invalidToken(key, undefined, started, current);
    // A bare user name (the common case) shares one frozen empty scope list.
    const details: Record<string, unknown> = result.details ?? { scopes: NO_SCOPES };
    const scopes =
      details['scopes'] === NO_SCOPES
        ? NO_SCOPES
        : Object.freeze(normaliseScopes(details['scopes']));
    details['scopes'] = scopes;
    const expiresAt = expiryOf(details['expiresAt']) ?? Number.POSITIVE_INFINITY;
    // The clock is read only for a token that expires (a call into V8's runtime otherwise spent
    // on every request a validator without expiry answers).
    const now = expiresAt === Number.POSITIVE_INFINITY ? 0 : Date.now();
    if (expiresAt <= now) {
      return invalidToken(key, 'The access token expired', started, current);
    }
    const verified: Verified = {
      success: { ok: true, user: result.user, details },
      scopes,
      expiresAt,
    };
    if (cache !== undefined && key !== undefined && current) {
      // maxAge on the monotonic clock (a wall clock set back would stretch it); the token's own
      // expiry, a wall-clock time, is checked against the wall clock on every hit as well.
      const until = Math.min(started + cacheMaxAge, performance.now() + (expiresAt - now));
      cache.set(key, verified, until);
    }
    return grant(verified);
  }

  return {
    name: 'Bearer',

    challenges(ctx: RequestContext, failure?: SchemeFailure): Challenge[] {
      const error = failure === undefined ? undefined : errorOf(failure);
      // No error (no credentials sent): the same challenge every time, kept.
      if (error === undefined) return plainChallenges.get(realm ?? ctx.realm);
      const params = challengeParams(realm ?? ctx.realm);
      params['error'] = error;
      const description = (failure as BearerFailure).bearerErrorDescription;
      if (description !== undefined) params['error_description'] = description;
      if (errorUri !== undefined) params['error_uri'] = errorUri;
      return [{ scheme: 'Bearer', params }];
    },

    // Only with a second place enabled: otherwise the header is the one place to look.
    ...(places.form || places.query
      ? {
          locate: (ctx: RequestContext, fromHeader: Credentials | undefined) =>
            locateToken(ctx, fromHeader, places),
        }
      : {}),

    verify(credentials: Credentials, ctx: RequestContext): VerifyResult | Promise<VerifyResult> {
      // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; no token or auth-params is malformed.
      const token = credentials.token68;
      if (token === undefined || hasAnyKey(credentials.params)) {
        return bearerFailure('invalid_request', 'The Bearer credentials must be one token');
      }
      // A cached token passed the syntax check below when it was first verified: on a hit the
      // scan (the length of a JWT) is not repeated.
      let key: string | undefined;
      let started = 0;
      if (cache !== undefined) {
        key = cacheKey(token);
        started = performance.now();
        const hit = cache.get(key, started);
        if (hit !== undefined && hit.expiresAt > Date.now()) return grant(hit);
        const refusal = refusals?.get(key, started);
        // A copy: what the middleware adds to a failure stays with its request.
        if (refusal !== undefined) return { ...refusal };
        // A burst of requests with a new token waits for one check (one introspection call),
        // but not for long: a check that hangs must not hold the token up for good.
        const pending = checking.join(key, started);
        if (pending !== undefined) return pending;
      }
      if (!isToken68(token))
        return bearerFailure('invalid_request', 'The access token is malformed');
      // A synchronous verifier is answered synchronously: no promise, no deadline to arm.
      let value: unknown;
      try {
        value = verifyToken(token, ctx.req);
      } catch (error) {
        return refused(key, error, started, true);
      }
      if (!isPromiseLike(value)) return settle(key, value, started, true);
      if (key === undefined) {
        return Promise.resolve(value).then(
          (resolved) => settle(key, resolved, 0, false),
          (error: unknown) => refused(key, error, 0, false),
        );
      }
      return checking.share(
        key,
        started,
        value,
        (resolved, current) => settle(key, resolved, started, current),
        (error, current) => refused(key, error, started, current),
      );
    },
  };
}

const NO_SCOPES: readonly string[] = Object.freeze([]);
/** Longest verifier message a kept refusal holds (`refusedMaxAge`): the table stays bounded. */
const MAX_KEPT_MESSAGE = 1000;
const BEARER_CACHE_OPTION_NAMES = optionNames<BearerCacheOptions>()([
  'max',
  'maxAge',
  'refusedMaxAge',
]);

/** `cache.refusedMaxAge`, checked (configuredCache has checked the rest); 0 when not given. */
function refusedMaxAgeOf(option: unknown): number {
  if (typeof option !== 'object' || option === null) return 0;
  const value = (option as BearerCacheOptions).refusedMaxAge;
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError('bearer: cache.refusedMaxAge must be a non-negative integer (ms)');
  }
  return value;
}
const SCOPE_KEYS: ReadonlySet<string> = new Set(['allOf', 'anyOf']);

/** Whether an object has any own enumerable key; unlike Object.keys(), allocates nothing. */
function hasAnyKey(object: object): boolean {
  for (const key in object) if (Object.hasOwn(object, key)) return true;
  return false;
}

/** The cache holds digests, not tokens, so a heap dump does not leak usable credentials. */
function cacheKey(token: string): string {
  return hash('sha256', token, 'base64');
}
