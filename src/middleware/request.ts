/**
 * Reading the authorization field of a request: which header (origin or proxy mode), and refusing
 * duplicates instead of guessing which line a front proxy looked at.
 */
import type { ServerResponse } from 'node:http';
import type { AuthRequest, RequestContext } from '../scheme';
import { equalsLowerAscii } from '../util/text';

/**
 * The context handed to schemes. `method` and `url` are read when a scheme asks (Digest, Bearer's
 * query tokens), not on every request: a missing `req.originalMethod` is a slow lookup.
 */
export class Context implements RequestContext {
  /** The scheme whose credentials are being checked, once one is: named on an `error` audit. */
  tried: string | undefined = undefined;
  /** next() was called for this run: what throws after that is the application's. */
  nextCalled = false;
  /** This run awaited a verifier or challenges(): something else may have answered meanwhile. */
  awaited = false;
  /** When this run's `timeout` ends (`performance.now()`), once something async is awaited. */
  deadlineAt: number | undefined = undefined;

  constructor(
    readonly req: AuthRequest,
    readonly res: ServerResponse,
    readonly realm: string,
    readonly proxy: boolean,
    readonly cacheControl: string | false,
  ) {}

  get method(): string {
    return originalMethod(this.req);
  }

  get url(): string {
    return originalUrl(this.req);
  }
}

/**
 * Request properties read as `req[KEY]` rather than `req.name`, on every request. Express gives
 * each request a hidden class of its own (docs/bench.md), so a named read there finds nothing in
 * V8's inline cache and goes to V8's runtime; a keyed read whose cache has seen many classes is
 * looked up by generated code instead, several times quicker (bench/property-access.ts). Only for
 * own data properties: an accessor (`headers`) or an absent name goes to the runtime either way.
 */
const RAW_HEADERS = 'rawHeaders';
const METHOD = 'method';
const ORIGINAL_METHOD = 'originalMethod';
const ORIGINAL_URL = 'originalUrl';
/** `req[HTTP_VERSION_MAJOR]`: read by key for the reason above (success-headers.ts reads it too). */
export const HTTP_VERSION_MAJOR = 'httpVersionMajor';

/** The field appears on several lines. */
export const REPEATED = Symbol('repeated');
/**
 * Node may have dropped header lines (its HTTP/1 `maxHeadersCount`), so a second line cannot be
 * ruled out. Never on HTTP/2, where Node drops none.
 */
export const UNCOUNTED = Symbol('uncounted');

/**
 * Node's parser hands header lines over in batches of 31 (62 names and values) and drops whole
 * batches past the limit: a request that fits in one batch loses nothing, and one that lost lines
 * kept at least a whole batch.
 */
const BATCH_ENTRIES = 62;
/** Names and values Node keeps when the server leaves `maxHeadersCount` unset (1000 lines). */
const DEFAULT_ENTRY_LIMIT = 2000;

/**
 * The field value; `undefined` when absent; {@link REPEATED} when the field appears on several
 * lines, {@link UNCOUNTED} when the request has so many lines that Node dropped some unseen.
 */
export function readAuthorization(
  req: AuthRequest,
  headerName: string,
): string | undefined | typeof REPEATED | typeof UNCOUNTED {
  const value = req.headers[headerName];
  if (typeof value !== 'string') return undefined;
  // Node keeps only the first of several Authorization lines in req.headers. RFC 9110 §5.3: the
  // field is not a list, so two lines are invalid. rawHeaders shows them all, and scanning it is
  // cheaper than req.headersDistinct, which copies every header on first use.
  const raw = req[RAW_HEADERS];
  if (raw === undefined) return value;
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (equalsLowerAscii(name, headerName) && ++seen > 1) return REPEATED;
  }
  // Past the server's maxHeadersCount, Node drops further lines from rawHeaders too: a second
  // Authorization line there, which a front proxy may have read instead, would go unseen. Not on
  // HTTP/2, which has no maxHeadersCount: past maxHeaderListPairs node:http2 resets the stream
  // (ENHANCE_YOUR_CALM) before any middleware runs, so rawHeaders holds every line.
  if (raw.length >= BATCH_ENTRIES && !isHttp2(req) && raw.length >= entryLimit(req)) {
    return UNCOUNTED;
  }
  return value;
}

/**
 * Every line of the field that Node kept, in order (from `rawHeaders`; the one value in
 * `req.headers` without them). Only for a refusal: a request with the field once never needs it.
 */
export function fieldLines(req: AuthRequest, headerName: string): string[] {
  const raw = req.rawHeaders;
  const value = req.headers[headerName];
  if (raw === undefined) return typeof value === 'string' ? [value] : [];
  const lines: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (equalsLowerAscii(raw[i]!, headerName)) lines.push(raw[i + 1]!);
  }
  return lines;
}

/**
 * Whether `req` came through node:http2, which drops no lines. Not by `httpVersionMajor` alone:
 * Node's HTTP/1 parser takes a request line ending in `HTTP/2.0` and reports 2, and such a
 * request loses lines past maxHeadersCount as any HTTP/1 request does. Only node:http2's
 * request has a `stream`; a request object without one is counted as HTTP/1's (fail closed).
 */
function isHttp2(req: AuthRequest): boolean {
  const { stream } = req as { stream?: unknown };
  return req.httpVersionMajor >= 2 && typeof stream === 'object' && stream !== null;
}

/** How many names and values Node collects for this request (its parser's `maxHeaderPairs`). */
function entryLimit(req: AuthRequest): number {
  const server = (req.socket as { server?: { maxHeadersCount?: unknown } } | null | undefined)
    ?.server;
  const count = server?.maxHeadersCount;
  if (typeof count !== 'number') return DEFAULT_ENTRY_LIMIT;
  // Node's own arithmetic (lib/_http_server.js); zero or less means no limit.
  const limit = count << 1;
  return limit > 0 ? limit : Infinity;
}

/**
 * The method the client used, before any method-override middleware rewrote `req.method`. That
 * middleware sets `originalMethod` on the request itself; asked first whether it is there, V8
 * need not search the prototype chain for a name most requests lack.
 */
export function originalMethod(req: AuthRequest): string {
  const original = Object.hasOwn(req, ORIGINAL_METHOD)
    ? (req as { originalMethod?: unknown })[ORIGINAL_METHOD]
    : undefined;
  return typeof original === 'string' ? original : (req[METHOD] ?? 'GET');
}

/** The request target as the client sent it; Express's routers rewrite `req.url` but keep `originalUrl`. */
export function originalUrl(req: AuthRequest): string {
  const original = req[ORIGINAL_URL];
  if (typeof original === 'string') return original;
  if (typeof req.url === 'string') return req.url;
  // node:http2's compatibility API leaves `url` undefined on a CONNECT, which has no :path: its
  // target is :authority (RFC 9113 §8.5), as the authority-form request line is on HTTP/1.1.
  const authority = req.headers[':authority'];
  return req.method === 'CONNECT' && typeof authority === 'string' ? authority : '/';
}
