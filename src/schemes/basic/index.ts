/**
 * The Basic scheme, RFC 7617.
 *
 * Exported from `authscheme` as {@link basic}.
 */
import { randomBytes } from 'node:crypto';
import { textHmac } from '../../util/hmac';
import { passwordChecker } from '../../util/secret';
import type { CacheOptions } from '../../util/cache-options';
import { configuredCache } from '../../util/lru-cache';
import { isPromiseLike } from '../../util/promise';
import { SharedChecks } from '../../util/shared-checks';
import { decodeBase64Strict } from '../../util/base64';
import { decodeUtf8Strict, hasControl, isAscii, isWellFormed } from '../../util/text';
import { checkRealm } from '../../util/realm';
import { detach } from '../../util/detach';
import { PerRealm } from '../../util/per-realm';
import type { Challenge, Credentials } from '../../header/types';
import type {
  Identity,
  RequestContext,
  Scheme,
  SchemeFailure,
  SchemeSuccess,
  VerifyResult,
  AuthRequest,
} from '../../scheme';
import { identityResult, refuse } from '../../scheme';
import {
  checkBooleanOptions,
  isPlainObject,
  optionNames,
  promiseNote,
  rejectUnknownOptions,
  undefinedNote,
} from '../../util/options';

/**
 * Checks a user name and password; returns the user name, an object with a `user` field (its
 * other fields land on `req.auth`), or `false`/`null`/`undefined`. Sync or async. The callback
 * is responsible for comparing in constant time (`safeCompare`). Method syntax, so that `req` may
 * be declared as the framework's request: see {@link AuthRequest}.
 */
export type BasicVerify = {
  verify(user: string, password: string, req: AuthRequest): Identity | Promise<Identity>;
}['verify'];

/** Users given as a map: {@link BasicOptions} with `users`. */
interface BasicUsersSource {
  /**
   * User name → password. Compared in constant time; an unknown user costs as much as a wrong
   * password. A name or password with a control character is a `TypeError`: no request carries one.
   */
  users: Record<string, string>;
  verify?: undefined;
}

/** Users checked by a callback: {@link BasicOptions} with `verify`. */
interface BasicVerifySource {
  users?: undefined;
  /** The password check; see {@link BasicVerify}. */
  verify: BasicVerify;
}

/**
 * Options of {@link basic}. Give exactly one of `users` or `verify` (the other is typed
 * `undefined`), as the setup checks.
 */
export type BasicOptions = BasicCheckOptions & (BasicUsersSource | BasicVerifySource);

/** The options of {@link BasicOptions} whatever the source of users. */
interface BasicCheckOptions {
  /** This scheme's realm; defaults to the realm given to `authenticate()`. */
  realm?: string | undefined;
  /**
   * Advertise `charset="UTF-8"` (RFC 7617 §2.1). Default `true`: browsers then send UTF-8, which
   * is how credentials are always decoded (invalid UTF-8 is refused, never substituted).
   */
  charset?: boolean | undefined;
  /**
   * Reuse a success of `verify` for the same user name and password: `true` for the defaults
   * (1000 entries, 60 s) or `{ max, maxAge }`. Default off. Worth it when `verify` is slow by
   * design (an htpasswd file's bcrypt, a remote directory): Basic sends the password with every
   * request. Until its entry expires, a password changed or a user deleted still passes, and
   * `verify` is not called: do not cache a `verify` that decides by the request (its path, its
   * address). Entries are kept per realm and side (origin or proxy), keyed by an HMAC of the name
   * and password under a random key of this scheme's; failures are not kept. Requests that share
   * an entry share its `req.auth` fields' values: treat nested objects as read-only.
   */
  cache?: boolean | BasicCacheOptions | undefined;
  /**
   * Hand an empty user-id (`":token"`, RFC 7617 §2 allows it) to `verify`, for clients that send
   * a token as the password. Default `false`: refused with 401 before `verify`, which may not
   * expect it (a directory may take an empty name for an anonymous bind). `verify` must then
   * return a non-empty user name.
   */
  allowEmptyUser?: boolean | undefined;
  /**
   * Read credentials that are not valid UTF-8 as ISO-8859-1 (Latin-1), the way clients that ignore
   * `charset` encode them: Python's requests does, for any character above U+007F. Default
   * `false`: refused with 401. Valid UTF-8 is always read as UTF-8, so no password that works
   * without this option reads differently with it.
   */
  acceptLatin1?: boolean | undefined;
}

/** Options of the cache of {@link basic}: `max` entries (1000), `maxAge` in ms (60000). */
export type BasicCacheOptions = CacheOptions;

