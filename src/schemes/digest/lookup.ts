import { randomBytes } from 'node:crypto';
import { AuthschemeError } from '../../errors';
import type { AuthRequest } from '../../scheme';
import { isPromiseLike } from '../../util/promise';
import { isHexOfLength, isWellFormed } from '../../util/text';
import { hashCredentials, hashUsername, type DigestHash } from './algorithms';
import { realmSpellings } from './realm';
import { nullObject } from '../../util/null-object';

/** Precomputed HA1 values, `H(username ":" realm ":" password)` in hex, per hash (RFC 7616 §3.4.2). */
export type DigestHA1 = Partial<Record<DigestHash, string>>;

/** A `users` entry: the plain password, or precomputed HA1 values for the realm in force. */
export type DigestUserEntry = string | { ha1: DigestHA1 };

type Maybe<T> = T | null | undefined | false;

/**
 * Fields for `req.auth` that a lookup may return beside the secret (the account's role, its id),
 * as Basic's `verify` returns them: own enumerable fields are copied; a string `user` replaces
 * the name the client logged in with (an alias mapped to the account's name). The object may be
 * typed by an interface of the application (a database row).
 */
export type DigestDetails = Readonly<Record<string, unknown>> | object;

/**
 * Returns the user's plain password, or `{ password, details }` to hand fields to `req.auth`
 * too (one lookup, as passport-http's DigestStrategy); null/undefined/false for an unknown user.
 * Method syntax, so that `req` may be declared as the framework's request: see {@link AuthRequest}.
 */
export type GetPassword = {
  getPassword(
    user: string,
    realm: string,
    req: AuthRequest,
  ):
    | Maybe<string | { password: string; details?: DigestDetails | undefined }>
    | Promise<Maybe<string | { password: string; details?: DigestDetails | undefined }>>;
}['getPassword'];

/**
 * Returns the user's HA1 (hex) for `hash`, or `{ ha1, details }` (see {@link GetPassword});
 * null/undefined/false for an unknown user. Method syntax, as {@link GetPassword}.
 */
export type GetHA1 = {
  getHA1(
    user: string,
    realm: string,
    hash: DigestHash,
    req: AuthRequest,
  ):
    | Maybe<string | { ha1: string; details?: DigestDetails | undefined }>
    | Promise<Maybe<string | { ha1: string; details?: DigestDetails | undefined }>>;
}['getHA1'];

/**
 * Finds the user whose `H(user ":" realm)` is `userhash` (RFC 7616 §3.4.4). Method syntax, as
 * {@link GetPassword}.
 */
export type FindUserByHash = {
  findUserByHash(
    userhash: string,
    realm: string,
    hash: DigestHash,
    req: AuthRequest,
  ): Maybe<string> | Promise<Maybe<string>>;
}['findUserByHash'];

/** The HA1 to check against, and whether it belongs to a real user. */
export interface HA1Lookup {
  readonly ha1: string;
  readonly known: boolean;
  /** What the lookup returned for `req.auth` (copied; a string `user` included). */
  readonly details?: Readonly<Record<string, unknown>> | undefined;
  /**
   * For a realm beyond ASCII, from a password: the HA1s over the realm's other spellings, in the
   * order of {@link realmSpellings} (`ha1` is over the first, the realm as sent).
   */
  readonly otherHA1s?: readonly string[] | undefined;
}

/** Caches per realm and hash stay this small; realms are few (one per protected area). */
const MAX_CACHED_REALMS = 64;

/**
 * Answers "what is this user's HA1?" from a `users` map, a password callback or an HA1 callback.
 * An unknown user gets a random dummy HA1 that costs the same hashing as a real one, so a
 * missing user takes as long as a wrong password (a principle of the design).
 */
export class HA1Source {
  private readonly users: ReadonlyMap<string, DigestUserEntry> | undefined;
  private readonly getPassword: GetPassword | undefined;
  private readonly getHA1: GetHA1 | undefined;
  private readonly findUserByHash: FindUserByHash | undefined;
  private readonly dummyPassword = randomBytes(16).toString('hex');
  /** hash → realm → user → lookup, for every user in `users`. */
  private readonly ha1Cache = new Map<DigestHash, Map<string, Map<string, HA1Lookup>>>();
  /** `hash \0 realm` → userhash → user, for `users`. */
  private readonly userhashIndex = new Map<string, Map<string, string>>();
  /** `hash \0 realm` → a dummy HA1, for unknown users and the `users` map. */
  private readonly dummyCache = new Map<string, string>();

  constructor(init: {
    users?: ReadonlyMap<string, DigestUserEntry> | undefined;
    getPassword?: GetPassword | undefined;
    getHA1?: GetHA1 | undefined;
    findUserByHash?: FindUserByHash | undefined;
  }) {
    this.users = init.users;
    this.getPassword = init.getPassword;
    this.getHA1 = init.getHA1;
    this.findUserByHash = init.findUserByHash;
  }

