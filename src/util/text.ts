/** Character-class checks on strings, by scanning (no regular expressions on untrusted input). */

/** Every character is ASCII (U+0000 to U+007F). */
export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * `text` equals the lower-case ASCII `lower` but for the case of ASCII letters: a field name or an
 * auth-scheme (RFC 9110 §5.1, §11.1). Unlike toLowerCase(), allocates nothing.
 */
export function equalsLowerAscii(text: string, lower: string): boolean {
  if (text.length !== lower.length) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const folded = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    if (folded !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Some character is a control character: C0, DEL or C1 (U+0000–U+001F, U+007F–U+009F). */
export function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/**
 * A value read from a file or the environment that kept its line end or padding: a control
 * character, or white space at either end. Compared exactly (an `iss`, an `aud`, a Kerberos
 * realm), it matches nothing a peer sends.
 */
export function isPaddedOrControl(text: string): boolean {
  return hasControl(text) || text.trim() !== text;
}

/**
 * Text without control characters followed by a line end (LF or CRLF): a secret read from a file
 * as is. A secret string of random bytes (`toString('latin1')`) is not taken for one: it holds
 * control characters elsewhere all but certainly.
 */
export function isTextWithLineEnd(text: string): boolean {
  const end = text.endsWith('\r\n') ? text.length - 2 : text.endsWith('\n') ? text.length - 1 : -1;
  return end > 0 && !hasControl(text.slice(0, end));
}

/** The setup message for a secret string that {@link isTextWithLineEnd} refuses. */
export const lineEndSecretMessage = (caller: string): string =>
  `${caller}: \`secret\` is text ending in a line end (read from a file as is?), which would count toward its length and be signed with, where another process reading it from the environment would not: give the secret without it, or its bytes as a Buffer`;

/** No lone surrogate in `text`, which UTF-8 would write as U+FFFD (ES2024's String#isWellFormed). */
export function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Hex digits only; anchored character classes, so linear time. A regular expression rather than
 * a loop: a value read from a header is a slice of the field (V8 keeps a substring of 13
 * characters or more as a view of its parent), and `charCodeAt` on such a view goes through V8's
 * generic string access for every character, some 7 ns each, where the expression unpacks the
 * view once (a 64-digit Digest `response`: about 450 ns a loop, 70 the expression).
 */
const HEX = /^[0-9A-Fa-f]*$/;
const LOWER_HEX = /^[0-9a-f]*$/;

/** True when `value` is exactly `length` hex digits, in either case. */
export function isHexOfLength(value: string, length: number): boolean {
  return value.length === length && HEX.test(value);
}

/**
 * `value` in lower case when it is exactly `length` hex digits, in either case; else `undefined`.
 * Lower-case input (what clients send) is returned as is.
 */
export function lowerHexOfLength(value: string, length: number): string | undefined {
  if (value.length !== length) return undefined;
  if (LOWER_HEX.test(value)) return value;
  return HEX.test(value) ? value.toLowerCase() : undefined;
}

/** A code point as the messages name it: `U+` and at least four upper-case hex digits. */
export function codePointName(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** What kind of value a setting or a callback's result was, for a message: `a number`, `an array`. */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Text a message shows that may hold anything (a header name, a configured URI): quoted, with
 * what is not printable ASCII escaped (`\t`, `\u0085`), cut at 64 characters.
 */
export function quoted(text: string): string {
  const json = JSON.stringify(text.slice(0, 64));
  let shown = '';
  for (let i = 0; i < json.length; i++) {
    const code = json.charCodeAt(i);
    shown += code >= 0x20 && code <= 0x7e ? json[i] : `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return text.length > 64 ? `${shown}…` : shown;
}

// ignoreBOM: a leading U+FEFF is a character of the text (a name), not a byte order mark to drop,
// which made "\uFEFFalice" a second spelling of "alice".
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8, refusing invalid byte sequences instead of substituting U+FFFD. */
export function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * What a string of octets (one per character, as Node reads a header field: latin1) says in
 * UTF-8, or `undefined` when they are no UTF-8.
 */
export function utf8OfOctets(octets: string): string | undefined {
  return decodeUtf8Strict(Buffer.from(octets, 'latin1'));
}
