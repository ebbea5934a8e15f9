/**
 * HTTP Digest access authentication (RFC 7616): `digest(options)`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { formatChallenge, quoteString } from '../../header/format';
import { isToken } from '../../header/grammar';
import type { Challenge, Credentials } from '../../header/types';
import { AuthschemeError } from '../../errors';
import type {
  AuthRequest,
  RequestContext,
  Scheme,
  SchemeFailure,
  SchemeSuccess,
  VerifyResult,
} from '../../scheme';
import { refuse } from '../../scheme';
import { ignoreRejection, isPromiseLike } from '../../util/promise';
import { checkFieldText } from '../../util/field-text';
import {
  hasControl,
  isHexOfLength,
  isTextWithLineEnd,
  isWellFormed,
  lineEndSecretMessage,
} from '../../util/text';
import { checkRealm } from '../../util/realm';
import { detach } from '../../util/detach';
import { PerRealm } from '../../util/per-realm';
import {
  checkBooleanOptions,
  isList,
  isPlainObject,
  optionNames,
  promiseNote,
  rejectUnknownOptions,
  undefinedNote,
} from '../../util/options';
import { formatsAs } from '../../middleware/challenge-lines';
import { MemoryNonceStore } from '../../stores/memory';
import { clockFrom } from '../../util/clock';
import { processShared } from '../../util/process-shared';
import type { NonceStore } from '../../stores/nonce-store';
import {
  DIGEST_ALGORITHMS,
  findAlgorithm,
  hashBody,
  type AlgorithmInfo,
  type DigestAlgorithm,
  type DigestHash,
} from './algorithms';
import { readRawBody, type RawBodyReader } from './body';
import { domainText } from './domain';
import { realmSpellings, realmsSpelledAs } from './realm';
import { claimed, readDirectives, type DigestDirectives, type DigestQop } from './directives';
import {
  HA1Source,
  hexLength,
  type HA1Lookup,
  type DigestHA1,
  type DigestUserEntry,
  type FindUserByHash,
  type GetHA1,
  type GetPassword,
} from './lookup';
import { NonceSigner, newIssuer } from './nonce';
import { authorityOf, sameResource } from './uri';
import { digestsEqual, requestDigest, sessionHA1 } from './response';

export type { DigestAlgorithm, DigestHash } from './algorithms';
export type { DigestQop } from './directives';
export type {
  DigestDetails,
  DigestHA1,
  DigestUserEntry,
  FindUserByHash,
  GetHA1,
  GetPassword,
} from './lookup';
export type { RawBodyReader } from './body';

/** Users given as a map: {@link DigestOptions} with `users`. */
interface DigestUsersSource {
  /**
   * Users and their plain passwords, or their precomputed HA1 per hash
   * (`{ ha1: { 'SHA-256': '…hex…' } }`, HA1 = `H(user ":" realm ":" password)` for the realm in
   * force), so that the server need not keep plain passwords. With `userhash`, their hashed names
   * are computed from it (no `findUserByHash`).
   */
  users: Record<string, DigestUserEntry>;
  getPassword?: undefined;
  getHA1?: undefined;
  findUserByHash?: undefined;
}

/** Plain passwords looked up: {@link DigestOptions} with `getPassword`. */
interface DigestPasswordSource {
  users?: undefined;
  /** Looks up a user's plain password (sync or async); null/undefined/false for an unknown user. */
  getPassword: GetPassword;
  getHA1?: undefined;
  /**
   * With `userhash: true`: finds the user whose `H(user ":" realm)` is the given lower-case hex
   * (RFC 7616 §3.4.4).
   */
  findUserByHash?: FindUserByHash | undefined;
}

/** HA1s looked up: {@link DigestOptions} with `getHA1`. */
interface DigestHA1Source {
  users?: undefined;
  getPassword?: undefined;
  /**
   * Looks up a user's HA1 in hex for `hash` (`MD5`, `SHA-256` or `SHA-512-256`; a `-sess`
   * algorithm uses the HA1 of its hash), sync or async; null/undefined/false for an unknown user.
   * An Apache htdigest file gives MD5 HA1s: see `loadHtdigest`. For a realm beyond ASCII, an HA1
   * over its ISO-8859-1 octets (as sent) serves curl and browsers, one over its UTF-8 octets
   * python-requests; from a password, `digest()` takes both (docs/digest.md).
   */
  getHA1: GetHA1;
  /**
   * With `userhash: true`: finds the user whose `H(user ":" realm)` is the given lower-case hex
   * (RFC 7616 §3.4.4).
   */
  findUserByHash?: FindUserByHash | undefined;
}

/**
 * Options of {@link digest}. Give exactly one of `users`, `getPassword` or `getHA1` (the others
 * are typed `undefined`), as the setup checks; `findUserByHash` only beside a callback.
 */
export type DigestOptions = DigestCheckOptions &
  (DigestUsersSource | DigestPasswordSource | DigestHA1Source);

