/**
 * JWT access tokens for the Bearer scheme, verified with `jose`: a remote JWKS (cached, refreshed
 * on an unknown `kid` with a cool-down), a local public key or a shared secret.
 *
 * Exported as `authscheme/jwt`. `jose` is an optional peer dependency: install it to use this
 * subpath.
 */
import type { JsonWebKey } from 'node:crypto';
import {
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  KeyObject,
  webcrypto,
  X509Certificate,
} from 'node:crypto';
import { types } from 'node:util';
// jose 6 is ESM-only. The CommonJS build loads it with require(esm) (Node >= 20.19, see
// `engines`; tsconfig's `module: node20` knows this) and jest transpiles it. Its types are
// imported as an ES module's, so that CommonJS consumers' type checks accept them.
import type * as Jose from 'jose' with { 'resolution-mode': 'import' };
import type {
  FetchImplementation,
  FlattenedJWSInput,
  JWK,
  JWSHeaderParameters,
  JWTPayload,
  JWTVerifyOptions,
} from 'jose' with { 'resolution-mode': 'import' };
import { AuthschemeError } from '../errors';
import type { Scheme } from '../scheme';
import type { BearerOptions } from '../schemes/bearer/bearer';
import { BEARER_OPTION_NAMES, bearer } from '../schemes/bearer/bearer';
import type { BoundTokenOptions } from '../schemes/bearer/bound-token';
import { refuseBoundToken } from '../schemes/bearer/bound-token';
import { InvalidTokenError } from '../schemes/bearer/errors';
import { splitScopes } from '../schemes/bearer/scopes';
import { isCanonicalBase64url } from '../util/base64';
import { readBounded } from '../util/bounded-body';
import { discard } from '../util/discard';
import { deepFreeze } from '../util/freeze';
import { isLoopback } from '../util/loopback';
import {
  checkBooleanOptions,
  checkDurationOptions,
  checkStringOptions,
  isList,
  optionNames,
  promiseNote,
  readOptions,
  rejectUnknownOptions,
} from '../util/options';
import { requirePeer } from '../util/peer';
import { isPaddedOrControl, isTextWithLineEnd, lineEndSecretMessage } from '../util/text';

let jose: typeof Jose | undefined;

/** jose, loaded by the first jwtVerifier() (see util/peer). */
function loadJose(): typeof Jose {
  return (jose ??= requirePeer<typeof Jose>('jose', 'authscheme/jwt'));
}

export { InvalidTokenError };
// Opaque tokens: the RFC 7662 verifier (no jose needed) is also reachable from this subpath.
export { introspection } from '../schemes/bearer/introspection';
export type { IntrospectionOptions } from '../schemes/bearer/introspection';
export type { BoundTokenOptions } from '../schemes/bearer/bound-token';

/** The remote key set's cache and fetch settings (passed to jose's `createRemoteJWKSet`). */
export interface JwksOptions {
  /**
   * Time after a fetch during which an unknown `kid` (or a token without `kid` whose signature
   * fails) does not refetch, in ms. A failed fetch holds off the next one as long. Default 30000.
   */
  cooldownDuration?: number | undefined;
  /** Age after which the key set is fetched again, in ms. Default 600000. */
  cacheMaxAge?: number | undefined;
  /** Time allowed for the key server to answer, in ms. Default 5000. */
  timeoutDuration?: number | undefined;
  /** Largest key set accepted, in bytes; a larger one is a failed fetch. Default 1048576 (1 MiB). */
  maxResponseBytes?: number | undefined;
}

/** What {@link jwtVerifier} resolves to for a valid token; it lands on `req.auth`. */
export interface JwtIdentity {
  /** The `sub` claim (or the configured `userClaim`). */
  user: string;
  /** From `scope` (space-separated) or `scp` (a list), or the configured `scopeClaim`. */
  scopes: string[];
  /** The whole verified payload. */
  claims: JWTPayload;
  /**
   * `exp` plus `clockTolerance`, in ms since the epoch: the first instant the token is refused.
   * bearer refuses the token from then on, and its validation cache never outlives it.
   */
  expiresAt?: number | undefined;
  [detail: string]: unknown;
}

/** A token verifier usable as `bearer({ verify })`. Rejects with `InvalidTokenError` on a bad token. */
export type JwtVerify = (token: string) => Promise<JwtIdentity>;

/** The JWS algorithms of a public key (RFC 7518 §3.1; `Ed25519` is RFC 9864's name for EdDSA's). */
export type JwtAsymmetricAlgorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519';

/** The JWS algorithms of a shared secret (HMAC, RFC 7518 §3.2). */
export type JwtHmacAlgorithm = 'HS256' | 'HS384' | 'HS512';

/** A JWS algorithm {@link jwtVerifier} can allow; `none` is never one. */
export type JwtAlgorithm = JwtAsymmetricAlgorithm | JwtHmacAlgorithm;

/** The options of {@link JwtOptions} whatever the key source. */
interface JwtCheckOptions extends BoundTokenOptions {
  /** Accepted `iss` value(s). Required. */
  issuer: string | readonly string[];
  /** Accepted `aud` value(s): the token's `aud` must contain one. Required. */
  audience: string | readonly string[];
  /**
   * Leeway for `exp`, `nbf` and `iat` (a token issued in the future is refused), in seconds.
   * Default 5, at most 300 (more is refused at setup: likely milliseconds given for seconds).
   */
  clockTolerance?: number | undefined;
  /**
   * Claim holding the scopes. Default: `scope` (a space-separated string, RFC 8693 §4.2), else
   * `scp` (a list or a string).
   */
  scopeClaim?: string | undefined;
  /** Claim naming the user. Default `sub`. */
  userClaim?: string | undefined;
  /** Required `typ` header, e.g. `at+jwt` (RFC 9068). Default: not checked. */
  typ?: string | undefined;
}

