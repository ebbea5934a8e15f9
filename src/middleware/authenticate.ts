/**
 * The `authenticate()` middleware: reads the authorization field, hands the credentials to the
 * scheme they name, and either sets `req.auth` and calls `next()` or answers with the challenges.
 *
 * Exported from `authscheme`.
 */
import type { ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { AuthHeaderSyntaxError, AuthschemeError, asError, type AuthErrorCode } from '../errors';
import { isToken, parseCredentials } from '../header';
import { resolveLimits } from '../header/limits';
import type { Challenge, Credentials, HeaderLimits } from '../header/types';
import type {
  AuthInfo,
  AuthRequest,
  Scheme,
  SchemeFailure,
  SchemeSuccess,
  VerifyResult,
} from '../scheme';
import { ignoreRejection, isPromiseLike } from '../util/promise';
import { checkFieldText } from '../util/field-text';
import { checkRealm } from '../util/realm';
import { equalsLowerAscii } from '../util/text';
import { FormattedChallenges, linesFor } from './challenge-lines';
import { Deadlines } from './deadlines';
import { Context, fieldLines, readAuthorization, REPEATED, UNCOUNTED } from './request';
import { setSuccessHeaders, undoSuccessHeaders } from './success-headers';
import {
  checkBooleanOptions,
  isList,
  isPlainObject,
  optionNames,
  rejectRequestAsOptions,
  rejectUnknownOptions,
} from '../util/options';
import { assignAuth } from './request-auth';
import {
  forgetLetThrough,
  inProxyMode,
  markLetThrough,
  markPreflight,
  markProxyAuth,
} from './let-through';
import {
  appendVary,
  formatChallengeCached,
  isResponseGone,
  refusalError,
  refusalHeaders,
  sendRefusal,
  type BodyOption,
  type Refusal,
} from './respond';

/**
 * `AuthInfo` under a name no one else declares: inside `namespace Express` below, a bare
 * `AuthInfo` would find a global `Express.AuthInfo` first (@types/passport declares one, empty,
 * for `req.authInfo`), and `req.auth` would be typed as that.
 */
type AuthschemeAuthInfo = AuthInfo;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by authscheme's `authenticate()` once the request is authenticated. */
      auth?: AuthschemeAuthInfo | undefined;
    }
  }
}

/** What {@link AuthenticateOptions.audit} is told about a request. */
export interface AuthOutcome {
  /**
   * `success`: authenticated. `refused`: answered 400, 401, 403, 407 or 503. `error`: handed to
   * `next(err)` because a verifier, a store or a scheme failed (the client may not be at fault),
   * or because something else sent the response while an async verifier worked (a success no
   * client was served, whatever the scheme).
   */
  outcome: 'success' | 'refused' | 'error';
  /**
   * The scheme that accepted or refused, as the server spells it, when one was tried; on an
   * error, the scheme whose credentials were being checked, if the error came that far.
   */
  scheme: string | undefined;
  /**
   * On a success, the authenticated user. On a refusal, the user name the credentials claimed
   * when the scheme could read one (Basic's user-id, Digest's `username`): the client's word, to
   * log as such; none on a 503, given before the scheme answered. On Bearer's 403
   * `insufficient_scope`, the user of the token, which verified; on Negotiate's refusals after
   * GSSAPI accepted the token, the principal.
   */
  user: string | undefined;
  /** The status of a refusal. */
  status: number | undefined;
  /** Why a refusal or an error (`ERR_AUTH_…`); `undefined` for a success or a foreign error. */
  code: AuthErrorCode | undefined;
  /**
   * Why, in words, where one `code` covers several reasons (`Digest nonce count already used`
   * and `Digest nonce expired` are both `ERR_AUTH_STALE_NONCE`; `The access token expired` and
   * `The access token signature is invalid` both `ERR_AUTH_INVALID_CREDENTIALS`): a refusal's
   * message, as on its `AuthenticationError`, or an authscheme error's. Never the credentials;
   * for logs, not to switch on (use `code`). `undefined` for a success or a foreign error, whose
   * message may hold anything.
   */
  message: string | undefined;
}

/** The realm sent when neither `authenticate()` nor the scheme names one. */
export const DEFAULT_REALM = 'Restricted';