/** The options of {@link DigestOptions} whatever the source of users. */
interface DigestCheckOptions {
  /**
   * Algorithms offered, one challenge each, in this order (RFC 7616 §3.7). Default `['SHA-256']`.
   * A response with an algorithm not offered is refused (no downgrade). Clients differ: Chromium
   * and Python's urllib answer only the first challenge; urllib knows only MD5, wget MD5 and
   * MD5-sess. So `['SHA-256', 'MD5']` serves browsers and curl best, `['MD5', 'SHA-256']` old
   * clients.
   */
  algorithms?: readonly DigestAlgorithm[] | undefined;
  /**
   * `qop` values offered. Default `['auth']`. `auth-int` also hashes the request body, which the
   * application must make available as raw bytes (see `body`); wget drops `qop` altogether when
   * `auth-int` is offered, and is then refused.
   */
  qop?: readonly DigestQop[] | undefined;
  /**
   * The nonce HMAC key: a string or Buffer of at least 32 bytes. Default: random per `digest()`
   * call, so several processes behind one address (or several `digest()`s that should accept each
   * other's nonces) need the same secret.
   */
  secret?: string | Buffer | undefined;
  /**
   * Where nonce counts are kept for replay detection. Default: a new {@link MemoryNonceStore}
   * (per process: several processes need a shared store such as `authscheme/redis`). May be
   * shared by several `digest()` instances.
   */
  store?: NonceStore | undefined;
  /** Window of the default store (see `MemoryNonceStoreOptions.window`). Default 64. */
  window?: number | undefined;
  /** Size of the default store (see `MemoryNonceStoreOptions.maxEntries`). Default 100 000. */
  maxNonces?: number | undefined;
  /** How long a nonce is accepted, in ms. Default 300 000 (5 minutes). */
  nonceLifetime?: number | undefined;
  /**
   * When a nonce has this long or less left (ms), a success carries `nextnonce` in
   * `Authentication-Info` (RFC 7616 §3.5). Default: a tenth of `nonceLifetime`. 0 never sends it.
   */
  nextNonceBefore?: number | undefined;
  /** Offer `userhash=true` (RFC 7616 §3.4.4): clients may send `H(user ":" realm)` as username. */
  userhash?: boolean | undefined;
  /**
   * Read a `username` that is not valid UTF-8 as ISO-8859-1 (Latin-1), as Python's requests sends
   * it (while it hashes the name as UTF-8, as the challenge's `charset=UTF-8` asks). Default
   * `false`: refused with 401. Valid UTF-8 is always read as UTF-8.
   */
  acceptLatin1?: boolean | undefined;
  /** The `opaque` value sent and required back. Default: derived from `secret`. */
  opaque?: string | undefined;
  /** This scheme's realm, overriding the middleware's. */
  realm?: string | undefined;
  /**
   * The protection space's URIs, sent as `domain` (RFC 7616 §3.3): absolute paths (`/api/`) or
   * absolute URIs (no relative reference), written with the characters RFC 3986 allows (others
   * percent-encoded; no whitespace). Default: none sent.
   */
  domain?: readonly string[] | undefined;
  /**
   * For `qop=auth-int`: returns the raw request body. Default: `req.rawBody` (Buffer), else
   * `req.body` when a Buffer (`express.raw({ type: '*\/*' })` before the middleware) or a string.
   * Without a body available, an `auth-int` response is refused with fresh challenges.
   */
  body?: RawBodyReader | undefined;
  /**
   * Behind forward authentication (nginx `auth_request`, Traefik `ForwardAuth`, Caddy
   * `forward_auth`), where this server answers a check the proxy sends on another path, often
   * with another method: returns the method and target of the request the client sent, from the
   * headers the proxy adds (`X-Original-Method` and `X-Original-URI`, `X-Forwarded-Method` and
   * `X-Forwarded-Uri`), which `uri` is compared with and the response hashed over. `undefined`
   * means the request itself. A result without both as non-empty strings (the proxy sent no such
   * header) is refused with 400. Not with `qop: ['auth-int']`: the check carries no body.
   */
  forwardedRequest?: ((req: AuthRequest) => ForwardedRequest | undefined) | undefined;
  /**
   * Clock, in ms since the epoch. Default `Date.now`. Its readings are never taken back: while it
   * is behind its highest reading, time goes on from there at half the pace of
   * `performance.now()` (which jest's modern fake timers move too) until it catches up.
   */
  now?: (() => number) | undefined;
}

/** What {@link DigestOptions.forwardedRequest} returns: the request the client sent the proxy. */
export interface ForwardedRequest {
  /** Its method, as sent. */
  method: string;
  /** Its request target (path and query, as sent). */
  target: string;
}

interface DigestConfig {
  readonly algorithms: readonly AlgorithmInfo[];
  readonly qop: readonly DigestQop[];
  /** Whether `qop` holds `auth`, and `auth-int`: asked on every request. */
  readonly qopAuth: boolean;
  readonly qopAuthInt: boolean;
  readonly qopText: string;
  readonly store: NonceStore;
  readonly signer: NonceSigner;
  readonly nonceLifetime: number;
  /**
   * The issuer id of `store` (see nonce.ts) when it is not shared: only its own nonces are
   * accepted. `undefined` with a shared store, which holds the counts of every process's nonces.
   */
  readonly ownIssuer: string | undefined;
  /** The issuer id of `store`, shared or not: what its nonces carry. */
  readonly issuer: string;
  readonly nextNonceBefore: number;
  readonly userhash: boolean;
  readonly acceptLatin1: boolean;
  readonly opaque: string;
  readonly realm: string | undefined;
  readonly domain: string | undefined;
  readonly body: RawBodyReader | undefined;
  readonly forwardedRequest: ((req: AuthRequest) => ForwardedRequest | undefined) | undefined;
  readonly now: () => number;
  readonly source: HA1Source;
  /** realm → its challenges' templates, one per algorithm (see challengeLinesFor). */
  readonly templates: PerRealm<ChallengeTemplate[]>;
}

const DEFAULT_LIFETIME = 300_000;
/**
 * A nonce carries its expiry in 6 bytes (below 2^48 ms, see nonce.ts): half of that leaves room
 * for the clock (now + lifetime) for the next four thousand years.
 */
const MAX_LIFETIME = 2 ** 47;
const MIN_SECRET_BYTES = 32;
const DIGEST = 'Digest';

/**
 * The Digest scheme (RFC 7616) for `authenticate()`.
 *
 * - Algorithms MD5, MD5-sess, SHA-256, SHA-256-sess, SHA-512-256, SHA-512-256-sess; offers
 *   SHA-256 only unless told otherwise; refuses algorithms it did not offer.
 * - Nonces are stateless (expiry, random bytes, HMAC with `secret`); an expired nonce with a
 *   correct response gets `stale=true`. Nonce counts are tracked in `store` with a sliding window.
 * - `uri` must equal the request target (the original URL, query included; for an absolute-form
 *   proxy target, its origin form), else 400 (RFC 7616 §3.4.6); `realm` and `opaque` must match;
 *   `qop`, `cnonce` and `nc` are required.
 * - A success adds `Authentication-Info` (`Proxy-Authentication-Info` in proxy mode) with
 *   `rspauth` (not for auth-int, whose response body is not known yet), `qop`, `cnonce`, `nc`
 *   and, near expiry, `nextnonce`.
 * - A store that fails makes `verify` throw an `AuthschemeError` with code
 *   `ERR_AUTH_STORE_FAILURE` (the middleware passes it to `next(err)`): fail closed.
 *
 * @throws TypeError on invalid options (unknown algorithm, secret under 32 bytes, …)
 *
 * @example
 * import express from 'express';
 * import { authenticate, digest } from 'authscheme';
 * const app = express();
 * app.use(authenticate({
 *   realm: 'api',
 *   schemes: [digest({ users: { alice: 'secret' }, algorithms: ['SHA-256', 'MD5'], secret: process.env.DIGEST_SECRET })],
 * }));
 *
 * @see https://www.rfc-editor.org/rfc/rfc7616
 */