const OPTION_NAMES = optionNames<BasicOptions>()([
  'users',
  'verify',
  'realm',
  'charset',
  'cache',
  'allowEmptyUser',
  'acceptLatin1',
]);

/**
 * The Basic authentication scheme (RFC 7617).
 *
 * @example
 * app.use(authenticate({ realm: 'api', schemes: [basic({ users: { alice: 'secret' } })] }));
 */
export function basic(options: BasicOptions): Scheme {
  if (typeof options === 'object' && options !== null) {
    rejectUnknownOptions('basic()', options, OPTION_NAMES);
    checkBooleanOptions('basic()', options, ['charset', 'allowEmptyUser', 'acceptLatin1']);
  }
  if (!options || (options.users === undefined) === (options.verify === undefined)) {
    const note =
      typeof options === 'object' && options !== null
        ? undefinedNote(options, ['users', 'verify'])
        : '';
    // `(await loadHtpasswd(path)).verify` without the await: the promise has no `verify`.
    const hint = note.includes('verify')
      ? '; loadHtpasswd() returns a promise: `(await loadHtpasswd(path)).verify`'
      : '';
    throw new TypeError(`basic(): give exactly one of \`users\` or \`verify\`${note}${hint}`);
  }
  const verify: unknown = options.verify;
  if (verify !== undefined && typeof verify !== 'function') {
    throw new TypeError(`basic(): \`verify\` must be a function${promiseNote(verify)}`);
  }
  // Checked here as authenticate() checks its own: unquotable text would make every challenge,
  // and so every refusal, a 500.
  // Read once, as every option: one changed after setup would escape the check above.
  const ownRealm = options.realm;
  if (ownRealm !== undefined) checkRealm('basic()', ownRealm);
  const charset = options.charset ?? true;
  const allowEmptyUser = options.allowEmptyUser === true;
  const acceptLatin1 = options.acceptLatin1 === true;
  const check = options.verify ?? usersChecker(options.users);
  const configured = configuredCache<SchemeSuccess>('basic()', options.cache);
  const cacheKey = configured && cacheKeyer();
  const checking = new SharedChecks<VerifyResult>();
  const challengeByRealm = new PerRealm<Challenge[]>((realm) => {
    const params: Record<string, string> = { realm };
    if (charset) params.charset = 'UTF-8';
    // Frozen: formatChallengeCached formats a frozen challenge once.
    return [Object.freeze({ scheme: 'Basic', params: Object.freeze(params) })];
  });

  return {
    name: 'Basic',
    challenges(ctx: RequestContext): Challenge[] {
      return challengeByRealm.get(ownRealm ?? ctx.realm);
    },
    verify(credentials: Credentials, ctx: RequestContext): VerifyResult | Promise<VerifyResult> {
      const decoded = decodeCredentials(credentials, allowEmptyUser, acceptLatin1);
      if (!Array.isArray(decoded)) return decoded;
      const result = verifyDecoded(decoded, ctx);
      // A refusal names the user-id it was for (audit, AuthenticationError); a success is as is.
      return isPromiseLike(result)
        ? Promise.resolve(result).then((value) => claimed(value, decoded[0]))
        : claimed(result, decoded[0]);
    },
  };

  function verifyDecoded(
    decoded: [string, string],
    ctx: RequestContext,
  ): VerifyResult | Promise<VerifyResult> {
    if (configured === undefined) {
      const identity = check(decoded[0], decoded[1], ctx.req);
      return isPromiseLike(identity)
        ? Promise.resolve(identity).then(identityResult)
        : identityResult(identity);
    }
    // A success holds for this scheme's realm and side (origin or proxy): one basic() mounted
    // in two authenticate()s keeps their answers apart.
    const realm = ownRealm ?? ctx.realm;
    const key = cacheKey!(JSON.stringify([ctx.proxy, realm, decoded[0], decoded[1]]));
    // The monotonic clock: a wall clock set back would keep entries for that much longer.
    const now = performance.now();
    const hit = configured.cache.get(key, now);
    if (hit !== undefined) return hit;
    const shared = checking.join(key, now);
    if (shared !== undefined) return shared;
    // maxAge counts from the call: the answer is as old as the moment verify was asked.
    const remember = (value: unknown, current: boolean): VerifyResult => {
      const result = identityResult(value);
      if (result.ok && current) configured.cache.set(key, result, now + configured.maxAge);
      return result;
    };
    const identity = check(decoded[0], decoded[1], ctx.req);
    if (!isPromiseLike(identity)) return remember(identity, true);
    // Simultaneous first requests with the same credentials share one call of verify.
    return checking.share(key, now, identity, remember);
  }
}

function claimed(result: VerifyResult, user: string): VerifyResult {
  return result.ok ? result : { ...result, user };
}