/** A remote key set: {@link JwtOptions} with `jwksUri`. */
interface JwtJwksSource {
  /**
   * URL of the authorization server's JWK Set (e.g. `…/.well-known/jwks.json`). Plain `http:` only
   * to a loopback host, unless `insecureHttp` is set: whoever can answer that fetch could sign any
   * token (RFC 7517 §9.1; RFC 7515 §4.1.2 asks TLS of a key set's URL).
   */
  jwksUri: string | URL;
  /** Cache and cool-down of the remote key set. */
  jwks?: JwksOptions | undefined;
  /** Allow a plain `http:` `jwksUri` on another host (e.g. behind a TLS-terminating sidecar). */
  insecureHttp?: boolean | undefined;
  key?: undefined;
  secret?: undefined;
  /**
   * Allowed `alg` values, within the public-key ones (no HMAC: a public key as an HMAC secret
   * would let anyone sign). Default: every one of them.
   */
  algorithms?: readonly JwtAsymmetricAlgorithm[] | undefined;
}

/** A public key: {@link JwtOptions} with `key`. */
interface JwtKeySource {
  jwksUri?: undefined;
  jwks?: undefined;
  /** Only with `jwksUri`: no key is fetched. */
  insecureHttp?: false | undefined;
  /** A public key: a `KeyObject`, a `CryptoKey`, a PEM string (SPKI or certificate) or a JWK. */
  key: KeyObject | webcrypto.CryptoKey | string | JWK;
  secret?: undefined;
  /**
   * Allowed `alg` values, within those of the key's type. Default: every algorithm of the key's
   * type (RSA → RS*, PS*; EC → the curve's ES*; Ed25519 → EdDSA), within what the key says it is
   * for (a JWK's `alg`, a CryptoKey's algorithm).
   */
  algorithms?: readonly JwtAsymmetricAlgorithm[] | undefined;
}

/** A shared secret: {@link JwtOptions} with `secret`. */
interface JwtSecretSource {
  jwksUri?: undefined;
  jwks?: undefined;
  /** Only with `jwksUri`: no key is fetched. */
  insecureHttp?: false | undefined;
  key?: undefined;
  /**
   * A shared HMAC secret of at least as many bytes as the hash of every allowed algorithm
   * (RFC 7518 §3.2): 32 for HS256, 48 for HS384, 64 for HS512. A key or certificate (PEM, JWK,
   * JWK Set, DER, base64 DER) is refused: a public key as an HMAC secret would let anyone sign
   * tokens.
   */
  secret: string | Uint8Array;
  /** Allowed `alg` values, HMAC only. Default `['HS256']`. */
  algorithms?: readonly JwtHmacAlgorithm[] | undefined;
}

/**
 * Options of {@link jwtVerifier}. Give exactly one of `jwksUri`, `key`, `secret` (the others are
 * typed `undefined`); `jwks` only with `jwksUri`; `algorithms` of the key source's kind. `none` is
 * never allowed, nor HMAC with public keys, nor public-key algorithms with a secret.
 */
export type JwtOptions = JwtCheckOptions & (JwtJwksSource | JwtKeySource | JwtSecretSource);

const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const RSA_PSS = ['PS256', 'PS384', 'PS512'];
const EC_BY_CURVE: Record<string, string> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};
/** The same, by WebCrypto's names (a CryptoKey's `algorithm.namedCurve`). */
const EC_BY_WEBCRYPTO_CURVE: Record<string, string> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
};
/** RFC 7518 §3.3, §3.5: the hashes of the RS* and PS* algorithms, by WebCrypto's names. */
const RSA_HASH_BITS: Record<string, string> = {
  'SHA-256': '256',
  'SHA-384': '384',
  'SHA-512': '512',
};
const OKP = ['EdDSA', 'Ed25519'];
const HMAC = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC = [...RSA, 'ES256', 'ES384', 'ES512', ...OKP];
/** jose's default `cooldownDuration`, and ours. */
const DEFAULT_COOLDOWN = 30_000;
const MIN_SECRET_BYTES = 32;
/** A JWK Set is a few KB (tens with certificate chains): jose itself reads any size. */
const DEFAULT_MAX_JWKS_BYTES = 1024 * 1024;
/** RFC 7518 §3.2: an HMAC key at least as long as the hash output. */
const HMAC_KEY_BYTES: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 };

function toPublicKey(key: NonNullable<JwtOptions['key']>): KeyObject | webcrypto.CryptoKey {
  // Node 26 deprecates KeyObject.from() for a CryptoKey that is not extractable (DEP0204), as
  // `importKey('spki', …, false, ['verify'])` makes it: jose verifies with the CryptoKey itself.
  if (types.isCryptoKey(key) && !key.extractable) {
    if (key.type === 'secret') {
      throw new TypeError('jwtVerifier: a secret key goes in `secret`, not `key`');
    }
    if (key.type === 'private') {
      throw new TypeError(
        'jwtVerifier: a private CryptoKey that is not extractable cannot give its public half: give the public key',
      );
    }
    return key;
  }
  let object: KeyObject;
  try {
    if (key instanceof KeyObject) object = key;
    else if (types.isCryptoKey(key)) object = KeyObject.from(key);
    else if (typeof key === 'string') object = createPublicKey(key);
    else if (typeof key === 'object' && key !== null)
      object = createPublicKey({ key: key as JsonWebKey, format: 'jwk' });
    else throw new Error('not a key');
  } catch (error) {
    throw new TypeError(
      'jwtVerifier: key must be a public (or private) KeyObject, CryptoKey, PEM string or JWK' +
        promiseNote(key) +
        textKeyNote(key),
      { cause: error },
    );
  }
  if (object.type === 'secret') {
    throw new TypeError('jwtVerifier: a secret key goes in `secret`, not `key`');
  }
  // A private key verifies as its public half; never keep more than needed.
  return object.type === 'private' ? createPublicKey(object) : object;
}

/**
 * What a key read from the environment or a config file may need: a PEM whose line breaks came
 * as the two characters `\n` (a one-line variable), or a JWK left as JSON text.
 */
function textKeyNote(key: unknown): string {
  if (typeof key !== 'string') return '';
  const text = key.trim();
  if (text.startsWith('-----BEGIN') && text.includes('\\n') && !text.includes('\n')) {
    // `\r\n` escaped too, from a file written on Windows.
    return text.includes('\\r\\n')
      ? " (the PEM holds the characters \\r\\n where its line breaks belong, as a one-line environment variable does: give key.replace(/\\\\r\\\\n/g, '\\n'))"
      : " (the PEM holds the two characters \\n where its line breaks belong, as a one-line environment variable does: give key.replaceAll('\\\\n', '\\n'))";
  }
  if (text.startsWith('{')) return ' (a JWK as JSON text: give JSON.parse(key))';
  return '';
}

