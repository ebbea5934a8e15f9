/**
 * What `authenticate()` did with a request it passed on, for `requireScopes()` after it to answer
 * as that one would instead of guessing: why it let a request through without authenticating it
 * (`credentialsRequired: false`, `allowPreflight`), whether as a CORS preflight, and whether it
 * was in proxy mode. A request without `req.auth` may have met no `authenticate()` at all
 * (mounted after it), or one that passed it on by design.
 *
 * Kept in weak collections, not on `req`: a property added to an Express request costs it a
 * hidden class of its own (see request-auth.ts). They are shared by every copy of the package in
 * the process (see process-shared.ts).
 */
import { processShared } from '../util/process-shared';

const reasons = processShared('authscheme.letThrough', () => new WeakMap<object, string>());

/**
 * Requests that an `authenticate({ proxy: true })` let through, and the `req.auth` objects it
 * made: the object, not the request, so that a `req.auth` that something after it replaced (an
 * origin-side `authenticate()`, another library) is not taken for the proxy's.
 */
const proxied = processShared('authscheme.proxyMode', () => new WeakSet<object>());

/**
 * Requests let through as CORS preflights (`allowPreflight`). A mark of their own, not their
 * reason: a reason is a sentence that a custom scheme's `locate()` may write too, and one that
 * read the same was taken for a preflight's.
 */
const preflights = processShared('authscheme.preflight', () => new WeakSet<object>());

/** The reason recorded for a CORS preflight, for messages only: it is not what marks one. */
const PREFLIGHT = 'authenticate() let a CORS preflight through unauthenticated (allowPreflight)';

/**
 * Records that `authenticate()` let `req` through unauthenticated, why (a sentence), and whether
 * it was in proxy mode.
 */
export function markLetThrough(req: object, why: string, proxy: boolean): void {
  record(req, why, proxy);
  // A later authenticate() that let it through for another reason is the one that decides.
  preflights.delete(req);
}

/** Records that `authenticate()` let `req` through as a CORS preflight (`allowPreflight`). */
export function markPreflight(req: object, proxy: boolean): void {
  record(req, PREFLIGHT, proxy);
  preflights.add(req);
}

function record(req: object, why: string, proxy: boolean): void {
  reasons.set(req, why);
  // A later origin-side authenticate() that let it through is the one requireScopes() follows.
  if (proxy) proxied.add(req);
  else proxied.delete(req);
}

/**
 * Forgets what an earlier `authenticate()` recorded for `req`, for one that lets it through
 * without recording why (no Authorization field in origin mode): requireScopes() follows the
 * later one, not the proxy's mode or the preflight that an earlier one let through.
 */
export function forgetLetThrough(req: object): void {
  // `proxied` and `preflights` hold a request only beside a reason; a miss, the usual case,
  // allocates nothing.
  if (reasons.delete(req)) {
    proxied.delete(req);
    preflights.delete(req);
  }
}

/** Records that an `authenticate({ proxy: true })` made `auth` (before it becomes `req.auth`). */
export function markProxyAuth(auth: object): void {
  proxied.add(auth);
}

/**
 * Why `authenticate()` let `req` through unauthenticated; `undefined` when none did, or when one
 * let through a request without an Authorization field (not recorded: that is every anonymous
 * request, and the missing field says it).
 */
export function letThroughReason(req: object): string | undefined {
  return reasons.get(req);
}

/**
 * Whether the last `authenticate()` that let `req` through unauthenticated let it through as a
 * CORS preflight. Its reason must still be the preflight's too: a copy of the package from before
 * the mark (sharing `reasons`, not `preflights`) that let it through later, or forgot it, changed
 * only the reason, and then it is no preflight (fail closed).
 */
export function letThroughAsPreflight(req: object): boolean {
  return preflights.has(req) && reasons.get(req) === PREFLIGHT;
}

/**
 * Whether the `authenticate()` that made `auth` (the request's `req.auth`), or, without one, that
 * let `req` through, was in proxy mode. `false` when nothing of ours recorded either.
 */
export function inProxyMode(req: object, auth: unknown): boolean {
  return typeof auth === 'object' && auth !== null ? proxied.has(auth) : proxied.has(req);
}
