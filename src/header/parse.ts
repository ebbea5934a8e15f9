/**
 * Parsers for the authentication header fields of RFC 9110 §11.6 and §11.7, and for the bare
 * auth-param list of `Authentication-Info` (RFC 7615 §3).
 *
 * ```
 * auth-scheme    = token
 * auth-param     = token BWS "=" BWS ( token / quoted-string )
 * token68        = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 * challenge      = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 * credentials    = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 * WWW-Authenticate = #challenge
 * ```
 *
 * The grammar is ambiguous where a comma may end a parameter list and start a new challenge. After
 * a comma, a token followed by BWS "=" is another parameter; any other token starts a challenge.
 */
import { AuthHeaderSyntaxError } from '../errors';
import * as grammar from './grammar';
import { resolveLimits } from './limits';
import * as scanner from './scanner';
import type { Challenge, Credentials, HeaderLimits } from './types';
import { nullObject } from '../util/null-object';

// Local bindings, read once: loaders that compile imports to getters (esbuild, so tsx) would
// otherwise call a getter for every character scanned.
const { COMMA, DQUOTE, EQUALS, HTAB, SP, TCHAR } = grammar;
const { quotedStringEnd, skipListSeparators, skipOWS, token68End, tokenEnd, unescapeQuotedString } =
  scanner;

/**
 * Parses a `WWW-Authenticate` or `Proxy-Authenticate` field value into its challenges
 * (RFC 9110 §11.6.1, §11.7.1).
 *
 * A field may hold several challenges, and a response may carry several field lines: pass them as
 * an array (e.g. Node's `res.headersDistinct['www-authenticate']`), read as their values joined
 * with commas (RFC 9110 §5.3). Empty list elements are ignored (RFC 9110 §5.6.1).
 *
 * Scheme names keep their spelling; parameter names are lower-cased; parameter values are
 * unquoted. The `params` object has a null prototype.
 *
 * @param fieldValue one field value, or the values of several field lines
 * @param limits bounds on total length, challenges and parameters per challenge
 *   (see {@link DEFAULT_LIMITS})
 * @throws AuthHeaderSyntaxError when the value is malformed or exceeds a limit
 *
 * @example
 * parseChallenges('Basic realm="simple", Bearer');
 * // [{ scheme: 'Basic', params: { realm: 'simple' } }, { scheme: 'Bearer', params: {} }]
 */
export function parseChallenges(fieldValue: string | string[], limits?: HeaderLimits): Challenge[] {
  const bounds = resolveLimits(limits);
  const challenges: Challenge[] = [];
  if (typeof fieldValue === 'string') {
    checkedValue(fieldValue, bounds.maxLength);
    parseChallengeList(fieldValue, challenges, bounds.maxChallenges, bounds.maxParams);
    return challenges;
  }
  if (!Array.isArray(fieldValue)) throw new TypeError(NOT_A_STRING);
  // maxLength bounds the field value, the lines joined as below (", " between two), checked
  // before any scanning.
  let total = 2 * Math.max(0, fieldValue.length - 1);
  for (const line of fieldValue) {
    if (typeof line !== 'string') throw new TypeError(NOT_A_STRING);
    total += line.length;
  }
  if (total > bounds.maxLength) {
    throw new AuthHeaderSyntaxError('field value longer than maxLength', bounds.maxLength);
  }
  // RFC 9110 §5.3: several field lines mean their values joined with commas, so a challenge's
  // parameters may even continue on the next line.
  parseChallengeList(fieldValue.join(', '), challenges, bounds.maxChallenges, bounds.maxParams);
  return challenges;
}

/**
 * Parses an `Authorization` or `Proxy-Authorization` field value (RFC 9110 §11.6.2, §11.7.2):
 * exactly one set of credentials. Anything after it, such as a second scheme, is a syntax error.
 *
 * A scheme alone (`Bearer`) parses to empty `params`; whether that is acceptable is the scheme's
 * decision.
 *
 * @param fieldValue the field value
 * @param limits bounds on length and parameters (see {@link DEFAULT_LIMITS})
 * @throws AuthHeaderSyntaxError when the value is malformed or exceeds a limit
 *
 * @example
 * parseCredentials('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
 * // { scheme: 'Basic', token68: 'QWxhZGRpbjpvcGVuIHNlc2FtZQ==', params: {} }
 */