export function digest(options: DigestOptions): Scheme {
  const config = resolveOptions(options);
  const challenges = (ctx: RequestContext, failure?: SchemeFailure): Challenge[] =>
    challengesFor(config, ctx, failure);
  formatsAs(challenges, (ctx, failure) => challengeLinesFor(config, ctx, failure));
  return {
    name: DIGEST,
    challenges,
    verify: (credentials, ctx) => verifyDigest(config, credentials, ctx),
  };
}

/** What one refusal's challenges share: the realm, a fresh nonce, and whether to say stale. */
interface ChallengeBasis {
  realm: string;
  nonce: string;
  stale: boolean;
}

function challengeBasis(
  config: DigestConfig,
  ctx: RequestContext,
  failure: SchemeFailure | undefined,
): ChallengeBasis {
  const realm = config.realm ?? ctx.realm;
  const issuedAt = config.now();
  return {
    realm,
    nonce: config.signer.issue(realm, issuedAt, issuedAt + config.nonceLifetime),
    // RFC 7616 §3.3: stale=true when the nonce was stale but the response was right.
    stale: failure !== undefined && failure.code === 'ERR_AUTH_STALE_NONCE',
  };
}

function challengesFor(
  config: DigestConfig,
  ctx: RequestContext,
  failure?: SchemeFailure,
): Challenge[] {
  const { realm, nonce, stale } = challengeBasis(config, ctx, failure);
  return config.algorithms.map((algorithm) => ({
    scheme: DIGEST,
    params: challengeParams(config, realm, algorithm, nonce, stale),
  }));
}

function challengeParams(
  config: DigestConfig,
  realm: string,
  algorithm: AlgorithmInfo,
  nonce: string,
  stale: boolean,
): Record<string, string> {
  const params: Record<string, string> = { realm };
  if (config.domain !== undefined) params.domain = config.domain;
  params.qop = config.qopText;
  params.algorithm = algorithm.name;
  params.nonce = nonce;
  params.opaque = config.opaque;
  params.charset = 'UTF-8';
  if (config.userhash) params.userhash = 'true';
  if (stale) params.stale = 'true';
  return params;
}

/**
 * challengesFor's challenges as field lines (see challenge-lines.ts): only the nonce changes from
 * one refusal to the next, so each line is its realm's template around it. Formatting every
 * parameter afresh cost about 1 µs per challenge, a template's two joins some 10 ns.
 */
function challengeLinesFor(
  config: DigestConfig,
  ctx: RequestContext,
  failure?: SchemeFailure,
): string[] {
  const { realm, nonce, stale } = challengeBasis(config, ctx, failure);
  const templates = config.templates.get(realm);
  const lines: string[] = [];
  for (const [before, after, afterStale] of templates) {
    lines.push(before + nonce + (stale ? afterStale : after));
  }
  return lines;
}

/** Per algorithm: the line up to the nonce, and after it without and with `stale=true`. */
type ChallengeTemplate = readonly [before: string, after: string, afterStale: string];

/**
 * A template cut out of the formatter's own output for a stand-in nonce, so that the lines are
 * what formatChallenge gives for challengesFor's challenges. The stand-in is found as
 * `nonce="…"`: a quote in the realm or domain before it is written escaped (`\"`), and the
 * nonce is base64url, which a quoted-string holds as it is.
 */
function templateOf(
  config: DigestConfig,
  realm: string,
  algorithm: AlgorithmInfo,
): ChallengeTemplate {
  const cut = (stale: boolean): [string, string] => {
    const line = formatChallenge({
      scheme: DIGEST,
      params: challengeParams(config, realm, algorithm, STAND_IN_NONCE, stale),
    });
    const at = line.indexOf(STAND_IN) + STAND_IN_START;
    return [line.slice(0, at), line.slice(at + STAND_IN_NONCE.length)];
  };
  const [before, after] = cut(false);
  return [before, after, cut(true)[1]];
}

const STAND_IN_NONCE = 'authscheme-nonce-stand-in';
const STAND_IN = `nonce="${STAND_IN_NONCE}"`;
const STAND_IN_START = 'nonce="'.length;

/**
 * Synchronous from start to finish when every step can be (a users map, a store that answers at
 * once, no auth-int): a promise and its microtasks are a measurable share of a request's cost.
 * Any step that returns a promise turns the rest asynchronous.
 */
