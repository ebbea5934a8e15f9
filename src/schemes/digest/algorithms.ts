import { hash as oneShotHash } from 'node:crypto';
import { equalsLowerAscii, isAscii } from '../../util/text';

/** The Digest algorithms of RFC 7616 §3.2 (and their registry, §6.1). */
export type DigestAlgorithm =
  'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

/** The hash behind an algorithm; a `-sess` variant shares the HA1 of its base (RFC 7616 §3.4.2). */
export type DigestHash = 'MD5' | 'SHA-256' | 'SHA-512-256';

/** What the verifier needs to know about one algorithm. */
export interface AlgorithmInfo {
  /** The name as RFC 7616 spells it, which is how challenges carry it. */
  readonly name: DigestAlgorithm;
  readonly hash: DigestHash;
  /** Node's name for the hash. SHA-512-256 is FIPS 180-4 SHA-512/256 (its own IV, not a cut SHA-512). */
  readonly nodeHash: string;
  /** `-sess`: HA1 also covers the nonce and cnonce (RFC 7616 §3.4.2). */
  readonly session: boolean;
  /** Length of a hex digest, for the strict length check before the constant-time compare. */
  readonly hexLength: number;
}

const NODE_HASH: Readonly<Record<DigestHash, string>> = {
  MD5: 'md5',
  'SHA-256': 'sha256',
  'SHA-512-256': 'sha512-256',
};

const HEX_LENGTH: Readonly<Record<DigestHash, number>> = {
  MD5: 32,
  'SHA-256': 64,
  'SHA-512-256': 64,
};

function info(name: DigestAlgorithm, hash: DigestHash, session: boolean): AlgorithmInfo {
  return Object.freeze({
    name,
    hash,
    nodeHash: NODE_HASH[hash],
    session,
    hexLength: HEX_LENGTH[hash],
  });
}

const ALGORITHMS: readonly AlgorithmInfo[] = [
  info('MD5', 'MD5', false),
  info('MD5-sess', 'MD5', true),
  info('SHA-256', 'SHA-256', false),
  info('SHA-256-sess', 'SHA-256', true),
  info('SHA-512-256', 'SHA-512-256', false),
  info('SHA-512-256-sess', 'SHA-512-256', true),
];

/** The names lower-cased, in the order of ALGORITHMS. */
const LOWER_NAMES: readonly string[] = ALGORITHMS.map((algorithm) => algorithm.name.toLowerCase());

/** The six algorithm names, in the order RFC 7616 lists them. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ALGORITHMS.map((a) => a.name);

/**
 * Finds an algorithm by name. RFC 7616 §3.3 defines the names as tokens; clients spell them with
 * the RFC's case, but the comparison is case-insensitive like every token comparison in HTTP.
 */
export function findAlgorithm(name: string): AlgorithmInfo | undefined {
  // Compared character by character: the name is a new slice of the field, which a Map lookup
  // would hash first (in V8's runtime, on every request).
  for (let i = 0; i < ALGORITHMS.length; i++) {
    if (equalsLowerAscii(name, LOWER_NAMES[i]!)) return ALGORITHMS[i];
  }
  return undefined;
}

/**
 * Hex digest of the parts joined by ":" (RFC 7616 §3.4.1's `H(a ":" b ...)`), for the client and
 * tests; the server's request path calls {@link hashJoined} with text it joined by template
 * (`Array.prototype.join` is V8 runtime code no other step of a request runs, its cost mostly
 * instruction-cache misses, bench/instructions.ts --cache-sim).
 */
export function hashWire(algorithm: AlgorithmInfo, ...parts: string[]): string {
  return hashJoined(algorithm, parts.join(':'));
}

/**
 * Hex digest of `text`, parts already joined by ":". The parts came off the wire (or are hex
 * digests), so they are hashed as the bytes they were: Node hands header octets over as latin1
 * characters.
 *
 * This runs twice per authenticated request. The text is written into one reused buffer, which
 * measured faster than `Buffer.from` and than one write per part. Node's one-shot `crypto.hash`
 * then reads the bytes synchronously, so reusing the buffer is safe.
 */
export function hashJoined(algorithm: AlgorithmInfo, text: string): string {
  const length = text.length;
  if (length > scratch.length) {
    scratch = Buffer.allocUnsafe(Math.max(length, scratch.length * 2));
    views.clear();
  }
  // latin1: one byte per character, the low byte, as Buffer.from(text, 'latin1') would give.
  scratch.write(text, 0, length, 'latin1');
  return oneShotHash(algorithm.nodeHash, viewOf(length), 'hex');
}

let scratch = Buffer.allocUnsafe(1024);
/** Views of `scratch` by length: one client's inputs have the same length request after request. */
const views = new Map<number, Buffer>();
const MAX_VIEWS = 256;

function viewOf(length: number): Buffer {
  let view = views.get(length);
  if (view === undefined) {
    view = scratch.subarray(0, length);
    if (views.size >= MAX_VIEWS) views.clear();
    views.set(length, view);
  }
  return view;
}

/**
 * Hex digest of `H(username ":" realm ":" password)`, the HA1 of RFC 7616 §3.4.2. The user name
 * and password are hashed as UTF-8, the charset the challenge announces (RFC 7616 §4); the realm
 * as the latin1 bytes it goes out as.
 */
export function hashCredentials(
  hash: DigestHash,
  username: string,
  realm: string,
  password: string,
): string {
  return hashUtf8AroundRealm(hash, `${username}:`, realm, `:${password}`);
}

/** Hex digest of `H(username ":" realm)`, the hashed user name of RFC 7616 §3.4.4. */
export function hashUsername(hash: DigestHash, username: string, realm: string): string {
  return hashUtf8AroundRealm(hash, `${username}:`, realm, '');
}

function hashUtf8AroundRealm(
  hash: DigestHash,
  before: string,
  realm: string,
  after: string,
): string {
  const nodeHash = NODE_HASH[hash];
  // An ASCII realm is the same bytes in latin1 and UTF-8: one string, hashed as UTF-8.
  if (isAscii(realm)) return oneShotHash(nodeHash, before + realm + after, 'hex');
  const bytes = Buffer.concat([
    Buffer.from(before, 'utf8'),
    Buffer.from(realm, 'latin1'),
    Buffer.from(after, 'utf8'),
  ]);
  return oneShotHash(nodeHash, bytes, 'hex');
}

/** Hex digest of an entity body, for `qop=auth-int` (RFC 7616 §3.4.3). */
export function hashBody(algorithm: AlgorithmInfo, body: Buffer): string {
  return oneShotHash(algorithm.nodeHash, body, 'hex');
}
