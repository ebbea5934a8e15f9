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

/** The value of the last of `input`'s first `end` characters; -1 when any of them is no digit. */
function lastDigit(input: string, end: number, digits: Int8Array): number {
  let last = 0;
  for (let i = 0; i < end; i++) {
    const c = input.charCodeAt(i);
    last = c < 128 ? digits[c]! : -1;
    if (last < 0) return -1;
  }
  return last;
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
  const last = lastDigit(input, end, DIGITS);
  if (last < 0 || !spareBitsClear(last, end % 4)) return undefined;
  return Buffer.from(input, 'base64');
}

/**
 * `input` is unpadded base64url in its one canonical spelling (RFC 7515 §2: no `=`, no characters
 * outside the alphabet, no set bits past the last whole byte). Decoders accept the others too.
 */
export function isCanonicalBase64url(input: string): boolean {
  const rest = input.length % 4;
  if (rest === 1) return false;
  const last = lastDigit(input, input.length, URL_DIGITS);
  return last >= 0 && spareBitsClear(last, rest);
}