export function parseCredentials(fieldValue: string, limits?: HeaderLimits): Credentials {
  const bounds = resolveLimits(limits);
  const s = checkedValue(fieldValue, bounds.maxLength);
  const length = s.length;
  const start = skipOWS(s, 0, length);
  const schemeEnd = tokenEnd(s, start, length);
  if (schemeEnd === start) throw new AuthHeaderSyntaxError('expected auth-scheme', start);
  const credentials: Credentials = {
    scheme: s.slice(start, schemeEnd),
    params: nullObject<string>(),
  };
  const end = parseSchemeRest(s, length, schemeEnd, credentials, bounds.maxParams);
  if (end !== length) throw new AuthHeaderSyntaxError('unexpected content after credentials', end);
  return credentials;
}

/**
 * Parses a bare list of auth-params, as in `Authentication-Info` and `Proxy-Authentication-Info`
 * (RFC 7615 §3: `Authentication-Info = #auth-param`).
 *
 * @param value the field value
 * @param limits bounds on length and parameters (see {@link DEFAULT_LIMITS})
 * @returns the parameters, names lower-cased, in a null-prototype object
 * @throws AuthHeaderSyntaxError when the value is malformed or exceeds a limit
 *
 * @example
 * parseAuthParams('rspauth="d3b0...", qop=auth, nc=00000001');
 * // { rspauth: 'd3b0...', qop: 'auth', nc: '00000001' }
 */
export function parseAuthParams(value: string, limits?: HeaderLimits): Record<string, string> {
  const bounds = resolveLimits(limits);
  const s = checkedValue(value, bounds.maxLength);
  const length = s.length;
  const params = nullObject<string>();
  // After a comma, parseParams stops at a token without "=" (a new challenge); here that is an error.
  const end = parseParams(s, length, skipOWS(s, 0, length), params, bounds.maxParams);
  if (end !== length) throw new AuthHeaderSyntaxError("expected '=' after auth-param name", end);
  return params;
}

const NOT_A_STRING = 'fieldValue must be a string or an array of strings';

function checkedValue(value: string, maxLength: number): string {
  if (typeof value !== 'string') throw new TypeError('fieldValue must be a string');
  if (value.length > maxLength) {
    throw new AuthHeaderSyntaxError('field value longer than maxLength', maxLength);
  }
  return value;
}

/** Parses one field line's challenges into `challenges`. */
function parseChallengeList(
  s: string,
  challenges: Challenge[],
  maxChallenges: number,
  maxParams: number,
): void {
  const length = s.length;
  let i = skipListSeparators(s, 0, length);
  while (i < length) {
    const schemeEnd = tokenEnd(s, i, length);
    if (schemeEnd === i) throw new AuthHeaderSyntaxError('expected auth-scheme', i);
    if (challenges.length === maxChallenges) {
      throw new AuthHeaderSyntaxError('more challenges than maxChallenges', i);
    }
    const challenge: Challenge = { scheme: s.slice(i, schemeEnd), params: nullObject<string>() };
    // Ends at the input's end, at a comma, or at the scheme of the next challenge.
    const end = parseSchemeRest(s, length, schemeEnd, challenge, maxParams);
    challenges.push(challenge);
    i = skipListSeparators(s, end, length);
  }
}

/**
 * Parses what follows an auth-scheme: `[ 1*SP ( token68 / #auth-param ) ]`. Returns the index
 * where the challenge ends: the input's length, a comma, or (after a comma) the start of a token
 * that is not a parameter name and so begins the next challenge.
 */
