/**
 * Character classes of the RFC 9110 authentication grammar, as 256-entry lookup tables indexed by
 * `charCodeAt`. A code above 0xFF indexes past the end and reads `undefined`, which every check
 * treats as "not in the class", so such characters never pass.
 */

export const HTAB = 0x09;
export const SP = 0x20;
export const DQUOTE = 0x22;
export const HASH = 0x23;
export const PERCENT = 0x25;
export const SQUOTE = 0x27;
export const STAR = 0x2a;
export const COMMA = 0x2c;
export const EQUALS = 0x3d;
export const BACKSLASH = 0x5c;
export const DEL = 0x7f;

function table(accepts: (code: number) => boolean): Uint8Array {
  const result = new Uint8Array(256);
  for (let code = 0; code < 256; code++) result[code] = accepts(code) ? 1 : 0;
  return result;
}

function isAlphaOrDigit(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a)
  );
}

function oneOf(chars: string): (code: number) => boolean {
  return (code) => isAlphaOrDigit(code) || chars.includes(String.fromCharCode(code));
}

/**
 * RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_"
 * / "`" / "|" / "~" / DIGIT / ALPHA
 */
export const TCHAR: Uint8Array = table(oneOf("!#$%&'*+-.^_`|~"));

/** RFC 9110 §11.2: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
export const TOKEN68_CHAR: Uint8Array = table(oneOf('-._~+/'));

/**
 * RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text, obs-text = %x80-FF.
 * DQUOTE and backslash are left out: the scanner handles them itself.
 */
export const QDTEXT: Uint8Array = table(
  (code) =>
    code === HTAB ||
    (code >= SP && code <= 0x7e && code !== DQUOTE && code !== BACKSLASH) ||
    code >= 0x80,
);

/** RFC 9110 §5.6.4: quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
export const QUOTED_PAIR_CHAR: Uint8Array = table(
  (code) => code === HTAB || (code >= SP && code !== DEL),
);

/**
 * What a quoted-string can carry once escaped: everything but CTLs (HTAB is allowed) and DEL
 * (RFC 9110 §5.6.4, RFC 5234 CTL = %x00-1F / %x7F).
 */
export const QUOTABLE: Uint8Array = QUOTED_PAIR_CHAR;

/**
 * RFC 8187 §3.2.1: attr-char = ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" /
 * "_" / "`" / "|" / "~"
 */
export const ATTR_CHAR: Uint8Array = table(oneOf('!#$&+-.^_`|~'));

/**
 * RFC 8187 §3.2.1: mime-charsetc = ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "+" / "-" / "^" /
 * "_" / "`" / "{" / "}" / "~"
 */
export const MIME_CHARSET_CHAR: Uint8Array = table(oneOf('!#$%&+-^_`{}~'));

/** RFC 5646 Language-Tag, loosely: subtags of ALPHA / DIGIT joined by "-". */
export const LANGUAGE_CHAR: Uint8Array = table(oneOf('-'));

/**
 * RFC 3986 §2: the characters a URI-reference is written with: unreserved (ALPHA / DIGIT / "-" /
 * "." / "_" / "~"), reserved (gen-delims ":" / "/" / "?" / "#" / "[" / "]" / "@", sub-delims
 * "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="), and "%", which must begin a
 * pct-encoded octet (§2.1: the caller checks the two HEXDIG that follow).
 */
export const URI_CHAR: Uint8Array = table(oneOf("-._~:/?#[]@!$&'()*+,;=%"));

/**
 * HEXDIG value of a code, or -1, in either case: ABNF strings are case-insensitive (RFC 5234
 * §2.3), so HEXDIG's "A" to "F" match "a" to "f" too, as RFC 3986 §2.1 says of pct-encoded.
 */
export function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * True when `value` is a token (RFC 9110 §5.6.2: `token = 1*tchar`), i.e. valid as an auth-scheme,
 * a parameter name, or a parameter value that needs no quotes.
 *
 * @example
 * isToken('Digest'); // true
 * isToken('a b'); // false
 */
export function isToken(value: string): boolean {
  if (typeof value !== 'string' || value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    if (TCHAR[value.charCodeAt(i)] !== 1) return false;
  }
  return true;
}

/**
 * True when `value` can be sent as a quoted-string (RFC 9110 §5.6.4): no control character but
 * HTAB, no DEL, nothing above U+00FF. This is what configured text (a realm, a description) must
 * satisfy: anything else would make `formatChallenge` throw, or `res.setHeader` with it.
 */
export function isQuotable(value: string): boolean {
  if (typeof value !== 'string') return false;
  for (let i = 0; i < value.length; i++) {
    if (QUOTABLE[value.charCodeAt(i)] !== 1) return false;
  }
  return true;
}

/**
 * TOKEN68_CHAR's characters, then padding; the class holds no `=`, so a failed match gives back
 * at most the run once: linear time. An expression rather than a loop: a token is a slice of its
 * header field, and `charCodeAt` on such a view costs V8's generic string access per character,
 * where the expression unpacks the view once (util/text.ts).
 */
const TOKEN68 = /^[-.\w~+/]+=*$/;

/**
 * True when `value` is a token68 (RFC 9110 §11.2): one or more of ALPHA, DIGIT, `-._~+/`, then
 * optional `=` padding, as Basic credentials and Bearer tokens are.
 *
 * @example
 * isToken68('QWxhZGRpbjpvcGVuIHNlc2FtZQ=='); // true
 * isToken68('a=b'); // false
 */
export function isToken68(value: string): boolean {
  return typeof value === 'string' && TOKEN68.test(value);
}
