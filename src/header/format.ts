/**
 * Formatters for challenges, credentials and auth-param lists. They validate everything they
 * write and throw `TypeError` on anything that would make an invalid or unsafe field value (a CR,
 * LF or other control character, a character above U+00FF), so output can never be split into
 * several header lines.
 */
import * as grammar from './grammar';
import { isUtf8ExtValue } from './ext-value';
import { isPlainObject } from '../util/options';
import type { Challenge, Credentials } from './types';

// Local bindings, read once: loaders that compile imports to getters (esbuild, so tsx) would
// otherwise call a getter for every character scanned.
const { BACKSLASH, DQUOTE, QUOTABLE, STAR, isToken, isToken68 } = grammar;

const NONE: ReadonlySet<string> = new Set();

/**
 * RFC 7616 §3.3: "a sender MUST NOT generate the quoted string syntax values for … stale and
 * algorithm"; `charset` and `userhash` bare too, as RFC 7616 §3.9.2's example writes them. A
 * value that is no token is still quoted: the field stays valid, which leaving it bare would not.
 */
const DIGEST_CHALLENGE_TOKENS: ReadonlySet<string> = new Set([
  'algorithm',
  'stale',
  'charset',
  'userhash',
]);

/**
 * RFC 7616 §3.4: "a sender MUST NOT generate the quoted string syntax for … algorithm, qop, and
 * nc"; `userhash` bare too, as RFC 7616 §3.9.2's example writes it (and curl and Chromium send it).
 */
const DIGEST_CREDENTIALS_TOKENS: ReadonlySet<string> = new Set([
  'algorithm',
  'qop',
  'nc',
  'userhash',
]);

/** RFC 7616 §3.5 (Authentication-Info): as in credentials, `qop` and `nc` are bare tokens. */
const DIGEST_AUTHENTICATION_INFO_TOKENS: ReadonlySet<string> = new Set(['qop', 'nc']);

function isDigest(scheme: string | undefined): boolean {
  return scheme !== undefined && scheme.length === 6 && scheme.toLowerCase() === 'digest';
}

/**
 * Formats one challenge for a `WWW-Authenticate` or `Proxy-Authenticate` field line
 * (RFC 9110 §11.6.1).
 *
 * Parameter values are written as quoted-strings (`"` and `\` escaped), except Digest's
 * `algorithm` and `stale`, which RFC 7616 §3.3 requires as bare tokens, `charset` and `userhash`,
 * bare as in RFC 7616 §3.9.2's example (each only when its value is a token), and names ending in
 * `*`, whose values must already be RFC 8187 ext-values in UTF-8 (see {@link encodeExtValue}).
 *
 * @throws TypeError when the scheme is not a token, the token68 is invalid, both a token68 and
 *   params are given, `params` is not a plain object, a parameter name is not a token or is given
 *   twice, or a value holds a control character or a character above U+00FF
 *
 * @example
 * formatChallenge({ scheme: 'Basic', params: { realm: 'WallyWorld', charset: 'UTF-8' } });
 * // 'Basic realm="WallyWorld", charset="UTF-8"'
 */
export function formatChallenge(challenge: Challenge): string {
  return formatSchemeWith(challenge, DIGEST_CHALLENGE_TOKENS);
}

/**
 * Formats credentials for an `Authorization` or `Proxy-Authorization` field (RFC 9110 §11.6.2).
 *
 * Quoting follows {@link formatChallenge}, except that for Digest `algorithm`, `qop` and `nc` are
 * the bare tokens (RFC 7616 §3.4), and `userhash` as in RFC 7616 §3.9.2's example.
 *
 * @throws TypeError on the same invalid input as {@link formatChallenge}
 *
 * @example
 * formatCredentials({ scheme: 'Bearer', token68: 'mF_9.B5f-4.1JqM', params: {} });
 * // 'Bearer mF_9.B5f-4.1JqM'
 */
export function formatCredentials(credentials: Credentials): string {
  return formatSchemeWith(credentials, DIGEST_CREDENTIALS_TOKENS);
}

/**
 * Formats a bare auth-param list, as in `Authentication-Info` (RFC 7615 §3). When `scheme` is
 * `Digest`, `qop` and `nc` are written as tokens (RFC 7616 §3.5); everything else is quoted.
 *
 * @param params parameter names and values
 * @param scheme the scheme the list belongs to, which decides the quoting rules
 * @throws TypeError on an invalid name or value (see {@link formatChallenge})
 *
 * @example
 * formatAuthParams({ rspauth: 'abc', qop: 'auth', nc: '00000001' }, 'Digest');
 * // 'rspauth="abc", qop=auth, nc=00000001'
 */