/**
 * The algorithms a JWK or a CryptoKey is meant for, `undefined` for any its key type allows: a
 * JWK's `alg` (RFC 7517 §4.4), a CryptoKey's algorithm and hash. A key marked for something else
 * than signatures (a JWK's `use` or `key_ops`, RFC 7517 §4.2-4.3; a CryptoKey's usages or an
 * algorithm such as RSA-OAEP) is a setup error. jose's own JWK Set lookup honours the same.
 */
function intendedAlgorithms(key: NonNullable<JwtOptions['key']>): string[] | undefined {
  const refuse = (what: string): never => {
    throw new TypeError(`jwtVerifier: key is not meant for signatures (${what})`);
  };
  if (types.isCryptoKey(key)) {
    const cryptoKey = key;
    if (!cryptoKey.usages.includes('verify') && !cryptoKey.usages.includes('sign')) {
      refuse(`usages ${cryptoKey.usages.join(', ')}`);
    }
    const { name, hash } = cryptoKey.algorithm as { name: string; hash?: { name?: string } };
    const bits = hash?.name?.replace('SHA-', '');
    switch (name) {
      case 'RSASSA-PKCS1-v1_5':
        return [`RS${bits}`];
      case 'RSA-PSS':
        return [`PS${bits}`];
      case 'ECDSA':
      case 'Ed25519':
        return undefined; // the curve decides (algorithmsOf)
      default:
        return refuse(name);
    }
  }
  if (typeof key !== 'object' || key === null || key instanceof KeyObject) return undefined;
  const { use, key_ops: operations, alg } = key;
  if (use !== undefined && use !== 'sig') refuse(`use ${String(use)}`);
  // A public JWK must say `verify` (as jose's JWK Set asks); a private one may say `sign`, its
  // public half then verifying.
  const uses = (key as { d?: unknown }).d === undefined ? ['verify'] : ['verify', 'sign'];
  if (
    operations !== undefined &&
    (!Array.isArray(operations) || !operations.some((op) => uses.includes(op)))
  ) {
    refuse(`key_ops ${String(operations)}`);
  }
  if (alg === undefined) return undefined;
  if (typeof alg !== 'string') throw new TypeError('jwtVerifier: the JWK’s alg must be a string');
  return [alg];
}

/** The algorithms a key can verify; the allow-list must stay inside these (no HMAC/RSA confusion). */
function algorithmsOf(key: KeyObject | webcrypto.CryptoKey): string[] {
  if (types.isCryptoKey(key)) return cryptoKeyAlgorithms(key);
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      // RFC 7518 §3.3, §3.5: 2048 bits at least. jose refuses smaller keys on every token, which
      // would turn each request into a 500: refuse the key here instead.
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
        throw new TypeError('jwtVerifier: an RSA key must have at least 2048 bits');
      }
      return key.asymmetricKeyType === 'rsa' ? RSA : pssAlgorithms(key);
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const alg = curve === undefined ? undefined : EC_BY_CURVE[curve];
      if (alg === undefined)
        throw new TypeError(`jwtVerifier: unsupported EC curve ${String(curve)}`);
      return [alg];
    }
    case 'ed25519':
      return OKP;
    default:
      throw new TypeError(`jwtVerifier: unsupported key type ${String(key.asymmetricKeyType)}`);
  }
}

/**
 * {@link algorithmsOf} for a public CryptoKey kept as it is (not extractable): WebCrypto fixed its
 * algorithm, and its hash for RSA, when it was imported.
 */
function cryptoKeyAlgorithms(key: webcrypto.CryptoKey): string[] {
  const { name, namedCurve, modulusLength, hash } = key.algorithm as {
    name: string;
    namedCurve?: string;
    modulusLength?: number;
    hash?: { name?: string };
  };
  switch (name) {
    case 'RSASSA-PKCS1-v1_5':
    case 'RSA-PSS': {
      if ((modulusLength ?? 0) < 2048) {
        throw new TypeError('jwtVerifier: an RSA key must have at least 2048 bits');
      }
      // A SHA-1 key would verify no token.
      const bits = RSA_HASH_BITS[hash?.name ?? ''];
      if (bits === undefined) {
        throw new TypeError(
          `jwtVerifier: an RSA key hashing with ${String(hash?.name)} fits no JWS algorithm`,
        );
      }
      return [`${name === 'RSA-PSS' ? 'PS' : 'RS'}${bits}`];
    }
    case 'ECDSA': {
      const alg = EC_BY_WEBCRYPTO_CURVE[namedCurve ?? ''];
      if (alg === undefined) {
        throw new TypeError(`jwtVerifier: unsupported EC curve ${String(namedCurve)}`);
      }
      return [alg];
    }
    case 'Ed25519':
      return OKP;
    default:
      throw new TypeError(`jwtVerifier: unsupported key type ${name}`);
  }
}

const PSS_BY_HASH: Record<string, [alg: string, bytes: number]> = {
  sha256: ['PS256', 32],
  sha384: ['PS384', 48],
  sha512: ['PS512', 64],
};

/** The PS* algorithms an RSA-PSS key's parameters (if it has any) allow (RFC 7518 §3.5). */
function pssAlgorithms(key: KeyObject): string[] {
  const { hashAlgorithm, mgf1HashAlgorithm, saltLength } = key.asymmetricKeyDetails ?? {};
  if (hashAlgorithm === undefined) return RSA_PSS;
  const fit = PSS_BY_HASH[hashAlgorithm];
  if (
    fit === undefined ||
    (mgf1HashAlgorithm !== undefined && mgf1HashAlgorithm !== hashAlgorithm) ||
    (saltLength !== undefined && saltLength > fit[1])
  ) {
    throw new TypeError('jwtVerifier: the RSA-PSS key’s parameters fit no PS* algorithm');
  }
  return [fit[0]];
}

