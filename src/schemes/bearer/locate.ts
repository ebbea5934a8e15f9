/**
 * Where a bearer token may travel besides the `Authorization` header: the form body
 * (RFC 6750 §2.2) and the URI query (§2.3), each only when enabled.
 */
import type { RequestContext } from '../../scheme';
import type { Credentials } from '../../header/types';
import type { BearerFailure } from './errors';
import { bearerFailure } from './errors';
import { isToken68 } from '../../header/grammar';
import { nullObject } from '../../util/null-object';

/** Which extra places are enabled. */
export interface TokenPlaces {
  form: boolean;
  query: boolean;
}

/** Methods whose request body has defined semantics; never GET (RFC 6750 §2.2). */
const FORM_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** A token found outside the header, or a failure, or nothing. */
type Found = { token: string } | BearerFailure | undefined;

/** A form body that may hold a token but was never parsed into `req.body`: nothing to read. */
const UNPARSED = Symbol('unparsed');

/**
 * Why no credentials were found, when the form body could not be read. It is no error of the
 * client's: RFC 6750 §3.1 wants no `error` code then, and `authenticate()` answers it as it
 * answers no credentials at all (401, or the request let through with `credentialsRequired:
 * false`), in these words.
 */
const UNPARSED_MESSAGE =
  'The form body was not parsed (req.body holds no fields): put express.urlencoded() before ' +
  'authenticate() to take access_token from it (RFC 6750 §2.2)';

let warnedUnparsed = false;

/**
 * Once per process: a deployment mistake, not a client's. By default (no `audit`, refusals
 * answered by the middleware) the message above reaches no one, and with `credentialsRequired:
 * false` no refusal is made at all; once, since any client can send such a request.
 */
function warnUnparsed(): void {
  if (warnedUnparsed) return;
  warnedUnparsed = true;
  process.emitWarning(
    'authscheme: bearer({ allowFormToken: true }) met a form body that was not parsed before ' +
      'authenticate() (req.body holds no fields), so no access_token in a body can be read: ' +
      'put express.urlencoded() before authenticate()',
    { code: 'AUTHSCHEME_FORM_BODY_UNPARSED' },
  );
}

function credentialsFor(token: string): Credentials {
  return {
    scheme: 'Bearer',
    token68: token,
    params: nullObject<string>(),
  };
}

/** One `access_token` value, or a failure when it is repeated, empty or not a b64token. */
function singleToken(values: readonly unknown[], where: string): Found {
  if (values.length === 0) return undefined;
  const [value] = values;
  if (values.length > 1) {
    return bearerFailure('invalid_request', `The access_token ${where} parameter must appear once`);
  }
  if (typeof value !== 'string') {
    return bearerFailure(
      'invalid_request',
      `The access_token ${where} parameter must be a plain field`,
    );
  }
  // RFC 6750 §2.1's b64token is RFC 9110's token68.
  if (!isToken68(value)) {
    return bearerFailure('invalid_request', `The access_token ${where} parameter is malformed`);
  }
  return { token: value };
}

/**
 * RFC 6750 §2.2: a single-part `application/x-www-form-urlencoded` body, already parsed by the
 * application (e.g. `express.urlencoded()`), on a method whose body has semantics.
 */
function fromForm(ctx: RequestContext): Found | typeof UNPARSED {
  if (!FORM_METHODS.has(ctx.method.toUpperCase())) return undefined;
  const contentType = ctx.req.headers['content-type'];
  if (typeof contentType !== 'string') return undefined;
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon))
    .trim()
    .toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded') return undefined;
  const body = ctx.req.body;
  // Unset (no parser ran: Express 5 leaves it undefined), text or bytes of a parser for another
  // type, or an empty object over a body no one read (Express 4's parsers set req.body = {} for
  // the types they skip): a token in it cannot be read. Only a body that is there counts (RFC
  // 9112 §6.3).
  if (
    typeof body !== 'object' ||
    body === null ||
    body instanceof Uint8Array ||
    (ctx.req.readableEnded === false && isEmptyObject(body))
  ) {
    if (!hasBody(ctx)) return undefined;
    warnUnparsed();
    return UNPARSED;
  }
  if (!Object.prototype.hasOwnProperty.call(body, 'access_token')) return undefined;
  const value = (body as Record<string, unknown>)['access_token'];
  // Parsers give a repeated field as an array. One of a single element, or an object, comes from
  // qs (`extended: true`, Express 4's default) reading `access_token[]=` or `access_token[k]=`:
  // no access_token parameter (RFC 6750 §2.2), and no token, whatever the parser.
  if (Array.isArray(value) && value.length === 1) {
    return bearerFailure(
      'invalid_request',
      'The access_token form parameter must be a plain field',
    );
  }
  return singleToken(Array.isArray(value) ? (value as unknown[]) : [value], 'form');
}

