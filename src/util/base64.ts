/**
 * Strict base64 (RFC 4648 §4). Node's decoder silently skips characters outside the alphabet,
 * accepts base64url and missing padding, so different strings decode to the same bytes; credentials
 * must decode from exactly one spelling.
 */
/** Digit values by character code for one alphabet of 64, -1 outside it. */
function digitTable(alphabet: string): Int8Array {
  const digits = new Int8Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) digits[alphabet.charCodeAt(i)] = i;
  return digits;
}

/** base64 digit values (RFC 4648 §4). */
const DIGITS = digitTable('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
/** base64url digit values (RFC 4648 §5). */
const URL_DIGITS = digitTable('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');
const PAD = 0x3d; // '='

/**
 * The alphabets' digits, then padding: anchored character classes, linear time. Expressions
 * rather than a loop through the digit tables: a token is a slice of its header field, and
 * `charCodeAt` on such a view costs V8's generic string access per character (util/text.ts).
 */
const BASE64_DIGITS = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL_DIGITS = /^[A-Za-z0-9_-]*$/;

/** The value of `input`'s digit at `index` (checked already); 0 before the start (no digits). */
function digitAt(input: string, index: number, digits: Int8Array): number {
  return index < 0 ? 0 : digits[input.charCodeAt(index)]!;
}

/**
 * A final group of 2 (3) digits carries 4 (2) bits past the last byte: set, they would make a
 * second spelling of the same bytes (RFC 4648 §3.5). `rest` is the number of digits in that group.
 */
function spareBitsClear(last: number, rest: number): boolean {
  if (rest === 2) return (last & 0x0f) === 0;
  if (rest === 3) return (last & 0x03) === 0;
  return true;
}

/** Decodes canonical, padded base64; returns `undefined` for anything else. */
export function decodeBase64Strict(input: string): Buffer | undefined {
  const length = input.length;
  if (length === 0 || length % 4 !== 0) return undefined;
  let end = length;
  if (input.charCodeAt(end - 1) === PAD) end--;
  if (input.charCodeAt(end - 1) === PAD) end--;
  // Checked here rather than by encoding the bytes again and comparing, which cost as much as
  // the decoding.
  if (!BASE64_DIGITS.test(input)) return undefined;
  if (!spareBitsClear(digitAt(input, end - 1, DIGITS), end % 4)) return undefined;
  return Buffer.from(input, 'base64');
}

/**
 * `input` is unpadded base64url in its one canonical spelling (RFC 7515 §2: no `=`, no characters
 * outside the alphabet, no set bits past the last whole byte). Decoders accept the others too.
 */
export function isCanonicalBase64url(input: string): boolean {
  const rest = input.length % 4;
  if (rest === 1 || !BASE64URL_DIGITS.test(input)) return false;
  return spareBitsClear(digitAt(input, input.length - 1, URL_DIGITS), rest);
}
