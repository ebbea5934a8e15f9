/**
 * The response headers a scheme's success asks for (`SchemeSuccess.headers`: Digest's
 * `Authentication-Info`, RFC 7615, or a custom scheme's). One Node would refuse, or would send
 * other than given (a number, a list), is the scheme's programming error on this request, as any
 * callback result of the wrong type is: an `AuthschemeError` `ERR_AUTH_VERIFIER_RESULT` that fails
 * the request closed through `next(err)`, not Node's `ERR_INVALID_CHAR`. A success that fails
 * sends none of its headers, and leaves a header of the same name set before it (by the app, by
 * an earlier middleware) as it was: here, or later (an audit hook that throws) through
 * {@link undoSuccessHeaders}.
 */
import type { IncomingMessage, OutgoingHttpHeader, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { AuthschemeError } from '../errors';
import { isQuotable, isToken } from '../header/grammar';
import { codePointName, kindOf, quoted } from '../util/text';
import { HTTP_VERSION_MAJOR } from './request';

/**
 * The values the headers of a success replaced, by the name the success gave; `undefined` when
 * they replaced none (a Digest success on a response without an `Authentication-Info`).
 */
export type ReplacedHeaders = Map<string, OutgoingHttpHeader> | undefined;

/**
 * Sets `headers` on `res`, or throws without setting any when one cannot be sent as given. `req`
 * tells HTTP/2 apart, where Node's setHeader checks too little (see {@link http2Problem}).
 * Returns what they replaced, for {@link undoSuccessHeaders}.
 */
export function setSuccessHeaders(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  scheme: string,
  headers: unknown,
): ReplacedHeaders {
  // Absent, as `details` may be.
  if (headers === undefined || headers === null) return undefined;
  if (typeof headers !== 'object' || Array.isArray(headers)) {
    throw new AuthschemeError(
      'ERR_AUTH_VERIFIER_RESULT',
      `The ${scheme} scheme's success carries headers that are ${kindOf(headers)}, not an ` +
        'object of field names to strings',
    );
  }
  const fields = headers as Record<string, unknown>;
  // for-in with an own-property check rather than Object.keys(): no array per request.
  if (req[HTTP_VERSION_MAJOR] >= 2) {
    // Node's HTTP/2 setHeader checks too little (see http2Problem), so all are checked here
    // before any is set: nothing to undo here. (Its removeHeader('date') would not remove a Date
    // either: it only stops the one Node adds; see undo().)
    for (const name in fields) {
      if (!Object.hasOwn(fields, name)) continue;
      const value = fields[name];
      const problem =
        typeof value === 'string' ? http2Problem(name, value) : notAString(name, value);
      if (problem !== undefined) throw refused(scheme, problem);
    }
    // Only the head having gone out makes one throw now, and then the first: Node's error goes on.
    // What each replaces is kept as on HTTP/1, for undoSuccessHeaders().
    let replaced: ReplacedHeaders;
    for (const name in fields) {
      if (!Object.hasOwn(fields, name)) continue;
      const previous = res.getHeader(name);
      res.setHeader(name, valueBeside(name, fields[name] as string, previous));
      if (previous !== undefined) (replaced ??= new Map()).set(name, previous);
    }
    return replaced;
  }
  // Node's HTTP/1 setHeader checks names and values as it sets them (the same scan a check of
  // ours would repeat on every Digest success). What it refuses, and what it would send other
  // than given, undoes what this success set so far. A name set before (a Vary or Cache-Control
  // of the app's) gets its value back, so the value it replaces is kept, in a Map made only
  // when there is one: a lookup per header, no list per request.
  const out = res as ServerResponse;
  let replaced: ReplacedHeaders;
  for (const name in fields) {
    if (!Object.hasOwn(fields, name)) continue;
    const value = fields[name];
    let problem: string;
    if (typeof value !== 'string') {
      problem = notAString(name, value);
    } else {
      const previous = out.getHeader(name);
      try {
        out.setHeader(name, valueBeside(name, value, previous));
        if (previous !== undefined) (replaced ??= new Map()).set(name, previous);
        continue;
      } catch (error) {
        problem = unsendable(name, value, error);
      }
    }
    undo(out, false, fields, name, replaced);
    throw refused(scheme, problem);
  }
  return replaced;
}

/**
 * What to set for `name`: `value`, which replaces what was there, but for `Set-Cookie`, which
 * cannot be combined into one field (RFC 6265 §3; RFC 9110 §5.3): a cookie the app set before
 * (a CSRF token's, say) stays beside the scheme's. One of the same cookie-name is replaced: a
 * server SHOULD NOT send two (RFC 6265 §4.1.1), and a second success on the request (a site's and
 * a route's authenticate()) would send the scheme's cookie twice. Nor is `Vary` replaced, a list
 * of the request fields the response depends on (RFC 9110 §12.5.5): the scheme's names are added
 * to those set before (a `cors()`'s `Origin`, which a cache must keep keying on), as
 * authenticate() adds its own.
 */
function valueBeside(
  name: string,
  value: string,
  previous: OutgoingHttpHeader | undefined,
): string | string[] {
  // The length first: this runs on every success header (Digest's Authentication-Info).
  if (previous === undefined) return value;
  if (name.length === 4 && name.toLowerCase() === 'vary') return varyBeside(value, previous);
  if (name.length !== 10 || name.toLowerCase() !== 'set-cookie') return value;
  const own = cookieName(value);
  const kept: string[] = [];
  // String(): an app may have set a number, which Node sends as its digits.
  for (const cookie of Array.isArray(previous) ? previous : [previous]) {
    if (cookieName(String(cookie)) !== own) kept.push(String(cookie));
  }
  if (kept.length === 0) return value;
  kept.push(value);
  return kept;
}

/**
 * The `Vary` set before, with the names of the scheme's `value` it lacks added (compared
 * case-insensitively, RFC 9110 §5.1), each once. `*` (anything may vary) set before stays as it
 * was; the scheme's `*` replaces the list, which it covers.
 */
function varyBeside(value: string, previous: OutgoingHttpHeader): string {
  // String(): an app may have set a number, which Node sends as its digits.
  const text = Array.isArray(previous) ? previous.join(', ') : String(previous);
  const listed = new Set<string>();
  for (const part of text.split(',')) {
    const field = part.trim().toLowerCase();
    if (field === '*') return text;
    if (field !== '') listed.add(field);
  }
  const added: string[] = [];
  for (const part of value.split(',')) {
    const field = part.trim();
    const lower = field.toLowerCase();
    if (lower === '*') return '*';
    if (field === '' || listed.has(lower)) continue;
    listed.add(lower);
    added.push(field);
  }
  if (added.length === 0) return text.trim() === '' ? value : text;
  return text.trim() === '' ? added.join(', ') : `${text}, ${added.join(', ')}`;
}

/**
 * The cookie-name of a Set-Cookie value, as a user agent reads it (RFC 6265 §5.2: up to the first
 * ";", then up to the first "=", without surrounding WSP; none without "=", as in
 * RFC 6265bis §5.6); names are case-sensitive. Only SP and HTAB are trimmed, not what
 * String.prototype.trim() takes too: a NO-BREAK SPACE goes out as the byte 0xA0, part of the name.
 */
function cookieName(cookie: string): string {
  const semicolon = cookie.indexOf(';');
  let end = cookie.indexOf('=');
  if (end === -1 || (semicolon !== -1 && semicolon < end)) return '';
  let start = 0;
  while (start < end && isWsp(cookie.charCodeAt(start))) start++;
  while (end > start && isWsp(cookie.charCodeAt(end - 1))) end--;
  return cookie.slice(start, end);
}

/** RFC 5234 WSP: SP or HTAB. */
function isWsp(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Undoes a success's `headers`, all set by {@link setSuccessHeaders}, which returned `replaced`:
 * the success failed after them (its audit hook threw), and its error response carries none of
 * them. Nothing when the head went out already (the hook answered): nothing can be taken back.
 */
export function undoSuccessHeaders(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  headers: unknown,
  replaced: ReplacedHeaders,
): void {
  if (headers === undefined || headers === null || res.headersSent) return;
  const http2 = req[HTTP_VERSION_MAJOR] >= 2;
  undo(res, http2, headers as Record<string, unknown>, undefined, replaced);
}

/**
 * Undoes the headers of `fields` set before `failed` (all of them without it), last first: two
 * names may differ only in case (one field), and each then gets back what it replaced, down to
 * what was there before the first. A value goes back as it was (a list stays a list, a number a
 * number: Node sends them so).
 */
function undo(
  res: ServerResponse | Http2ServerResponse,
  http2: boolean,
  fields: Record<string, unknown>,
  failed: string | undefined,
  replaced: ReplacedHeaders,
): void {
  const done: string[] = [];
  for (const name in fields) {
    if (name === failed) break;
    if (Object.hasOwn(fields, name)) done.push(name);
  }
  for (let i = done.length - 1; i >= 0; i--) {
    const name = done[i]!;
    const previous = replaced?.get(name);
    if (previous !== undefined) {
      (res as ServerResponse).setHeader(name, previous);
      continue;
    }
    const { sendDate } = res;
    if (http2 && name.toLowerCase() === 'date') {
      // Node's HTTP/2 removeHeader('date') leaves a Date set and only stops the one Node adds;
      // and it adds one only to a response without any. So the Date goes back to the one Node
      // would send (RFC 9110 §6.6.1: an origin server with a clock sends one), or, when it sends
      // none, to an empty list, which sends no field.
      res.setHeader(name, sendDate ? new Date().toUTCString() : []);
      continue;
    }
    // removeHeader('Date') also stops the Date Node adds (RFC 9110 §6.6.1); this Date was never
    // there, so that one goes out as before. (Removing Connection, Content-Length or
    // Transfer-Encoding marks it removed too, which no public API undoes: Node then adds none of
    // its own, and frames the body otherwise, chunked or by close.)
    res.removeHeader(name);
    res.sendDate = sendDate;
  }
}

function refused(scheme: string, problem: string): AuthschemeError {
  return new AuthschemeError(
    'ERR_AUTH_VERIFIER_RESULT',
    `The ${scheme} scheme's success carries ${problem}`,
  );
}

function notAString(name: string, value: unknown): string {
  return `a header ${shownName(name)} whose value is ${kindOf(value)}, not a string`;
}

/** Why Node refused to set this header. */
function unsendable(name: string, value: string, error: unknown): string {
  // A header well spelled was refused for another reason (the head already went out): not the
  // scheme's doing, so Node's error goes on as it is.
  const problem = fieldProblem(name, value);
  if (problem === undefined) throw error;
  return problem;
}

/** What Node's HTTP/1 setHeader refuses in a name or a value, in words; else `undefined`. */
function fieldProblem(name: string, value: string): string | undefined {
  // RFC 9110 §5.1: a field name is a token; what is not one is shown escaped, never raw.
  if (!isToken(name)) {
    return `a header named ${quoted(name)}, which is no field name (a token, RFC 9110 §5.1)`;
  }
  // RFC 9110 §5.5: HTAB, SP, VCHAR and obs-text, what Node's setHeader takes. The value itself
  // is never quoted: it may hold what the scheme knows (a token, a session).
  if (isQuotable(value)) return undefined;
  return (
    `a header ${name} whose value holds ${codePointName(firstUnsendable(value))}, which no field value ` +
    'can carry (RFC 9110 §5.5)'
  );
}

/**
 * node:http2's compatibility setHeader does not check values (it sends CR, LF and NUL, which make
 * the response malformed, RFC 9113 §8.2.1, and the low byte of a character above U+00FF), trims
 * the name, destroys the stream rather than throw for a name that is no token, and takes the
 * connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2), which then throw in whatever ends
 * the response. So on HTTP/2 the names and values are checked here first: the scan Node's
 * HTTP/1 setHeader makes anyway.
 */
function http2Problem(name: string, value: string): string | undefined {
  const problem = fieldProblem(name, value);
  if (problem !== undefined) return problem;
  const lower = name.toLowerCase();
  if (CONNECTION_SPECIFIC.has(lower) || (lower === 'te' && value !== 'trailers')) {
    return `a header ${name}, a connection-specific field that HTTP/2 forbids (RFC 9113 §8.2.2)`;
  }
  return undefined;
}

/** RFC 9113 §8.2.2, and HTTP2-Settings (RFC 7540 §3.2.1), which Node refuses too. */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  'connection',
  'http2-settings',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** A name as the messages show it: as is when it is a token, else escaped. */
function shownName(name: string): string {
  return isToken(name) ? name : quoted(name);
}

function firstUnsendable(value: string): number {
  for (const char of value) if (!isQuotable(char)) return char.codePointAt(0)!;
  return 0;
}