/** The header of the DER element at `offset`, which must have `tag`: where its content lies. */
function derElement(der: Buffer, offset: number, tag: number): { start: number; end: number } {
  if (der[offset] !== tag) throw new TypeError('jwtVerifier: unreadable RSA-PSS key');
  let length = der[offset + 1] ?? 0;
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[start + i] ?? 0);
    start += bytes;
  }
  return { start, end: start + length };
}

/**
 * An RSA-PSS key (id-RSASSA-PSS) as the RSA key of the same modulus and exponent. jose 6 goes
 * through JWK and WebCrypto, which take rsaEncryption keys only: the key as given threw
 * ERR_CRYPTO_JWK_UNSUPPORTED_KEY_TYPE on every token, each a 500. Its PSS parameters are kept
 * by the allow-list ({@link pssAlgorithms}).
 */
function asRsaKey(key: KeyObject): KeyObject {
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
  const der = key.export({ type: 'spki', format: 'der' });
  const info = derElement(der, 0, 0x30);
  const algorithm = derElement(der, info.start, 0x30);
  const bits = derElement(der, algorithm.end, 0x03);
  // The BIT STRING's first byte counts unused bits (0); the rest is the RSAPublicKey (PKCS #1).
  return createPublicKey({
    key: der.subarray(bits.start + 1, bits.end),
    format: 'der',
    type: 'pkcs1',
  });
}

/**
 * Whether a secret is a key or certificate in one of the forms `key` takes (or a private key), also
 * as base64 without the PEM lines (how Keycloak shows a realm's public key) or as a JWK Set.
 */
function isKeyMaterial(secret: Uint8Array): boolean {
  const bytes = Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength);
  if (isKeyEncoding(bytes)) return true;
  const text = bytes.toString('latin1').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return false;
  return isKeyEncoding(
    Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64'),
  );
}

/** A key or certificate as PEM, a JWK or JWK Set in JSON, or DER. */
function isKeyEncoding(bytes: Buffer): boolean {
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN')) return true;
  if (text.trimStart().startsWith('{')) {
    try {
      const json = JSON.parse(text) as { kty?: unknown; keys?: unknown };
      if (typeof json === 'object' && json !== null) {
        if ('kty' in json) return true;
        if (
          Array.isArray(json.keys) &&
          json.keys.some((key) => typeof key === 'object' && key !== null && 'kty' in key)
        ) {
          return true;
        }
      }
    } catch {
      // not JSON: a secret that starts with a brace
    }
  }
  const parses = (parse: () => unknown): boolean => {
    try {
      parse();
      return true;
    } catch {
      return false;
    }
  };
  return (
    parses(() => createPublicKey({ key: bytes, format: 'der', type: 'spki' })) ||
    parses(() => createPublicKey({ key: bytes, format: 'der', type: 'pkcs1' })) ||
    parses(() => createPrivateKey({ key: bytes, format: 'der', type: 'pkcs8' })) ||
    parses(() => new X509Certificate(bytes))
  );
}

function allowList(
  requested: readonly string[] | undefined,
  possible: string[],
  fallback: string[],
): string[] {
  if (requested === undefined) return [...fallback];
  if (!isList(requested) || requested.length === 0) {
    throw new TypeError('jwtVerifier: algorithms must be a non-empty list');
  }
  for (const alg of requested) {
    if (!possible.includes(alg)) {
      throw new TypeError(`jwtVerifier: algorithm ${String(alg)} is not allowed with this key`);
    }
  }
  return [...requested];
}

function stringList(value: unknown, what: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((item) => typeof item === 'string' && item !== '')
  ) {
    throw new TypeError(`jwtVerifier: ${what} is required (a string or a list of strings)`);
  }
  // A value read from a file or the environment may keep its line end or padding: compared
  // exactly, it would refuse every token, and no token's iss or aud ever holds one.
  (list as string[]).forEach((item, index) => {
    if (isPaddedOrControl(item)) {
      const where = typeof value === 'string' ? what : `${what}[${index}]`;
      throw new TypeError(
        `jwtVerifier: ${where} holds a control character or starts or ends with white space (a line end or padding left from a file or variable?); give the value alone`,
      );
    }
  });
  return [...(list as string[])];
}

/** jose error codes that mean "this token is no good", with what the client is told. */
const REFUSALS: Record<string, string> = {
  ERR_JWT_EXPIRED: 'The access token expired',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'The access token signature is invalid',
  ERR_JWKS_NO_MATCHING_KEY: 'No key matches the access token',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'No single key matches the access token',
  ERR_JOSE_ALG_NOT_ALLOWED: 'The access token algorithm is not allowed',
  ERR_JWS_INVALID: 'The access token is malformed',
  ERR_JWT_INVALID: 'The access token is malformed',
  ERR_JOSE_NOT_SUPPORTED: 'The access token uses an unsupported feature',
};

/** A jose failure as an {@link InvalidTokenError}; anything else (key server down) is rethrown. */
function refusalFor(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error;
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    const { claim, reason } = error as { claim?: unknown; reason?: unknown };
    const text =
      claim === 'nbf' && reason === 'check_failed'
        ? 'The access token is not yet valid'
        : claim === 'typ' // a header parameter, which jose reports as a claim
          ? 'The access token is of the wrong type (typ)'
          : `The access token has an invalid ${String(claim)} claim`;
    return new InvalidTokenError(text, { cause: error });
  }
  const text = REFUSALS[code];
  return text === undefined ? error : new InvalidTokenError(text, { cause: error });
}

