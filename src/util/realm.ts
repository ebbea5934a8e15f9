/**
 * The setup-time check of a configured realm, one rule and one message for `authenticate()`,
 * `basic()`, `digest()`, `bearer()` and `requireScopes()`.
 *
 * A realm goes out in a quoted-string (RFC 9110 §5.6.4) and users read it in a browser's login
 * box (RFC 9110 §11.5), so it must be printable text:
 *
 * - No C0 control and no DEL. A quoted-string may carry HTAB, but a login box shows a tab as
 *   nothing or a box, and RFC 6750 §3 gives Bearer's other values no tab either; CR, LF and NUL
 *   no field can carry (`res.setHeader` would throw, making every refusal a 500).
 * - Nothing above U+00FF. A header field carries octets (RFC 9110 §5.5) and Node writes each
 *   character as one latin1 octet, so a realm within U+00FF goes out as ISO-8859-1: what browsers,
 *   Java and Python read it as, and what clients hash and echo in Digest. A character above has
 *   no octet of its own.
 * - No C1 control (U+0080–U+009F): ISO-8859-1 shows none of them. Such octets are taken only
 *   inside the UTF-8 octets of a realm beyond Latin-1 given as `Buffer.from(realm,
 *   'utf8').toString('latin1')` (what htdigest hashed, and what we tell users to give): the whole
 *   realm must then be well-formed UTF-8 whose text has no control character either.
 *
 * The empty realm is a quoted-string too (`realm=""`), and is taken.
 */
import { codePointName, hasControl, kindOf, utf8OfOctets } from './text';

/**
 * Returns `realm` when it is a string of printable text; otherwise throws a `TypeError` that
 * names `who`, the offending character as U+XXXX, and what to give instead.
 */
export function checkRealm(who: string, realm: unknown): string {
  if (typeof realm !== 'string') {
    throw new TypeError(`${who}: the realm must be a string, not ${kindOf(realm)}`);
  }
  let c1 = false;
  for (let i = 0; i < realm.length; i++) {
    const code = realm.charCodeAt(i);
    if (code > 0xff) throw aboveLatin1(who, String.fromCodePoint(realm.codePointAt(i)!));
    if (code < 0x20 || code === 0x7f) throw control(who, code);
    if (code >= 0x80 && code <= 0x9f) c1 = true;
  }
  if (c1) checkUtf8Octets(who, realm);
  return realm;
}

/** A realm holding 0x80–0x9F: well-formed UTF-8 octets of text without controls, or refused. */
function checkUtf8Octets(who: string, realm: string): void {
  const text = utf8OfOctets(realm);
  if (text === undefined) {
    // Not UTF-8: the C1 character stands for itself.
    for (let i = 0; i < realm.length; i++) {
      const code = realm.charCodeAt(i);
      if (code >= 0x80 && code <= 0x9f) throw control(who, code);
    }
    return;
  }
  if (!hasControl(text)) return;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f))
      throw control(who, code, ' in its UTF-8 octets');
  }
}

function control(who: string, code: number, encoded = ''): TypeError {
  const blank = code === 0x09 || code === 0x0a || code === 0x0d;
  const name = code === 0x09 ? ' (a tab)' : blank ? ' (a line break)' : '';
  // CR, LF and NUL no field can carry: Node's setHeader throws on them.
  const unsendable =
    code === 0x0a || code === 0x0d || code === 0x00 ? ', and no header can carry it' : '';
  const c1 =
    code >= 0x80 && encoded === ''
      ? '. Octets 0x80–0x9F are taken only within the UTF-8 sequences of a realm given as its ' +
        "UTF-8 octets, Buffer.from(realm, 'utf8').toString('latin1')"
      : '';
  return new TypeError(
    `${who}: the realm holds ${codePointName(code)}${name}${encoded}, a control character: users read ` +
      `the realm in a login box (RFC 9110 §11.5), which shows none${unsendable}. Give printable ` +
      `text${blank ? ' (a space in its place)' : ''}${c1}`,
  );
}

function aboveLatin1(who: string, char: string): TypeError {
  return new TypeError(
    `${who}: the realm holds ${JSON.stringify(char)} (${codePointName(char.codePointAt(0)!)}): a header ` +
      'field carries one octet per character, and characters above U+00FF have none. Keep the ' +
      "realm within Latin-1, or send its UTF-8 octets: Buffer.from(realm, 'utf8').toString(" +
      "'latin1') (clients hash the octets they receive; browsers show them as Latin-1, garbled)",
  );
}