/**
 * Credentials that do not decode to a user-id and password: refused (401) before any password is
 * checked, so no failed guess (`ERR_AUTH_INVALID_REQUEST`, as Digest's malformed directives).
 */
const malformed = (message: string): SchemeFailure => refuse(message, 'ERR_AUTH_INVALID_REQUEST');

/** RFC 7617 §2: `token68` = base64(user-id ":" password). */
function decodeCredentials(
  credentials: Credentials,
  allowEmptyUser: boolean,
  acceptLatin1: boolean,
): [string, string] | SchemeFailure {
  const token = credentials.token68;
  if (token === undefined) return malformed('Basic credentials must be a token68');
  const bytes = decodeBase64Strict(token);
  if (bytes === undefined) return malformed('Basic credentials are not canonical base64');
  // Latin-1 is tried only on bytes that are not UTF-8: it never changes how UTF-8 credentials read.
  const text = decodeUtf8Strict(bytes) ?? (acceptLatin1 ? bytes.toString('latin1') : undefined);
  if (text === undefined) return malformed('Basic credentials are not valid UTF-8');
  // The user-id cannot contain a colon; the password can (RFC 7617 §2).
  const colon = text.indexOf(':');
  if (colon === -1) return malformed('Basic credentials have no colon');
  // A copy: a substring would hold the whole text, password included, for as long as the user-id
  // is kept (in the cache, on `req.auth`, in an application's session or lockout table).
  const user = detach(text.slice(0, colon));
  const password = text.slice(colon + 1);
  // RFC 7617 §2 allows an empty user-id (user-id = *<TEXT excluding ":">), but a verify written
  // for names may not expect one: only when asked for.
  if (user === '' && !allowEmptyUser) return malformed('Basic credentials have an empty user-id');
  // RFC 7617 §2: user-id and password MUST NOT contain control characters.
  if (hasControl(text)) return malformed('Basic credentials contain control characters');
  // RFC 7617 §2.1: with charset="UTF-8" the server expects NFC; a client that sent another form
  // of the same text is met halfway (the configured users are normalized too).
  return isAscii(text) ? [user, password] : [user.normalize('NFC'), password.normalize('NFC')];
}

/**
 * Cache keys: an HMAC under a key made here, so that the cache holds neither passwords nor their
 * plain hashes.
 */
function cacheKeyer(): (text: string) => string {
  return textHmac(randomBytes(32));
}

/** A constant-time checker over a users map: the same comparison whether or not the user exists. */
function usersChecker(users: Record<string, string>): (user: string, password: string) => Identity {
  if (!isPlainObject(users)) {
    throw new TypeError(
      `basic(): \`users\` must be a plain object (user name → password)${promiseNote(users)}`,
    );
  }
  const passwords = new Map<string, string>();
  for (const [name, password] of Object.entries(users)) {
    // Which user, never the password: in a map of hundreds, "a user" says nothing.
    const entry = `users[${JSON.stringify(name)}]`;
    if (typeof password !== 'string')
      throw new TypeError(`basic(): ${entry} must be a string (the password)`);
    if (name === '' || name.includes(':'))
      throw new TypeError(`basic(): ${entry}: a user name is empty or contains ":"`);
    // `process.env.PASSWORD ?? ''` with the variable unset would let in anyone who knows the name.
    if (password === '') {
      throw new TypeError(
        `basic(): ${entry} is an empty password (an unset environment variable?); a verify callback can accept one`,
      );
    }
    // Credentials with one are refused before any lookup (RFC 7617 §2): such an entry, a password
    // read with its CRLF line end say, would fail every request in silence.
    if (hasControl(name) || hasControl(password)) {
      throw new TypeError(
        `basic(): ${entry}: the user name or password contains a control character (U+0000–U+001F, ` +
          'U+007F–U+009F), which RFC 7617 §2 forbids: no request could match it',
      );
    }
    // UTF-8 writes a lone surrogate as U+FFFD: such a password would let in one sent with U+FFFD.
    if (!isWellFormed(name) || !isWellFormed(password)) {
      throw new TypeError(
        `basic(): ${entry}: the user name or password is not well-formed UTF-16 (a lone surrogate), so has no UTF-8 form`,
      );
    }
    // Compared in NFC, the form the credentials arrive in (RFC 7617 §2.1).
    const user = name.normalize('NFC');
    if (passwords.has(user))
      throw new TypeError(`basic(): ${entry}: the user name is given twice (in NFC)`);
    passwords.set(user, password.normalize('NFC'));
  }
  const check = passwordChecker(passwords);
  return (user, password) => (check(user, password) ? user : false);
}
