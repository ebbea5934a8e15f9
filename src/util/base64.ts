/**
 * Strict base64 (RFC 4648 §4). Node's decoder silently skips characters outside the alphabet,
 * accepts base64url and missing padding, so different strings decode to the same bytes; credentials
 * must decode from exactly one spelling.
 */
/** base64 digit values (RFC 4648 §4), -1 outside the alphabet. */
const DIGITS = new Int8Array(128).fill(-1);
for (const [i, c] of [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
].entries()) {
  DIGITS[c.charCodeAt(0)] = i;
}
const PAD = 0x3d; // '='

/** Decodes canonical, padded base64; returns `undefined` for anything else. */
export function decodeBase64Strict(input: string): Buffer | undefined {
  const length = input.length;
  if (length === 0 || length % 4 !== 0) return undefined;
  let end = length;
  if (input.charCodeAt(end - 1) === PAD) end--;
  if (input.charCodeAt(end - 1) === PAD) end--;
  let last = 0;
  for (let i = 0; i < end; i++) {
    const c = input.charCodeAt(i);
    last = c < 128 ? DIGITS[c]! : -1;
    if (last < 0) return undefined;
  }
  // The last digit before padding carries bits past the last byte (2 of them before one "=", 4
  // before two): set, they would make a second spelling of the same bytes (RFC 4648 §3.5).
  // Checked here rather than by encoding the bytes again and comparing, which cost as much as
  // the decoding.
  if (end === length - 1 && (last & 0x03) !== 0) return undefined;
  if (end === length - 2 && (last & 0x0f) !== 0) return undefined;
  return Buffer.from(input, 'base64');
}

/** base64url digit values (RFC 4648 §5), -1 outside the alphabet. */
const URL_DIGITS = new Int8Array(128).fill(-1);
for (const [i, c] of [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
].entries()) {
  URL_DIGITS[c.charCodeAt(0)] = i;
}

/**
 * `input` is unpadded base64url in its one canonical spelling (RFC 7515 §2: no `=`, no characters
 * outside the alphabet, no set bits past the last whole byte). Decoders accept the others too.
 */
export function isCanonicalBase64url(input: string): boolean {
  const rest = input.length % 4;
  if (rest === 1) return false;
  let last = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    last = c < 128 ? URL_DIGITS[c]! : -1;
    if (last < 0) return false;
  }
  // The last digit of 2 (3) carries 4 (2) bits past the last byte: they must be zero.
  if (rest === 2) return (last & 0x0f) === 0;
  if (rest === 3) return (last & 0x03) === 0;
  return true;
}