function verifyDigest(
  config: DigestConfig,
  credentials: Credentials,
  ctx: RequestContext,
): VerifyResult | Promise<VerifyResult> {
  const directives = readDirectives(credentials, config.acceptLatin1);
  if ('ok' in directives) return directives;
  const realm = config.realm ?? ctx.realm;
  // Every refusal from here on names the user the credentials claim (see readDirectives).
  const { user } = directives;

  // These refusals come before any password is checked, so they are no failed guess: not
  // ERR_AUTH_INVALID_CREDENTIALS, which lockouts count (after a restart with a random `secret`,
  // every browser's first request carries a nonce that no longer verifies). What says whose
  // challenge the response answers (realm, opaque, nonce) is looked at before what this digest()
  // offers: an answer to another digest()'s challenge may use what only that one offers.
  if (!namesRealm(directives.realm, realm)) return foreign('Digest realm does not match', user);
  if (directives.opaque !== config.opaque) return foreign('Digest opaque does not match', user);
  // Behind forward authentication, the request the client sent is the proxy's, described by it.
  const forwarded =
    config.forwardedRequest === undefined
      ? undefined
      : readForwarded(config.forwardedRequest, ctx.req);
  if (forwarded === null) {
    return {
      ok: false,
      code: 'ERR_AUTH_INVALID_REQUEST',
      message: 'Digest forwardedRequest() gave no method and target (did the proxy send them?)',
      status: 400,
      user,
    };
  }
  // RFC 7616 §3.4.6: the uri directive must name the request target (the original URL, not the
  // router-relative req.url); a mismatch is a 400. The authority is looked up only when the two
  // strings differ.
  const target = forwarded === undefined ? ctx.url : forwarded.target;
  if (directives.uri !== target && !sameResource(directives.uri, target, authorityOf(ctx.req))) {
    return {
      ok: false,
      code: 'ERR_AUTH_INVALID_REQUEST',
      message: 'Digest uri does not match the request target',
      status: 400,
      user,
    };
  }
  const nonce = config.signer.check(realm, directives.nonce);
  if (!nonce.valid) {
    // A realm echoed in another spelling may be a realm of its own in this app ('Zürich' and its
    // UTF-8 octets, as an htdigest file needs): a nonce signed for that realm, under a shared
    // `secret`, says that the response answers its challenge. The echo may be that realm's own
    // second or third spelling (a 401 written as UTF-8, Java), which reads back to it as UTF-8.
    // (The echo names this realm, so these are a few realms derived from it: the signer's
    // per-realm cache stays small.)
    for (const other of realmsSpelledAs(directives.realm)) {
      if (other !== realm && config.signer.check(other, directives.nonce).valid) {
        return foreign('Digest realm does not match', user);
      }
    }
    return beforePassword('Digest nonce is invalid', user);
  }
  // A nonce of another digest() in this process whose store is its own and not shared (a
  // route's, in the same realm and under the same `secret`) answers that digest()'s challenge: a
  // refusal here is another protection space's, which an optional authenticate() leaves to the
  // route. It is checked as usual all the same (a right password still gets stale=true where
  // credentials are required, as a nonce of another process does), and never accepted, even over
  // a shared store (Redis), which accepts any other process's nonce (see withHA1). A shared
  // store's nonce is any shared store's to check (see liveIssuers), and another digest()'s for
  // one whose store is not shared.
  const another =
    nonce.issuer !== undefined &&
    nonce.issuer !== config.issuer &&
    (liveIssuers.has(nonce.issuer) ||
      (config.ownIssuer !== undefined && liveSharedIssuers.has(nonce.issuer)));
  let offered: SchemeFailure | undefined;
  // Without a Set or includes(): builtins that no other step of a request runs (their code costs
  // instruction-cache misses, bench/instructions.ts --cache-sim); a digest() offers a few at most.
  if (!isOffered(config.algorithms, directives.algorithm)) {
    offered = beforePassword('Digest algorithm was not offered', user);
  } else if (!(directives.qop === 'auth' ? config.qopAuth : config.qopAuthInt)) {
    offered = beforePassword('Digest qop was not offered', user);
  } else if (directives.userhash && !config.userhash) {
    offered = beforePassword('Digest userhash was not offered', undefined);
  }
  if (offered !== undefined) return another ? { ...offered, foreign: true } : offered;

  const request: PendingRequest = {
    config,
    directives,
    realm,
    ctx,
    expiresAt: nonce.expiresAt,
    issuedAt: nonce.issuedAt,
    issuer: nonce.issuer,
    another,
    forwardedMethod: forwarded?.method,
    bodyHash: undefined,
  };
  const result =
    directives.qop === 'auth-int'
      ? withBody(request)
      : withUser(request, resolveUser(config, directives, realm, ctx.req));
  if (!another) return result;
  return isPromiseLike(result) ? Promise.resolve(result).then(asForeign) : asForeign(result);
}

/**
 * What `forwardedRequest` says of the client's request: `undefined` for the request itself, `null`
 * when it gave no usable method and target. The method must be a token (RFC 9110 §9.1), as
 * node:http would have required of the client's own.
 */
function readForwarded(
  forwardedRequest: (req: AuthRequest) => ForwardedRequest | undefined,
  req: AuthRequest,
): ForwardedRequest | undefined | null {
  const found: unknown = forwardedRequest(req);
  if (found === undefined) return undefined;
  // An async function: a programming error, not a proxy that sent nothing (its rejection caught).
  if (isPromiseLike(found)) {
    ignoreRejection(found);
    throw new AuthschemeError(
      'ERR_AUTH_VERIFIER_RESULT',
      "Digest's forwardedRequest() returned a promise: it must answer synchronously",
    );
  }
  if (typeof found !== 'object' || found === null) return null;
  const { method, target } = found as Record<string, unknown>;
  if (typeof method !== 'string' || !isToken(method)) return null;
  if (typeof target !== 'string' || target === '') return null;
  return { method, target };
}

function asForeign(result: VerifyResult): VerifyResult {
  return result.ok ? result : { ...result, foreign: true };
}

/** What the steps of a verification pass on to each other. */
interface PendingRequest {
  readonly config: DigestConfig;
  readonly directives: DigestDirectives;
  readonly realm: string;
  readonly ctx: RequestContext;
  /** When the (validly signed) nonce expires. */
  readonly expiresAt: number;
  /** When it was issued, and for which store (`undefined` for a version 1 nonce). */
  readonly issuedAt: number | undefined;
  readonly issuer: string | undefined;
  /** The nonce is another live `digest()`'s in this process (see verifyDigest). */
  readonly another: boolean;
  /** The client's method, from `forwardedRequest`; else the request's own. */
  readonly forwardedMethod: string | undefined;
  /** H(entity-body) for qop=auth-int. */
  bodyHash: string | undefined;
}

async function withBody(request: PendingRequest): Promise<VerifyResult> {
  const { config, directives, realm, ctx } = request;
  const body = await readRawBody(ctx.req, config.body);
  if (body === undefined) {
    // Most often the raw body parser was forgotten: the developer sees a 401, and this in audit.
    const why =
      config.body === undefined
        ? 'req.rawBody or req.body is no Buffer or string (put express.raw({ type: () => true }) ' +
          'before authenticate(), or give digest() a body option)'
        : 'the body option gave none';
    return claimed(
      refuse(`qop=auth-int needs the raw request body, and ${why}`, 'ERR_AUTH_INVALID_REQUEST'),
      directives.user,
    );
  }
  request.bodyHash = hashBody(directives.algorithm, body);
  return withUser(request, await resolveUser(config, directives, realm, ctx.req));
}

