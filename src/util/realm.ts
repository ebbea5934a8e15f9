/**
 * The setup-time check of a configured realm beyond what a quoted-string allows: one message for
 * `authenticate()`, `basic()`, `digest()`, `bearer()` and `requireScopes()`.
 *
 * A header field carries octets (RFC 9110 §5.5) and Node writes each character of one as a
 * latin1 octet, so a realm within U+00FF goes out as ISO-8859-1: what browsers, Java and
 * Python read it as, and what clients hash and echo in Digest. A character above U+00FF has no
 * octet of its own; `res.setHeader` would throw on it, making every refusal a 500.
 */

/**
 * Throws a `TypeError` saying why and what to give instead when a string realm holds a character
 * above U+00FF; other problems (control characters, a non-string) are the caller's to report.
 */
export function refuseRealmAboveLatin1(who: string, realm: unknown): void {
  if (typeof realm !== 'string') return;
  for (const char of realm) {
    const code = char.codePointAt(0)!;
    if (code <= 0xff) continue;
    const hex = code.toString(16).toUpperCase().padStart(4, '0');
    throw new TypeError(
      `${who}: the realm holds ${JSON.stringify(char)} (U+${hex}): a header field carries one ` +
        'octet per character, and characters above U+00FF have none. Keep the realm within ' +
        "Latin-1, or send its UTF-8 octets: Buffer.from(realm, 'utf8').toString('latin1') " +
        '(clients hash the octets they receive; browsers show them as Latin-1, garbled)',
    );
  }
}
