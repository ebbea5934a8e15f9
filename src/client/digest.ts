/**
 * The client side of Digest (RFC 7616 §3.4): picking a challenge, computing the response, and
 * checking the server's `rspauth` (§3.5). The hashing is the server's own (schemes/digest), so
 * both sides agree byte for byte.
 */
import { randomBytes } from 'node:crypto';
import { encodeExtValue, formatCredentials } from '../header';
import { hasControl, isAscii } from '../util/text';
import type { Challenge } from '../header/types';
import {
  findAlgorithm,
  hashBody,
  hashCredentials,
  hashUsername,
  hashWire,
  type AlgorithmInfo,
  type DigestAlgorithm,
} from '../schemes/digest/algorithms';
import { nullObject } from '../util/null-object';

/**
 * The requests sent with one nonce. RFC 7616 §3.4: `nc` counts every request sent with the nonce,
 * whatever challenge it came in, so sessions on the same nonce share one of these.
 */
export interface NonceCount {
  /** The last nonce count sent with the nonce. */
  nc: number;
  /**
   * For the -sess algorithms, the cnonce of the first answer on the nonce: the session key is
   * made with it once and kept (RFC 7616 §3.4.2, RFC 2617 §3.2.2.2), so every later answer on
   * the nonce sends it again, as curl does.
   */
  sessionCnonce?: string | undefined;
}

/** What the client keeps of a Digest challenge between requests (RFC 7616 §3.6: nonces are reused). */
export interface DigestSession {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque: string | undefined;
  readonly algorithm: AlgorithmInfo;
  /**
   * The algorithm as the challenge spelt it, named back as is (RFC 7616 §3.4: "must be those
   * supplied"); `undefined` when the challenge named none: then none is named back.
   */
  readonly algorithmText: string | undefined;
  /** `undefined`: the challenge offered no qop (RFC 2069 style, RFC 7616 §3.4.1 keeps it valid). */
  readonly qop: 'auth' | 'auth-int' | undefined;
  readonly userhash: boolean;
  /** The count of `nonce`, shared with every other session on it. */
  readonly count: NonceCount;
}

/** The client's algorithms, strongest first: the order in which several challenges are weighed. */
export const CLIENT_ALGORITHMS: readonly DigestAlgorithm[] = [
  'SHA-512-256',
  'SHA-512-256-sess',
  'SHA-256',
  'SHA-256-sess',
  'MD5',
  'MD5-sess',
];

/** Longest nonce, realm or opaque answered (servers' nonces run to some 100 characters). */
export const MAX_PARAM_LENGTH = 1024;

/**
 * qop values in the order answered, the strongest first: with `auth` the client's cnonce goes into
 * the hash and the server's `rspauth` can be checked (RFC 7616 §3.5); `auth-int` needs the body
 * hashed (some servers mishandle it) and gets no checkable `rspauth`; none is RFC 2069's form.
 */
const QOP_ORDER: readonly DigestSession['qop'][] = ['auth', 'auth-int', undefined];

/** The Digest challenge chosen: the session to answer it with, and its own `domain`. */
export interface DigestChoice {
  readonly session: DigestSession;
  /**
   * The chosen challenge's `domain` (RFC 7616 §3.3). Another challenge may carry the same nonce
   * and algorithm with a weaker qop and another domain: only this one's says where the answer goes.
   */
  readonly domain: string | undefined;
}

/**
 * The Digest challenge to answer among `challenges`: the strongest algorithm in `accepted`
 * (earlier entries are stronger), and of the challenges with that algorithm the strongest qop
 * (QOP_ORDER), whichever the server sent first. A challenge with an algorithm the client does not
 * know, or with only qop values it does not know, is passed over (RFC 7616 §3.3). With `mutual`,
 * so is one without `qop=auth`: only then does the server's `rspauth` prove anything (§3.5).
 */