function parseSchemeRest(
  s: string,
  length: number,
  i: number,
  target: Challenge,
  maxParams: number,
): number {
  if (i === length) return length;
  const code = s.charCodeAt(i);
  if (code === COMMA) return i;
  if (code !== SP) {
    // A scheme alone may still be followed by OWS, HTAB included, before the comma or the end
    // (RFC 9110 §5.6.1: OWS "," OWS); a token68 or parameters need 1*SP first (§11.3, §11.4).
    const next = skipOWS(s, i, length);
    if (next !== length && s.charCodeAt(next) !== COMMA) {
      throw new AuthHeaderSyntaxError('expected space after auth-scheme', i);
    }
    return next;
  }
  // 1*SP, spaces only: a tab there is no separator of the grammar (RFC 9110 §11.3, §11.4).
  do i++;
  while (i < length && s.charCodeAt(i) === SP);
  if (i < length && s.charCodeAt(i) === HTAB) {
    // Only as OWS before a comma or the end: the list may start with empty elements
    // (`Digest \t, realm="x"`, RFC 9110 §5.6.1), or the scheme stands alone.
    const next = skipOWS(s, i, length);
    if (next !== length && s.charCodeAt(next) !== COMMA) {
      throw new AuthHeaderSyntaxError('expected token68 or auth-param after the spaces', i);
    }
    return parseParams(s, length, next, target.params, maxParams);
  }
  // A known parameter name, "=" and the start of a value (`realm="x"`, the usual opening) is no
  // token68, which would need OWS, a comma or the end after its padding: parameters start here,
  // their first name read once. The automaton is parseParams's, stopped as soon as the name can
  // be no known one, so that a token68 costs a character or two here.
  let nameEnd = i;
  let state = NAME_ROOT;
  while (nameEnd < length) {
    const next = NAME_NEXT[(s.charCodeAt(nameEnd) << NAME_STATE_BITS) | state];
    if (next === undefined || next === NAME_END || next === NAME_OTHER) break;
    state = next;
    nameEnd++;
  }
  if (KNOWN_AT[state] !== -1 && nameEnd + 1 < length && s.charCodeAt(nameEnd) === EQUALS) {
    const valueStart = s.charCodeAt(nameEnd + 1);
    if (valueStart === DQUOTE || TCHAR[valueStart] === 1) {
      return parseParams(s, length, i, target.params, maxParams, nameEnd, state);
    }
  }
  // token68 only when nothing but OWS follows it before the end or a comma; `realm=x` is a param.
  const end = token68End(s, i, length);
  if (end !== i) {
    const after = skipOWS(s, end, length);
    if (after === length || s.charCodeAt(after) === COMMA) {
      target.token68 = s.slice(i, end);
      return after;
    }
  }
  return parseParams(s, length, i, target.params, maxParams);
}

/**
 * Parses `#auth-param` from `i` (at a non-OWS character or the end) into `params`. Returns the
 * input's length, or the index of a token after a comma that is not followed by BWS "=".
 * `firstNameEnd` and `firstState`, when given, are where the first name ends and the NAME_NEXT
 * state it leaves, read by the caller.
 */
