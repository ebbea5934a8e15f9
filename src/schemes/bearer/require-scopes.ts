/**
 * `requireScopes(...)`: a per-route scope check after `authenticate()` (RFC 6750 §3.1
 * `insufficient_scope`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { formatChallenge, isQuotable } from '../../header';
import type { AuthInfo } from '../../scheme';
import type { BearerErrorCode } from './errors';
import { checkErrorUri } from './errors';
import type { CompiledScopes, ScopeRequirement } from './scopes';
import { compileScopes, hasScopes, normaliseScopes } from './scopes';
import { optionNames, rejectUnknownOptions } from '../../util/options';

/** Options of {@link requireScopes} besides the scopes themselves. */
export interface RequireScopesOptions {
  /** The challenge's realm. Default `"Restricted"`, the default of `authenticate()`. */
  realm?: string | undefined;
  /** `error_uri` sent with the 403 challenge (RFC 6750 §3). */
  errorUri?: string | undefined;
}

/** The scopes (`allOf` or `anyOf`) plus {@link RequireScopesOptions}. */
export type RequireScopesSpec =
  | ({ readonly allOf: readonly string[] } & RequireScopesOptions)
  | ({ readonly anyOf: readonly string[] } & RequireScopesOptions);

const SPEC_NAMES: ReadonlySet<string> = new Set([
  'allOf',
  'anyOf',
  ...optionNames<RequireScopesOptions>()(['realm', 'errorUri']),
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

function checkRealm(value: string): string {
  if (!isQuotable(value) || value.includes('\t')) {
    throw new TypeError(
      'requireScopes: realm must not contain control characters or characters above U+00FF',
    );
  }
  return value;
}

/**
 * Refuses requests whose `req.auth` lacks the scopes: 403 with `WWW-Authenticate: Bearer …,
 * error="insufficient_scope", scope="…"`. Without `req.auth` (no `authenticate()` ran, or it let
 * the request through unauthenticated) it answers 401 with a bare Bearer challenge.
 *
 * - `requireScopes('read', 'write')` or `requireScopes(['read', 'write'])`: all of them.
 * - `requireScopes({ anyOf: ['read', 'admin'] })`: at least one. `{ allOf: [...] }` also works.
 *
 * The scopes come from `req.auth.scopes` (a list, or a space-separated string).
 *
 * @example
 * app.get('/orders', authenticate({ schemes: [bearer({ verify })] }), requireScopes('orders:read'), handler);
 */
export function requireScopes(
  ...args: Array<string | readonly string[] | RequireScopesSpec>
): ScopeMiddleware {
  let requirement: ScopeRequirement;
  let settings: RequireScopesOptions = {};
  const [first] = args;
  if (args.length === 1 && Array.isArray(first)) {
    requirement = first as readonly string[];
  } else if (args.length === 1 && typeof first === 'object' && first !== null) {
    rejectUnknownOptions('requireScopes', first, SPEC_NAMES);
    requirement = first;
    settings = first as RequireScopesSpec;
  } else if (args.every((arg) => typeof arg === 'string')) {
    requirement = args;
  } else {
    throw new TypeError('requireScopes: expected scope names, a list, { allOf } or { anyOf }');
  }
  const required: CompiledScopes = compileScopes(requirement, 'requireScopes');
  const realm = settings.realm === undefined ? DEFAULT_REALM : checkRealm(settings.realm);
  if (settings.errorUri !== undefined) checkErrorUri(settings.errorUri, 'requireScopes');
  const challenge = (error?: BearerErrorCode): string => {
    const params = Object.create(null) as Record<string, string>;
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

  return function requireScopesMiddleware(
    req: IncomingMessage & { auth?: AuthInfo | undefined },
    res: ServerResponse,
    next: (err?: unknown) => void,
  ): void {
    try {
      const auth = req.auth;
      if (auth === undefined || auth === null) {
        refuse(res, 401, unauthenticated, 'Unauthorized');
        return;
      }
      if (!hasScopes(normaliseScopes(auth['scopes']), required)) {
        refuse(res, 403, insufficient, 'Forbidden');
        return;
      }
      next();
    } catch (error) {
      next(error);
    }
  } as ScopeMiddleware;
}

function refuse(res: ServerResponse, status: 401 | 403, challenge: string, body: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = status;
  res.setHeader('WWW-Authenticate', challenge);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', String(Buffer.byteLength(body)));
  res.end(body);
}