function withUser(
  request: PendingRequest,
  user: string | undefined | Promise<string | undefined>,
): VerifyResult | Promise<VerifyResult> {
  if (isPromiseLike(user)) return Promise.resolve(user).then((found) => withUser(request, found));
  const { config, directives, realm, ctx } = request;
  const hash = directives.algorithm.hash;
  // A well-formed userhash that names no one costs the lookup a found one costs (see
  // lookupNoOne); a malformed one was never looked up, and says nothing of who exists.
  const lookup =
    user !== undefined
      ? config.source.lookup(user, realm, hash, ctx.req)
      : directives.userhash && isHexOfLength(directives.username, hexLength(hash))
        ? config.source.lookupNoOne(directives.username, realm, hash, ctx.req)
        : config.source.unknown(realm, hash);
  if (isPromiseLike(lookup)) {
    return Promise.resolve(lookup).then((found) => withHA1(request, user, found));
  }
  return withHA1(request, user, lookup);
}

function withHA1(
  request: PendingRequest,
  user: string | undefined,
  lookup: HA1Lookup,
): VerifyResult | Promise<VerifyResult> {
  const { config, directives, ctx } = request;
  const { algorithm, nonce, cnonce } = directives;
  const method = request.forwardedMethod ?? ctx.method;
  let sessionKey = sessionHA1(algorithm, lookup.ha1, nonce, cnonce);
  const expected = requestDigest(directives, sessionKey, method, request.bodyHash);
  // Compare first, then look at `known`, so an unknown user costs what a wrong password costs.
  let matches = digestsEqual(expected, directives.response);
  // A realm beyond ASCII: the HA1 over each other spelling a client may have hashed (see
  // realmSpellings), or the one HA1 again, so every user in such a realm costs the same.
  const spellings = realmSpellings(request.realm).length;
  for (let i = 1; i < spellings; i++) {
    const key = sessionHA1(algorithm, lookup.otherHA1s?.[i - 1] ?? lookup.ha1, nonce, cnonce);
    if (
      digestsEqual(requestDigest(directives, key, method, request.bodyHash), directives.response)
    ) {
      matches = true;
      sessionKey = key;
    }
  }
  // The name the credentials claimed goes with a refusal (audit, AuthenticationError); not the
  // one a userhash resolved to, which is what userhash hides (RFC 7616 §3.4.4).
  const claimedUser = directives.user;
  if (!matches || !lookup.known || user === undefined) return { ...refuse(), user: claimedUser };

  // Only a client that knows the password learns that its nonce is stale (RFC 7616 §3.3).
  const now = config.now();
  if (request.expiresAt <= now) {
    return { ...refuse('Digest nonce expired', 'ERR_AUTH_STALE_NONCE'), user: claimedUser };
  }
  // A store that is not shared knows the counts of its own nonces only. One signed with the same
  // secret by another process, or before a restart, may have had its counts used where this store
  // never saw them (RFC 7616 §5.5): the client gets a fresh nonce of this store's.
  if (config.ownIssuer !== undefined && request.issuer !== config.ownIssuer) {
    return {
      ...refuse(
        'Digest nonce was issued for another nonce store (another process, or before a restart)',
        'ERR_AUTH_STALE_NONCE',
      ),
      user: claimedUser,
    };
  }
  // Nor is another digest()'s in this process ever accepted here, over a shared store too: with
  // its refusals foreign (an optional authenticate() passes them on), an acceptance would tell a
  // right password from a wrong one on the site's pages, guesses that no audit hook counts.
  if (request.another) {
    return {
      ...refuse(
        'Digest nonce was issued for another digest() in this process',
        'ERR_AUTH_STALE_NONCE',
      ),
      user: claimedUser,
    };
  }

  let fresh: boolean | Promise<boolean>;
  try {
    fresh = config.store.use(directives.nonce, directives.nc, request.expiresAt, request.issuedAt);
  } catch (cause) {
    throw storeFailure(cause);
  }
  const conclude = (isFresh: unknown): VerifyResult => {
    // A store's other answers are no "count used before": they would log a replay and send
    // stale=true, which the client's retry would meet again. Fail closed, as a store that throws.
    if (typeof isFresh !== 'boolean') {
      throw storeFailure(new TypeError('NonceStore.use() must answer true or false'));
    }
    const remaining = request.expiresAt - now;
    if (isFresh === true || acceptedBefore(directives, ctx)) {
      return success(request, user, sessionKey, remaining, lookup.details);
    }
    // A count seen before (or forgotten by a full store) is refused. The response was right, so
    // stale=true lets an honest client that lost count carry on with a fresh nonce.
    return {
      ...refuse('Digest nonce count already used', 'ERR_AUTH_STALE_NONCE'),
      user: claimedUser,
    };
  };
  if (!isPromiseLike(fresh)) return conclude(fresh);
  return Promise.resolve(fresh).then(conclude, (cause: unknown) => {
    throw storeFailure(cause);
  });
}

/** Whether `algorithm` is among those the digest() offers. */
function isOffered(algorithms: readonly AlgorithmInfo[], algorithm: AlgorithmInfo): boolean {
  for (let i = 0; i < algorithms.length; i++) if (algorithms[i] === algorithm) return true;
  return false;
}

/** A refusal before the password check, naming the user the credentials claim. */
function beforePassword(message: string, user: string | undefined): SchemeFailure {
  return claimed(refuse(message, 'ERR_AUTH_INVALID_REQUEST'), user);
}

/**
 * Whether a response's `realm` names this realm: as sent, or, for a realm beyond ASCII, in another
 * spelling a client may echo (see realmSpellings: Java echoes the realm's UTF-8 octets, and every
 * client does when an error handler wrote the 401's head as UTF-8).
 */
function namesRealm(received: string, realm: string): boolean {
  return (
    received === realm ||
    (received.length > realm.length && realmSpellings(realm).includes(received))
  );
}

/** A response to another protection space's challenge (another realm, another `opaque`). */
function foreign(message: string, user: string | undefined): SchemeFailure {
  return { ...beforePassword(message, user), foreign: true };
}

/** Fail closed: a store that cannot answer refuses the request through `next(err)`. */
function storeFailure(cause: unknown): AuthschemeError {
  return new AuthschemeError('ERR_AUTH_STORE_FAILURE', 'The Digest nonce store failed', { cause });
}

