/**
 * Building and sending the refusal: status, one challenge field line per challenge, caching
 * headers and a short body that leaks nothing.
 */
import type { ServerResponse } from 'node:http';
import type { AuthRequest } from '../scheme';
import { AuthenticationError, AuthschemeError, type AuthErrorCode } from '../errors';
import { formatChallenge } from '../header';
import type { Challenge } from '../header/types';
import { ignoreRejection, isPromiseLike } from '../util/promise';

const formatted = new WeakMap<Challenge, string>();
/** Frozen challenges that hold a getter: formatted on every refusal, and never checked again. */
const computed = new WeakSet<Challenge>();

/**
 * Formats a challenge, remembering the result for static challenges: frozen, their params too (a
 * frozen challenge whose params object can still change would keep sending its first values), and
 * plain objects holding data, not getters (Object.freeze keeps accessors, own or inherited, which
 * may answer otherwise on the next request). A frozen object's properties can change neither
 * value nor kind, so the check is made once, on the first refusal; what basic() and negotiate()
 * make is then a WeakMap lookup.
 */
export function formatChallengeCached(challenge: Challenge): string {
  // A custom scheme's null goes on to formatChallenge, whose error names it.
  if (typeof challenge !== 'object' || challenge === null || !Object.isFrozen(challenge)) {
    return formatChallenge(challenge);
  }
  let line = formatted.get(challenge);
  if (line !== undefined) return line;
  if (computed.has(challenge)) return formatChallenge(challenge);
  if (!holdsData(challenge)) {
    computed.add(challenge);
    return formatChallenge(challenge);
  }
  // A data property now: this read and formatChallenge's give the same object.
  const { params } = challenge;
  if (!Object.isFrozen(params)) return formatChallenge(challenge);
  line = formatChallenge(challenge);
  if (holdsData(params)) formatted.set(challenge, line);
  else computed.add(challenge);
  return line;
}

/**
 * `object` is a plain object (its prototype Object.prototype or null: no class's getters) whose
 * own properties all hold values, enumerable or not; params that are absent (a token68
 * challenge's) hold none.
 */
function holdsData(object: unknown): boolean {
  if (typeof object !== 'object' || object === null) return true;
  const prototype: unknown = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) return false;
  for (const name of Reflect.ownKeys(object)) {
    const descriptor = Object.getOwnPropertyDescriptor(object, name);
    if (descriptor !== undefined && !('value' in descriptor)) return false;
  }
  return true;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  407: 'Proxy Authentication Required',
  503: 'Service Unavailable',
};

/** The reason phrase for a status the middleware sends, e.g. `Unauthorized` for 401. */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

/**
 * The default body of each status, made once: Node only reads a body it is given, so one Buffer
 * serves every refusal (a `Buffer.from` per refusal was a tenth of a µs of a Digest 401's ten).
 */
const statusBodies = new Map<number, Buffer>();

function statusBody(status: number, text: string): Buffer {
  let bytes = statusBodies.get(status);
  if (bytes === undefined) {
    bytes = Buffer.from(text, 'utf8');
    statusBodies.set(status, bytes);
  }
  return bytes;
}

/** A refusal as it is sent: status, headers (challenges, `Cache-Control`) and why. */
export interface Refusal {
  code: AuthErrorCode;
  message: string;
  status: number;
  headers: Record<string, string | string[]>;
  scheme: string | undefined;
  /** The user name the refused credentials claimed, if the scheme read one. */
  user: string | undefined;
  cause: unknown;
}

/** The headers of a refusal: `no-store` and one challenge field line per challenge. */
export function refusalHeaders(
  challengeHeader: string,
  challenges: string[],
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = { 'Cache-Control': 'no-store' };
  // One field line per challenge (RFC 9110 §11.6.1 allows a list, but browsers mishandle some
  // schemes, Negotiate among them, inside a comma-joined line).
  if (challenges.length > 0) headers[challengeHeader] = challenges;
  return headers;
}

/**
 * The refusal as an error, for `next(err)` and custom bodies. Made only when needed: capturing a
 * stack trace is a large part of a refusal's cost.
 */
export function refusalError(refusal: Refusal): AuthenticationError {
  const { code, message, status, headers, scheme, user, cause } = refusal;
  return new AuthenticationError(code, message, { status, headers, scheme, user, cause });
}

/**
 * A refusal's body: a fixed string, or one made from the refusal and the request (method syntax:
 * see {@link AuthRequest}).
 */
export type BodyOption =
  string | { body(error: AuthenticationError, req: AuthRequest): string }['body'];

/**
 * Removes the fields an earlier middleware set for the representation it meant to send (RFC 9110
 * §8.4, §8.5, §14.4: they describe the content), none of which a refusal's body is: a
 * `Content-Encoding: gzip` would make the client unzip plain text. They are the fields Express's
 * and Connect's error handler (finalhandler) removes, so that a refusal sent here and one
 * finalhandler sends with `onFailure: 'next'` agree; but `Content-Language` stays over the text of
 * the application's `body` option, which may be in that language.
 */
export function removeRepresentationFields(res: ServerResponse, ownText = true): void {
  res.removeHeader('Content-Encoding');
  res.removeHeader('Content-Range');
  if (ownText) res.removeHeader('Content-Language');
}

/** Sends a refusal. */
export function sendRefusal(
  req: AuthRequest,
  res: ServerResponse,
  refusal: Refusal,
  body: BodyOption | undefined,
  contentType: string,
): void {
  // The body first: a custom body function that throws leaves the response untouched.
  const text =
    body === undefined
      ? statusText(refusal.status)
      : typeof body === 'string'
        ? body
        : body(refusalError(refusal), req);
  if (typeof text !== 'string') {
    // The application's body function, on this request: next(err), as a verifier's bad result.
    // An async one's rejection is caught: unhandled, it would end the process.
    const promise = isPromiseLike(text);
    ignoreRejection(text);
    throw new AuthschemeError(
      'ERR_AUTH_VERIFIER_RESULT',
      'The body function of authenticate() must return a string' +
        (promise ? ' (it returned a promise: it must answer synchronously)' : ''),
    );
  }
  // A Buffer, not the string: Node sends the head together with a string body in the body's
  // encoding, which would write each obs-text octet of a Latin-1 realm as two UTF-8 bytes.
  const bytes = body === undefined ? statusBody(refusal.status, text) : Buffer.from(text, 'utf8');
  res.statusCode = refusal.status;
  removeRepresentationFields(res, body === undefined);
  const { headers } = refusal;
  for (const name in headers) res.setHeader(name, headers[name]!);
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', bytes.length);
  res.end(bytes);
}

/**
 * Adds a token to the `Vary` field without duplicating it (RFC 9110 §12.5.5); whether it wrote
 * the field (not when the token or `*` is listed already).
 */
export function appendVary(res: ServerResponse, field: string): boolean {
  const current = res.getHeader('Vary');
  if (current === undefined) {
    res.setHeader('Vary', field);
    return true;
  }
  const text = Array.isArray(current) ? current.join(', ') : String(current);
  const lower = field.toLowerCase();
  for (const part of text.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '*' || name === lower) return false;
  }
  res.setHeader('Vary', text === '' ? field : `${text}, ${field}`);
  return true;
}

/**
 * Whether the response can no longer reach its client: it hung up, or reset the stream.
 * node:http2's compatibility response has no `destroyed`; its stream does.
 */
export function isResponseGone(res: ServerResponse): boolean {
  const stream = (res as { stream?: { destroyed?: unknown } }).stream;
  return res.destroyed === true || stream?.destroyed === true;
}
