/**
 * `requireScopes(...)`: a per-route scope check after `authenticate()` (RFC 6750 §3.1
 * `insufficient_scope`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { AuthenticationError, asError } from '../../errors';
import { formatChallenge } from '../../header';
import type { AuthenticateOptions } from '../../middleware/authenticate';
import { inProxyMode, letThroughAsPreflight, letThroughReason } from '../../middleware/let-through';
import { removeRepresentationFields, statusText } from '../../middleware/respond';
import type { AuthInfo, AuthRequest } from '../../scheme';
import { ignoreRejection } from '../../util/promise';
import { checkRealm } from '../../util/realm';
import type { BearerErrorCode } from './errors';
import { checkErrorUri } from './errors';
import type { CompiledScopes, ScopeRequirement } from './scopes';
import { compileScopes, hasScopes, normaliseScopes } from './scopes';
import { optionNames, rejectRequestAsOptions, rejectUnknownOptions } from '../../util/options';
import { nullObject } from '../../util/null-object';

/** Options of {@link requireScopes} besides the scopes themselves. */
export interface RequireScopesOptions {
  /** The challenge's realm. Default `"Restricted"`, the default of `authenticate()`. */
  realm?: string | undefined;
  /** `error_uri` sent with the 403 challenge (RFC 6750 §3). */
  errorUri?: string | undefined;
  /**
   * `'respond'` (default) answers 401/403 itself; `'next'` hands an {@link AuthenticationError}
   * (status, challenge in `headers`) to `next(err)`, as `authenticate()`'s option of that name
   * does: pass the same value as your `authenticate()`. A refusal on a response that went out
   * already (a middleware before answered and still called `next()`) goes to `next(err)` either way.
   */
  onFailure?: 'respond' | 'next' | undefined;
  /**
   * Called once per refusal (`outcome: 'refused'`, `code` `ERR_AUTH_INSUFFICIENT_SCOPE` with the
   * user, or `ERR_AUTH_MISSING_CREDENTIALS` without `req.auth`), as `authenticate()`'s `audit`
   * is; a request let through is not reported again (its `authenticate()` reported the success).
   * As there, a hook that throws fails the request (`next(err)`); a rejection is ignored.
   */
  audit?: AuthenticateOptions['audit'];
}

/** The scopes (`allOf` or `anyOf`) plus {@link RequireScopesOptions}. */
export type RequireScopesSpec =
  | ({ readonly allOf: readonly string[]; readonly anyOf?: undefined } & RequireScopesOptions)
  | ({ readonly anyOf: readonly string[]; readonly allOf?: undefined } & RequireScopesOptions);

const SPEC_NAMES: ReadonlySet<string> = new Set([
  'allOf',
  'anyOf',
  ...optionNames<RequireScopesOptions>()(['realm', 'errorUri', 'onFailure', 'audit']),
]);

const DEFAULT_REALM = 'Restricted';

/** A Connect/Express middleware; on `node:http2`'s compatibility API too, like `authenticate()`. */
export interface ScopeMiddleware {
  (
    req: IncomingMessage & { auth?: AuthInfo | undefined },
    res: ServerResponse,
    next: (err?: unknown) => void,
  ): void;
  (
    req: Http2ServerRequest & { auth?: AuthInfo | undefined },
    res: Http2ServerResponse,
    next: (err?: unknown) => void,
  ): void;
}

/**
 * Refuses requests whose `req.auth` lacks the scopes: 403 with `WWW-Authenticate: Bearer …,
 * scope="…", error="insufficient_scope"`. Without `req.auth` (no `authenticate()` ran, or it let
 * the request through unauthenticated) it answers 401 with a Bearer challenge without `error`
 * (`realm` and `scope`, RFC 6750 §3.1); a CORS preflight that `authenticate({ allowPreflight:
 * true })` let through passes. After `authenticate({ proxy: true })` it answers 407 and 403 with
 * `Proxy-Authenticate`.
 *
 * - `requireScopes('read', 'write')` or `requireScopes(['read', 'write'])`: all of them.
 * - `requireScopes({ anyOf: ['read', 'admin'] })`: at least one. `{ allOf: [...] }` also works.
 *
 * The scopes come from `req.auth.scopes` (a list, or a space-separated string).
 *
 * @example
 * app.get('/orders', authenticate({ schemes: [bearer({ verify })] }), requireScopes('orders:read'), handler);
 */
export function requireScopes(...scopes: string[]): ScopeMiddleware;
/**
 * `requireScopes(['read', 'write'])`, `requireScopes({ anyOf: ['read', 'admin'], realm })`: one
 * list or spec (or a value that is either, such as a `ScopeRequirement`); see the first signature.
 */
