/**
 * Not products: the least code that does what the Bearer and Digest targets measure, written for
 * this benchmark only. What they cost on a stack is a floor under any middleware with the same
 * duties there, ours included. They hand no result over on `req` (every real middleware does;
 * {@link bearerFloorWithAuth} is the Bearer floor that does, as ours does), and
 * the Digest one knows a single user, SHA-256 and `qop=auth`, keeps its nonces in a plain Map and
 * wants every `nc` above the last one; none of RFC 7616's other rules is checked.
 *
 * The duties both keep, because the issues and the product require them of us:
 * - refuse a request with two Authorization lines (a duplicated header is a 400, not a guess);
 * - add `Authorization` to `Vary` without losing what the application put there;
 * - Digest: compare the response in constant time, check `realm`, `uri` against the original URL
 *   and the method the client used, refuse a repeated `nc`, send `Authentication-Info` with
 *   `rspauth`.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OPAQUE_TOKEN, PASSWORD, REALM, USER } from './fixtures';
import type { Connect } from './servers';

type Request = IncomingMessage & { originalUrl?: string; originalMethod?: string };

/**
 * Request properties read by key, as ours reads them (src/middleware/request.ts): on Express a
 * keyed read of an own property is looked up by V8's generated code, a named one by its runtime.
 * A floor that read them by name would cost more than ours for no duty of its own.
 */
const RAW_HEADERS = 'rawHeaders';
const METHOD = 'method';
const ORIGINAL_METHOD = 'originalMethod';
const ORIGINAL_URL = 'originalUrl';

function duplicated(req: IncomingMessage): boolean {
  let seen = 0;
  const raw = req[RAW_HEADERS];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization' && ++seen > 1)
      return true;
  }
  return false;
}

function addVary(res: ServerResponse): void {
  const vary = res.getHeader('Vary');
  res.setHeader('Vary', vary === undefined ? 'Authorization' : `${String(vary)}, Authorization`);
}

function answer(res: ServerResponse, status: number, challenge?: string): void {
  res.statusCode = status;
  if (challenge !== undefined) res.setHeader('WWW-Authenticate', challenge);
  res.end();
}

/**
 * Bearer: the token compared with the one valid token. `handOver`, when given, is called on
 * success: {@link bearerFloorWithAuth}.
 */
export function bearerFloor(handOver?: (req: IncomingMessage) => void): Connect {
  const expected = `Bearer ${OPAQUE_TOKEN}`;
  return (req, res, next) => {
    if (req.headers.authorization !== expected) return answer(res, 401, 'Bearer');
    if (duplicated(req)) return answer(res, 400);
    addVary(res);
    handOver?.(req);
    next();
  };
}

/**
 * `req.auth` set the way ours sets it (request-auth.ts: an accessor and a WeakMap on Express):
 * what a floor that hands its result over costs beyond the floor is the hand-over alone, and what
 * ours costs beyond that is everything else ours does.
 */
function handOverAuth(scheme: string): (req: IncomingMessage) => void {
  const { assignAuth } =
    require('../../src/middleware/request-auth') as typeof import('../../src/middleware/request-auth');
  return (req) => assignAuth(req, { scheme, user: USER });
}

/** The Bearer floor with the one duty it leaves out: the result handed over as `req.auth`. */
export function bearerFloorWithAuth(): Connect {
  return bearerFloor(handOverAuth('Bearer'));
}

const sha256 = (text: string): string => hash('sha256', text, 'hex');

interface Directives {
  username?: string;
  realm?: string;
  nonce?: string;
  uri?: string;
  response?: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
  algorithm?: string;
}

/** `name=value` and `name="value"` pairs, with no escapes: enough for the benchmark's client. */
function parseDigest(header: string): Directives | undefined {
  if (!header.startsWith('Digest ')) return undefined;
  const found: Record<string, string> = {};
  let i = 7;
  while (i < header.length) {
    while (header[i] === ' ' || header[i] === ',') i++;
    const equals = header.indexOf('=', i);
    if (equals === -1) return undefined;
    const name = header.slice(i, equals);
    let end: number;
    if (header[equals + 1] === '"') {
      end = header.indexOf('"', equals + 2);
      if (end === -1) return undefined;
      found[name] = header.slice(equals + 2, end);
      end++;
    } else {
      end = header.indexOf(',', equals);
      if (end === -1) end = header.length;
      found[name] = header.slice(equals + 1, end);
    }
    i = end;
  }
  return found;
}

/**
 * Digest SHA-256 with `qop=auth`, for one user. `handOver`, when given, is called on success:
 * {@link digestFloorWithAuth}.
 */
export function digestFloor(handOver?: (req: IncomingMessage) => void): Connect {
  const ha1 = sha256(`${USER}:${REALM}:${PASSWORD}`);
  /** nonce → the highest nc used. */
  const nonces = new Map<string, number>();
  const ha2s = new Map<string, string>();
  const challenge = (): string => {
    const nonce = randomBytes(16).toString('hex');
    nonces.set(nonce, 0);
    return `Digest realm="${REALM}", qop="auth", algorithm=SHA-256, nonce="${nonce}"`;
  };
  return (request, res, next) => {
    const req = request as Request;
    const header = req.headers.authorization;
    const d = header === undefined ? undefined : parseDigest(header);
    if (d === undefined || d.realm !== REALM || d.username !== USER || d.qop !== 'auth') {
      return answer(res, 401, challenge());
    }
    if (duplicated(req)) return answer(res, 400);
    const { nonce = '', nc = '', cnonce = '', uri = '', response = '' } = d;
    if (uri !== (req[ORIGINAL_URL] ?? req.url)) return answer(res, 400);
    const top = nonces.get(nonce);
    const count = Number.parseInt(nc, 16);
    if (top === undefined || !(count > top)) return answer(res, 401, challenge());
    const method =
      (Object.hasOwn(req, ORIGINAL_METHOD) ? req[ORIGINAL_METHOD] : undefined) ??
      req[METHOD] ??
      'GET';
    let ha2 = ha2s.get(`${method}:${uri}`);
    if (ha2 === undefined) ha2s.set(`${method}:${uri}`, (ha2 = sha256(`${method}:${uri}`)));
    const expected = sha256(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
    if (
      response.length !== expected.length ||
      !timingSafeEqual(Buffer.from(expected), Buffer.from(response))
    ) {
      return answer(res, 401, challenge());
    }
    nonces.set(nonce, count);
    let ha2Auth = ha2s.get(`:${uri}`);
    if (ha2Auth === undefined) ha2s.set(`:${uri}`, (ha2Auth = sha256(`:${uri}`)));
    const rspauth = sha256(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2Auth}`);
    res.setHeader(
      'Authentication-Info',
      `qop=auth, rspauth="${rspauth}", cnonce="${cnonce}", nc=${nc}`,
    );
    addVary(res);
    handOver?.(req);
    next();
  };
}

/** The Digest floor with the result handed over as `req.auth`, as {@link bearerFloorWithAuth}. */
export function digestFloorWithAuth(): Connect {
  return digestFloor(handOverAuth('Digest'));
}