function resolveUser(
  config: DigestConfig,
  directives: DigestDirectives,
  realm: string,
  req: AuthRequest,
): string | undefined | Promise<string | undefined> {
  if (directives.userhash) {
    if (!isHexOfLength(directives.username, hexLength(directives.algorithm.hash))) return undefined;
    return config.source.resolveUserhash(
      directives.username,
      realm,
      directives.algorithm.hash,
      req,
    );
  }
  // Decoded once, by readDirectives: a name that does not decode is no user.
  return directives.user;
}

/**
 * What successes accepted, by response object: a second `authenticate()` on a request's way (one
 * with `credentialsRequired: false` for the site and one for a route, with one `digest()` or two
 * over one store) checks the same credentials again, and the count the first used up in the
 * store must not turn them into a replay. A replay is another request, with another response.
 * Kept per field, as the response digest, which covers password, nonce, count, cnonce and
 * request: another check's success on the same response (a proxy's, with counts copied from a
 * captured request) has another digest. It is looked at only after this scheme has checked that
 * digest itself.
 */
const acceptedOn = processShared('authscheme.digest.acceptedOn', () => ({
  origin: new WeakMap<object, string | Set<string>>(),
  proxy: new WeakMap<object, string | Set<string>>(),
}));

function acceptedBefore(directives: DigestDirectives, ctx: RequestContext): boolean {
  const accepted = (ctx.proxy ? acceptedOn.proxy : acceptedOn.origin).get(ctx.res);
  if (accepted === undefined) return false;
  return typeof accepted === 'string'
    ? accepted === directives.response
    : accepted.has(directives.response);
}

/** The response digest (it covers nonce and count) per field; several in a Set. */
function remember(directives: DigestDirectives, ctx: RequestContext): void {
  const byResponse = ctx.proxy ? acceptedOn.proxy : acceptedOn.origin;
  const key = directives.response;
  const accepted = byResponse.get(ctx.res);
  if (accepted === undefined || accepted === key) byResponse.set(ctx.res, key);
  else if (typeof accepted === 'string') byResponse.set(ctx.res, new Set([accepted, key]));
  else accepted.add(key);
}

/**
 * `Authentication-Info` without `nextnonce` (RFC 7616 §3.5; RFC 7615 §3, §4 for proxies), for
 * `qop=auth`. RFC 2617 §3.2.3 wants `rspauth`, `cnonce` and `nc` whenever the field states a
 * `qop`; for `auth-int`, `rspauth` covers the response body (A2 with its hash, RFC 7616 §3.5),
 * which is not known when the headers go out, so no `qop` is stated for it at all (undefined):
 * the server applies no protection to that response, and says only `nextnonce`, when due.
 */
function authenticationInfo(directives: DigestDirectives, sessionKey: string): string | undefined {
  if (directives.qop !== 'auth') return undefined;
  // Written out rather than through formatAuthParams: every name is fixed here, and this runs on
  // every authenticated request. qop and nc are tokens (checked when read); cnonce came in a
  // quoted-string and goes back in one.
  return (
    `qop=${directives.qopText}, rspauth="${requestDigest(directives, sessionKey, '', undefined)}", ` +
    `cnonce=${quoteString(directives.cnonce)}, nc=${directives.ncText}`
  );
}

function success(
  request: PendingRequest,
  user: string,
  sessionKey: string,
  remaining: number,
  lookupDetails: Readonly<Record<string, unknown>> | undefined,
): SchemeSuccess {
  const { config, directives, ctx } = request;
  remember(directives, ctx);
  let info = authenticationInfo(directives, sessionKey);
  if (remaining <= config.nextNonceBefore) {
    const issuedAt = config.now();
    const next = config.signer.issue(request.realm, issuedAt, issuedAt + config.nonceLifetime);
    info = `${info === undefined ? '' : `${info}, `}nextnonce="${next}"`;
  }
  const digestDetails = {
    // The realm in force, however the client spelt it (see namesRealm).
    realm: request.realm,
    algorithm: directives.algorithm.name,
    qop: directives.qop,
  };
  return {
    ok: true,
    // What the lookup gave for req.auth; the name the client proved, unless it maps it: a copy,
    // as a substring would hold the whole Authorization value wherever the application keeps it.
    user: typeof lookupDetails?.user === 'string' ? lookupDetails.user : detach(user),
    // What was authenticated (realm, algorithm, qop) is not the lookup's to change.
    details: lookupDetails === undefined ? digestDetails : { ...lookupDetails, ...digestDetails },
    // Literal keys: a computed key would give every request's object a slow shape.
    headers:
      info === undefined
        ? undefined
        : ctx.proxy
          ? { 'Proxy-Authentication-Info': info }
          : { 'Authentication-Info': info },
  };
}

// ---- option checking (once, at setup) ----

const OPTION_NAMES = optionNames<DigestOptions>()([
  'users',
  'getPassword',
  'getHA1',
  'findUserByHash',
  'algorithms',
  'qop',
  'secret',
  'store',
  'window',
  'maxNonces',
  'nonceLifetime',
  'nextNonceBefore',
  'userhash',
  'acceptLatin1',
  'opaque',
  'realm',
  'domain',
  'body',
  'forwardedRequest',
  'now',
]);