export function requireScopes(
  requirement: string | ScopeRequirement | RequireScopesSpec,
): ScopeMiddleware;
// One list or spec, or names only: a list or spec beside more arguments is a TypeError at setup
// (a scope after it would be dropped in silence), so no overload takes one.
export function requireScopes(
  ...args: Array<string | readonly string[] | RequireScopesSpec>
): ScopeMiddleware {
  let requirement: ScopeRequirement;
  let settings: RequireScopesOptions = {};
  const [first] = args;
  rejectRequestAsOptions('requireScopes', first, "app.use(requireScopes('scope'))");
  if (args.length === 1 && Array.isArray(first)) {
    requirement = first as readonly string[];
  } else if (args.length === 1 && typeof first === 'object' && first !== null) {
    if (Object.hasOwn(first, 'proxy')) {
      throw new TypeError(
        'requireScopes: there is no `proxy` option: it answers in the field of the ' +
          'authenticate() before it (Proxy-Authenticate after authenticate({ proxy: true }))',
      );
    }
    rejectUnknownOptions('requireScopes', first, SPEC_NAMES);
    requirement = first;
    settings = first as RequireScopesSpec;
  } else if (args.every((arg) => typeof arg === 'string')) {
    requirement = args;
  } else {
    throw new TypeError('requireScopes: expected scope names, a list, { allOf } or { anyOf }');
  }
  const required: CompiledScopes = compileScopes(requirement, 'requireScopes');
  const realm =
    settings.realm === undefined ? DEFAULT_REALM : checkRealm('requireScopes', settings.realm);
  if (settings.errorUri !== undefined) checkErrorUri(settings.errorUri, 'requireScopes');
  const onFailure = settings.onFailure ?? 'respond';
  if (onFailure !== 'respond' && onFailure !== 'next') {
    throw new TypeError("requireScopes: onFailure must be 'respond' or 'next'");
  }
  const audit = settings.audit;
  if (audit !== undefined && typeof audit !== 'function') {
    throw new TypeError('requireScopes: audit must be a function');
  }
  const challenge = (error?: BearerErrorCode): string => {
    const params = nullObject<string>();
    params['realm'] = realm;
    params['scope'] = required.challengeValue;
    if (error !== undefined) {
      params['error'] = error;
      params['error_description'] = 'The access token lacks the required scope';
      if (settings.errorUri !== undefined) params['error_uri'] = settings.errorUri;
    }
    return formatChallenge({ scheme: 'Bearer', params });
  };
  // Formatted once: the values are fixed at setup.
  const unauthenticated = challenge();
  const insufficient = challenge('insufficient_scope');

  /**
   * `true` lets the request on; a refusal is answered here (`false`) or returned, as the error
   * for `next(err)` (onFailure: 'next').
   */
  const check = (
    req: IncomingMessage & { auth?: AuthInfo | undefined },
    res: ServerResponse,
  ): boolean | AuthenticationError => {
    const auth = req.auth;
    let refusal: Refusal;
    if (auth === undefined || auth === null) {
      // A browser's preflight never carries credentials (Fetch standard, CORS-preflight
      // request): it passes when authenticate() let it through as one (allowPreflight), never
      // on its shape alone, and only while it is still an OPTIONS (no method override since).
      if (letThroughAsPreflight(req) && req.method === 'OPTIONS') {
        return true;
      }
      refusal = {
        status: 401,
        challenge: unauthenticated,
        code: 'ERR_AUTH_MISSING_CREDENTIALS',
        message: unauthenticatedReason(req),
        // No scheme was tried here: whatever ran before let the request through unauthenticated.
        scheme: undefined,
        user: undefined,
      };
    } else if (!hasScopes(normaliseScopes(auth['scopes']), required)) {
      refusal = {
        status: 403,
        challenge: insufficient,
        code: 'ERR_AUTH_INSUFFICIENT_SCOPE',
        message: 'The access token lacks the required scope',
        // The scheme that authenticated the user (scopes can come from any scheme's verifier).
        scheme: typeof auth.scheme === 'string' ? auth.scheme : undefined,
        // Only a string: req.auth may be another middleware's (express-jwt's claims, say).
        user: typeof auth.user === 'string' ? auth.user : undefined,
      };
    } else {
      return true;
    }
    // The mode of the authenticate() that made req.auth or let the request through, as it
    // recorded it: an option here could disagree with it and answer in the wrong field.
    const proxy = inProxyMode(req, auth);
    // RFC 9110 §15.5.8: a proxy asks for its credentials with 407.
    if (proxy && refusal.status === 401) refusal.status = 407;
    if (audit !== undefined) report(audit, refusal, req);
    // The 403 too: the token that lacks the scope is the proxy's (Proxy-Authorization), and a
    // challenge applies to the credentials of its field (RFC 9110 §11.6.1, §11.7.1); in
    // WWW-Authenticate it would tell the client its origin credentials fall short. 403, not
    // 407: authenticating again with the same token cannot help (RFC 6750 §3.1). Bearer's own
    // requiredScopes answers so in proxy mode too.
    const field = proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
    const challenges = besideCurrent(res, field, refusal.challenge);
    // Something before this guard answered and still called next(): nothing can be written, so
    // the refusal goes to the error handler whatever onFailure, as authenticate() hands it on.
    // Closing the connection here would lose the response to the client's next request, which
    // keep-alive may have sent on it already.
    if (onFailure === 'next' || res.headersSent) {
      return new AuthenticationError(refusal.code, refusal.message, {
        status: refusal.status,
        headers: { [field]: challenges, 'Cache-Control': 'no-store' },
        scheme: refusal.scheme,
        user: refusal.user,
      });
    }
    refuse(res, refusal.status, field, challenges);
    return false;
  };

  return function requireScopesMiddleware(
    req: IncomingMessage & { auth?: AuthInfo | undefined },
    res: ServerResponse,
    next: (err?: unknown) => void,
  ): void {
    let outcome: boolean | AuthenticationError;
    try {
      outcome = check(req, res);
    } catch (error) {
      // An audit hook (or a scopes getter) that throws undefined or 'route' must not let the
      // request on to what the scopes guard.
      next(asError(error));
      return;
    }
    // Outside the try: what runs after next() may throw, and that is not this guard's to report.
    if (outcome === true) next();
    else if (outcome !== false) next(outcome);
  } as ScopeMiddleware;
}

