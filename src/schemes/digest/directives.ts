import type { Credentials } from '../../header/types';
import { decodeExtValue } from '../../header/ext-value';
import type { SchemeFailure } from '../../scheme';
import { refuse } from '../../scheme';
import {
  equalsLowerAscii,
  hasControl,
  isHexOfLength,
  lowerHexOfLength,
  utf8OfOctets,
} from '../../util/text';
import { findAlgorithm, type AlgorithmInfo } from './algorithms';

/** The `qop` values of RFC 7616 §3.3. */
export type DigestQop = 'auth' | 'auth-int';

/** The directives of a Digest `Authorization` header, checked for syntax (RFC 7616 §3.4). */
export interface DigestDirectives {
  /** `username` as sent (a hash when `userhash`), or the decoded `username*`. */
  username: string;
  /** True when `username` came from `username*` (already decoded to a string). */
  extendedUsername: boolean;
  /**
   * The user name the client claims, decoded as the lookup reads it (UTF-8, NFC):
   * `undefined` with `userhash` (a hash is no name, RFC 7616 §3.4.4) or for a name that does
   * not decode. What a refusal reports as `user`.
   */
  user: string | undefined;
  userhash: boolean;
  realm: string;
  nonce: string;
  uri: string;
  /** Lower-cased hex. */
  response: string;
  algorithm: AlgorithmInfo;
  /** The algorithm as the client spelled it (it may omit it: then MD5, RFC 7616 §3.4). */
  algorithmSent: boolean;
  qop: DigestQop;
  /** `qop` exactly as sent, for the hash input. */
  qopText: string;
  /** `nc` exactly as sent (8 hex digits), for the hash input and Authentication-Info. */
  ncText: string;
  nc: number;
  cnonce: string;
  opaque: string | undefined;
}

const DEFAULT_ALGORITHM = findAlgorithm('MD5') as AlgorithmInfo;
/** RFC 7616 §3.4: nc-value = 8LHEX. */
const NC_LENGTH = 8;

function missing(name: string, user?: string): SchemeFailure {
  return claimed(refuse(`Digest credentials lack ${name}`, 'ERR_AUTH_INVALID_REQUEST'), user);
}

function invalid(name: string, user?: string): SchemeFailure {
  return claimed(
    refuse(`Digest credentials have an invalid ${name}`, 'ERR_AUTH_INVALID_REQUEST'),
    user,
  );
}

/**
 * `failure` (a fresh object) with the name the credentials claimed, when there is one: audit
 * and the AuthenticationError report it on every refusal from the moment it is read, for
 * lockouts and brute-force detection, as the client's word (never `req.auth`).
 */
export function claimed(failure: SchemeFailure, user: string | undefined): SchemeFailure {
  if (user !== undefined) failure.user = user;
  return failure;
}

/**
 * Reads and checks the syntax of Digest credentials. Anything missing or malformed is a refusal
 * (401 with fresh challenges), never a throw: a client that got something wrong can start over.
 * Refusals after the user name is read carry it (see {@link DigestDirectives.user}).
 * `acceptLatin1`: see `DigestOptions.acceptLatin1`.
 */
