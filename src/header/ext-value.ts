/**
 * RFC 8187 ext-values: parameter values outside ISO-8859-1, sent as `name*=UTF-8''%E2%82%AC`
 * (Digest's `username*`, RFC 7616 §3.4.4).
 *
 * ```
 * ext-value     = charset  "'" [ language ] "'" value-chars
 * charset       = "UTF-8" / mime-charset
 * value-chars   = *( pct-encoded / attr-char )
 * pct-encoded   = "%" HEXDIG HEXDIG
 * ```
 */
import { AuthHeaderSyntaxError } from '../errors';
import { decodeUtf8Strict } from '../util/text';
import * as grammar from './grammar';

// Local bindings, read once: loaders that compile imports to getters (esbuild, so tsx) would
// otherwise call a getter for every character scanned.
const { ATTR_CHAR, LANGUAGE_CHAR, MIME_CHARSET_CHAR, PERCENT, SQUOTE, hexValue } = grammar;

/**
 * Checks `value` against the ext-value grammar and returns the index where its value-chars start.
 * Throws {@link AuthHeaderSyntaxError} saying where it is malformed.
 */
function valueCharsStart(value: string): number {
  const length = value.length;
  let i = 0;
  while (i < length && MIME_CHARSET_CHAR[value.charCodeAt(i)] === 1) i++;
  if (i === 0 || value.charCodeAt(i) !== SQUOTE) {
    throw new AuthHeaderSyntaxError('invalid ext-value charset', i);
  }
  const languageStart = ++i;
  while (i < length && LANGUAGE_CHAR[value.charCodeAt(i)] === 1) i++;
  if (value.charCodeAt(i) !== SQUOTE || !isLanguageTag(value, languageStart, i)) {
    throw new AuthHeaderSyntaxError('invalid ext-value language', i);
  }
  const start = ++i;
  while (i < length) {
    const code = value.charCodeAt(i);
    if (ATTR_CHAR[code] === 1) {
      i++;
    } else if (
      code === PERCENT &&
      hexValue(value.charCodeAt(i + 1)) >= 0 &&
      hexValue(value.charCodeAt(i + 2)) >= 0
    ) {
      i += 3;
    } else {
      throw new AuthHeaderSyntaxError('invalid character or percent-escape in ext-value', i);
    }
  }
  return start;
}

/**
 * Whether `value[start, end)` (letters, digits and "-") has the shape of an RFC 5646
 * Language-Tag, or is empty (RFC 8187 §3.2.1: `[ language ]`): subtags of 1 to 8 letters or
 * digits joined by "-", the first of letters only (`en`, `zh-Hant-CN`, `x-private`, `i-klingon`).
 * The shape only: the tag is not used.
 */
function isLanguageTag(value: string, start: number, end: number): boolean {
  if (start === end) return true;
  let subtag = 0;
  let first = true;
  for (let j = start; j < end; j++) {
    const code = value.charCodeAt(j);
    if (code === 0x2d) {
      if (subtag === 0) return false;
      subtag = 0;
      first = false;
    } else {
      if (first && code <= 0x39) return false; // a digit in the primary subtag
      if (++subtag > 8) return false;
    }
  }
  return subtag > 0;
}

/**
 * True when `value` is a well-formed ext-value whose charset is UTF-8 and whose bytes are valid
 * UTF-8 (RFC 8187 §3.2.1: producers MUST use UTF-8): what {@link decodeExtValue} decodes.
 */
export function isUtf8ExtValue(value: string): boolean {
  try {
    decodeExtValue(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decodes an RFC 8187 ext-value such as `UTF-8''%C2%A3%20rates` to the string it encodes.
 *
 * The charset name is matched case-insensitively; only UTF-8 is accepted (RFC 8187 §3.2.1 requires
 * no other). The language tag, if any, is checked for syntax and dropped.
 *
 * @param value the parameter value, as parsed (e.g. `params['username*']`)
 * @throws AuthHeaderSyntaxError on malformed syntax, another charset, an invalid percent-escape or
 *   bytes that are not valid UTF-8
 *
 * @example
 * decodeExtValue("UTF-8''J%C3%A4s%C3%B8n%20Doe"); // 'Jäsøn Doe'
 */
export function decodeExtValue(value: string): string {
  if (typeof value !== 'string') throw new TypeError('ext-value must be a string');
  const start = valueCharsStart(value);
  const charset = value.slice(0, value.indexOf("'"));
  if (charset.toLowerCase() !== 'utf-8') {
    throw new AuthHeaderSyntaxError('unsupported ext-value charset', 0);
  }
  const bytes = new Uint8Array(value.length - start);
  let count = 0;
  for (let i = start; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === PERCENT) {
      bytes[count++] = hexValue(value.charCodeAt(i + 1)) * 16 + hexValue(value.charCodeAt(i + 2));
      i += 2;
    } else {
      bytes[count++] = code;
    }
  }
  // Strict: invalid UTF-8 must fail rather than collide with other byte strings as U+FFFD (the
  // API contract); a leading U+FEFF stays the data it is.
  const text = decodeUtf8Strict(bytes.subarray(0, count));
  if (text === undefined) throw new AuthHeaderSyntaxError('ext-value is not valid UTF-8', start);
  return text;
}

/**
 * Encodes `value` as an RFC 8187 ext-value in UTF-8 with no language: `UTF-8''` followed by the
 * UTF-8 bytes, each byte that is not an attr-char percent-encoded.
 *
 * @throws TypeError when `value` is not a well-formed string (a lone surrogate has no UTF-8 form)
 *
 * @example
 * encodeExtValue('£ rates'); // "UTF-8''%C2%A3%20rates"
 */
export function encodeExtValue(value: string): string {
  if (typeof value !== 'string') throw new TypeError('ext-value must be a string');
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    throw new TypeError('value is not well-formed UTF-16 (lone surrogate)');
  }
  // encodeURIComponent leaves * ' ( ) alone, which are not attr-chars (RFC 8187 §3.2.1).
  let result = "UTF-8''";
  let chunkStart = 0;
  for (let i = 0; i < encoded.length; i++) {
    const code = encoded.charCodeAt(i);
    if (code === PERCENT || ATTR_CHAR[code] === 1) continue;
    result += encoded.slice(chunkStart, i) + '%' + code.toString(16).toUpperCase();
    chunkStart = i + 1;
  }
  return result + encoded.slice(chunkStart);
}
