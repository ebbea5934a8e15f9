/**
 * The response headers a scheme's success asks for (`SchemeSuccess.headers`: Digest's
 * `Authentication-Info`, RFC 7615, or a custom scheme's). One Node would refuse, or would send
 * other than given (a number, a list), is the scheme's programming error on this request, as any
 * callback result of the wrong type is: an `AuthschemeError` `ERR_AUTH_VERIFIER_RESULT` that fails
 * the request closed through `next(err)`, not Node's `ERR_INVALID_CHAR`. A success that fails
 * sends none of its headers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { AuthschemeError } from '../errors';
import { isQuotable, isToken } from '../header/grammar';
import { codePointName, kindOf } from '../util/text';

/**
 * Sets `headers` on `res`, or throws without setting any when one cannot be sent as given. `req`
 * tells HTTP/2 apart, where Node's setHeader checks too little (see {@link http2Problem}).
 */
export function setSuccessHeaders(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  scheme: string,
  headers: unknown,
): void {
  // Absent, as `details` may be.
  if (headers === undefined || headers === null) return;
  if (typeof headers !== 'object' || Array.isArray(headers)) {
    throw new AuthschemeError(
      'ERR_AUTH_VERIFIER_RESULT',
      `The ${scheme} scheme's success carries headers that are ${kindOf(headers)}, not an ` +
        'object of field names to strings',
    );
  }
  const http2 = req.httpVersionMajor >= 2;
  const fields = headers as Record<string, unknown>;
  // Node's HTTP/1 setHeader checks names and values as it sets them (the same scan a check of
  // ours would repeat on every Digest success; its HTTP/2 one does not). What it refuses, and
  // what it would send other than given, undoes what this success set so far (the names before
  // it: no list kept per request).
  // for-in with an own-property check rather than Object.keys(): no array per request.
  for (const name in fields) {
    if (!Object.hasOwn(fields, name)) continue;
    const value = fields[name];
    let problem: string | undefined;
    if (typeof value !== 'string') {
      problem = `a header ${shownName(name)} whose value is ${kindOf(value)}, not a string`;
    } else {
      // On HTTP/2, checked before Node takes it: see http2Problem.
      problem = http2 ? http2Problem(name, value) : undefined;
      if (problem === undefined) {
        try {
          res.setHeader(name, value);
          continue;
        } catch (error) {
          problem = unsendable(name, value, error);
        }
      }
    }
    for (const done in fields) {
      if (done === name) break;
      if (Object.hasOwn(fields, done)) res.removeHeader(done);
    }
    throw new AuthschemeError(
      'ERR_AUTH_VERIFIER_RESULT',
      `The ${scheme} scheme's success carries ${problem}`,
    );
  }
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
    return `a header named ${shown(name)}, which is no field name (a token, RFC 9110 §5.1)`;
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
  return isToken(name) ? name : shown(name);
}

function firstUnsendable(value: string): number {
  for (const char of value) if (!isQuotable(char)) return char.codePointAt(0)!;
  return 0;
}

/** A name that is no token, quoted with what is not printable ASCII escaped, cut at 64. */
function shown(name: string): string {
  const quoted = JSON.stringify(name.slice(0, 64)).replace(
    /[^\x20-\x7e]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return name.length > 64 ? `${quoted}…` : quoted;
}