function parseParams(
  s: string,
  length: number,
  i: number,
  params: Record<string, string>,
  maxParams: number,
  firstNameEnd = -1,
  firstState = NAME_ROOT,
): number {
  let count = 0;
  let seen = 0; // one bit per known name already present (see KNOWN_NAMES)
  let afterComma = false;
  if (i < length && s.charCodeAt(i) === COMMA) {
    i = skipListSeparators(s, i + 1, length);
    afterComma = true;
  }
  for (;;) {
    if (i === length) return length;
    // The name (a token), and which of KNOWN_NAMES it is, in one pass (see NAME_NEXT).
    let nameEnd: number;
    let state: number;
    if (firstNameEnd !== -1) {
      nameEnd = firstNameEnd;
      state = firstState;
      firstNameEnd = -1;
    } else {
      nameEnd = i;
      state = NAME_ROOT;
      while (nameEnd < length) {
        const next = NAME_NEXT[(s.charCodeAt(nameEnd) << NAME_STATE_BITS) | state];
        if (next === undefined || next === NAME_END) break;
        state = next;
        nameEnd++;
      }
    }
    if (nameEnd === i) throw new AuthHeaderSyntaxError('expected auth-param', i);
    let j = nameEnd;
    if (j === length || s.charCodeAt(j) !== EQUALS) {
      j = skipOWS(s, j, length);
      if (j === length || s.charCodeAt(j) !== EQUALS) {
        if (afterComma) return i;
        throw new AuthHeaderSyntaxError("expected '=' after auth-param name", j);
      }
    }
    j++;
    // The character at j, read once for the checks that follow; -1 at the end.
    let code = j < length ? s.charCodeAt(j) : -1;
    if (code === SP || code === HTAB) {
      j = skipOWS(s, j, length);
      code = j < length ? s.charCodeAt(j) : -1;
    }
    let value: string;
    let valueEnd: number;
    if (code === DQUOTE) {
      // Fast path: one native match over plain qdtext up to the closing DQUOTE.
      PLAIN_QUOTED_CONTENT.lastIndex = j + 1;
      if (PLAIN_QUOTED_CONTENT.test(s)) {
        valueEnd = PLAIN_QUOTED_CONTENT.lastIndex;
        value = s.slice(j + 1, valueEnd - 1);
      } else {
        // A backslash, an invalid character or no closing quote: the exact scanner decides.
        const end = quotedStringEnd(s, j, length);
        valueEnd = end ^ (end >> 31); // `~end` when negative (escapes seen), else `end`
        value = unescapeQuotedString(s, j, valueEnd);
      }
    } else {
      valueEnd = tokenEnd(s, j, length);
      if (valueEnd === j) throw new AuthHeaderSyntaxError('expected token or quoted-string', j);
      value = s.slice(j, valueEnd);
    }
    // RFC 9110 §11.2: parameter names are case-insensitive and each may occur only once.
    const known = KNOWN_AT[state]!;
    let name = '';
    if (known === -1) {
      name = s.slice(i, nameEnd).toLowerCase();
      if (params[name] !== undefined) throw new AuthHeaderSyntaxError('duplicate auth-param', i);
    } else {
      if ((seen & (1 << known)) !== 0) throw new AuthHeaderSyntaxError('duplicate auth-param', i);
      seen |= 1 << known;
    }
    if (++count > maxParams) throw new AuthHeaderSyntaxError('more auth-params than maxParams', i);
    if (known === -1) params[name] = value;
    else setKnown(params, known, value);
    // What follows the value: the end, or OWS and a comma (then empty list elements).
    i = valueEnd;
    if (i === length) return length;
    if (s.charCodeAt(i) !== COMMA) {
      i = skipOWS(s, i, length);
      if (i === length) return length;
      if (s.charCodeAt(i) !== COMMA) {
        throw new AuthHeaderSyntaxError("expected ',' after auth-param", i);
      }
    }
    i = skipListSeparators(s, i + 1, length);
    afterComma = true;
  }
}

/**
 * Plain qdtext up to and including the closing DQUOTE (RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21
 * / %x23-5B / %x5D-7E / obs-text): no backslash, no DQUOTE, no other character. Sticky, so it
 * matches only at `lastIndex`. The class excludes DQUOTE, so a failed match gives back at most
 * the run it consumed, once: linear time.
 */