function isMultipleMatchingKeys(error: unknown): error is AsyncIterable<webcrypto.CryptoKey> {
  return (
    (error as { code?: unknown } | null)?.code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS' &&
    typeof (error as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function'
  );
}

const UNUSABLE_KEY = 'No usable key matches the access token';

/**
 * Whether a key of a JWK Set can verify: jose refuses an RSA key under 2048 bits (RFC 7518 §3.3)
 * on every token with a TypeError, which was a 500 for anyone who wrote its kid into a token.
 */
function isUsable(key: webcrypto.CryptoKey): boolean {
  const { modulusLength } = key.algorithm as { modulusLength?: unknown };
  return typeof modulusLength !== 'number' || modulusLength >= 2048;
}

function isSignatureFailure(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';
}

/**
 * Most keys of a set that a token is tried against when several could verify it: it names no
 * `kid` (RFC 7515 §4.1.4: optional) or one that several keys share. A rotation has two or three
 * of a type (previous, current, next); 16 leaves room for providers that publish more. Unbounded,
 * a set of `jwks.maxResponseBytes` (1 MiB: thousands of keys) made every made-up token cost
 * thousands of signature checks.
 */
const MAX_CANDIDATE_KEYS = 16;

/**
 * Verifies against each candidate key of a JWK Set, in the set's order, the first
 * {@link MAX_CANDIDATE_KEYS} only; the first good signature decides. Rejects with jose's error,
 * a signature failure when no key fits, past the bound too: a newer set may put the token's key
 * among the first, so a token without kid refetches as for any bad signature.
 */
async function verifyWithEach(
  token: string,
  candidates: AsyncIterable<webcrypto.CryptoKey>,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  const { JWSSignatureVerificationFailed } = loadJose().errors;
  let failure: unknown = new JWSSignatureVerificationFailed();
  let tried = 0;
  for await (const candidate of candidates) {
    if (tried === MAX_CANDIDATE_KEYS) {
      // The cause of the refusal says why, for the logs; the client's description stays that
      // of a bad signature.
      throw new JWSSignatureVerificationFailed(
        `signature verification failed against the first ${MAX_CANDIDATE_KEYS} keys that could verify the token (no kid, or one that several keys share); the others are not tried`,
      );
    }
    tried++;
    if (!isUsable(candidate)) continue;
    try {
      return (await loadJose().jwtVerify(token, candidate, options)).payload;
    } catch (error) {
      if (!isSignatureFailure(error)) throw error;
      failure = error;
    }
  }
  throw failure;
}

/** The key of a token from a remote JWK Set; see {@link remoteKeys}. */
type GetKey = (
  header: JWSHeaderParameters,
  token: FlattenedJWSInput,
) => Promise<webcrypto.CryptoKey>;

interface RemoteKeys {
  getKey: GetKey;
  /**
   * Fetches the set again, unless a fetch succeeded within the cool-down (then resolves to
   * false) or failed within it (then rejects, as when this fetch fails: `ERR_AUTH_STORE_FAILURE`
   * with the key server's error as the cause).
   */
  refetch(): Promise<boolean>;
}

/**
 * A JWK Set's text without the members of `keys` that are no JSON object. RFC 7517 §5: a set's
 * JWKs that cannot be used SHOULD be ignored, and jose ignores unknown key types, but refuses a
 * whole set with a member that is not an object: one stray `null` from the key server failed every
 * token. Anything else (text that is no JSON, no `keys` array) goes on as it came, for jose to
 * refuse. A leading byte order mark is read past, as fetch's `json()` reads past it for jose.
 */
function withoutStrayMembers(text: string): string {
  let set: unknown;
  try {
    set = JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text);
  } catch {
    return text;
  }
  if (typeof set !== 'object' || set === null || !('keys' in set) || !Array.isArray(set.keys)) {
    return text;
  }
  const isJwk = (key: unknown): boolean =>
    typeof key === 'object' && key !== null && !Array.isArray(key);
  if ((set.keys as unknown[]).every(isJwk)) return text;
  return JSON.stringify({ ...set, keys: (set.keys as unknown[]).filter(isJwk) });
}

/**
 * A remote JWK Set, fetched by jose (timeout, no redirects, one fetch at a time), whose fetches
 * are decided here: jose starts its cool-down only after a good fetch, so a key server answering
 * errors was asked again for every token with an unknown kid, or for every token at all once the
 * set was older than cacheMaxAge. Here a failed fetch holds off the next one as long as a good
 * one does, and meanwhile the last good set still verifies the tokens of its keys.
 */