/** Options of {@link authenticate}. */
export interface AuthenticateOptions {
  /** The schemes offered, strongest first: challenges are sent in this order. */
  schemes: readonly Scheme[];
  /**
   * The protection space (RFC 9110 §11.5). Default `"Restricted"`. Sent as ISO-8859-1 octets, one
   * a character; characters above U+00FF have none and are refused at setup, as control
   * characters are (tab and U+0080–U+009F included, these last taken only within a realm given
   * as well-formed UTF-8 octets, `Buffer.from('東京').toString('latin1')`): every scheme's realm
   * follows this rule.
   */
  realm?: string | undefined;
  /** Proxy mode: read `Proxy-Authorization`, answer 407 with `Proxy-Authenticate`. Default `false`. */
  proxy?: boolean | undefined;
  /**
   * `'respond'` (default) sends the refusal; `'next'` calls `next(err)` with an
   * `AuthenticationError` whose `status` and `headers` an error handler (Express's default
   * one included) sends as they are.
   */
  onFailure?: 'respond' | 'next' | undefined;
  /** Body of a refusal: a string, or a function of the error. Default: the status text. */
  body?: BodyOption | undefined;
  /**
   * Told once about each request the middleware decides, for logs, metrics and lockouts (as
   * http-auth's `success`/`fail`/`error` events, or fail2ban reading a log): a success, a refusal
   * (what was sent, or handed to `next(err)` with `onFailure: 'next'`), or an error (a verifier or
   * store that failed). Requests let through without credentials are not reported. Synchronous:
   * one that throws fails the request closed (`next(err)`) and is not told about it again; a
   * promise it returns is not awaited, and its rejection is ignored. `req` may be declared as the
   * framework's request (`express.Request`): see {@link AuthRequest}.
   */
  audit?: { audit(outcome: AuthOutcome, req: AuthRequest): void }['audit'] | undefined;
  /** Content type of a refusal's body. Default `text/plain; charset=utf-8`. */
  contentType?: string | undefined;
  /**
   * Let CORS preflight requests (`OPTIONS` with `Access-Control-Request-Method` and `Origin`)
   * through unchallenged: browsers never send credentials on a preflight (Fetch standard). An
   * `OPTIONS` without `Origin`, or with an empty or blank one, is no preflight and is challenged.
   * Default `false`. Not in proxy mode: browsers send proxy credentials on preflights.
   */
  allowPreflight?: boolean | undefined;
  /**
   * Leave out the challenge header for script requests (`X-Requested-With: XMLHttpRequest`) so that
   * browsers show no login dialog. The status stays 401; a 400 or 403 keeps its challenge (RFC
   * 6750 §3). Default `false`. Not in proxy mode (a 407 must carry a challenge).
   */
  omitChallengeForXhr?: boolean | undefined;
  /**
   * Leave out the challenge header where this returns true, for the requests of a single-page
   * app (say `req.headers['sec-fetch-mode'] === 'cors'`, or a header of its own): `fetch()`
   * sends no `X-Requested-With`. Not together with `omitChallengeForXhr`, nor in proxy mode. The
   * status stays 401; one that throws, or returns a promise (it answers synchronously), sends the
   * error to `next(err)`.
   */
  omitChallenge?: { omitChallenge(req: AuthRequest): boolean }['omitChallenge'] | undefined;
  /**
   * Milliseconds an asynchronous verifier (or a scheme's asynchronous `challenges()`) may take
   * before the request is answered 503 (checked by one timer per middleware, so the answer may
   * come later by up to a quarter of `timeout`, at most 1 s, or 10 ms for a short `timeout`).
   * Default 10000; 0 disables.
   */
  timeout?: number | undefined;
  /**
   * `Cache-Control` set on authenticated responses unless the application has set one already;
   * `false` leaves it alone. Default: `false` for `Authorization` (RFC 9111 §3.5 already forbids
   * shared caches to reuse those responses), `'private'` in proxy mode (§3.5 says nothing of
   * `Proxy-Authorization`, so a cache in front of the proxy could serve one user's response to
   * another).
   */
  cacheControl?: string | false | undefined;
  /** Bounds on the authorization field the codec enforces. */
  limits?: HeaderLimits | undefined;
  /**
   * `false` lets a request that carries no credentials through unauthenticated (`req.auth` stays
   * unset; one that an `authenticate({ proxy: true })` before this one made is taken away: that
   * user is the proxy's), for routes that serve everyone but personalise for users. Credentials
   * that are sent are still checked: wrong ones get 401, malformed or duplicated ones 400. Those
   * made for another `authenticate()` (a scheme this one does not offer, whatever their syntax or
   * length, a Digest answer to another realm or `opaque`) pass on as if none were sent. Clients
   * that send credentials only when challenged (browsers, `curl --digest`, Negotiate) never
   * authenticate on such a route by themselves. Default `true`.
   */
  credentialsRequired?: boolean | undefined;
}

/**
 * A Connect/Express-compatible middleware, usable on plain `node:http` too, and on `node:http2`'s
 * compatibility API (whose request and response stand in for `node:http`'s).
 */
export interface AuthMiddleware {
  (req: AuthRequest, res: ServerResponse, next: (err?: unknown) => void): void;
  (
    req: Http2ServerRequest & { auth?: AuthInfo | undefined },
    res: Http2ServerResponse,
    next: (err?: unknown) => void,
  ): void;
}

interface Config {
  readonly schemes: readonly Scheme[];
  /** The schemes' names lower-cased, in the order of `schemes`. */
  readonly lowerNames: readonly string[];
  readonly locators: readonly Scheme[];
  readonly realm: string;
  readonly proxy: boolean;
  readonly requestHeader: 'authorization' | 'proxy-authorization';
  readonly varyField: string;
  readonly challengeHeader: 'WWW-Authenticate' | 'Proxy-Authenticate';
  readonly onFailure: 'respond' | 'next';
  readonly body: BodyOption | undefined;
  readonly contentType: string;
  readonly allowPreflight: boolean;
  /** `omitChallenge`, or the script-request test of `omitChallengeForXhr`. */
  readonly omitChallenge: ((req: AuthRequest) => boolean) | undefined;
  /** Pending asynchronous verifications, when `timeout` is set. */
  readonly deadlines: Deadlines | undefined;
  readonly audit: ((outcome: AuthOutcome, req: AuthRequest) => void) | undefined;
  /** The runs (contexts) `audit` was told about (made only with `audit`): once each. */
  readonly audited: WeakSet<object> | undefined;
  readonly cacheControl: string | false;
  readonly limits: Readonly<Required<HeaderLimits>>;
  readonly credentialsRequired: boolean;
}

/**
 * Protects what follows it: requests without valid credentials get 401 (407 in proxy mode) with one
 * challenge per offered scheme; authenticated requests get `req.auth = { scheme, user, ... }`.
 *
 * @example
 * import express from 'express';
 * import { authenticate, basic, digest } from 'authscheme';
 *
 * const app = express();
 * app.use(authenticate({
 *   realm: 'api',
 *   schemes: [digest({ users: { alice: 'secret' } }), basic({ users: { alice: 'secret' } })],
 * }));
 * app.get('/', (req, res) => res.send(`hello ${req.auth!.user}`));
 */
export function authenticate(options: AuthenticateOptions): AuthMiddleware {
  const config = configure(options);
  // One implementation for both signatures: node:http2's compatibility objects have every member
  // the middleware uses.
  return function authenticateMiddleware(
    req: AuthRequest,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ): void {
    // One per run of this middleware: what `audit` reports once (a middleware mounted twice on a
    // request runs, and reports, twice).
    const ctx = new Context(req, res, config.realm, config.proxy, config.cacheControl);
    const guardedNext = (err?: unknown): void => {
      ctx.nextCalled = true;
      // An error not reported yet (a refusal handed on with onFailure: 'next' was, when made).
      if (err !== undefined && config.audit !== undefined) reportError(config, ctx, err);
      // The response went out whole while this run awaited a verifier or a scheme's asynchronous
      // challenges() (a timeout middleware answered): no handler can send anything now, and
      // Express's and Connect's default ones would destroy the socket, which keep-alive may by
      // now have given to the client's next request. The request is over; `audit` heard why.
      if (err !== undefined && ctx.awaited && res.writableEnded) return;
      next(err);
    };
    try {
      handle(config, ctx, guardedNext);
    } catch (err) {
      rescue(ctx, guardedNext, err);
    }
  } as AuthMiddleware;
}

