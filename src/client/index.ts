/**
 * `authscheme/client`: a `fetch` that answers HTTP authentication challenges (Digest, Basic) or
 * sends a Bearer token. This module only re-exports.
 */
export { createAuthFetch, ServerAuthenticationError } from './fetch';
export type { AuthFetchCredentials, AuthFetchOptions } from './fetch';
export type { DigestAlgorithm } from '../schemes/digest/algorithms';