function remoteKeys(url: URL, settings: { [Name in keyof JwksOptions]-?: number }): RemoteKeys {
  const { createLocalJWKSet, createRemoteJWKSet, customFetch } = loadJose();
  // jose before 6.0.8 exports customFetch as a type only: the key below would be "undefined",
  // jose would fetch by itself, and read a key set of any size (yarn and pnpm install a peer
  // outside its range with a warning only).
  if (typeof customFetch !== 'symbol') {
    throw new Error(
      'authscheme/jwt: jwksUri needs jose 6.0.8 or later (jose.customFetch is missing); its peer range is ^6.2.10: npm install jose@6',
    );
  }
  const { maxResponseBytes, ...remoteSettings } = settings;
  const tooLarge = `The JWK Set is larger than ${maxResponseBytes} bytes`;
  const remote = createRemoteJWKSet(url, {
    ...remoteSettings,
    // jose reads the whole body, as large as the key server makes it: read it here, bounded. A
    // status other than 200 jose refuses by itself; the request's signal still bounds the time.
    [customFetch]: (async (input, init) => {
      const response = await fetch(input, init);
      if (response.status !== 200) {
        await discard(response);
        return response;
      }
      const body = await readBounded(response, maxResponseBytes, tooLarge);
      return new Response(withoutStrayMembers(body), { status: 200, headers: response.headers });
    }) satisfies FetchImplementation,
  });
  // After a good fetch the next may come after the cool-down (an unknown kid) or cacheMaxAge (a
  // stale set), whichever is shorter; so after a failed one. With both Infinity a failed first
  // fetch would never be retried: jose's default cool-down then.
  const shortest = Math.min(settings.cooldownDuration, settings.cacheMaxAge);
  const backoff = Number.isFinite(shortest) ? shortest : DEFAULT_COOLDOWN;
  /** The last good set (jose's `jwks()` copies the set on each call: built once per fetch). */
  let keys: GetKey | undefined;
  /**
   * When it was fetched, on the monotonic clock: jose's `fresh` and `coolingDown` go by
   * `Date.now()`, and a wall clock set back an hour kept a withdrawn key trusted for that hour.
   */
  let fetchedAt = Number.NEGATIVE_INFINITY;
  const fresh = (): boolean => performance.now() < fetchedAt + settings.cacheMaxAge;
  const coolingDown = (): boolean => performance.now() < fetchedAt + settings.cooldownDuration;
  /** When the last fetch failed (monotonic clock), and why. */
  let failedAt = Number.NEGATIVE_INFINITY;
  let failure: unknown;
  let pending: Promise<boolean> | undefined;

  const backingOff = (): boolean => performance.now() < failedAt + backoff;

  /** Fetches the set; resolves to false if that failed (`failure` says why). */
  function fetchKeys(): Promise<boolean> {
    pending ??= remote
      .reload()
      .then(
        () => {
          keys = createLocalJWKSet(remote.jwks()!);
          fetchedAt = performance.now();
          failedAt = Number.NEGATIVE_INFINITY;
          return true;
        },
        (error: unknown) => {
          failedAt = performance.now();
          failure = withoutQuotedBody(error);
          return false;
        },
      )
      .finally(() => (pending = undefined));
    return pending;
  }

  /**
   * The fetch just made failed: a server error (next(err)), not a 401, with the code of every
   * other request of the outage (jose's or undici's error, a bare `TypeError: fetch failed` for a
   * refused connection, is the cause).
   */
  function fetchFailed(): AuthschemeError {
    return new AuthschemeError(
      'ERR_AUTH_STORE_FAILURE',
      'The JWK Set could not be fetched from jwksUri',
      { cause: failure },
    );
  }

  /** Refused without a fetch: a server error (next(err)) like the failed fetch, not a 401. */
  function unavailable(): AuthschemeError {
    return new AuthschemeError(
      'ERR_AUTH_STORE_FAILURE',
      `The JWK Set could not be fetched; no new attempt within ${backoff} ms of the failure`,
      { cause: failure },
    );
  }

  async function refetch(): Promise<boolean> {
    if (backingOff()) throw unavailable();
    if (coolingDown()) return false;
    if (!(await fetchKeys())) throw fetchFailed();
    return true;
  }

  async function getKey(header: JWSHeaderParameters, token: FlattenedJWSInput) {
    // As jose: a set older than cacheMaxAge is fetched again before use. If that fails, its keys
    // still verify (fail closed without any set).
    if ((keys === undefined || !fresh()) && !backingOff() && !(await fetchKeys())) {
      if (keys === undefined) throw fetchFailed();
    }
    if (keys === undefined) throw unavailable();
    const looked = keys;
    try {
      return await usableKey(looked, header, token);
    } catch (error) {
      // An unknown kid may name a key published since the fetch (a rotation). While the key
      // server fails, such a token cannot be checked: refetch() rejects, never a 401.
      if ((error as { code?: unknown } | null)?.code !== 'ERR_JWKS_NO_MATCHING_KEY') throw error;
      // Another request's fetch brought a new set during the lookup: that set first. Its
      // cool-down would otherwise refuse, without a look, a token the new set verifies.
      if (keys !== looked) return usableKey(keys, header, token);
      if (!(await refetch())) throw error;
      return usableKey(keys, header, token);
    }
  }

  /**
   * The set's key for the token, refused as no key would be when it cannot verify: too short, key
   * material WebCrypto cannot import (a DOMException, a 500 as well) or a private key, which jose
   * refuses as ERR_JWKS_INVALID. jose's other failures (a code of theirs) pass through.
   */
  async function usableKey(
    set: GetKey,
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<webcrypto.CryptoKey> {
    let key: webcrypto.CryptoKey;
    try {
      key = await set(header, token);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && code !== 'ERR_JWKS_INVALID') throw error;
      throw new InvalidTokenError(UNUSABLE_KEY, { cause: error });
    }
    if (!isUsable(key)) throw new InvalidTokenError(UNUSABLE_KEY);
    return key;
  }

  return { getKey, refetch };
}

/**
 * The scopes of `claim`, else of `scope` (a space-separated string, RFC 9068 §2.2.3 and RFC 8693
 * §4.2) or, only when `scope` is absent, `scp` (a list). A claim of another type refuses the
 * token: skipping it would hand out what another claim says, or hide the issuer's mistake.
 */
function scopesOf(payload: JWTPayload, claim: string | undefined): string[] {
  const names = claim === undefined ? ['scope', 'scp'] : [claim];
  for (const name of names) {
    const value = payload[name];
    if (value === undefined) continue;
    if (typeof value === 'string') return splitScopes(value);
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
      return value.filter((item) => item !== '');
    }
    throw new InvalidTokenError(`The access token has an invalid ${name} claim`);
  }
  return [];
}

const OPTION_NAMES = optionNames<JwtOptions>()([
  'jwksUri',
  'insecureHttp',
  'jwks',
  'key',
  'secret',
  'issuer',
  'audience',
  'algorithms',
  'clockTolerance',
  'scopeClaim',
  'userClaim',
  'typ',
  'allowBoundTokens',
]);
/** jwtBearer's: jwtVerifier's and bearer's (`verify` is refused on its own). */
const JWT_BEARER_OPTION_NAMES: ReadonlySet<string> = new Set(
  [...OPTION_NAMES, ...BEARER_OPTION_NAMES].filter((name) => name !== 'verify'),
);
const JWKS_OPTION_NAMES = optionNames<JwksOptions>()([
  'cooldownDuration',
  'cacheMaxAge',
  'timeoutDuration',
  'maxResponseBytes',
]);

/** The largest `clockTolerance`, in seconds: five minutes. */
const MAX_CLOCK_TOLERANCE = 300;

/**
 * A token verifier for `bearer({ verify })` that checks JWT access tokens: signature (against a
 * remote JWKS, a public key or a secret), algorithm allow-list, `iss`, `aud`, `exp`/`nbf` with
 * clock tolerance. The identity is `{ user: sub, scopes, claims, expiresAt }`; `expiresAt` (from
 * `exp`) keeps bearer's validation cache from outliving the token.
 *
 * A token that fails a check throws an `InvalidTokenError` (401 `invalid_token` with a
 * description); a key server that cannot be reached rejects with an `AuthschemeError` of code
 * `ERR_AUTH_STORE_FAILURE` whose `cause` is the fetch's error (→ `next(err)`).
 *
 * A remote JWKS is fetched once and cached (`jwks.cacheMaxAge`); a token with an unknown `kid`,
 * or without `kid` and a signature that fails, refetches it (key rotation), at most once per
 * `jwks.cooldownDuration`. A failed fetch holds off the next one as long (`cacheMaxAge`, if
 * shorter), so a flood of tokens with made-up `kid`s costs at most one fetch per cool-down,
 * whether the key server answers or not. Meanwhile the keys of the last good set still verify,
 * even past `cacheMaxAge`. A token with an unknown `kid`, or without `kid` and a signature that
 * fails, is not refused as a bad one (its key may be new) but rejects like the failed fetch
 * (→ `next(err)`): with an `ERR_AUTH_STORE_FAILURE` whose `cause` is the fetch's error (jose's,
 * or undici's for a connection refused). So does every token while no set was ever fetched.
 *
 * @example
 * import { authenticate, bearer } from 'authscheme';
 * import { jwtVerifier } from 'authscheme/jwt';
 *
 * const verify = jwtVerifier({
 *   jwksUri: 'https://auth.example.com/.well-known/jwks.json',
 *   issuer: 'https://auth.example.com/',
 *   audience: 'https://api.example.com',
 * });
 * app.use(authenticate({ schemes: [bearer({ verify, cache: true })] }));
 */
