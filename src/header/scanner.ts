/**
 * Index-returning scanning helpers over a field value (RFC 9110 §5.6). Each takes the string, the
 * index to start at and the string's length, and returns the index where its construct ends, so
 * callers slice only final values.
 */
import { AuthHeaderSyntaxError } from '../errors';
import * as grammar from './grammar';

// Local bindings, read once: loaders that compile imports to getters (esbuild, so tsx) would
// otherwise call a getter for every character scanned.
const {
  BACKSLASH,
  COMMA,
  DQUOTE,
  EQUALS,
  HTAB,
  QDTEXT,
  QUOTED_PAIR_CHAR,
  SP,
  TCHAR,
  TOKEN68_CHAR,
} = grammar;

/** RFC 9110 §5.6.3: OWS = *( SP / HTAB ). Also serves for BWS. */
export function skipOWS(s: string, i: number, length: number): number {
  while (i < length) {
    const code = s.charCodeAt(i);
    if (code !== SP && code !== HTAB) break;
    i++;
  }
  return i;
}

/** Skips OWS and commas: empty list elements are allowed and ignored (RFC 9110 §5.6.1). */
export function skipListSeparators(s: string, i: number, length: number): number {
  while (i < length) {
    const code = s.charCodeAt(i);
    if (code !== SP && code !== HTAB && code !== COMMA) break;
    i++;
  }
  return i;
}

/** RFC 9110 §5.6.2: token = 1*tchar. Returns `i` itself when no token starts there. */
export function tokenEnd(s: string, i: number, length: number): number {
  while (i < length && TCHAR[s.charCodeAt(i)] === 1) i++;
  return i;
}

const SHORT_TOKEN68 = 32;

/** The rest of a token68's characters from `lastIndex` (TOKEN68_CHAR); always matches. */
const TOKEN68_RUN = /[-.\w~+/]*/y;

/**
 * RFC 9110 §11.2: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
 * Returns `i` itself when no token68 starts there (padding alone is not one).
 */
export function token68End(s: string, i: number, length: number): number {
  let j = i;
  // A loop is quickest over a short token68 (Basic credentials); past SHORT_TOKEN68 characters
  // (a JWT runs to hundreds), one native match finishes the run at a fraction of the cost.
  const loopEnd = Math.min(length, i + SHORT_TOKEN68);
  while (j < loopEnd && TOKEN68_CHAR[s.charCodeAt(j)] === 1) j++;
  if (j === loopEnd && j < length) {
    TOKEN68_RUN.lastIndex = j;
    TOKEN68_RUN.test(s);
    j = TOKEN68_RUN.lastIndex;
  }
  if (j === i) return i;
  while (j < length && s.charCodeAt(j) === EQUALS) j++;
  return j;
}

/**
 * RFC 9110 §5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE.
 *
 * `i` is at the opening DQUOTE. Returns the index just past the closing one, bitwise-negated
 * (`~end`, always negative) when the content holds a quoted-pair, so that the common case needs
 * no second pass to find out whether to unescape (see {@link unescapeQuotedString}).
 */
export function quotedStringEnd(s: string, i: number, length: number): number {
  let j = i + 1;
  let escaped = false;
  for (;;) {
    while (j < length && QDTEXT[s.charCodeAt(j)] === 1) j++;
    if (j === length) break;
    const code = s.charCodeAt(j);
    if (code === DQUOTE) return escaped ? ~(j + 1) : j + 1;
    if (code !== BACKSLASH) {
      throw new AuthHeaderSyntaxError('invalid character in quoted-string', j);
    }
    if (j + 1 === length) break;
    if (QUOTED_PAIR_CHAR[s.charCodeAt(j + 1)] !== 1) {
      throw new AuthHeaderSyntaxError('invalid quoted-pair in quoted-string', j);
    }
    escaped = true;
    j += 2;
  }
  throw new AuthHeaderSyntaxError('unterminated quoted-string', i);
}

/**
 * The content of the quoted-string `s[start, end)` with each quoted-pair replaced by the character
 * it escapes (RFC 9110 §5.6.4). The string must have been checked by {@link quotedStringEnd}.
 */
export function unescapeQuotedString(s: string, start: number, end: number): string {
  const contentEnd = end - 1;
  if (contentEnd - start > LONG_QUOTED_STRING) return unescapeLong(s, start + 1, contentEnd);
  let result = '';
  let chunkStart = start + 1;
  for (let j = chunkStart; j < contentEnd; j++) {
    if (s.charCodeAt(j) === BACKSLASH) {
      result += s.slice(chunkStart, j);
      // Keep the escaped character as is; stepping over it also keeps an escaped backslash.
      chunkStart = ++j;
    }
  }
  return result + s.slice(chunkStart, contentEnd);
}

/** Past this length, concatenating slices (a rope of many pieces) costs more than a buffer. */
const LONG_QUOTED_STRING = 256;

function unescapeLong(s: string, from: number, to: number): string {
  // Every character of a checked quoted-string is at most 0xFF, so latin1 holds it exactly.
  const bytes = Buffer.allocUnsafe(to - from);
  let length = 0;
  for (let j = from; j < to; j++) {
    let code = s.charCodeAt(j);
    if (code === BACKSLASH) code = s.charCodeAt(++j);
    bytes[length++] = code;
  }
  return bytes.toString('latin1', 0, length);
}