function resolveOptions(options: DigestOptions): DigestConfig {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('digest(): options must be an object');
  }
  rejectUnknownOptions('digest()', options, OPTION_NAMES);
  checkBooleanOptions('digest()', options, ['userhash', 'acceptLatin1']);
  const source = resolveSource(options);

  const algorithms = resolveAlgorithms(options.algorithms);
  const qop = resolveQop(options.qop);

  const secret = resolveSecret(options.secret);
  const nonceKey = createHmac('sha256', secret).update('authscheme digest nonce key').digest();

  if (
    options.store !== undefined &&
    (options.window !== undefined || options.maxNonces !== undefined)
  ) {
    throw new TypeError(
      'digest(): window and maxNonces configure the default store; give them to your store instead',
    );
  }
  const now = clockFrom(options.now, 'digest()');
  let store: NonceStore;
  if (options.store !== undefined) {
    if (options.store === null || typeof options.store.use !== 'function') {
      throw new TypeError(
        'digest(): store must be a NonceStore (an object with a use() method)' +
          promiseNote(options.store),
      );
    }
    store = options.store;
    // Without a shared secret (`secret: process.env.DIGEST_SECRET` with the variable unset),
    // each process would sign its nonces with a random key of its own and, sharing the store,
    // refuse the others' in silence.
    if (store.shared === true && options.secret === undefined) {
      throw new TypeError(
        'digest(): a shared nonce store needs `secret`, the same in every process; it is undefined (an unset environment variable?)',
      );
    }
  } else {
    store = new MemoryNonceStore({
      ...(options.window !== undefined ? { window: options.window } : {}),
      ...(options.maxNonces !== undefined ? { maxEntries: options.maxNonces } : {}),
      // This scheme's own clock: after a clock error, both agree on what has expired.
      now,
    });
  }

  const nonceLifetime = options.nonceLifetime ?? DEFAULT_LIFETIME;
  if (!Number.isSafeInteger(nonceLifetime) || nonceLifetime < 1 || nonceLifetime > MAX_LIFETIME) {
    throw new TypeError(
      `digest(): nonceLifetime must be an integer from 1 to ${MAX_LIFETIME} (ms)`,
    );
  }
  const nextNonceBefore = options.nextNonceBefore ?? Math.floor(nonceLifetime / 10);
  if (
    !Number.isSafeInteger(nextNonceBefore) ||
    nextNonceBefore < 0 ||
    nextNonceBefore >= nonceLifetime
  ) {
    throw new TypeError(
      'digest(): nextNonceBefore must be an integer from 0 to below nonceLifetime (ms)',
    );
  }

  const userhash = options.userhash ?? false;
  if (typeof userhash !== 'boolean') throw new TypeError('digest(): userhash must be a boolean');
  if (userhash && !source.resolvesUserhash) {
    throw new TypeError('digest(): userhash with getPassword or getHA1 needs findUserByHash');
  }

  const opaque =
    options.opaque ??
    createHmac('sha256', secret).update('authscheme digest opaque').digest('base64url');
  checkFieldText('digest()', 'opaque', opaque);
  if (opaque === '') throw new TypeError('digest(): opaque must not be empty');
  // Escaped in the quoted-string, yet clients misread them (python-requests and wget, tried): the
  // value is the server's own choice, and needs neither.
  if (opaque.includes('"') || opaque.includes('\\')) {
    throw new TypeError('digest(): opaque must not hold a double quote or a backslash');
  }

  const realm = options.realm === undefined ? undefined : checkRealm('digest()', options.realm);

  const domain = options.domain === undefined ? undefined : domainText(options.domain);

  if (options.body !== undefined && typeof options.body !== 'function') {
    throw new TypeError('digest(): body must be a function');
  }
  const forwardedRequest = options.forwardedRequest;
  if (forwardedRequest !== undefined) {
    if (typeof forwardedRequest !== 'function') {
      throw new TypeError(
        `digest(): forwardedRequest must be a function${promiseNote(forwardedRequest)}`,
      );
    }
    // The proxy's check carries no body: an auth-int response could never be verified.
    if (qop.includes('auth-int')) {
      throw new TypeError(
        "digest(): forwardedRequest cannot go with qop 'auth-int' (forward authentication passes no body)",
      );
    }
  }
  const config: DigestConfig = Object.freeze({
    algorithms,
    qop,
    qopAuth: qop.includes('auth'),
    qopAuthInt: qop.includes('auth-int'),
    // One quoted list (RFC 7616 §3.3); without spaces, which naive clients split on ",".
    qopText: qop.join(','),
    store,
    signer: new NonceSigner(nonceKey, issuerOf(store)),
    nonceLifetime,
    ownIssuer: store.shared === true ? undefined : issuerOf(store).toString('base64url'),
    issuer: issuerOf(store).toString('base64url'),
    nextNonceBefore,
    userhash,
    acceptLatin1: options.acceptLatin1 === true,
    opaque,
    realm,
    domain,
    body: options.body,
    forwardedRequest,
    now,
    source,
    templates: new PerRealm((realm: string) =>
      algorithms.map((algorithm) => templateOf(config, realm, algorithm)),
    ),
  });
  return config;
}

/**
 * Each store's issuer id, made on first use: `digest()`s that share one store (in one process)
 * accept each other's nonces, as the store holds the counts of all of them. These records, and
 * what successes accepted (acceptedOn), are the process's, not this copy's of the package (see
 * process-shared.ts): a `digest()` of a dependency's copy sees the same stores as the app's.
 */
const issuers = processShared('authscheme.digest.issuers', () => new WeakMap<NonceStore, Buffer>());
/**
 * The issuer ids (base64url) of the stores alive in this process, not shared and shared: see
 * verifyDigest. A shared store's nonces (Redis) are any shared store's to check, another store
 * object's over the same backend in this process too, as they would be in another process.
 */
const liveIssuers = processShared('authscheme.digest.liveIssuers', () => new Set<string>());
const liveSharedIssuers = processShared(
  'authscheme.digest.liveSharedIssuers',
  () => new Set<string>(),
);
// The process's too: a registry that is collected calls none of its callbacks, and one per copy
// went with a copy that was dropped (a bundle reloaded), leaving the ids of its stores behind.
const forgetIssuer = processShared(
  'authscheme.digest.forgetIssuer',
  () =>
    new FinalizationRegistry<string>((id) => {
      liveIssuers.delete(id);
      liveSharedIssuers.delete(id);
    }),
);

function issuerOf(store: NonceStore): Buffer {
  let issuer = issuers.get(store);
  if (issuer === undefined) {
    issuer = newIssuer();
    issuers.set(store, issuer);
    const id = issuer.toString('base64url');
    (store.shared === true ? liveSharedIssuers : liveIssuers).add(id);
    forgetIssuer.register(store, id);
  }
  return issuer;
}