export function chooseDigest(
  challenges: readonly Challenge[],
  accepted: readonly DigestAlgorithm[],
  mutual = false,
): DigestChoice | undefined {
  let best: DigestChoice | undefined;
  let bestRank = Infinity;
  for (const challenge of challenges) {
    if (challenge.scheme.toLowerCase() !== 'digest') continue;
    const { params } = challenge;
    if (params.nonce === undefined || params.realm === undefined) continue;
    // Remembered for later requests: a hostile server's 16 KB nonces would add up.
    if (
      params.nonce.length > MAX_PARAM_LENGTH ||
      params.realm.length > MAX_PARAM_LENGTH ||
      (params.opaque?.length ?? 0) > MAX_PARAM_LENGTH
    ) {
      continue;
    }
    // RFC 7616 §3.3: no algorithm parameter means MD5.
    const algorithm = findAlgorithm(params.algorithm ?? 'MD5');
    if (algorithm === undefined) continue;
    const algorithmRank = accepted.indexOf(algorithm.name);
    if (algorithmRank === -1) continue;
    let qop: DigestSession['qop'];
    if (params.qop !== undefined) {
      const offered = params.qop.split(',').map((value) => value.trim().toLowerCase());
      // qop=auth when offered: auth-int needs the body hashed and some servers mishandle it.
      if (offered.includes('auth')) qop = 'auth';
      else if (offered.includes('auth-int') && !mutual) qop = 'auth-int';
      else continue;
    } else if (algorithm.session || mutual) {
      // A -sess HA1 covers the cnonce (RFC 7616 §3.4.2), which goes to the server only with a
      // qop (RFC 2617 §3.2.2): without one, no answer could be checked.
      continue;
    }
    const rank = algorithmRank * QOP_ORDER.length + QOP_ORDER.indexOf(qop);
    if (rank >= bestRank) continue;
    const session: DigestSession = {
      realm: params.realm,
      nonce: params.nonce,
      opaque: params.opaque,
      algorithm,
      algorithmText: params.algorithm,
      qop,
      userhash: params.userhash?.toLowerCase() === 'true',
      count: { nc: 0 },
    };
    best = { session, domain: params.domain };
    bestRank = rank;
  }
  return best;
}

/** The request as Digest sees it: A2 covers the method and the request-target (RFC 7616 §3.4.3). */
export interface DigestRequest {
  method: string;
  /** The request-target: path and query, as sent on the request line. */
  uri: string;
  /** The request body, for `qop=auth-int`. */
  body?: Buffer | undefined;
}

/** One `Authorization` value and what the server's `rspauth` must then be. */
export interface DigestAnswer {
  header: string;
  /** Expected `rspauth` (§3.5), when it can be checked (not for auth-int, which hashes the response body). */
  rspauth: string | undefined;
  nc: string;
  cnonce: string;
}

/**
 * `Authorization: Digest ...` for `request`, taking the next nonce count of `session`
 * (RFC 7616 §3.4). `freshCnonce` is for tests; it is random otherwise, and a -sess session keeps
 * the first one it used.
 */
export function answerDigest(
  session: DigestSession,
  username: string,
  password: string,
  request: DigestRequest,
  freshCnonce = randomBytes(16).toString('hex'),
): DigestAnswer {
  const { algorithm, realm, nonce, qop } = session;
  let cnonce = freshCnonce;
  const { count } = session;
  if (algorithm.session) cnonce = count.sessionCnonce ??= freshCnonce;
  count.nc += 1;
  const nc = count.nc.toString(16).padStart(8, '0');
  let ha1 = hashCredentials(algorithm.hash, username, realm, password);
  // RFC 7616 §3.4.2: the -sess variants fold the nonce and cnonce into HA1.
  if (algorithm.session) ha1 = hashWire(algorithm, ha1, nonce, cnonce);
  const bodyHash =
    qop === 'auth-int' ? hashBody(algorithm, request.body ?? Buffer.alloc(0)) : undefined;
  const ha2 =
    bodyHash === undefined
      ? hashWire(algorithm, request.method, request.uri)
      : hashWire(algorithm, request.method, request.uri, bodyHash);
  const response =
    qop === undefined
      ? hashWire(algorithm, ha1, nonce, ha2)
      : hashWire(algorithm, ha1, nonce, nc, cnonce, qop, ha2);

  const params = nullObject<string>();
  if (session.userhash) {
    // RFC 7616 §3.4.4: the user name travels hashed with the realm.
    params.username = hashUsername(algorithm.hash, username, realm);
  } else if (isAscii(username) && !hasControl(username)) {
    params.username = username;
  } else {
    // RFC 7616 §3.4.4: a name a quoted-string cannot carry goes as username* (RFC 8187).
    params['username*'] = encodeExtValue(username);
  }
  params.realm = realm;
  params.uri = request.uri;
  // RFC 7616 §3.4: absent means MD5. Some servers refuse a parameter their challenge left out;
  // one that was there goes back as the server wrote it (`sha-256`), as curl sends it.
  if (session.algorithmText !== undefined) params.algorithm = session.algorithmText;
  params.nonce = nonce;
  if (qop !== undefined) {
    params.nc = nc;
    params.cnonce = cnonce;
    params.qop = qop;
  }
  params.response = response;
  if (session.opaque !== undefined) params.opaque = session.opaque;
  if (session.userhash) params.userhash = 'true';

  const rspauth =
    qop === 'auth'
      ? hashWire(algorithm, ha1, nonce, nc, cnonce, qop, hashWire(algorithm, '', request.uri))
      : undefined;
  return { header: formatCredentials({ scheme: 'Digest', params }), rspauth, nc, cnonce };
}