/**
 * Why `req` has no `req.auth`, in words that hold: what the `authenticate()` before did when it
 * let the request through (`credentialsRequired: false`, `allowPreflight`), or, when none did,
 * whether credentials were sent. Credentials that no `authenticate()` saw most often mean a
 * requireScopes() mounted before it: say so, rather than send the developer to the client.
 */
function unauthenticatedReason(req: IncomingMessage): string {
  const reason = letThroughReason(req);
  if (reason !== undefined) return reason;
  const field = req.headers.authorization;
  return field === undefined || field.trim() === ''
    ? 'No credentials were sent'
    : 'Credentials were sent, but no authenticate() ran before requireScopes() (is ' +
        'requireScopes() mounted after authenticate()?)';
}

interface Refusal {
  status: 401 | 403 | 407;
  challenge: string;
  code: 'ERR_AUTH_MISSING_CREDENTIALS' | 'ERR_AUTH_INSUFFICIENT_SCOPE';
  message: string;
  scheme: string | undefined;
  user: string | undefined;
}

/** `audit` for a refusal: a throw goes to `next(err)`, a rejection is ignored (as in `authenticate()`). */
function report(
  audit: NonNullable<RequireScopesOptions['audit']>,
  refusal: Refusal,
  req: AuthRequest,
): void {
  const returned: unknown = audit(
    {
      outcome: 'refused',
      scheme: refusal.scheme,
      user: refusal.user,
      status: refusal.status,
      code: refusal.code,
      message: refusal.message,
    },
    req,
  );
  ignoreRejection(returned);
}

/**
 * The challenge after the lines of `field` the response carries already: the
 * mutual-authentication token of the Negotiate that authenticated the user stays on a 403 (RFC
 * 4559 §4.1; requests-kerberos empties an error answer without it), as on any answer but a 401.
 */
function besideCurrent(res: ServerResponse, field: string, challenge: string): string | string[] {
  const current = res.getHeader(field);
  if (current === undefined) return challenge;
  return [...(Array.isArray(current) ? current : [String(current)]), challenge];
}

function refuse(
  res: ServerResponse,
  status: 401 | 403 | 407,
  field: string,
  challenge: string | string[],
): void {
  // A Buffer, not the string, as authenticate() sends: Node writes the head with a string body in
  // the body's encoding, which would send each obs-text octet of a Latin-1 realm as two UTF-8
  // bytes (README, "a realm beyond ASCII").
  const body = BODIES[status];
  res.statusCode = status;
  removeRepresentationFields(res);
  res.setHeader(field, challenge);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', String(body.length));
  res.end(body);
}

/** The bodies of the three refusals, made once. */
const BODIES: Readonly<Record<401 | 403 | 407, Buffer>> = {
  401: Buffer.from(statusText(401)),
  403: Buffer.from(statusText(403)),
  407: Buffer.from(statusText(407)),
};