function resolveSource(options: DigestOptions): HA1Source {
  const given = [options.users, options.getPassword, options.getHA1].filter((x) => x !== undefined);
  if (given.length !== 1) {
    // Only when none came out given: of two given, an undefined third is not the mistake.
    const note =
      given.length === 0 ? undefinedNote(options, ['users', 'getPassword', 'getHA1'], '') : '';
    throw new TypeError(`digest(): give exactly one of users, getPassword or getHA1${note}`);
  }
  // The users' hashed names are computed from `users`: a findUserByHash beside it would never be
  // asked, which its author would not know.
  if (options.users !== undefined && options.findUserByHash !== undefined) {
    throw new TypeError(
      'digest(): findUserByHash is for getPassword or getHA1; with users, userhash finds the users itself',
    );
  }
  for (const name of ['getPassword', 'getHA1', 'findUserByHash'] as const) {
    const value: unknown = options[name];
    if (value !== undefined && typeof value !== 'function') {
      throw new TypeError(`digest(): ${name} must be a function${promiseNote(value)}`);
    }
  }
  return new HA1Source({
    ...(options.users !== undefined ? { users: resolveUsers(options.users) } : {}),
    ...(options.getPassword !== undefined ? { getPassword: options.getPassword } : {}),
    ...(options.getHA1 !== undefined ? { getHA1: options.getHA1 } : {}),
    ...(options.findUserByHash !== undefined ? { findUserByHash: options.findUserByHash } : {}),
  });
}

const HASHES: readonly DigestHash[] = ['MD5', 'SHA-256', 'SHA-512-256'];

function resolveUsers(users: Record<string, DigestUserEntry>): Map<string, DigestUserEntry> {
  if (!isPlainObject(users)) {
    throw new TypeError(
      `digest(): users must be a plain object (user name → password or HA1s)${promiseNote(users)}`,
    );
  }
  const result = new Map<string, DigestUserEntry>();
  for (const name of Object.keys(users)) {
    const entry = users[name];
    if (name === '') throw new TypeError('digest(): a user name must not be empty');
    // Credentials naming one are refused before any lookup (see readDirectives): such an entry
    // would fail every request of that user in silence.
    if (hasControl(name)) {
      throw new TypeError(
        'digest(): a user name contains a control character (U+0000–U+001F, U+007F–U+009F), ' +
          'which no response can carry',
      );
    }
    // UTF-8 writes a lone surrogate as U+FFFD: such a password would let in a client that hashed
    // U+FFFD instead, and such a name match nobody.
    if (!isWellFormed(name) || (typeof entry === 'string' && !isWellFormed(entry))) {
      throw new TypeError(
        'digest(): a user name or password is not well-formed UTF-16 (a lone surrogate), so has no UTF-8 form',
      );
    }
    // RFC 7616 §4: names and passwords are NFC under charset=UTF-8 (HA1 hashes these bytes).
    const user = name.normalize('NFC');
    if (result.has(user)) throw new TypeError('digest(): a user name is given twice (in NFC)');
    if (typeof entry === 'string') {
      // `process.env.PASSWORD ?? ''` with the variable unset would let in anyone who knows the name.
      if (entry === '') {
        throw new TypeError(
          `digest(): users[${JSON.stringify(user)}] is an empty password (an unset environment variable?); getPassword can return one`,
        );
      }
      // A line end left from a file (`alice: 'secret\r'`): basic() refuses it, as RFC 7617 does; here
      // it was taken, and that user refused in silence, as no login box types one.
      if (hasControl(entry)) {
        throw new TypeError(
          `digest(): users[${JSON.stringify(user)}]: the password contains a control character (U+0000–U+001F, U+007F–U+009F; a line end left from a file?), which no user can type`,
        );
      }
      result.set(user, entry.normalize('NFC'));
      continue;
    }
    if (
      entry === null ||
      typeof entry !== 'object' ||
      entry.ha1 === null ||
      typeof entry.ha1 !== 'object'
    ) {
      throw new TypeError(`digest(): users.${user} must be a password or { ha1: { … } }`);
    }
    const ha1: DigestHA1 = {};
    for (const hash of Object.keys(entry.ha1)) {
      const value = (entry.ha1 as Record<string, unknown>)[hash];
      if (!HASHES.includes(hash as DigestHash)) {
        throw new TypeError(
          `digest(): users.${user}.ha1 has an unknown hash ${hash} (use ${HASHES.join(', ')})`,
        );
      }
      if (typeof value !== 'string' || !isHexOfLength(value, hexLength(hash as DigestHash))) {
        throw new TypeError(`digest(): users.${user}.ha1.${hash} must be a hex ${hash} digest`);
      }
      ha1[hash as DigestHash] = value.toLowerCase();
    }
    result.set(user, Object.freeze({ ha1: Object.freeze(ha1) }));
  }
  return result;
}

function resolveAlgorithms(names: readonly DigestAlgorithm[] | undefined): AlgorithmInfo[] {
  const list = names ?? ['SHA-256'];
  if (!isList(list) || list.length === 0) {
    throw new TypeError('digest(): algorithms must be a non-empty array');
  }
  const result: AlgorithmInfo[] = [];
  for (const name of list) {
    const algorithm = typeof name === 'string' ? findAlgorithm(name) : undefined;
    if (algorithm === undefined || algorithm.name !== name) {
      throw new TypeError(
        `digest(): unknown algorithm ${String(name)} (use ${DIGEST_ALGORITHMS.join(', ')})`,
      );
    }
    if (result.includes(algorithm)) throw new TypeError(`digest(): algorithm ${name} given twice`);
    result.push(algorithm);
  }
  return result;
}

function resolveQop(qop: readonly DigestQop[] | undefined): DigestQop[] {
  const list = qop ?? ['auth'];
  if (!isList(list) || list.length === 0)
    throw new TypeError('digest(): qop must be a non-empty array');
  const result: DigestQop[] = [];
  for (const value of list) {
    if (value !== 'auth' && value !== 'auth-int') {
      throw new TypeError(`digest(): unknown qop ${String(value)} (use auth, auth-int)`);
    }
    if (result.includes(value)) throw new TypeError(`digest(): qop ${value} given twice`);
    result.push(value);
  }
  return result;
}

function resolveSecret(secret: string | Buffer | undefined): Buffer {
  if (secret === undefined) return randomBytes(MIN_SECRET_BYTES);
  const bytes =
    typeof secret === 'string'
      ? Buffer.from(secret, 'utf8')
      : Buffer.isBuffer(secret)
        ? secret
        : undefined;
  if (bytes === undefined) throw new TypeError('digest(): secret must be a string or a Buffer');
  // A line end kept from a file would count toward the 32 bytes, and a process that reads the
  // same secret from the environment would sign other nonces: each refuses the other's as forged.
  if (typeof secret === 'string' && isTextWithLineEnd(secret)) {
    throw new TypeError(lineEndSecretMessage('digest()'));
  }
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new TypeError(`digest(): secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return Buffer.from(bytes);
}
