/**
 * authscheme: HTTP authentication for Express, Connect and `node:http`.
 *
 * This module only re-exports; see the README for the guide.
 */
export { authenticate } from './middleware/authenticate';
export type { AuthenticateOptions, AuthMiddleware, AuthOutcome } from './middleware/authenticate';
export type { BodyOption } from './middleware/respond';
export { basic } from './schemes/basic';
export type { BasicOptions, BasicVerify, BasicCacheOptions } from './schemes/basic';
export { digest } from './schemes/digest';
export type {
  DigestOptions,
  DigestAlgorithm,
  DigestHash,
  DigestQop,
  DigestHA1,
  DigestDetails,
  DigestUserEntry,
  GetHA1,
  GetPassword,
  FindUserByHash,
  ForwardedRequest,
  RawBodyReader,
} from './schemes/digest';
export { loadHtdigest, loadHtdigestSync, parseHtdigest } from './passwords/htdigest';
export type { HtdigestFile } from './passwords/htdigest';
export { loadHtpasswd, parseHtpasswd } from './passwords/htpasswd';
export type { HtpasswdFile, HtpasswdFormat } from './passwords/htpasswd';
export type { PasswordFileOptions, ReloadOptions } from './passwords/reload';
export { bearer, requireScopes, InvalidTokenError, introspection } from './schemes/bearer';
export type {
  BearerOptions,
  BearerVerify,
  BearerIdentity,
  BearerCacheOptions,
  RequireScopesOptions,
  RequireScopesSpec,
  ScopeMiddleware,
  IntrospectionOptions,
  BoundTokenOptions,
  ScopeRequirement,
} from './schemes/bearer';
export { MemoryNonceStore } from './stores/memory';
export type { MemoryNonceStoreOptions } from './stores/memory';
export type { NonceStore } from './stores/nonce-store';
export {
  parseChallenges,
  parseCredentials,
  formatChallenge,
  formatCredentials,
  parseAuthParams,
  formatAuthParams,
  decodeExtValue,
  encodeExtValue,
  isQuotable,
  isToken,
  isToken68,
  DEFAULT_LIMITS,
} from './header';
export type { Challenge, Credentials, HeaderLimits } from './header/types';
export { AuthschemeError, AuthHeaderSyntaxError, AuthenticationError } from './errors';
export type { AuthErrorCode } from './errors';
export { refuse, identityResult } from './scheme';
export { safeCompare } from './util/secret';
export type {
  Scheme,
  SchemeFailure,
  SchemeSuccess,
  SchemeSetup,
  VerifyResult,
  RequestContext,
  AuthInfo,
  AuthRequest,
  Identity,
} from './scheme';