const OPTION_NAMES = optionNames<AuthenticateOptions>()([
  'schemes',
  'realm',
  'proxy',
  'onFailure',
  'body',
  'contentType',
  'allowPreflight',
  'omitChallengeForXhr',
  'omitChallenge',
  'timeout',
  'cacheControl',
  'limits',
  'credentialsRequired',
  'audit',
]);

function configure(options: AuthenticateOptions): Config {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('authenticate(): options are required');
  }
  rejectRequestAsOptions('authenticate', options, 'app.use(authenticate({ schemes: [ … ] }))');
  // `authenticate([basic(…)])`, `authenticate(basic(…))`: the list or a scheme in place of options.
  // A scheme has no `schemes`; options (an instance of the application's class, say) may have
  // methods of those names beside theirs.
  const bare = options as { verify?: unknown; challenges?: unknown; schemes?: unknown };
  if (
    Array.isArray(options) ||
    (typeof bare.verify === 'function' &&
      typeof bare.challenges === 'function' &&
      bare.schemes === undefined)
  ) {
    throw new TypeError(
      'authenticate(): give the schemes in an options object: authenticate({ schemes: [ … ] })',
    );
  }
  rejectUnknownOptions('authenticate()', options, OPTION_NAMES);
  checkBooleanOptions('authenticate()', options, [
    'proxy',
    'allowPreflight',
    'omitChallengeForXhr',
    'credentialsRequired',
  ]);
  const { schemes } = options;
  if (!isList(schemes) || schemes.length === 0) {
    throw new TypeError('authenticate(): `schemes` must be a non-empty array');
  }
  const realm = checkRealm('authenticate()', options.realm ?? DEFAULT_REALM);
  const proxy = options.proxy === true;
  const lowerNames: string[] = [];
  for (const [index, scheme] of schemes.entries()) {
    // `schemes: [basic]`: the factory, not a scheme it made (a function has a string `name`).
    if (typeof scheme === 'function') {
      const name = (scheme as { name: string }).name;
      const call = /^[A-Za-z_$][\w$]*$/.test(name) ? `${name}({ … })` : 'e.g. basic({ … })';
      throw new TypeError(
        `authenticate(): schemes[${index}] is a function, not a scheme: give the scheme it ` +
          `makes (${call}), not the function itself`,
      );
    }
    if (
      typeof scheme?.name !== 'string' ||
      typeof scheme.verify !== 'function' ||
      typeof scheme.challenges !== 'function'
    ) {
      throw new TypeError(
        `authenticate(): schemes[${index}] is not a scheme (one that basic(), digest(), bearer() ` +
          'make, or an object with name, challenges() and verify(): the Scheme interface)',
      );
    }
    // RFC 9110 §11.1: auth-scheme = token. Any other name could neither be challenged nor sent.
    if (!isToken(scheme.name)) {
      throw new TypeError('authenticate(): a scheme name must be a token (RFC 9110 §11.1)');
    }
    const key = scheme.name.toLowerCase();
    if (lowerNames.includes(key))
      throw new TypeError(`authenticate(): the scheme ${scheme.name} is given twice`);
    lowerNames.push(key);
  }
  const timeout = options.timeout ?? 10_000;
  if (!Number.isFinite(timeout) || timeout < 0) {
    throw new TypeError('authenticate(): `timeout` must be a number of milliseconds >= 0');
  }
  if (
    options.onFailure !== undefined &&
    options.onFailure !== 'respond' &&
    options.onFailure !== 'next'
  ) {
    throw new TypeError("authenticate(): `onFailure` must be 'respond' or 'next'");
  }
  const contentType = options.contentType ?? 'text/plain; charset=utf-8';
  checkFieldText('authenticate()', 'contentType', contentType);
  const cacheControl = options.cacheControl ?? (proxy ? 'private' : false);
  if (cacheControl !== false && typeof cacheControl !== 'string') {
    throw new TypeError('authenticate(): `cacheControl` must be a string or false');
  }
  if (cacheControl !== false) checkFieldText('authenticate()', 'cacheControl', cacheControl);
  // An empty field is no answer: `false` says "none" (and in proxy mode drops `private` knowingly).
  // White space alone is empty too: Node sends it as is (`Cache-Control:  `).
  if (contentType.trim() === '' || (cacheControl !== false && cacheControl.trim() === '')) {
    throw new TypeError('authenticate(): `contentType` and `cacheControl` must not be empty');
  }
  // Resolved (and so checked) once: a bad bound must fail here, not as a 500 on every request.
  // A Map or a class instance would be read as no limits at all, in silence.
  if (options.limits !== undefined && !isPlainObject(options.limits)) {
    throw new TypeError('authenticate(): `limits` must be a plain object (HeaderLimits)');
  }
  let limits: ReturnType<typeof resolveLimits>;
  try {
    limits = resolveLimits(options.limits);
  } catch (err) {
    throw new TypeError(`authenticate(): ${(err as Error).message}`, { cause: err });
  }
  if (
    options.body !== undefined &&
    typeof options.body !== 'string' &&
    typeof options.body !== 'function'
  ) {
    throw new TypeError('authenticate(): `body` must be a string or a function');
  }
  if (options.audit !== undefined && typeof options.audit !== 'function') {
    throw new TypeError('authenticate(): `audit` must be a function');
  }
  if (options.omitChallenge !== undefined && typeof options.omitChallenge !== 'function') {
    throw new TypeError('authenticate(): `omitChallenge` must be a function of the request');
  }
  if (options.omitChallenge !== undefined && options.omitChallengeForXhr === true) {
    throw new TypeError('authenticate(): give `omitChallenge` or `omitChallengeForXhr`, not both');
  }
  // In proxy mode the request target is the origin's URI and the body is the origin's: an
  // `access_token` there (RFC 6750 §2.2, §2.3) is the origin's token, not the proxy's credentials.
  if (proxy && schemes.some((scheme) => typeof scheme.locate === 'function')) {
    throw new TypeError(
      'authenticate(): in proxy mode credentials come from Proxy-Authorization only: a scheme that locates them elsewhere (bearer allowQueryToken, allowFormToken) cannot be used',
    );
  }
  // Browsers send proxy credentials on preflights too (Fetch standard, HTTP-network-or-cache
  // fetch: "intentionally does not depend on" the credentials mode), so a proxy that let them
  // through would forward anyone's OPTIONS anywhere; and a 407 must carry Proxy-Authenticate
  // (RFC 9110 §15.5.8), where browsers handle a 407 before any script sees it: no dialog to spare.
  if (proxy && options.allowPreflight === true) {
    throw new TypeError(
      'authenticate(): allowPreflight cannot be used in proxy mode: browsers send proxy credentials on preflights, and the proxy would forward them unauthenticated',
    );
  }
  if (proxy && (options.omitChallenge !== undefined || options.omitChallengeForXhr === true)) {
    throw new TypeError(
      'authenticate(): omitChallenge and omitChallengeForXhr cannot be used in proxy mode: a 407 must carry Proxy-Authenticate (RFC 9110 §15.5.8)',
    );
  }
  // Told only once every option has passed: a setup() may hold resources or remember the realm.
  for (const scheme of schemes) {
    const told: unknown = scheme.setup?.({ realm, proxy });
    // An async setup() (plain JavaScript, or TypeScript, where a void return takes a promise):
    // its configuration errors would come as an unhandled rejection, after the app started.
    if (isPromiseLike(told)) {
      ignoreRejection(told);
      throw new TypeError(
        `authenticate(): the ${scheme.name} scheme's setup() returned a promise: it must check ` +
          'its configuration synchronously (throw a TypeError)',
      );
    }
  }
  return Object.freeze({
    schemes: Object.freeze([...schemes]),
    lowerNames: Object.freeze(lowerNames),
    locators: schemes.filter((scheme) => typeof scheme.locate === 'function'),
    realm,
    proxy,
    requestHeader: proxy ? 'proxy-authorization' : 'authorization',
    varyField: proxy ? 'Proxy-Authorization' : 'Authorization',
    challengeHeader: proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate',
    onFailure: options.onFailure ?? 'respond',
    body: options.body,
    contentType,
    allowPreflight: options.allowPreflight === true,
    omitChallenge:
      options.omitChallenge ?? (options.omitChallengeForXhr === true ? isScriptRequest : undefined),
    deadlines: timeout > 0 ? new Deadlines(timeout) : undefined,
    audit: options.audit,
    audited: options.audit === undefined ? undefined : new WeakSet(),
    cacheControl,
    limits,
    credentialsRequired: options.credentialsRequired !== false,
  } as const);
}