export function readDirectives(
  credentials: Credentials,
  acceptLatin1 = false,
): DigestDirectives | SchemeFailure {
  const params = credentials.params;
  if (credentials.token68 !== undefined || params === undefined) return invalid('syntax (token68)');

  const userhashText = params.userhash;
  let userhash = false;
  if (userhashText !== undefined) {
    const lower = userhashText.toLowerCase();
    if (lower === 'true') userhash = true;
    else if (lower !== 'false') return invalid('userhash');
  }

  // RFC 7616 §3.4: username and username* must not both be sent; username* only when the name
  // cannot be a quoted-string, so never together with userhash (§3.4.4).
  const plainUsername = params.username;
  const extUsername = params['username*'];
  let username: string;
  let extendedUsername = false;
  if (extUsername !== undefined) {
    if (plainUsername !== undefined) return invalid('username (both username and username*)');
    if (userhash) return invalid('username* (with userhash=true)');
    try {
      username = decodeExtValue(extUsername);
    } catch {
      return invalid('username*');
    }
    // Percent-encoding can carry what a quoted-string cannot: no control character reaches the
    // user lookup (or its logs) as part of a name.
    if (hasControl(username)) return invalid('username*');
    extendedUsername = true;
  } else if (plainUsername !== undefined) {
    username = plainUsername;
  } else {
    return missing('username');
  }
  if (username === '') return invalid('username');
  // username* was decoded above (its NFC form is what the lookup gets); a plain name is bytes.
  const user = userhash
    ? undefined
    : extendedUsername
      ? username.normalize('NFC')
      : decodeWireUsername(username, acceptLatin1);

  const realm = params.realm;
  if (realm === undefined) return missing('realm', user);
  const nonce = params.nonce;
  if (nonce === undefined || nonce === '') return missing('nonce', user);
  const uri = params.uri;
  if (uri === undefined || uri === '') return missing('uri', user);

  const algorithmText = params.algorithm;
  const algorithm = algorithmText === undefined ? DEFAULT_ALGORITHM : findAlgorithm(algorithmText);
  if (algorithm === undefined) return invalid('algorithm', user);

  const responseText = params.response;
  if (responseText === undefined) return missing('response', user);
  // Clients send lower-case hex (RFC 7616 §3.4.1's "LHEX"); another case is lower-cased.
  const response = lowerHexOfLength(responseText, algorithm.hexLength);
  if (response === undefined) return invalid('response', user);

  // The server always offers qop, so RFC 2069-style responses without it are refused
  // (RFC 7616 §3.4: qop, cnonce and nc go together).
  const qopText = params.qop;
  if (qopText === undefined) return missing('qop', user);
  // Without toLowerCase(): V8's runtime code, otherwise run on every request for nothing.
  const qopLower = equalsLowerAscii(qopText, 'auth')
    ? 'auth'
    : equalsLowerAscii(qopText, 'auth-int')
      ? 'auth-int'
      : undefined;
  if (qopLower === undefined) return invalid('qop', user);
  const cnonce = params.cnonce;
  if (cnonce === undefined || cnonce === '') return missing('cnonce', user);
  const ncText = params.nc;
  if (ncText === undefined) return missing('nc', user);
  if (!isHexOfLength(ncText, NC_LENGTH)) return invalid('nc', user);
  const nc = Number.parseInt(ncText, 16);
  if (nc < 1) return invalid('nc', user);

  return {
    username,
    extendedUsername,
    user,
    userhash,
    realm,
    nonce,
    uri,
    response,
    algorithm,
    algorithmSent: algorithmText !== undefined,
    qop: qopLower,
    qopText,
    ncText,
    nc,
    cnonce,
    opaque: params.opaque,
  };
}

/** Printable ASCII only (no control character, no DEL): a name as it is. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * The user name a plain `username` stands for. Node hands header bytes over as latin1 characters;
 * the challenge announces UTF-8 (RFC 7616 §4), so bytes above 0x7F must be valid UTF-8, or with
 * `acceptLatin1` are taken as the latin1 characters they already are.
 */
export function decodeWireUsername(username: string, acceptLatin1 = false): string | undefined {
  // The common case in one native match: printable ASCII, nothing to decode or refuse (an
  // expression rather than the loops below, which cost V8's generic string access per character
  // on a name long enough to be a view of the header, util/text.ts).
  if (PRINTABLE_ASCII.test(username)) return username;
  let ascii = true;
  for (let i = 0; i < username.length; i++) {
    const code = username.charCodeAt(i);
    if (code > 0xff) return undefined;
    if (code > 0x7f) ascii = false;
  }
  let decoded: string;
  if (ascii) {
    decoded = username;
  } else {
    // RFC 7616 §4: with charset=UTF-8 names are NFC; the configured users are normalized too.
    const utf8 = utf8OfOctets(username)?.normalize('NFC');
    if (utf8 === undefined && !acceptLatin1) return undefined;
    decoded = utf8 ?? username;
  }
  // As for username*: no control character (a quoted HTAB, a C1 in UTF-8) reaches the user lookup.
  return hasControl(decoded) ? undefined : decoded;
}