export function jwtVerifier(options: JwtOptions): JwtVerify {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('jwtVerifier: options are required');
  rejectUnknownOptions('jwtVerifier', options, OPTION_NAMES);
  checkBooleanOptions('jwtVerifier', options, ['insecureHttp', 'allowBoundTokens']);
  if (options.jwks !== undefined) {
    if (typeof options.jwks !== 'object' || options.jwks === null) {
      throw new TypeError('jwtVerifier: jwks must be an object');
    }
    if (options.jwksUri === undefined) {
      throw new TypeError('jwtVerifier: jwks configures the key set of jwksUri; give jwksUri');
    }
    rejectUnknownOptions('jwtVerifier: jwks', options.jwks, JWKS_OPTION_NAMES);
    // jose takes Infinity for these two (no expiry, no refetch)…
    checkDurationOptions('jwtVerifier: jwks', options.jwks, ['cooldownDuration', 'cacheMaxAge']);
    // …and hands this one to a timer.
    checkDurationOptions('jwtVerifier: jwks', options.jwks, ['timeoutDuration'], true);
    const { maxResponseBytes } = options.jwks;
    if (
      maxResponseBytes !== undefined &&
      (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 1)
    ) {
      throw new TypeError('jwtVerifier: jwks.maxResponseBytes must be a positive integer');
    }
  }
  // Set for a key or secret (copied from a config with jwksUri, say), it would allow nothing, and
  // its author may believe it in force somewhere.
  if (options.insecureHttp === true && options.jwksUri === undefined) {
    throw new TypeError('jwtVerifier: insecureHttp allows a plain http jwksUri; give jwksUri');
  }
  // Unchecked, a number here failed every request with a 500 (`typ.toLowerCase`).
  checkStringOptions('jwtVerifier', options, ['userClaim', 'scopeClaim', 'typ'], true);
  const { decodeProtectedHeader, jwtVerify } = loadJose();
  const sources = [options.jwksUri, options.key, options.secret].filter(
    (value) => value !== undefined,
  );
  if (sources.length !== 1)
    throw new TypeError('jwtVerifier: give exactly one of jwksUri, key, secret');
  const issuer = stringList(options.issuer, 'issuer');
  const audience = stringList(options.audience, 'audience');
  const clockTolerance = options.clockTolerance ?? 5;
  if (
    typeof clockTolerance !== 'number' ||
    !Number.isFinite(clockTolerance) ||
    clockTolerance < 0
  ) {
    throw new TypeError('jwtVerifier: clockTolerance must be a number of seconds >= 0');
  }
  // Every other duration of authscheme is in ms: a tolerance of 5000 meant as 5 s would take
  // tokens for 83 minutes after their exp. RFC 7519 §4.1.4: "usually no more than a few minutes".
  if (clockTolerance > MAX_CLOCK_TOLERANCE) {
    throw new TypeError(
      `jwtVerifier: clockTolerance is in seconds (not ms): ${clockTolerance} s would accept a token that long after its exp; give at most ${MAX_CLOCK_TOLERANCE} (RFC 7519 §4.1.4: a few minutes)`,
    );
  }
  const userClaim = options.userClaim ?? 'sub';
  const allowBoundTokens = options.allowBoundTokens === true;
  const scopeClaim = options.scopeClaim;

  let key: KeyObject | webcrypto.CryptoKey | GetKey;
  let remote: RemoteKeys | undefined;
  let algorithms: string[];
  if (options.jwksUri !== undefined) {
    const url = URL.canParse(String(options.jwksUri)) ? new URL(options.jwksUri) : undefined;
    if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw new TypeError('jwtVerifier: jwksUri must be an http(s) URL');
    }
    // fetch refuses such a URL on every key fetch, and its error would show the password.
    if (url.username !== '' || url.password !== '') {
      throw new TypeError('jwtVerifier: jwksUri must not hold credentials (user:password@)');
    }
    if (url.protocol === 'http:' && options.insecureHttp !== true && !isLoopback(url.hostname)) {
      throw new TypeError(
        'jwtVerifier: a plain http jwksUri lets anyone on the path sign tokens (RFC 7517 §9.1): use https, or set insecureHttp',
      );
    }
    algorithms = allowList(options.algorithms, ASYMMETRIC, ASYMMETRIC);
    remote = remoteKeys(url, {
      cooldownDuration: options.jwks?.cooldownDuration ?? DEFAULT_COOLDOWN,
      cacheMaxAge: options.jwks?.cacheMaxAge ?? 600_000,
      timeoutDuration: options.jwks?.timeoutDuration ?? 5000,
      maxResponseBytes: options.jwks?.maxResponseBytes ?? DEFAULT_MAX_JWKS_BYTES,
    });
    key = remote.getKey;
  } else if (options.key !== undefined) {
    const publicKey = toPublicKey(options.key);
    const intended = intendedAlgorithms(options.key);
    const possible = algorithmsOf(publicKey).filter(
      (alg) => intended === undefined || intended.includes(alg),
    );
    if (possible.length === 0) {
      throw new TypeError(
        `jwtVerifier: the key is meant for ${String(intended)}, not its key type`,
      );
    }
    algorithms = allowList(options.algorithms, possible, possible);
    key =
      publicKey instanceof KeyObject && publicKey.asymmetricKeyType === 'rsa-pss'
        ? asRsaKey(publicKey)
        : publicKey;
  } else {
    const secret =
      typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret;
    if (!(secret instanceof Uint8Array) || secret.byteLength < MIN_SECRET_BYTES) {
      throw new TypeError(`jwtVerifier: secret must be at least ${MIN_SECRET_BYTES} bytes`);
    }
    // The classic confusion: a public key given as the HMAC secret lets anyone who has that key
    // (it is public) sign tokens that verify.
    if (isKeyMaterial(secret)) {
      throw new TypeError(
        'jwtVerifier: secret is a key or certificate (PEM, JWK or JWK Set, DER, or DER in base64), and an HMAC secret made of a public key lets anyone sign tokens: give a public key as `key`',
      );
    }
    // After the key check, whose advice fits a PEM better: the issuer signs with the secret it
    // was given, without the line end a file kept.
    if (typeof options.secret === 'string' && isTextWithLineEnd(options.secret)) {
      throw new TypeError(lineEndSecretMessage('jwtVerifier'));
    }
    algorithms = allowList(options.algorithms, HMAC, ['HS256']);
    for (const alg of algorithms) {
      if (secret.byteLength < HMAC_KEY_BYTES[alg]!) {
        throw new TypeError(
          `jwtVerifier: ${alg} needs a secret of at least ${HMAC_KEY_BYTES[alg]!} bytes`,
        );
      }
    }
    key = createSecretKey(Buffer.from(secret));
  }
  const verifyOptions: JWTVerifyOptions = {
    issuer,
    audience,
    algorithms,
    clockTolerance,
    requiredClaims: ['exp'],
    ...(options.typ === undefined ? {} : { typ: options.typ }),
  };

  return async function verifyJwt(token: string): Promise<JwtIdentity> {
    // jose decodes padded and non-canonical base64url too: one token, many spellings, each a
    // separate entry for a validation cache or a deny list. The compact form has one (RFC 7515 §7.1).
    // (ECDSA's S and n − S both verify, and signers do not normalise S: an ES* token keeps a
    // second form, verified afresh on its own; deny lists should go by jti.)
    const parts = token.split('.');
    if (parts.length !== 3 || !parts.every(isCanonicalBase64url)) {
      throw new InvalidTokenError('The access token is malformed');
    }
    const verifySignature = async (): Promise<JWTPayload> => {
      try {
        return (
          typeof key === 'function'
            ? await jwtVerify(token, key, verifyOptions)
            : await jwtVerify(token, key, verifyOptions)
        ).payload;
      } catch (error) {
        // RFC 7515 §4.1.4: kid is optional; with several keys of the token's type in the set (a
        // rotation), try each: only a signature failure moves on to the next key.
        if (!isMultipleMatchingKeys(error)) throw error;
        return verifyWithEach(token, error, verifyOptions);
      }
    };
    let payload: JWTPayload;
    try {
      payload = await verifySignature();
    } catch (error) {
      // jose refetches the set only for an unknown kid. A token without kid finds the keys of its
      // type instead, so one signed by a key published since the fetch fails its signature:
      // refetch (at most once per cool-down, as for an unknown kid), then verify once more.
      if (
        remote === undefined ||
        !isSignatureFailure(error) ||
        decodeProtectedHeader(token).kid !== undefined ||
        !(await remote.refetch())
      ) {
        throw refusalFor(error);
      }
      try {
        payload = await verifySignature();
      } catch (again) {
        throw refusalFor(again);
      }
    }
    // jose reads iat only for a maximum token age; a token from the future is refused here.
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + clockTolerance) {
      throw new InvalidTokenError('The access token has an invalid iat claim');
    }
    refuseBoundToken(payload, { allowBoundTokens });
    const user = payload[userClaim];
    if (typeof user !== 'string' || user === '') {
      throw new InvalidTokenError(`The access token has no ${userClaim} claim`);
    }
    return {
      user,
      scopes: scopesOf(payload, scopeClaim),
      // Frozen: with bearer's cache, every request bearing this token gets this same object.
      claims: deepFreeze(payload),
      // jose accepted exp up to clockTolerance ago: bearer must not refuse the token as expired.
      ...(typeof payload.exp === 'number'
        ? { expiresAt: (payload.exp + clockTolerance) * 1000 }
        : {}),
    };
  };
}

