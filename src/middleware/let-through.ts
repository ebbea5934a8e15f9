/**
 * Why `authenticate()` let a request through without authenticating it (`credentialsRequired:
 * false`, `allowPreflight`), for `requireScopes()` to say what happened instead of guessing: a
 * request without `req.auth` may have met no `authenticate()` at all (mounted after it), or one
 * that passed it on by design.
 *
 * Kept by request in a WeakMap, not on `req`: a property added to an Express request costs it a
 * hidden class of its own (see request-auth.ts). The map is found through a registered symbol,
 * so that two copies of the package in one process (ESM and CommonJS) share it.
 */
const KEY = Symbol.for('authscheme.letThrough');

const reasons: WeakMap<object, string> = ((): WeakMap<object, string> => {
  const registry = globalThis as unknown as Record<symbol, WeakMap<object, string> | undefined>;
  const shared = registry[KEY];
  if (shared !== undefined) return shared;
  const created = new WeakMap<object, string>();
  Object.defineProperty(globalThis, KEY, { value: created });
  return created;
})();

/** The reason recorded for a CORS preflight let through by `allowPreflight`. */
export const PREFLIGHT =
  'authenticate() let a CORS preflight through unauthenticated (allowPreflight)';

/** Records that `authenticate()` let `req` through unauthenticated, and why (a sentence). */
export function markLetThrough(req: object, why: string): void {
  reasons.set(req, why);
}

/**
 * Why `authenticate()` let `req` through unauthenticated; `undefined` when none did, or when one
 * let through a request without an Authorization field (not recorded: that is every anonymous
 * request, and the missing field says it).
 */
export function letThroughReason(req: object): string | undefined {
  return reasons.get(req);
}