export function formatAuthParams(params: Record<string, string>, scheme?: string): string {
  return formatParams(params, isDigest(scheme) ? DIGEST_AUTHENTICATION_INFO_TOKENS : NONE);
}

function formatSchemeWith(challenge: Challenge, digestTokens: ReadonlySet<string>): string {
  if (challenge === null || typeof challenge !== 'object') {
    throw new TypeError('challenge must be an object');
  }
  const { scheme, token68, params } = challenge;
  if (!isToken(scheme)) throw new TypeError('auth-scheme must be a token');
  if (token68 !== undefined) {
    if (!isToken68(token68)) throw new TypeError('token68 is not valid token68 syntax');
    if (params !== undefined && params !== null) {
      // A Map (or params inherited from a prototype) would be dropped here in silence.
      if (!isPlainObject(params)) throw new TypeError('params must be a plain object');
      if (Object.keys(params).length > 0) {
        throw new TypeError('a challenge carries either a token68 or params, not both');
      }
    }
    return `${scheme} ${token68}`;
  }
  const list = formatParams(params, isDigest(scheme) ? digestTokens : NONE);
  return list === '' ? scheme : `${scheme} ${list}`;
}

function formatParams(
  params: Record<string, string> | null | undefined,
  tokens: ReadonlySet<string>,
): string {
  if (params === undefined || params === null) return '';
  // A Map or an array would lose its entries or write its indices: a realm could vanish.
  if (!isPlainObject(params)) throw new TypeError('params must be a plain object');
  let result = '';
  const seen = new Set<string>();
  for (const name of Object.keys(params)) {
    const value = params[name];
    if (!isToken(name)) throw new TypeError('auth-param name must be a token');
    if (typeof value !== 'string') throw new TypeError(`auth-param ${name} must be a string`);
    const key = name.toLowerCase();
    // RFC 9110 §11.2: each parameter name only once, compared case-insensitively.
    if (seen.has(key)) throw new TypeError(`auth-param ${name} given twice`);
    seen.add(key);
    let written: string;
    if (key.charCodeAt(key.length - 1) === STAR) {
      // RFC 8187 §3.2: an ext-value is written bare. A bare auth-param value must also be a token
      // (RFC 9110 §11.2), which the `{` and `}` that RFC 8187 allows in a charset name are not.
      // §3.2.1: producers MUST use UTF-8, the label and the bytes it labels.
      if (!isToken(value) || !isUtf8ExtValue(value))
        throw new TypeError(`auth-param ${name} must be an RFC 8187 ext-value in UTF-8`);
      written = value;
    } else if (tokens.has(key) && isToken(value)) {
      written = value;
    } else {
      written = quoteString(value);
    }
    result += result === '' ? `${name}=${written}` : `, ${name}=${written}`;
  }
  return result;
}

/**
 * QUOTABLE's characters but DQUOTE and backslash: a value that needs no escape. Anchored
 * character class, linear time. An expression rather than the loop below: a value is often a
 * slice of a header field (a Digest `cnonce` echoed in Authentication-Info), and `charCodeAt` on
 * such a view costs V8's generic string access per character (util/text.ts).
 */
const PLAIN_QUOTABLE = /^[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]*$/;

/**
 * `value` as a quoted-string (RFC 9110 §5.6.4), `"` and `\` escaped as quoted-pairs.
 *
 * @throws TypeError when `value` holds a CTL other than HTAB, DEL, or a character above U+00FF
 */
export function quoteString(value: string): string {
  // The common case, nothing to escape, in one native match (see PLAIN_QUOTABLE).
  if (PLAIN_QUOTABLE.test(value)) return `"${value}"`;
  // Otherwise a character to escape, or one that no quoted-string can hold.
  let result = '"';
  let chunkStart = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (QUOTABLE[code] !== 1) {
      throw new TypeError('auth-param value holds a control character or a character above U+00FF');
    }
    if (code === DQUOTE || code === BACKSLASH) {
      result += `${value.slice(chunkStart, i)}\\`;
      chunkStart = i;
    }
  }
  return `${result}${value.slice(chunkStart)}"`;
}