  /** True when hashed user names (`userhash=true`) can be resolved. */
  get resolvesUserhash(): boolean {
    return this.users !== undefined || this.findUserByHash !== undefined;
  }

  /** Synchronous with a users map or a synchronous callback; a promise when the callback returns one. */
  lookup(
    user: string,
    realm: string,
    hash: DigestHash,
    req: AuthRequest,
  ): HA1Lookup | Promise<HA1Lookup> {
    if (this.users !== undefined) return this.fromUsers(user, realm, hash);
    if (this.getHA1 !== undefined) {
      const ha1 = this.getHA1(user, realm, hash, req);
      return isPromiseLike(ha1)
        ? Promise.resolve(ha1).then((found) => this.fromHA1(found, realm, hash))
        : this.fromHA1(ha1, realm, hash);
    }
    const password = (this.getPassword as GetPassword)(user, realm, req);
    return isPromiseLike(password)
      ? Promise.resolve(password).then((found) => this.fromPassword(found, user, realm, hash))
      : this.fromPassword(password, user, realm, hash);
  }

  private fromHA1(found: unknown, realm: string, hash: DigestHash): HA1Lookup {
    const [ha1, details] = withDetails(found, 'ha1');
    if (typeof ha1 === 'string' && isHexOfLength(ha1, hexLength(hash))) {
      return { ha1: ha1.toLowerCase(), known: true, details };
    }
    if (found !== undefined && found !== null && found !== false) {
      throw badResult(
        `getHA1 must return a hex ${hash} digest, { ha1, details }, or null/undefined/false`,
      );
    }
    return { ha1: this.cachedDummy(realm, hash), known: false };
  }

  private fromPassword(found: unknown, user: string, realm: string, hash: DigestHash): HA1Lookup {
    const [password, details] = withDetails(found, 'password');
    if (typeof password === 'string') {
      // UTF-8 writes a lone surrogate as U+FFFD: the HA1 would match a client that sent that.
      if (!isWellFormed(password)) {
        throw badResult('getPassword returned a password with a lone surrogate (no UTF-8 form)');
      }
      return fromPlain(hash, user, realm, password.normalize('NFC'), true, details);
    }
    if (found !== undefined && found !== null && found !== false) {
      throw badResult(
        'getPassword must return a string, { password, details }, or null/undefined/false',
      );
    }
    // Same work as a known user: one HA1 computation.
    return this.unknown(realm, hash);
  }

  /** An HA1 that matches no one, costing what a lookup of an unknown user costs. */
  unknown(realm: string, hash: DigestHash): HA1Lookup {
    if (this.getPassword !== undefined && this.users === undefined && this.getHA1 === undefined) {
      return fromPlain(hash, '', realm, this.dummyPassword, false);
    }
    return { ha1: this.cachedDummy(realm, hash), known: false };
  }

  /**
   * A hashed user name that names no one: the lookup a found user's request makes (`getHA1` or
   * `getPassword` called with the userhash for a name, or the `users` map's HA1 table built), its
   * answer set aside for a dummy HA1. Skipped, it made an unknown hash answer a database query
   * sooner than a known one, and the first probe of a `users` map's known hash built the table.
   */
  lookupNoOne(
    userhash: string,
    realm: string,
    hash: DigestHash,
    req: AuthRequest,
  ): HA1Lookup | Promise<HA1Lookup> {
    const lookup = this.lookup(userhash.toLowerCase(), realm, hash, req);
    const noOne = (): HA1Lookup => ({ ha1: this.cachedDummy(realm, hash), known: false });
    return isPromiseLike(lookup) ? Promise.resolve(lookup).then(noOne) : noOne();
  }

  /** The user behind a hashed user name, or undefined. */
  resolveUserhash(
    userhash: string,
    realm: string,
    hash: DigestHash,
    req: AuthRequest,
  ): string | undefined | Promise<string | undefined> {
    const lower = userhash.toLowerCase();
    if (this.users !== undefined) return this.indexFor(realm, hash).get(lower);
    if (this.findUserByHash === undefined) return undefined;
    const user = this.findUserByHash(lower, realm, hash, req);
    return isPromiseLike(user) ? Promise.resolve(user).then(checkedUser) : checkedUser(user);
  }

  private fromUsers(user: string, realm: string, hash: DigestHash): HA1Lookup {
    // Every user's HA1 for a realm is computed at once, on the realm's first request, so whether
    // a name exists never changes the work a request does (not even the first probe of a name).
    let byRealm = this.ha1Cache.get(hash);
    if (byRealm === undefined) {
      byRealm = new Map();
      this.ha1Cache.set(hash, byRealm);
    }
    let table = byRealm.get(realm);
    if (table === undefined) {
      if (byRealm.size >= MAX_CACHED_REALMS) byRealm.clear();
      table = this.ha1Table(realm, hash);
      byRealm.set(realm, table);
      // The unknown users' HA1 too, now: computed on the first probe of an unknown name, it made
      // that probe cost one hash more than a known name's.
      this.cachedDummy(realm, hash);
    }
    // A user with HA1 for other hashes only cannot use this algorithm.
    return table.get(user) ?? { ha1: this.cachedDummy(realm, hash), known: false };
  }

