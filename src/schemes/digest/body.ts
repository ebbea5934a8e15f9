import type { AuthRequest } from '../../scheme';

/** Returns the raw request body for `qop=auth-int`, or undefined when it is not available. */
export type RawBodyReader = (
  req: AuthRequest,
) => Buffer | string | undefined | Promise<Buffer | string | undefined>;

const EMPTY = Buffer.alloc(0);

/**
 * The entity body as sent, for `H(entity-body)` (RFC 7616 §3.4.3). Looks at `req.rawBody`
 * (a Buffer, as several body parsers' `verify` hooks keep it), then `req.body` when it is a
 * Buffer (`express.raw()`) or a string (`express.text()`; hashed as UTF-8). A request without a
 * body (no Content-Length above 0, no Transfer-Encoding) has the empty body. Anything else is
 * unknown: the caller refuses rather than guess.
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

/** RFC 9112 §6.3: without Transfer-Encoding and with no or a zero Content-Length, there is no body. */
function hasNoBody(req: AuthRequest): boolean {
  const headers = req.headers;
  if (headers['transfer-encoding'] !== undefined) return false;
  const length = headers['content-length'];
  return length === undefined || length === '0';
}
