/**
 * Strict base64 (RFC 4648 §4). Node's decoder silently skips characters outside the alphabet,
 * accepts base64url and missing padding, so different strings decode to the same bytes; credentials
 * must decode from exactly one spelling.
 */
const ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') {
  ALPHABET[c.charCodeAt(0)] = 1;
}
const PAD = 0x3d; // '='

/** Decodes canonical, padded base64; returns `undefined` for anything else. */
export function decodeBase64Strict(input: string): Buffer | undefined {
  const length = input.length;
  if (length === 0 || length % 4 !== 0) return undefined;
  let end = length;
  if (input.charCodeAt(end - 1) === PAD) end--;
  if (input.charCodeAt(end - 1) === PAD) end--;
  for (let i = 0; i < end; i++) {
    // Past the table (a code of 128 or more) reads undefined: outside the alphabet too.
    if (ALPHABET[input.charCodeAt(i)] !== 1) return undefined;
  }
  const bytes = Buffer.from(input, 'base64');
  // Non-zero bits in the last character before padding would give a second spelling.
  if (end !== length && bytes.toString('base64') !== input) return undefined;
  return bytes;
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