function handle(config: Config, ctx: Context, next: (err?: unknown) => void): void {
  const { req, res } = ctx;
  // Browsers send no credentials on a CORS preflight; the request that follows is judged on its own.
  // The headers are looked at first: the method's lookup (originalMethod, then method) is the
  // dearer. A preflight always carries Origin, a serialized origin or "null" for an opaque one
  // (Fetch standard, CORS-preflight fetch; RFC 6454 §7.1), never empty: without one, or with an
  // empty or blank one, it is a plain client's OPTIONS, challenged as any request.
  // OPTIONS on the wire and for the router: an OPTIONS that a method override made a DELETE is
  // no preflight, and the router would run the DELETE.
  if (
    config.allowPreflight &&
    req.headers['access-control-request-method'] !== undefined &&
    typeof req.headers.origin === 'string' &&
    req.headers.origin.trim() !== '' &&
    ctx.method === 'OPTIONS' &&
    req.method === 'OPTIONS'
  ) {
    // requireScopes() lets it through on this record, not on the request's shape.
    if (!config.proxy) dropProxyAuth(req);
    markPreflight(req, config.proxy);
    next();
    return;
  }

  const raw = readAuthorization(req, config.requestHeader);
  if (raw === REPEATED || raw === UNCOUNTED) {
    malformed(
      config,
      ctx,
      next,
      {
        code: 'ERR_AUTH_DUPLICATE_HEADER',
        message:
          raw === REPEATED
            ? `The ${config.varyField} field appears more than once`
            : `The request has too many header lines to tell whether ${config.varyField} appears once`,
        status: 400,
      },
      fieldLines(req, config.requestHeader),
    );
    return;
  }
  let credentials: Credentials | undefined;
  let scheme: Scheme | undefined;
  // Credentials made for a scheme not offered, passed on as none (credentialsRequired: false).
  let foreignScheme = false;
  if (raw !== undefined) {
    try {
      credentials = parseCredentials(raw, config.limits);
    } catch (err) {
      if (!(err instanceof AuthHeaderSyntaxError)) throw err;
      // A field that names a scheme this middleware does not offer was made for another
      // authenticate() (or another middleware): its syntax and length are not ours to judge, and
      // with credentialsRequired: false it passes as if none were sent (an AWS SigV4 field, a
      // Negotiate token within a route's raised maxLength).
      const named = leadingToken(raw);
      if (config.credentialsRequired || named === '' || findScheme(config, named) !== undefined) {
        // RFC 9110 §15.5.1: a field that does not parse is a malformed request.
        malformed(
          config,
          ctx,
          next,
          { code: 'ERR_AUTH_HEADER_SYNTAX', message: err.message, status: 400, cause: err },
          raw,
        );
        return;
      }
      foreignScheme = true;
    }
  }
  if (credentials !== undefined) {
    scheme = findScheme(config, credentials.scheme);
    if (scheme === undefined) {
      if (!config.credentialsRequired) {
        // Made for another authenticate() (a route's, with other schemes): as if none were sent.
        credentials = undefined;
        foreignScheme = true;
      } else {
        // RFC 9110 §11.6.1: credentials the server cannot use are answered with its challenges.
        refuse(config, ctx, next, {
          code: 'ERR_AUTH_UNSUPPORTED_SCHEME',
          message: 'The credentials use a scheme that is not offered',
          status: 401,
        });
        return;
      }
    }
  }

  // Why a locator found none, when it knows (Bearer: a form body never parsed).
  let notFound: string | undefined;
  for (const locator of config.locators) {
    const found = locator.locate!(ctx, locator === scheme ? credentials : undefined);
    if (found === undefined) continue;
    // An async locate() (plain JavaScript): its promise is no answer, and its rejection must not
    // go unhandled (that ends the process).
    if (isPromiseLike(found)) {
      ignoreRejection(found);
      next(
        new AuthschemeError(
          'ERR_AUTH_VERIFIER_RESULT',
          `The ${locator.name} scheme's locate() returned a promise: it must answer synchronously`,
        ),
      );
      return;
    }
    // A custom scheme's locate() that answered neither credentials nor a failure.
    if (
      typeof found !== 'object' ||
      found === null ||
      (!('ok' in found) && typeof found.scheme !== 'string')
    ) {
      next(
        new AuthschemeError(
          'ERR_AUTH_VERIFIER_RESULT',
          `The ${locator.name} scheme's locate() returned neither credentials nor a failure`,
        ),
      );
      return;
    }
    if ('ok' in found) {
      // None found, with the reason: it matters only if no credentials are found anywhere.
      if (found.code === 'ERR_AUTH_MISSING_CREDENTIALS') {
        notFound ??= messageOf(found);
        continue;
      }
      refuseWith(config, ctx, next, locator, found);
      return;
    }
    // The header's bound holds wherever credentials travel: a form body (RFC 6750 §2.2) can be
    // far larger than a header, and its token would go on to the verifier (a JWT parse of 10 MB).
    if (found.scheme.length + 1 + (found.token68?.length ?? 0) > config.limits.maxLength) {
      refuseWith(
        config,
        ctx,
        next,
        locator,
        invalidRequest('The credentials are longer than maxLength'),
      );
      return;
    }
    if (credentials !== undefined && locator !== scheme) {
      refuseWith(
        config,
        ctx,
        next,
        locator,
        invalidRequest('Credentials were sent in more than one way'),
      );
      return;
    }
    scheme = locator;
    credentials = found;
  }

  if (scheme === undefined || credentials === undefined) {
    if (!config.credentialsRequired) {
      // The response differs for a client that sends credentials (RFC 9110 §12.5.5): a cache
      // must not hand this anonymous one to it. Something before this middleware answered and
      // still called next(): the handler does not run on a sent response, as after a success
      // (setHeader throws the same where Vary needs a write; where it needs none, ask).
      if (!appendVary(res, config.varyField) && res.headersSent) {
        throw headersSentError(req.httpVersionMajor >= 2);
      }
      // Recorded only where requireScopes() could not tell by itself: no Authorization field says
      // "No credentials were sent" there already, and this is every anonymous request (a WeakMap
      // set costs some 0.3 to 0.8 µs, in garbage collection too). In proxy mode that field is the
      // origin's. Unrecorded, what an authenticate() before this one recorded is dropped (a delete
      // that misses costs some 10 ns): requireScopes() answers as this one would.
      if (!config.proxy) dropProxyAuth(req);
      if (foreignScheme || notFound !== undefined || config.proxy) {
        markLetThrough(
          req,
          foreignScheme ? FOREIGN_SCHEME : (notFound ?? NO_CREDENTIALS),
          config.proxy,
        );
      } else {
        forgetLetThrough(req);
      }
      next();
      return;
    }
    refuse(config, ctx, next, {
      code: 'ERR_AUTH_MISSING_CREDENTIALS',
      message: notFound ?? NO_CREDENTIALS,
      status: 401,
    });
    return;
  }

  const chosen = scheme;
  ctx.tried = chosen.name;
  const result = chosen.verify(credentials, ctx);
  if (!isPromiseLike(result)) {
    conclude(config, ctx, next, chosen, result);
    return;
  }
  awaitWithDeadline(
    config,
    ctx,
    next,
    result,
    (value) => conclude(config, ctx, next, chosen, value, true),
    (err) => next(asError(err)),
    () =>
      refuse(config, ctx, next, {
        code: 'ERR_AUTH_VERIFIER_TIMEOUT',
        message: 'The credentials could not be checked in time',
        status: 503,
        failed: chosen,
      }),
  );
}

