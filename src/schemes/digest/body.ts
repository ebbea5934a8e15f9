import type { AuthRequest } from '../../scheme';

/**
 * Returns the raw request body for `qop=auth-int`, or undefined when it is not available. Method
 * syntax, so that `req` may be declared as the framework's request: see {@link AuthRequest}.
 */
export type RawBodyReader = {
  body(req: AuthRequest): Buffer | string | undefined | Promise<Buffer | string | undefined>;
}['body'];

const EMPTY = Buffer.alloc(0);

/**
 * The entity body as sent, for `H(entity-body)` (RFC 7616 §3.4.3). Looks at `req.rawBody`
 * (a Buffer, as several body parsers' `verify` hooks keep it), then `req.body` when it is a
 * Buffer (`express.raw()`) or a string (`express.text()`; hashed as UTF-8). A request known to
 * have no body (see {@link hasNoBody}) has the empty body. Anything else is unknown: the caller
 * refuses rather than guess.
 */
export async function readRawBody(
  req: AuthRequest,
  custom: RawBodyReader | undefined,
): Promise<Buffer | undefined> {
  if (custom !== undefined) {
    const body = await custom(req);
    return typeof body === 'string'
      ? Buffer.from(body, 'utf8')
      : Buffer.isBuffer(body)
        ? body
        : undefined;
  }
  const rawBody = (req as { rawBody?: unknown }).rawBody;
  if (Buffer.isBuffer(rawBody)) return rawBody;
  const body = req.body;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (hasNoBody(req)) return EMPTY;
  return undefined;
}

/**
 * Whether the request is known to carry no body.
 *
 * HTTP/1.1 (RFC 9112 §6.3): without Transfer-Encoding and with no or a zero Content-Length, there
 * is none. HTTP/2 has no such rule (RFC 9113 §8.1): DATA frames may follow the headers whether or
 * not `content-length` was sent, so only a HEADERS frame that ended the stream, or a
 * `content-length: 0` (which nghttp2 holds the DATA frames to, §8.1.1), means an empty body.
 * Taking HTTP/1.1's rule there would let a body ride on an auth-int digest of the empty body.
 */
function hasNoBody(req: AuthRequest): boolean {
  const headers = req.headers;
  if (headers['transfer-encoding'] !== undefined) return false;
  const length = headers['content-length'];
  if (length === '0') return true;
  if ((req.httpVersionMajor ?? 1) >= 2) {
    return (req as { stream?: { endAfterHeaders?: unknown } }).stream?.endAfterHeaders === true;
  }
  return length === undefined;
}