/** An object with no own enumerable key (what Express 4's body parsers leave when they skip). */
function isEmptyObject(object: object): boolean {
  for (const key in object) if (Object.hasOwn(object, key)) return false;
  return true;
}

/** A request with a non-empty body, as body parsers tell (type-is's hasBody): a length or chunks. */
function hasBody(ctx: RequestContext): boolean {
  const { headers } = ctx.req;
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}

/** RFC 6750 §2.3: the `access_token` query parameter, parsed from the request target. */
function fromQuery(ctx: RequestContext): Found {
  const question = ctx.url.indexOf('?');
  if (question === -1) return undefined;
  let end = ctx.url.indexOf('#', question);
  if (end === -1) end = ctx.url.length;
  const query = new URLSearchParams(ctx.url.slice(question + 1, end));
  return singleToken(query.getAll('access_token'), 'query');
}

/**
 * RFC 6750 §2.3: a response to a request with the token in its URI SHOULD be `private`. Added to
 * what the application set, or else to what `authenticate()` would set (its `cacheControl`),
 * unless that already keeps the response out of shared caches; `public` and `s-maxage`, which
 * would say the opposite, are dropped.
 */
function markPrivate(ctx: RequestContext): void {
  if (ctx.res.headersSent) return;
  const current = ctx.res.getHeader('Cache-Control');
  const base =
    current === undefined
      ? ctx.cacheControl || undefined
      : Array.isArray(current)
        ? current.join(', ')
        : String(current);
  const directives = base === undefined ? [] : cacheDirectives(base);
  if (directives === undefined) {
    // A quote left open would swallow anything added after it: the strictest value instead,
    // which is also what the application meant if it said no-store before the quote.
    ctx.res.setHeader('Cache-Control', 'no-store');
    return;
  }
  if (directives.some((d) => (d.name === 'private' && !d.argument) || d.name === 'no-store')) {
    if (current === undefined) ctx.res.setHeader('Cache-Control', base!);
    return;
  }
  const kept = directives.filter((d) => d.name !== 'public' && d.name !== 's-maxage');
  ctx.res.setHeader('Cache-Control', [...kept.map((d) => d.text), 'private'].join(', '));
}

/**
 * The directives of a Cache-Control value (RFC 9111 §5.2): name lower-cased, whether it has an
 * argument, and its text. Commas inside a quoted argument (`no-cache="a, b"`) do not split.
 * `undefined` when a quote is left open.
 */
function cacheDirectives(
  value: string,
): { name: string; argument: boolean; text: string }[] | undefined {
  const result: { name: string; argument: boolean; text: string }[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i <= value.length; i++) {
    const end = i === value.length;
    const code = end ? 0 : value.charCodeAt(i);
    if (!end && quoted) {
      if (code === 0x5c /* \ */) i++;
      else if (code === 0x22 /* " */) quoted = false;
    } else if (code === 0x22) {
      quoted = true;
    } else if (end || code === 0x2c /* , */) {
      const text = value.slice(start, i).trim();
      if (text !== '') {
        const equals = text.indexOf('=');
        const name = (equals === -1 ? text : text.slice(0, equals)).trim().toLowerCase();
        result.push({ name, argument: equals !== -1, text });
      }
      start = i + 1;
    }
  }
  return quoted ? undefined : result;
}

/**
 * The credentials to verify: from the header, the form body or the query, whichever is the one
 * place used. A token in more than one place is `invalid_request` (RFC 6750 §2: "MUST NOT use
 * more than one method"). A token taken from the query marks the response `Cache-Control:
 * private` (RFC 6750 §2.3). A form body that was not parsed, with no token in the header, gives
 * an `ERR_AUTH_MISSING_CREDENTIALS` failure that says so (see `Scheme.locate`). Called only
 * with a place enabled: `bearer()` installs no `locate` otherwise.
 */
export function locateToken(
  ctx: RequestContext,
  fromHeader: Credentials | undefined,
  places: TokenPlaces,
): Credentials | BearerFailure | undefined {
  const read = places.form ? fromForm(ctx) : undefined;
  const form = read === UNPARSED ? undefined : read;
  if (form !== undefined && !('token' in form)) return form;
  const query = places.query ? fromQuery(ctx) : undefined;
  if (query !== undefined && !('token' in query)) return query;
  const used =
    (fromHeader === undefined ? 0 : 1) +
    (form === undefined ? 0 : 1) +
    (query === undefined ? 0 : 1);
  if (used > 1) {
    return bearerFailure('invalid_request', 'The access token must be sent in one place only');
  }
  if (query !== undefined) {
    markPrivate(ctx);
    return credentialsFor(query.token);
  }
  if (form !== undefined) return credentialsFor(form.token);
  if (read === UNPARSED && fromHeader === undefined) {
    return { ok: false, code: 'ERR_AUTH_MISSING_CREDENTIALS', message: UNPARSED_MESSAGE };
  }
  return fromHeader;
}