const NO_CREDENTIALS = 'No credentials were sent';

/**
 * Takes away a `req.auth` that an `authenticate({ proxy: true })` made, for an origin-side one
 * that lets the request through unauthenticated: that user authenticated to the proxy, whose
 * credentials are not the origin's (RFC 9110 §11.7.2), and what follows (a handler, requireScopes())
 * would take them for this one's. An origin-side `req.auth` (a site-wide authenticate() before a
 * route's) stays.
 */
function dropProxyAuth(req: AuthRequest): void {
  const { auth } = req;
  if (typeof auth === 'object' && auth !== null && inProxyMode(req, auth)) req.auth = undefined;
}

const FOREIGN_SCHEME =
  'The credentials use a scheme that authenticate() does not offer, and with ' +
  'credentialsRequired: false it let the request through unauthenticated';

function conclude(
  config: Config,
  ctx: Context,
  next: (err?: unknown) => void,
  scheme: Scheme,
  result: VerifyResult,
  /** The result came from an async verifier: something else may have answered meanwhile. */
  late = false,
): void {
  // Each field of what a scheme returned is read once: a getter (a custom scheme's) that answered
  // otherwise on a second read would pass one value to a check and another to the use.
  const ok = result?.ok;
  if (ok === false) {
    if (result.foreign === true && !config.credentialsRequired) {
      // Made for another authenticate() (a route's, with another realm): as if none were sent.
      // Unless something else answered (before, or while an async scheme worked): setHeader
      // throws then, but where Vary lists the field already nothing is written, so ask.
      try {
        if (!appendVary(ctx.res, config.varyField) && ctx.res.headersSent) {
          throw headersSentError(ctx.req.httpVersionMajor >= 2);
        }
      } catch (err) {
        next(asError(err));
        return;
      }
      if (!config.proxy) dropProxyAuth(ctx.req);
      markLetThrough(
        ctx.req,
        `The credentials answer another protection space’s challenge (${messageOf(result)}), and ` +
          'with credentialsRequired: false authenticate() let the request through unauthenticated',
        config.proxy,
      );
      next();
      return;
    }
    refuseWith(config, ctx, next, scheme, result);
    return;
  }
  // A client that left while an async verifier worked is served nothing: the application does
  // not run for nobody (a POST's side effects), and `audit` hears of no success. A 401 nobody
  // receives, as Negotiate's for a token that waited its turn (docs/negotiate.md). A response
  // something else answered goes on to next(err) below.
  if (late && ok === true && !ctx.res.headersSent && isResponseGone(ctx.res)) {
    refuse(config, ctx, next, {
      code: 'ERR_AUTH_INVALID_REQUEST',
      message: 'The client left while its credentials were checked',
      status: 401,
      failed: scheme,
    });
    return;
  }
  try {
    if (ok !== true) {
      throw new AuthschemeError(
        'ERR_AUTH_VERIFIER_RESULT',
        `The ${scheme.name} scheme returned no result`,
      );
    }
    accept(config, ctx, scheme, result, late);
  } catch (err) {
    next(asError(err));
    return;
  }
  next();
}