// eslint-disable-next-line no-control-regex
const PLAIN_QUOTED_CONTENT = /[^"\\\x00-\x08\x0a-\x1f\x7f\u0100-\uffff]*"/y;

/**
 * Lower-case names of the parameters the RFCs define for Basic, Digest and Bearer (RFC 7617,
 * RFC 7616, RFC 6750, RFC 7615). parseParams recognises them as it reads them (NAME_NEXT), stores
 * them without slicing the name (setKnown, which follows this order), and finds duplicates among
 * them with a bit mask of their indices, so there must be fewer than 31; the automaton's states,
 * one per prefix, must stay fewer than 256.
 */
const KNOWN_NAMES: readonly string[] = [
  'nc',
  'qop',
  'uri',
  'realm',
  'nonce',
  'stale',
  'error',
  'scope',
  'cnonce',
  'opaque',
  'domain',
  'charset',
  'rspauth',
  'response',
  'username',
  'userhash',
  'algorithm',
  'username*',
  'nextnonce',
  'error_uri',
  'error_description',
];

/**
 * `params[KNOWN_NAMES[index]] = value`, written as one named store per name: a single keyed store
 * for all names sees every shape a params object passes through and goes megamorphic in V8, while
 * each named store sees few (filling a params object measured several times faster).
 */
function setKnown(params: Record<string, string>, index: number, value: string): void {
  switch (index) {
    case 0:
      params.nc = value;
      return;
    case 1:
      params.qop = value;
      return;
    case 2:
      params.uri = value;
      return;
    case 3:
      params.realm = value;
      return;
    case 4:
      params.nonce = value;
      return;
    case 5:
      params.stale = value;
      return;
    case 6:
      params.error = value;
      return;
    case 7:
      params.scope = value;
      return;
    case 8:
      params.cnonce = value;
      return;
    case 9:
      params.opaque = value;
      return;
    case 10:
      params.domain = value;
      return;
    case 11:
      params.charset = value;
      return;
    case 12:
      params.rspauth = value;
      return;
    case 13:
      params.response = value;
      return;
    case 14:
      params.username = value;
      return;
    case 15:
      params.userhash = value;
      return;
    case 16:
      params.algorithm = value;
      return;
    case 17:
      params['username*'] = value;
      return;
    case 18:
      params.nextnonce = value;
      return;
    case 19:
      params.error_uri = value;
      return;
    default: // 20, the last
      params.error_description = value;
  }
}

/**
 * A parameter name is read with a small automaton over KNOWN_NAMES, so that the pass that finds
 * where the token ends also tells which known name it is, with no second pass comparing it.
 *
 * NAME_NEXT[(code << NAME_STATE_BITS) | state] is the state after the character `code`: NAME_END
 * when it is no tchar (the name ends before it), NAME_OTHER once the name can no longer be a known
 * one, else the state of the longer prefix of a known name, letters compared case-insensitively
 * (RFC 9110 §11.2). A code above 0xFF reads past the end: `undefined`, which also ends the name.
 * KNOWN_AT[state] is the index in KNOWN_NAMES of the name a state spells in full, else -1.
 */
const NAME_END = 0;
const NAME_OTHER = 1;
const NAME_ROOT = 2;
const { NAME_NEXT, NAME_STATE_BITS, KNOWN_AT } = ((): {
  NAME_NEXT: Uint8Array;
  NAME_STATE_BITS: number;
  KNOWN_AT: Int8Array;
} => {
  // The trie of KNOWN_NAMES (all lower case): one state per prefix. The table below then takes
  // both cases of a letter to the same state.
  const children = [0, 1, 2].map(() => new Map<number, number>());
  const known: number[] = [-1, -1, -1];
  KNOWN_NAMES.forEach((name, index) => {
    let state = NAME_ROOT;
    for (let k = 0; k < name.length; k++) {
      const code = name.charCodeAt(k);
      let next = children[state]!.get(code);
      if (next === undefined) {
        next = known.length;
        children[state]!.set(code, next);
        children.push(new Map());
        known.push(-1);
      }
      state = next;
    }
    known[state] = index;
  });
  const bits = Math.ceil(Math.log2(known.length));
  const next = new Uint8Array(256 << bits); // NAME_END everywhere to start with
  for (let code = 0; code < 256; code++) {
    if (TCHAR[code] !== 1) continue;
    const lower = code >= 0x41 && code <= 0x5a ? code | 0x20 : code;
    for (let state = NAME_OTHER; state < known.length; state++) {
      next[(code << bits) | state] = children[state]!.get(lower) ?? NAME_OTHER;
    }
  }
  return { NAME_NEXT: next, NAME_STATE_BITS: bits, KNOWN_AT: Int8Array.from(known) };
})();
