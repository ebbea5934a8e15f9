/** A character that latin1 cannot hold (a UTF-16 code unit above U+00FF). */
const ABOVE_LATIN1 = /[\u0100-\uffff]/;

/**
 * A copy of a string that keeps nothing else alive. V8 makes a substring of 13 characters or more
 * a view of the string it came from: a nonce or a `uri` read from an `Authorization` value holds
 * the whole value (up to Node's 16 KB head), so a bounded cache of such keys, filled by clients,
 * held up to 16 KB an entry instead of its few dozen bytes. Called where a request's text is kept
 * past the request.
 */
export function detach(text: string): string {
  // Shorter substrings are copies already.
  if (text.length < 13) return text;
  // latin1 keeps one byte per character, and is exact when none is above U+00FF (Node gives
  // header values so); UTF-16 code units are exact for any string.
  // (One native match rather than a charCodeAt loop, which on a substring costs V8's generic
  // string access per character, util/text.ts.)
  if (ABOVE_LATIN1.test(text)) return Buffer.from(text, 'utf16le').toString('utf16le');
  return Buffer.from(text, 'latin1').toString('latin1');
}
