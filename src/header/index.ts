/**
 * The authentication header codec (RFC 9110 §11, RFC 7615, RFC 8187): parse and format
 * challenges, credentials and auth-param lists. No dependencies; usable on the client or server.
 */
export { parseChallenges, parseCredentials, parseAuthParams } from './parse';
export { formatChallenge, formatCredentials, formatAuthParams } from './format';
export { decodeExtValue, encodeExtValue } from './ext-value';
export { isQuotable, isToken, isToken68 } from './grammar';
export { DEFAULT_LIMITS } from './limits';
export type { Challenge, Credentials, HeaderLimits } from './types';