  /** The lookups are frozen and shared: a known user's request allocates nothing here. */
  private ha1Table(realm: string, hash: DigestHash): Map<string, HA1Lookup> {
    const table = new Map<string, HA1Lookup>();
    for (const [user, entry] of this.users as ReadonlyMap<string, DigestUserEntry>) {
      if (typeof entry === 'string') {
        table.set(user, Object.freeze(fromPlain(hash, user, realm, entry, true)));
        continue;
      }
      const ha1 = entry.ha1[hash];
      if (ha1 !== undefined) table.set(user, Object.freeze({ ha1, known: true }));
    }
    return table;
  }

  private cachedDummy(realm: string, hash: DigestHash): string {
    const key = cacheKey(hash, realm);
    let dummy = this.dummyCache.get(key);
    if (dummy === undefined) {
      if (this.dummyCache.size >= MAX_CACHED_REALMS) this.dummyCache.clear();
      dummy = hashCredentials(hash, '', realm, this.dummyPassword);
      this.dummyCache.set(key, dummy);
    }
    return dummy;
  }

  private indexFor(realm: string, hash: DigestHash): Map<string, string> {
    return boundedGet(this.userhashIndex, cacheKey(hash, realm), () => {
      const index = new Map<string, string>();
      // Under every spelling of the realm a client may have hashed.
      const spellings = realmSpellings(realm);
      for (const user of (this.users as ReadonlyMap<string, DigestUserEntry>).keys()) {
        for (const spelling of spellings) index.set(hashUsername(hash, user, spelling), user);
      }
      return index;
    });
  }
}

/** HA1 from a password, over each spelling of the realm a client may have hashed. */
function fromPlain(
  hash: DigestHash,
  user: string,
  realm: string,
  password: string,
  known: boolean,
  details?: Readonly<Record<string, unknown>>,
): HA1Lookup {
  const ha1 = hashCredentials(hash, user, realm, password);
  const spellings = realmSpellings(realm);
  const otherHA1s =
    spellings.length === 1
      ? undefined
      : spellings.slice(1).map((other) => hashCredentials(hash, user, other, password));
  return { ha1, known, details, otherHA1s };
}

function cacheKey(hash: DigestHash, realm: string): string {
  return `${hash}\0${realm}`;
}

function boundedGet<V>(map: Map<string, V>, key: string, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    if (map.size >= MAX_CACHED_REALMS) map.clear();
    value = create();
    map.set(key, value);
  }
  return value;
}

/** Hex digest length of a hash. */
export function hexLength(hash: DigestHash): number {
  return hash === 'MD5' ? 32 : 64;
}

function checkedUser(user: Maybe<string>): string | undefined {
  // RFC 7616 §4: the name goes on to the lookups and into HA1 in NFC, as a sent name does.
  if (typeof user === 'string' && user !== '') return user.normalize('NFC');
  if (user !== undefined && user !== null && user !== false && user !== '') {
    throw badResult('findUserByHash must return a user name or null/undefined/false');
  }
  return undefined;
}

/**
 * `found` as a secret and the details beside it: a string alone, or `{ [key]: secret, details }`.
 * The details are copied as data into a null-prototype object (a `__proto__` field stays a field);
 * `scheme` is the middleware's and is left out, and a `user` must be a non-empty string.
 */
function withDetails(
  found: unknown,
  key: 'password' | 'ha1',
): [secret: unknown, details: Record<string, unknown> | undefined] {
  if (typeof found !== 'object' || found === null || Array.isArray(found))
    return [found, undefined];
  const secret = (found as Record<string, unknown>)[key];
  const given = (found as { details?: unknown }).details;
  if (given === undefined) return [secret, undefined];
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw badResult(`Digest ${key} lookup: details must be an object`);
  }
  const details = nullObject<unknown>();
  for (const name of Object.keys(given)) {
    if (name !== 'scheme') details[name] = (given as Record<string, unknown>)[name];
  }
  if (details.user !== undefined && (typeof details.user !== 'string' || details.user === '')) {
    throw badResult(`Digest ${key} lookup: details.user must be a non-empty string`);
  }
  return [secret, details];
}

/**
 * A lookup callback answered with something of the wrong type, on a request: a programming error,
 * which fails that request closed (`next(err)`), as a verifier's does (a TypeError is for setup).
 */
function badResult(message: string): AuthschemeError {
  return new AuthschemeError('ERR_AUTH_VERIFIER_RESULT', message);
}
