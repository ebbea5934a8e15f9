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
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0xff) return Buffer.from(text, 'utf16le').toString('utf16le');
  }
  return Buffer.from(text, 'latin1').toString('latin1');
}