function accept(
  config: Config,
  ctx: Context,
  scheme: Scheme,
  result: SchemeSuccess,
  late: boolean,
): void {
  const { user, details, headers } = result;
  if (typeof user !== 'string' || user === '') {
    throw new AuthschemeError(
      'ERR_AUTH_VERIFIER_RESULT',
      `The ${scheme.name} scheme accepted no user`,
    );
  }
  // for-in reads what a string, an array (typed ones too), a Map or a Set holds wrongly, or not at
  // all. null, as undefined, is none.
  if (
    details !== undefined &&
    details !== null &&
    (typeof details !== 'object' ||
      Array.isArray(details) ||
      ArrayBuffer.isView(details) ||
      details instanceof Map ||
      details instanceof Set)
  ) {
    throw new AuthschemeError(
      'ERR_AUTH_VERIFIER_RESULT',
      `The ${scheme.name} scheme's details must be an object of fields`,
    );
  }
  const auth: AuthInfo = { scheme: scheme.name, user };
  // for-in with an own-property check rather than Object.keys(): no array per request.
  if (details !== undefined && details !== null) {
    for (const key in details) {
      if (!Object.hasOwn(details, key) || key === 'scheme' || key === 'user') continue;
      if (key === '__proto__') {
        // Assignment would set the prototype; defineProperty keeps it data.
        Object.defineProperty(auth, key, {
          value: details[key],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        auth[key] = details[key];
      }
    }
  }
  const { res } = ctx;
  const replaced = setSuccessHeaders(ctx.req, res, scheme.name, headers);
  // Something else answered while an async verifier worked (a timeout middleware, say), or
  // before this middleware ran (one that answered and called next()). Digest's
  // Authentication-Info fails above with Node's ERR_HTTP(2)_HEADERS_SENT; a scheme without success
  // headers fails here the same way, before `audit` hears of a success: the request goes to
  // next(err) unauthenticated, an `error`, and a metrics or lockout hook counts no success that
  // no client was served. Asked after an async verifier, or for `audit`; otherwise setHeader
  // (Vary below) throws the same, and is asked only where Vary needs no write: nothing else runs
  // during a synchronous verify, and a lookup on Express's responses costs (request-auth.ts).
  const asked = late || config.audit !== undefined;
  if (asked && res.headersSent) throw headersSentError(ctx.req.httpVersionMajor >= 2);
  // Before req.auth is set: a hook that throws leaves the request unauthenticated (next(err)).
  // Before Cache-Control and Vary too, and its error response carries none of the success's
  // headers (an rspauth for a request that failed): the scheme's are undone, a header of the
  // same name set before getting its value back.
  if (config.audit !== undefined) {
    try {
      report(config, ctx, {
        outcome: 'success',
        scheme: auth.scheme,
        user: auth.user,
        status: undefined,
        code: undefined,
        message: undefined,
      });
    } catch (err) {
      undoSuccessHeaders(ctx.req, res, headers, replaced);
      throw err;
    }
  }
  if (config.cacheControl !== false && !res.hasHeader('Cache-Control')) {
    res.setHeader('Cache-Control', config.cacheControl);
  }
  if (!appendVary(res, config.varyField) && !asked && res.headersSent) {
    throw headersSentError(ctx.req.httpVersionMajor >= 2);
  }
  // requireScopes() answers in the field of the authenticate() that made this req.auth.
  if (config.proxy) markProxyAuth(auth);
  assignAuth(ctx.req, auth);
}

/** Node's error for a header set after the head went out, as its setHeader throws it. */
function headersSentError(http2: boolean): Error {
  return http2
    ? Object.assign(new Error('Response has already been initiated.'), {
        code: 'ERR_HTTP2_HEADERS_SENT',
      })
    : Object.assign(new Error('Cannot set headers after they are sent to the client'), {
        code: 'ERR_HTTP_HEADERS_SENT',
      });
}

function refuseWith(
  config: Config,
  ctx: Context,
  next: (err?: unknown) => void,
  scheme: Scheme,
  failure: SchemeFailure,
): void {
  const { code } = failure;
  const status = failure.status ?? 401;
  // SchemeFailure allows these alone: a 200 or a 302 would let a refusal pass for a success, a
  // 407 on the origin side carry the wrong challenge field (RFC 9110 §11.7.1).
  if ((status !== 400 && status !== 401 && status !== 403) || typeof code !== 'string') {
    next(
      new AuthschemeError(
        'ERR_AUTH_VERIFIER_RESULT',
        `The ${scheme.name} scheme refused with a status other than 400, 401 or 403, or without a code`,
      ),
    );
    return;
  }
  refuse(config, ctx, next, {
    code,
    message: messageOf(failure),
    status,
    failed: scheme,
    failure,
  });
}

/** A refusal's message, read once; a custom scheme's that is no string is replaced. */
function messageOf(failure: SchemeFailure): string {
  const { message } = failure;
  return typeof message === 'string' ? message : 'The credentials were refused';
}

/**
 * Tells `audit` about this run of the middleware, once: a run it was told about (a refusal, then
 * a body function that throws; a hook that threw) is not reported again as an error. A promise
 * the hook returns is not awaited; its rejection is caught, or it would end the process.
 */
function report(config: Config, ctx: Context, outcome: AuthOutcome): void {
  if (config.audited!.has(ctx)) return;
  config.audited!.add(ctx);
  const returned: unknown = config.audit!(outcome, ctx.req);
  ignoreRejection(returned);
}

/**
 * An error for `audit`, naming the scheme whose credentials were being checked (its verifier or
 * store failed). A hook that throws here is ignored: the request is failing already.
 */
function reportError(config: Config, ctx: Context, err: unknown): void {
  const ours = err instanceof AuthschemeError;
  try {
    report(config, ctx, {
      outcome: 'error',
      scheme: ctx.tried,
      user: undefined,
      status: undefined,
      code: ours ? err.code : undefined,
      message: ours ? err.message : undefined,
    });
  } catch {
    // The error goes to next(err) as it is.
  }
}

/**
 * A malformed field is refused with 400. When it still names an offered scheme, that scheme is
 * told, so it can say so in its own terms (Bearer's `error="invalid_request"`, RFC 6750 §3.1).
 */
function malformed(
  config: Config,
  ctx: Context,
  next: (err?: unknown) => void,
  refusal: RefusalInit,
  raw: string | string[] | undefined,
): void {
  // A field naming no scheme at all (empty, say) concerns the one scheme offered, if only one is.
  // One naming a scheme that is not offered concerns none of ours: the client tried another
  // method, and RFC 6750 §3.1 wants no error code then. Of several lines, one that names an
  // offered scheme decides, wherever it stands: the client tried that scheme too.
  const lines = typeof raw === 'string' ? [raw] : (raw ?? []);
  let failed: Scheme | undefined;
  let namesAScheme = false;
  for (const line of lines) {
    const named = leadingToken(line);
    if (named === '') continue;
    namesAScheme = true;
    failed = findScheme(config, named);
    if (failed !== undefined) break;
  }
  if (failed === undefined && !namesAScheme && config.schemes.length === 1) {
    failed = config.schemes[0];
  }
  const failure: SchemeFailure = {
    ok: false,
    code: refusal.code,
    message: refusal.message,
    status: 400,
  };
  refuse(config, ctx, next, failed ? { ...refusal, failed, failure } : refusal);
}

/** A 400 told to the locating scheme, so that Bearer says error="invalid_request" (RFC 6750 §3.1). */
function invalidRequest(message: string): SchemeFailure {
  return { ok: false, code: 'ERR_AUTH_INVALID_REQUEST', message, status: 400 };
}

/**
 * The offered scheme a name denotes, case-insensitively (RFC 9110 §11.1). Compared character by
 * character, not looked up in a Map: the name is a new slice of the field, which a Map would
 * hash first (V8's runtime, on every request), and few schemes are offered.
 */
function findScheme(config: Config, name: string): Scheme | undefined {
  const { lowerNames } = config;
  for (let i = 0; i < lowerNames.length; i++) {
    if (equalsLowerAscii(name, lowerNames[i]!)) return config.schemes[i];
  }
  return undefined;
}

/**
 * The auth-scheme a field value starts with, if any: the characters before the first SP, HTAB or
 * comma, past leading whitespace and empty list elements (`, Basic …`, which a front end that
 * joined an empty line to the field writes).
 */
function leadingToken(value: string): string {
  let start = 0;
  while (start < value.length) {
    const c = value.charCodeAt(start);
    if (c !== 0x20 && c !== 0x09 && c !== 0x2c) break;
    start++;
  }
  let end = start;
  while (end < value.length) {
    const c = value.charCodeAt(end);
    if (c === 0x20 || c === 0x09 || c === 0x2c) break;
    end++;
  }
  const token = value.slice(start, end);
  return isToken(token) ? token : '';
}

interface RefusalInit {
  code: AuthErrorCode;
  message: string;
  status: number;
  /** The scheme that refused, and how: its challenges may add parameters (stale, error). */
  failed?: Scheme | undefined;
  failure?: SchemeFailure | undefined;
  cause?: unknown;
}

/** Collects the challenges and answers (or hands the error to `next`). */
function refuse(
  config: Config,
  ctx: Context,
  next: (err?: unknown) => void,
  { code, message, status, failed, failure, cause }: RefusalInit,
): void {
  const finalStatus = status === 401 && config.proxy ? 407 : status;
  const claimedUser: unknown = failure?.user;
  const send = (lists: ChallengeList[], from: readonly Scheme[], challengesDue = true): void => {
    let headers: Record<string, string | string[]>;
    try {
      const lines = challengeLines(lists, from);
      // RFC 9110 §11.6.1, §11.7.1: a 401 (407) carries at least one challenge.
      if (lines.length === 0 && challengesDue && (finalStatus === 401 || finalStatus === 407)) {
        throw new AuthschemeError(
          'ERR_AUTH_VERIFIER_RESULT',
          `No scheme made a challenge for the ${finalStatus}`,
        );
      }
      headers = refusalHeaders(config.challengeHeader, lines);
    } catch (err) {
      next(asError(err));
      return;
    }
    respond(config, ctx, next, {
      code,
      message,
      status: finalStatus,
      headers,
      scheme: failed?.name,
      // The name the credentials claimed: only a string a scheme read (a custom scheme's odd value is dropped).
      user: typeof claimedUser === 'string' ? claimedUser : undefined,
      cause,
    });
  };
  let omit: boolean;
  try {
    // Only a 401 loses its challenge: it alone makes a browser show a login dialog, and a 400 or
    // 403 without one would lose Bearer's error, which RFC 6750 §3 requires there.
    omit = finalStatus === 503 || (finalStatus === 401 && omitChallenge(config, ctx.req));
  } catch (err) {
    next(asError(err));
    return;
  }
  if (omit) {
    send([], [], false);
    return;
  }
  // 403 concerns the credentials that were sent: only their scheme's challenge helps (RFC 6750 §3.1).
  const schemes = finalStatus === 403 && failed !== undefined ? [failed] : config.schemes;
  const lists: (ChallengeList | PromiseLike<Challenge[]>)[] = [];
  let pending = false;
  try {
    for (const scheme of schemes) {
      const lines = linesFor(scheme);
      const schemeFailure = scheme === failed ? failure : undefined;
      const list =
        lines === undefined
          ? scheme.challenges(ctx, schemeFailure)
          : new FormattedChallenges(lines(ctx, schemeFailure));
      if (isPromiseLike(list)) pending = true;
      lists.push(list);
    }
  } catch (err) {
    // The challenges already asked for are not awaited: a rejection among them, or among the
    // promises a list holds, must not go unhandled (that ends the process).
    releasePromises(lists, 0);
    next(asError(err));
    return;
  }
  if (!pending) {
    send(lists as ChallengeList[], schemes);
    return;
  }
  // Challenges a scheme makes asynchronously get the verifiers' deadline: never a hang.
  awaitWithDeadline(
    config,
    ctx,
    next,
    Promise.all(lists.map(async (list) => list)),
    (resolved) => send(resolved, schemes),
    (err) => next(asError(err)),
    () =>
      refuse(config, ctx, next, {
        code: 'ERR_AUTH_VERIFIER_TIMEOUT',
        message: 'The challenges could not be made in time',
        status: 503,
        failed,
      }),
  );
}

/** What a scheme's challenges() returned, or the lines it formats as (challenge-lines.ts). */
type ChallengeList = Challenge[] | FormattedChallenges;

/**
 * The field lines of the challenges each scheme of `from` made (`lists`, in the same order). One
 * that cannot be sent (a name that is no token, a CR in a value), or no list at all, is that
 * scheme's programming error, as a verifier's bad result is: next(err), not a bare TypeError.
 */
function challengeLines(lists: readonly ChallengeList[], from: readonly Scheme[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < lists.length; i++) {
    const list: unknown = lists[i];
    if (list instanceof FormattedChallenges) {
      for (const line of list.lines) lines.push(line);
      continue;
    }
    const name = from[i]!.name;
    if (!Array.isArray(list)) {
      releasePromises(lists, i + 1);
      throw new AuthschemeError(
        'ERR_AUTH_VERIFIER_RESULT',
        `The ${name} scheme's challenges() returned no list`,
      );
    }
    try {
      for (const challenge of list as Challenge[]) lines.push(formatChallengeCached(challenge));
    } catch (err) {
      releasePromises(lists, i);
      // The codec's messages name what is wrong, never the value.
      throw new AuthschemeError(
        'ERR_AUTH_VERIFIER_RESULT',
        `The ${name} scheme made a challenge that cannot be sent: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  return lines;
}

/**
 * Catches the rejections of the challenges not to be sent, which must not go unhandled (that
 * ends the process): the lists from `from` on that are promises, and the promises a list holds
 * (`[makeChallenge()]` with an async maker, no list of challenges), which are not looked at once
 * one list fails.
 */
function releasePromises(lists: readonly unknown[], from: number): void {
  for (let j = from; j < lists.length; j++) {
    const list = lists[j];
    ignoreRejection(list);
    if (Array.isArray(list)) for (const item of list) ignoreRejection(item);
  }
}

/**
 * Waits for `work`, or for the middleware's `timeout` when one is set: whichever comes first
 * decides, once; what comes later changes nothing.
 */
function awaitWithDeadline<T>(
  config: Config,
  ctx: Context,
  next: (err?: unknown) => void,
  work: PromiseLike<T>,
  onValue: (value: T) => void,
  onError: (err: unknown) => void,
  onTimeout: () => void,
): void {
  // Something else may answer meanwhile: a verifier's, or a scheme's challenges(), result may
  // come after the response ended (guardedNext).
  ctx.awaited = true;
  let settled = false;
  // Where this runs, nothing catches what the steps throw (a getter of the verifier's result, say):
  // it would end the process, or leave the request unanswered, so it goes to next(err) as the
  // synchronous path's throws do.
  const run = (step: () => void): void => {
    try {
      step();
    } catch (err) {
      rescue(ctx, next, err);
    }
  };
  // One deadline for the request: challenges made after an async verifier get what is left of
  // its time, not a new `timeout` of their own.
  const deadline = config.deadlines?.add(() => {
    if (settled) return;
    settled = true;
    run(onTimeout);
  }, ctx.deadlineAt);
  if (deadline !== undefined) ctx.deadlineAt = deadline.at;
  const first = (): boolean => {
    if (settled) return false;
    settled = true;
    if (deadline !== undefined) config.deadlines!.clear(deadline);
    return true;
  };
  Promise.resolve(work).then(
    (value) => {
      if (first()) run(() => onValue(value));
    },
    (err: unknown) => {
      if (first()) run(() => onError(err));
    },
  );
}

/**
 * What a step of the middleware threw goes to next(err), unless next() was called already: then
 * it came from whatever ran after it, and is not ours to handle a second time.
 */
function rescue(ctx: Context, next: (err?: unknown) => void, err: unknown): void {
  if (ctx.nextCalled) throw err;
  next(asError(err));
}

function respond(
  config: Config,
  ctx: Context,
  next: (err?: unknown) => void,
  refusal: Refusal,
): void {
  try {
    if (config.audit !== undefined) {
      report(config, ctx, {
        outcome: 'refused',
        scheme: refusal.scheme,
        user: refusal.user,
        status: refusal.status,
        code: refusal.code,
        message: refusal.message,
      });
    }
  } catch (err) {
    next(asError(err));
    return;
  }
  if (config.onFailure === 'next' || ctx.res.headersSent) {
    next(refusalError(refusal));
    return;
  }
  try {
    sendRefusal(ctx.req, ctx.res, refusal, config.body, config.contentType);
  } catch (err) {
    // A custom body function that throws: the error handler answers instead (still no 2xx).
    next(asError(err));
  }
}

/**
 * What `omitChallenge` answers. A promise (an async function, in plain JavaScript) is truthy: taken
 * as its answer, it left the challenges out of every refusal. It is a programming error instead,
 * and its rejection is caught, or it would end the process.
 */
function omitChallenge(config: Config, req: AuthRequest): boolean {
  const omit: unknown = config.omitChallenge?.(req);
  if (isPromiseLike(omit)) {
    ignoreRejection(omit);
    throw new AuthschemeError(
      'ERR_AUTH_VERIFIER_RESULT',
      'The omitChallenge function of authenticate() returned a promise: it must answer synchronously, with a boolean',
    );
  }
  return Boolean(omit);
}

function isScriptRequest(req: AuthRequest): boolean {
  const value = req.headers['x-requested-with'];
  return typeof value === 'string' && value.toLowerCase() === 'xmlhttprequest';
}
