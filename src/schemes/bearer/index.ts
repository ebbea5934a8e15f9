/**
 * The Bearer scheme (RFC 6750) and its helpers. Re-exports only.
 */
export { bearer } from './bearer';
export type { BearerOptions, BearerVerify, BearerIdentity, BearerCacheOptions } from './bearer';
export { requireScopes } from './require-scopes';
export type { RequireScopesOptions, RequireScopesSpec, ScopeMiddleware } from './require-scopes';
export { InvalidTokenError } from './errors';
export type { BearerErrorCode, BearerFailure } from './errors';
export type { ScopeRequirement } from './scopes';
export { introspection } from './introspection';
export type { IntrospectionOptions } from './introspection';
export type { BoundTokenOptions } from './bound-token';
