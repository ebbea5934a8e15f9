/**
 * The setup-time check of Digest's `domain` option. RFC 7616 §3.3 sends it as "a quoted,
 * space-separated list of URIs" (RFC 3986): absolute paths, relative to the server's root, and
 * absolute URIs. A URI that holds whitespace is split where it was not meant to be (our client
 * splits at spaces, others at any whitespace), and a `"` or `\` goes out escaped in the
 * quoted-string, which clients that do not unescape take as part of the URI. So each URI must be
 * written with what RFC 3986 §2 allows, other characters percent-encoded, and be one of the two
 * forms §3.3 names: a relative reference (`api/`, `//host/`) is resolved by a client against the
 * URL it requested, another space than the one configured.
 */
import { hexValue, PERCENT, URI_CHAR } from '../../header/grammar';
import { codePointName, kindOf, quoted } from '../../util/text';
import { isList } from '../../util/options';

/** The `domain` parameter's value for `uris`, or a `TypeError` naming the URI and character. */
export function domainText(uris: unknown): string {
  if (!isList(uris) || uris.length === 0) {
    throw new TypeError('digest(): domain must be a non-empty array of URIs');
  }
  for (const uri of uris) checkUri(uri);
  return uris.join(' ');
}

function checkUri(uri: unknown): void {
  if (typeof uri !== 'string') {
    throw new TypeError(`digest(): a domain URI must be a string, not ${kindOf(uri)}`);
  }
  if (uri === '') {
    throw new TypeError(
      'digest(): a domain URI is empty: give an absolute path (/api/) or an absolute URI',
    );
  }
  for (let i = 0; i < uri.length; i++) {
    const code = uri.charCodeAt(i);
    if (URI_CHAR[code] !== 1) throw outside(uri, uri.codePointAt(i)!);
    if (
      code === PERCENT &&
      (hexValue(uri.charCodeAt(i + 1)) < 0 || hexValue(uri.charCodeAt(i + 2)) < 0)
    ) {
      throw new TypeError(
        `digest(): the domain URI ${quoted(uri)} holds a "%" that begins no percent-encoded ` +
          'octet ("%" and two hex digits, RFC 3986 §2.1): write a "%" itself as %25',
      );
    }
  }
  // RFC 3986 §3.3 path-absolute ("/", not "//": that begins an authority), or §4.3 absolute-URI
  // (a scheme, then ":").
  if (uri.charCodeAt(0) === SLASH ? uri.charCodeAt(1) !== SLASH : SCHEME.test(uri)) return;
  throw new TypeError(
    `digest(): the domain URI ${quoted(uri)} is neither an absolute path (/api/) nor an absolute ` +
      'URI (https://example.com/api/), the two RFC 7616 §3.3 takes: a client would resolve it ' +
      'against the URL it requested',
  );
}

const SLASH = 0x2f;
/** RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), followed by ":". */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

function outside(uri: string, code: number): TypeError {
  const char = String.fromCodePoint(code);
  const found = `digest(): the domain URI ${quoted(uri)} holds ${codePointName(code)}`;
  if (WHITESPACE.test(char)) {
    // No whitespace is a surrogate: it always has UTF-8 octets to percent-encode.
    return new TypeError(
      `${found}${BLANKS.get(code) ?? ' (whitespace)'}: the domain goes out as one space-separated ` +
        'list (RFC 7616 §3.3), which clients split at whitespace. Give each URI as an element ' +
        `of its own, or percent-encode it: ${encodeURIComponent(char)}`,
    );
  }
  // A lone surrogate has no UTF-8 octets to percent-encode.
  const encoded = code >= 0xd800 && code <= 0xdfff ? undefined : encodeURIComponent(char);
  return new TypeError(
    `${found}, which no URI holds (RFC 3986 §2)` +
      (encoded === undefined ? '' : `: percent-encode it, ${encoded}`),
  );
}

const BLANKS: ReadonlyMap<number, string> = new Map([
  [0x09, ' (a tab)'],
  [0x0a, ' (a line break)'],
  [0x0d, ' (a line break)'],
  [0x20, ' (a space)'],
]);

/** What JavaScript counts as whitespace (Unicode White_Space and the BOM). */
const WHITESPACE = /^\s$/u;