/** Options of {@link jwtBearer}: {@link JwtOptions} plus bearer's options other than `verify`. */
export type JwtBearerOptions = JwtOptions & Omit<BearerOptions, 'verify'>;

/**
 * `bearer({ verify: jwtVerifier(options), ...options })` in one call.
 *
 * @example
 * app.use(authenticate({ schemes: [jwtBearer({ jwksUri, issuer, audience, cache: true })] }));
 */
export function jwtBearer(options: JwtBearerOptions): Scheme {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('jwtBearer: options are required');
  }
  if ((options as { verify?: unknown }).verify !== undefined) {
    throw new TypeError(
      'jwtBearer: `verify` is made from the JWT options; use bearer({ verify }) for a verifier of your own',
    );
  }
  // `verify: undefined` is no verify, as an undefined option is everywhere.
  rejectUnknownOptions('jwtBearer', options, JWT_BEARER_OPTION_NAMES, ['verify']);
  // Each option goes to the one of jwtVerifier() and bearer() that knows it, read by property
  // access as they would (an inherited or getter-defined option counts).
  const verify = jwtVerifier(readOptions(options, OPTION_NAMES) as unknown as JwtOptions);
  const bearerOptions = readOptions(options, BEARER_OPTION_NAMES) as Omit<BearerOptions, 'verify'>;
  return bearer({ ...bearerOptions, verify });
}

/**
 * jose's error for a key server's body that is not JSON has V8's SyntaxError as its cause, which
 * quotes the start of the body: left out, so that logging the error logs nothing the server said.
 */
function withoutQuotedBody(error: unknown): unknown {
  // By name: undici's SyntaxError may be of another realm than this module's (a test runner's vm).
  if (error instanceof Error && (error.cause as Error | undefined)?.name === 'SyntaxError') {
    delete error.cause;
  }
  return error;
}
