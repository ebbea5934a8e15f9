/**
 * Test helpers for Digest: a fake request context and a small client that answers challenges with
 * its own hashing (written from RFC 7616 §3.4, independent of src/schemes/digest).
 */
import { createHash } from 'node:crypto';
import {
  createServer,
  ServerResponse,
  type IncomingMessage,
  type RequestListener,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Challenge, Credentials } from '../../../src/header/types';
import type { RequestContext } from '../../../src/scheme';

const NODE_HASH: Record<string, string> = {
  MD5: 'md5',
  'SHA-256': 'sha256',
  'SHA-512-256': 'sha512-256',
};

export function H(algorithm: string, data: string | Buffer): string {
  const base = algorithm.replace(/-sess$/i, '').toUpperCase();
  const name = NODE_HASH[base];
  if (name === undefined) throw new Error(`test client: unknown algorithm ${algorithm}`);
  return createHash(name).update(data).digest('hex');
}

export function fakeContext(
  init: {
    url?: string;
    method?: string;
    realm?: string;
    proxy?: boolean;
    headers?: Record<string, string>;
    body?: unknown;
    rawBody?: unknown;
  } = {},
): RequestContext {
  const method = init.method ?? 'GET';
  const url = init.url ?? '/dir/index.html';
  const req = {
    method,
    url,
    originalUrl: url,
    headers: init.headers ?? {},
    body: init.body,
    rawBody: init.rawBody,
  } as unknown as IncomingMessage;
  return {
    req,
    // A real response, unsent: the scheme reads the headers it set earlier on this request.
    res: new ServerResponse(req),
    realm: init.realm ?? 'api',
    proxy: init.proxy ?? false,
    method,
    url,
  };
}

export interface AnswerOptions {
  user: string;
  password: string;
  method?: string;
  uri?: string;
  nc?: number;
  cnonce?: string;
  qop?: string;
  body?: Buffer;
  /** Send H(user:realm) with userhash=true. */
  userhash?: boolean;
  /** Send the user name as an RFC 8187 username*. */
  extended?: boolean;
  /** Leave the algorithm directive out. */
  omitAlgorithm?: boolean;
}

/** Answers one Digest challenge the way RFC 7616 §3.4 describes. */
export function answer(challenge: Challenge, options: AnswerOptions): Credentials {
  const p = challenge.params;
  const algorithm = p.algorithm ?? 'MD5';
  const realm = p.realm as string;
  const nonce = p.nonce as string;
  const method = options.method ?? 'GET';
  const uri = options.uri ?? '/dir/index.html';
  const qop = options.qop ?? 'auth';
  const nc = (options.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = options.cnonce ?? 'c0ffee-c0ffee';
  let ha1 = H(algorithm, `${options.user}:${realm}:${options.password}`);
  if (/-sess$/i.test(algorithm)) ha1 = H(algorithm, `${ha1}:${nonce}:${cnonce}`);
  const a2 =
    qop === 'auth-int'
      ? `${method}:${uri}:${H(algorithm, options.body ?? Buffer.alloc(0))}`
      : `${method}:${uri}`;
  const response = H(algorithm, `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${H(algorithm, a2)}`);
  const params: Record<string, string> = Object.create(null);
  if (options.userhash) {
    params.username = H(algorithm, `${options.user}:${realm}`);
    params.userhash = 'true';
  } else if (options.extended) {
    params['username*'] = `UTF-8''${encodeURIComponent(options.user)}`;
  } else {
    // Node hands header bytes over as latin1 characters.
    params.username = Buffer.from(options.user, 'utf8').toString('latin1');
  }
  params.realm = realm;
  params.nonce = nonce;
  params.uri = uri;
  if (!options.omitAlgorithm) params.algorithm = algorithm;
  params.qop = qop;
  params.nc = nc;
  params.cnonce = cnonce;
  params.response = response;
  if (p.opaque !== undefined) params.opaque = p.opaque;
  return { scheme: 'Digest', params };
}

/** The rspauth the server should send for an `answer()` (RFC 7616 §3.5: A2 with empty method). */
export function expectedRspauth(challenge: Challenge, options: AnswerOptions): string {
  const p = challenge.params;
  const algorithm = p.algorithm ?? 'MD5';
  const nc = (options.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = options.cnonce ?? 'c0ffee-c0ffee';
  const nonce = p.nonce as string;
  let ha1 = H(algorithm, `${options.user}:${p.realm}:${options.password}`);
  if (/-sess$/i.test(algorithm)) ha1 = H(algorithm, `${ha1}:${nonce}:${cnonce}`);
  const ha2 = H(algorithm, `:${options.uri ?? '/dir/index.html'}`);
  return H(algorithm, `${ha1}:${nonce}:${nc}:${cnonce}:${options.qop ?? 'auth'}:${ha2}`);
}

/** Parses an Authentication-Info value in the simple form our formatter writes. */
export function parseInfo(value: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const part of value.split(', ')) {
    const eq = part.indexOf('=');
    let v = part.slice(eq + 1);
    if (v.startsWith('"')) v = v.slice(1, -1);
    result[part.slice(0, eq)] = v;
  }
  return result;
}

/**
 * A `listen(app)` for a test file: each app on 127.0.0.1 at a port the OS picks, its origin
 * returned; every server it started is closed after the file's tests.
 */
export function serversForThisFile(): (app: RequestListener) => Promise<string> {
  const servers: Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });
  return async (app) => {
    const server = createServer(app);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
}
