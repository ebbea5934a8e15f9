/**
 * The setup-time check of configured text, other than a realm (see ./realm), that goes out in a
 * header field: `authenticate()`'s `contentType` and `cacheControl`, Digest's `opaque` (its
 * `domain` holds URIs, checked more narrowly by schemes/digest/domain.ts). `res.setHeader` throws
 * on CR, LF, NUL and characters above U+00FF, which would make every challenge, and so every
 * refusal, a 500; a quoted-string carries no other control but HTAB (RFC 9110 §5.6.4), and
 * neither does a field value (§5.5).
 */
import { isQuotable } from '../header/grammar';

/** Throws a `TypeError` naming `who` and the option `name` unless `value` is such text. */
export function checkFieldText(who: string, name: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`${who}: \`${name}\` must be a string`);
  if (!isQuotable(value)) {
    throw new TypeError(
      `${who}: \`${name}\` holds a control character (HTAB aside) or a character above U+00FF, ` +
        'which a header field cannot carry',
    );
  }
  return value;
}
