/**
 * authscheme/jwt against a real local JWKS server whose keys rotate, with tokens signed by jose.
 */
import http from 'node:http';
import { inspect } from 'node:util';
import type { AddressInfo } from 'node:net';
import {
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  randomBytes,
  sign as cryptoSign,
  webcrypto,
  X509Certificate,
} from 'node:crypto';
import express from 'express';
import request from 'supertest';
import * as jose from 'jose';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { JWK, JWTPayload } from 'jose';
import { jwtBearer, jwtVerifier, InvalidTokenError } from 'authscheme/jwt';
import { authenticate } from '../../src/middleware/authenticate';
import { cutShortServer } from '../helpers/cut-short';
import { frozenDepth } from '../helpers/frozen';
import { makeCertificate } from '../helpers/tls';

const ISSUER = 'https://issuer.test/';
const AUDIENCE = 'https://api.test';

type Signer = { kid: string; alg: string; privateKey: Parameters<SignJWT['sign']>[0]; jwk: JWK };

async function signer(kid: string, alg = 'ES256'): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk };
}

function sign(key: Signer, claims: JWTPayload = {}) {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    sub: 'alice',
    scope: 'read write',
    iss: ISSUER,
    aud: AUDIENCE,
    iat: now,
    exp: now + 300,
    ...claims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .sign(key.privateKey);
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A JWKS endpoint on 127.0.0.1 that counts its hits; `keys` may be swapped (rotation), and
 * `fault` answers instead while the key server has trouble.
 */
class JwksServer {
  keys: JWK[] = [];
  hits = 0;
  fault: ((res: http.ServerResponse) => void) | undefined;
  readonly server = http.createServer((_req, res) => {
    this.hits++;
    if (this.fault !== undefined) return this.fault(res);
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ keys: this.keys }));
  });
  url = '';
  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/jwks.json`;
  }
  stop() {
    // A `fault` that never answers leaves its connection open.
    this.server.closeAllConnections();
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * jose bounds each fetch with `AbortSignal.timeout(timeoutDuration)`. A real timer raced the key
 * server: on a loaded machine a good fetch outlasted a short timeout (100 ms) and the test failed,
 * while a long one would make the hung case slow. Where a test takes these over, the timeout
 * elapses when the key server leaves a request unanswered, and never during a good fetch.
 */
const fetchTimeouts = {
  durations: [] as number[],
  pending: [] as AbortController[],
  takeOver(): void {
    this.durations = [];
    this.pending = [];
    jest.spyOn(AbortSignal, 'timeout').mockImplementation((ms) => {
      this.durations.push(ms);
      const controller = new AbortController();
      this.pending.push(controller);
      return controller.signal;
    });
  },
  /** The fetch in flight outlasts its timeout: its signal aborts as AbortSignal.timeout's does. */
  elapse(): void {
    for (const controller of this.pending.splice(0)) {
      controller.abort(
        new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      );
    }
  },
};

/** The ways a key server fails, as jose meets them. */
const FAULTS: [string, (res: http.ServerResponse) => void][] = [
  ['503', (res) => res.writeHead(503, { 'Content-Type': 'application/json' }).end('{}')],
  ['a body that is not JSON', (res) => res.end('maintenance <html>')],
  ['a redirect', (res) => res.writeHead(302, { Location: 'https://elsewhere.test/' }).end()],
  // The request is left unanswered, and the fetch's timeout elapses (see fetchTimeouts).
  ['no answer within timeoutDuration', () => fetchTimeouts.elapse()],
];

/** What a verifier rejected with, when it is not a token refusal (the request goes to next(err)). */
async function serverError(promise: Promise<unknown>): Promise<unknown> {
  const error = await promise.then(
    () => new Error('the token was accepted'),
    (e: unknown) => e,
  );
  expect(error).not.toBeInstanceOf(InvalidTokenError);
  expect(error).not.toEqual(new Error('the token was accepted'));
  return error;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenError);
    return (error as Error).message;
  }
  throw new Error('the token was accepted');
}

/** An ES256 token for alice that names no key (RFC 7515 §4.1.4: kid is optional). */
function withoutKid(key: Signer, claims: JWTPayload = {}): Promise<string> {
  return new SignJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, ...claims })
    .setProtectedHeader({ alg: 'ES256' })
    .setExpirationTime('1m')
    .sign(key.privateKey);
}

describe('jwtVerifier() with a remote JWKS', () => {
  const jwks = new JwksServer();
  let keyA: Signer;
  let keyB: Signer;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaJwk = {
    ...rsa.publicKey.export({ format: 'jwk' }),
    kid: 'rsa-1',
    alg: 'RS256',
    use: 'sig',
  } as JWK;

  beforeAll(async () => {
    await jwks.start();
    keyA = await signer('key-a');
    keyB = await signer('key-b');
  });
  afterAll(() => jwks.stop());
  beforeEach(() => {
    jwks.keys = [keyA.jwk, rsaJwk];
    jwks.hits = 0;
    jwks.fault = undefined;
  });

  // Cool-downs and back-offs go by on a clock the tests move on (Date.now for jose's, the
  // monotonic clock for ours). In real time, short ones could end, on a busy machine, in the
  // middle of the requests that must fall within one; long ones would make the tests slow.
  const COOLDOWN = 60_000;
  let skipped = 0;
  const pass = (ms: number): void => void (skipped += ms);
  /** How far the wall clock was set (by NTP, say), on top of the time that passed. */
  let wallStep = 0;
  beforeEach(() => {
    skipped = 0;
    wallStep = 0;
    const realDateNow = Date.now;
    const realNow = performance.now.bind(performance);
    jest.spyOn(Date, 'now').mockImplementation(() => realDateNow() + skipped + wallStep);
    jest.spyOn(performance, 'now').mockImplementation(() => realNow() + skipped);
  });
  afterEach(() => jest.restoreAllMocks());
  const make = (extra: object = {}) =>
    jwtVerifier({
      jwksUri: jwks.url,
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: { cooldownDuration: COOLDOWN },
      ...extra,
    });

  it('accepts an ES256 token, with user, scopes, claims and expiresAt', async () => {
    const verify = make();
    const token = await sign(keyA);
    const identity = (await verify(token)) as Record<string, unknown>;
    expect(identity).toMatchObject({ user: 'alice', scopes: ['read', 'write'] });
    expect((identity['claims'] as JWTPayload).iss).toBe(ISSUER);
    // exp plus the default clock tolerance (5 s): the last instant the token is accepted.
    expect(identity['expiresAt']).toBe(((identity['claims'] as JWTPayload).exp! + 5) * 1000);
    // The key set is cached: a second token costs no fetch.
    await verify(await sign(keyA, { sub: 'bob' }));
    expect(jwks.hits).toBe(1);
  });

  it('ignores members of the set that are no JWK at all (RFC 7517 §5), as it ignores unknown key types', async () => {
    // jose refuses a whole set with a member that is not an object: every token failed (500).
    jwks.keys = [null, 'key-b', 42, [], keyA.jwk, { kty: 'unknown-kty' }] as unknown as JWK[];
    const verify = make();
    await expect(verify(await sign(keyA))).resolves.toMatchObject({ user: 'alice' });
    expect(jwks.hits).toBe(1);
    // A body that is no JWK Set is still refused as before, by jose (not by a TypeError here).
    jwks.fault = (res) => res.end(JSON.stringify({ keys: 'none' }));
    const broken = make();
    await expect(broken(await sign(keyA))).rejects.toMatchObject({
      code: 'ERR_AUTH_STORE_FAILURE',
      cause: { code: 'ERR_JWKS_INVALID' },
    });
  });

  it('ignores them in a set that starts with a byte order mark, which jose reads past', async () => {
    // fetch's json() drops a leading BOM (a file saved by a Windows editor): JSON.parse does not.
    const body = JSON.stringify({ keys: [null, keyA.jwk] });
    jwks.fault = (res) => res.end(`\uFEFF${body}`);
    await expect(make()(await sign(keyA))).resolves.toMatchObject({ user: 'alice' });
    // Such a set without stray members goes to jose as it came, and verifies as before.
    jwks.fault = (res) => res.end(`\uFEFF${JSON.stringify({ keys: [keyA.jwk] })}`);
    await expect(make()(await sign(keyA))).resolves.toMatchObject({ user: 'alice' });
  });

  it('tries the set another request fetched during its own lookup, before refusing a new kid', async () => {
    // Lookups that take a while (WebCrypto's imports on a busy machine): the second request's
    // lookup in the old set ends after the first's fetch brought the new set, whose cool-down
    // then kept the second from fetching. It was refused, though the new set verifies it.
    const real = jose.createLocalJWKSet;
    jest.spyOn(jose, 'createLocalJWKSet').mockImplementation((set) => {
      const local = real(set);
      const slow = async (...args: Parameters<typeof local>) => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return local(...args);
      };
      return Object.assign(slow, { jwks: () => local.jwks() });
    });
    const verify = make();
    await verify(await sign(keyA));
    jwks.keys = [keyA.jwk, keyB.jwk];
    pass(COOLDOWN);
    const [early, late] = [await sign(keyB), await sign(keyB, { sub: 'bob' })];
    const first = verify(early);
    await new Promise((resolve) => setTimeout(resolve, 40));
    const second = verify(late);
    await expect(first).resolves.toMatchObject({ user: 'alice' });
    await expect(second).resolves.toMatchObject({ user: 'bob' });
    expect(jwks.hits).toBe(2);
  });

  it('follows a key rotation, refuses the rotated-out key and bounds fetches under a kid flood', async () => {
    const verify = make();
    await verify(await sign(keyA));
    expect(jwks.hits).toBe(1);

    // Rotation: the server now publishes key B only.
    jwks.keys = [keyB.jwk];
    pass(COOLDOWN);
    const rotated = (await verify(await sign(keyB))) as { user: string };
    expect(rotated.user).toBe('alice');
    expect(jwks.hits).toBe(2);

    // A token signed by the rotated-out key A: no key matches, and no fetch within the cool-down.
    expect(await refusal(verify(await sign(keyA)))).toBe('No key matches the access token');
    expect(jwks.hits).toBe(2);

    // A flood of unknown kids within the cool-down costs no fetch at all.
    const forger = await signer('unused');
    const flood = await Promise.all(
      Array.from({ length: 50 }, (_, i) => sign({ ...forger, kid: `forged-${i}` })),
    );
    const results = await Promise.allSettled(flood.map((token) => verify(token)));
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    expect(jwks.hits).toBe(2);

    // After the cool-down, a second flood costs exactly one fetch.
    pass(COOLDOWN);
    const again = await Promise.allSettled(flood.map((token) => verify(token)));
    expect(again.every((result) => result.status === 'rejected')).toBe(true);
    expect(jwks.hits).toBe(3);
  });

  // RFC 7515 §4.1.4: kid is optional. During a rotation the set holds two keys of one type: a
  // token without kid is tried against each (jose's JWKSMultipleMatchingKeys iterator).
  it('accepts a token without kid when two keys of its type are published, and refuses a forgery', async () => {
    jwks.keys = [keyA.jwk, keyB.jwk];
    const verify = make();
    expect(await verify(await withoutKid(keyB))).toMatchObject({ user: 'alice' });
    expect(await verify(await withoutKid(keyA))).toMatchObject({ user: 'alice' });
    const forger = await signer('unused');
    expect(await refusal(verify(await withoutKid(forger)))).toBe(
      'The access token signature is invalid',
    );
    // The right key, then a claim check: the claim's refusal, not "signature invalid".
    expect(await refusal(verify(await withoutKid(keyB, { aud: 'https://other.test' })))).toBe(
      'The access token has an invalid aud claim',
    );
    expect(jwks.hits).toBe(1);
  });

  // From a review: jose's freshness and cool-down go by Date.now(), and a wall clock set back an
  // hour kept a withdrawn key trusted, and a newly published one unknown, for that hour.
  it('keeps cacheMaxAge and the cool-down by the monotonic clock when the wall clock is set back', async () => {
    jwks.keys = [keyA.jwk, keyB.jwk];
    const verify = make({ jwks: { cooldownDuration: COOLDOWN, cacheMaxAge: 2 * COOLDOWN } });
    // Good by either clock: issued before the earliest, expiring after the latest.
    const now = Math.floor(Date.now() / 1000);
    const tokenB = await sign(keyB, { iat: now - 3 * 3600, exp: now + 3 * 3600 });
    expect(await verify(tokenB)).toMatchObject({ user: 'alice' });
    jwks.keys = [keyA.jwk]; // B withdrawn
    wallStep = -3_600_000;
    pass(2 * COOLDOWN);
    expect(await refusal(verify(tokenB))).toBe('No key matches the access token');
    expect(jwks.hits).toBe(2);
    jwks.keys = [keyA.jwk, keyB.jwk]; // B published again
    wallStep -= 3_600_000;
    pass(COOLDOWN);
    expect(await verify(tokenB)).toMatchObject({ user: 'alice' });
    expect(jwks.hits).toBe(3);
  });

  // A token without kid always finds candidate keys of its type, so jose's refetch on an unknown
  // kid never comes: a key published since the last fetch failed its signature until cacheMaxAge.
  it('fetches the set again for a token without kid whose signature fails, once per cool-down', async () => {
    const verify = make();
    expect(await verify(await withoutKid(keyA))).toMatchObject({ user: 'alice' });
    expect(jwks.hits).toBe(1);

    // Rotation: B is published and signs at once.
    jwks.keys = [keyA.jwk, keyB.jwk];
    pass(COOLDOWN);
    expect(await verify(await withoutKid(keyB))).toMatchObject({ user: 'alice' });
    expect(jwks.hits).toBe(2);

    // Forgeries without kid: one fetch per cool-down at most, and one retry per token.
    const forger = await signer('unused');
    const forged = await Promise.all(Array.from({ length: 20 }, () => withoutKid(forger)));
    for (const token of forged) {
      expect(await refusal(verify(token))).toBe('The access token signature is invalid');
    }
    expect(jwks.hits).toBe(2);
    pass(COOLDOWN);
    for (const token of forged) {
      expect(await refusal(verify(token))).toBe('The access token signature is invalid');
    }
    expect(jwks.hits).toBe(3);
  });

  // A token without kid was tried against every key of its type: a set of up to
  // jwks.maxResponseBytes (1 MiB, thousands of keys) made each one cost thousands of signature
  // checks. Now the first 16 of the set's order, as docs/bearer.md says.
  it('tries a token without kid against the first 16 keys of its type only, however many are published', async () => {
    const BOUND = 16;
    const many = await Promise.all(Array.from({ length: 64 }, (_, i) => signer(`many-${i}`)));
    jwks.keys = many.map((key) => key.jwk);
    const verify = make();
    const checks = jest.spyOn(crypto.subtle, 'verify');
    // The first and the last key within the bound verify.
    expect(await verify(await withoutKid(many[0]!))).toMatchObject({ user: 'alice' });
    expect(await verify(await withoutKid(many[BOUND - 1]!))).toMatchObject({ user: 'alice' });
    checks.mockClear();
    // Past the bound: refused as a bad signature, after BOUND signature checks, the bound named
    // in the refusal's cause.
    for (const key of [many[BOUND]!, many.at(-1)!]) {
      const error = await verify(await withoutKid(key)).then(
        () => new Error('the token was accepted'),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidTokenError);
      expect((error as Error).message).toBe('The access token signature is invalid');
      expect(((error as Error).cause as Error).message).toMatch(/against the first 16 keys/);
    }
    expect(checks.mock.calls.length).toBe(2 * BOUND);
    // A forgery costs no more.
    checks.mockClear();
    const forger = await signer('unused');
    expect(await refusal(verify(await withoutKid(forger)))).toBe(
      'The access token signature is invalid',
    );
    expect(checks.mock.calls.length).toBe(BOUND);
    // A token naming its key is checked against that key alone.
    checks.mockClear();
    expect(await verify(await sign(many.at(-1)!))).toMatchObject({ user: 'alice' });
    expect(checks.mock.calls.length).toBe(1);
    expect(jwks.hits).toBe(1);
  });

  it('tries a token whose kid many published keys share against the first 16 of them only', async () => {
    const BOUND = 16;
    const many = await Promise.all(Array.from({ length: 24 }, () => signer('shared')));
    jwks.keys = many.map((key) => key.jwk);
    const verify = make();
    const checks = jest.spyOn(crypto.subtle, 'verify');
    expect(await verify(await sign(many[BOUND - 1]!))).toMatchObject({ user: 'alice' });
    checks.mockClear();
    expect(await refusal(verify(await sign(many[BOUND]!)))).toBe(
      'The access token signature is invalid',
    );
    expect(checks.mock.calls.length).toBe(BOUND);
  });

  // docs/security.md: a flood of unknown kids costs at most one fetch per cool-down. jose starts
  // its cool-down only after a good fetch: a failing key server was asked again for every token.
  describe.each(FAULTS)('while the key server fails with %s', (_title, fault) => {
    const TIMEOUT = 100;
    const makeFailing = (extra: object = {}) =>
      make({ jwks: { cooldownDuration: COOLDOWN, timeoutDuration: TIMEOUT, ...extra } });
    beforeEach(() => fetchTimeouts.takeOver());
    // Each fetch was bounded by the timeoutDuration given.
    afterEach(() => {
      expect(fetchTimeouts.durations.length).toBeGreaterThan(0);
      expect(fetchTimeouts.durations.every((ms) => ms === TIMEOUT)).toBe(true);
    });

    it('fetches at most once per cool-down, and the last good keys still verify', async () => {
      const verify = makeFailing();
      await verify(await sign(keyA));
      expect(jwks.hits).toBe(1);
      jwks.fault = fault;
      pass(COOLDOWN);

      const forger = await signer('unused');
      const forged = await sign({ ...forger, kid: 'forged' });
      const good = await sign(keyA);
      const impostor = await sign({ ...forger, kid: keyA.kid });
      // The first unknown kid fetches, and fails: the same code as every request of the outage,
      // with the fetch's error as the cause.
      const first = await serverError(verify(forged));
      expect(first).toMatchObject({
        code: 'ERR_AUTH_STORE_FAILURE',
        message: 'The JWK Set could not be fetched from jwksUri',
      });
      expect((first as Error).cause).toBeInstanceOf(Error);
      // No cause quotes the key server's body (V8's SyntaxError for one that is not JSON does).
      expect(inspect(first, { depth: null })).not.toContain('maintenance');
      expect(jwks.hits).toBe(2);
      // Within the back-off: no fetch. An unknown kid may be a key published meanwhile, so it
      // is not refused as a bad token; a token signed by a key of the last good set verifies.
      for (let i = 0; i < 20; i++) {
        const error = await serverError(verify(forged));
        expect(error).toMatchObject({ code: 'ERR_AUTH_STORE_FAILURE' });
        // Refused without a fetch, it still says why: the failed fetch's error is the cause.
        expect((error as Error).cause).toBe((first as Error).cause);
      }
      expect(await verify(good)).toMatchObject({ user: 'alice' });
      const withoutKid = await new SignJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE })
        .setProtectedHeader({ alg: 'ES256' })
        .setExpirationTime('1m')
        .sign(forger.privateKey);
      expect(await serverError(verify(withoutKid))).toMatchObject({
        code: 'ERR_AUTH_STORE_FAILURE',
      });
      expect(await refusal(verify(impostor))).toBe('The access token signature is invalid');
      expect(jwks.hits).toBe(2);

      // The key server is back: one fetch after the back-off, and the kid is known unknown.
      jwks.fault = undefined;
      pass(COOLDOWN);
      expect(await refusal(verify(forged))).toBe('No key matches the access token');
      expect(jwks.hits).toBe(3);
    });

    it('serves a set older than cacheMaxAge while the fetch fails, one fetch per cool-down', async () => {
      const verify = makeFailing({ cacheMaxAge: COOLDOWN });
      await verify(await sign(keyA));
      jwks.fault = fault;
      pass(COOLDOWN);
      const tokens = await Promise.all(Array.from({ length: 20 }, () => sign(keyA)));
      for (const token of tokens) expect(await verify(token)).toMatchObject({ user: 'alice' });
      expect(jwks.hits).toBe(2);
    });

    it('fails closed without a good set, fetching once per cool-down', async () => {
      jwks.fault = fault;
      const verify = makeFailing();
      const token = await sign(keyA);
      expect(await serverError(verify(token))).toMatchObject({ code: 'ERR_AUTH_STORE_FAILURE' });
      for (let i = 0; i < 20; i++) {
        const error = await serverError(verify(token));
        expect(error).toMatchObject({ code: 'ERR_AUTH_STORE_FAILURE' });
      }
      expect(jwks.hits).toBe(1);
      jwks.fault = undefined;
      pass(COOLDOWN);
      expect(await verify(token)).toMatchObject({ user: 'alice' });
      expect(jwks.hits).toBe(2);
    });
  });

  // jwtVerifier's doc: a failed fetch holds off the next one for the cool-down, or cacheMaxAge
  // if shorter (a stale set is fetched again after it); with both Infinity, a failed first
  // fetch would never be retried: jose's default cool-down, 30 s, then.
  it.each([
    [
      'cacheMaxAge, shorter than the cool-down',
      { cooldownDuration: COOLDOWN, cacheMaxAge: 10_000 },
      10_000,
    ],
    [
      'the cool-down, shorter than cacheMaxAge',
      { cooldownDuration: 10_000, cacheMaxAge: COOLDOWN },
      10_000,
    ],
    ['30 s when both are Infinity', { cooldownDuration: Infinity, cacheMaxAge: Infinity }, 30_000],
  ])('backs off a failed fetch for %s', async (_title, settings, backoff) => {
    jwks.fault = FAULTS[0]![1];
    const verify = make({ jwks: settings });
    const token = await sign(keyA);
    expect(await serverError(verify(token))).toMatchObject({ code: 'ERR_AUTH_STORE_FAILURE' });
    jwks.fault = undefined;
    pass(backoff - 1000);
    expect(await serverError(verify(token))).toMatchObject({ code: 'ERR_AUTH_STORE_FAILURE' });
    expect(jwks.hits).toBe(1);
    pass(1000);
    expect(await verify(token)).toMatchObject({ user: 'alice' });
    expect(jwks.hits).toBe(2);
  });

  it('refuses a key set larger than jwks.maxResponseBytes (1 MiB by default) as a failed fetch', async () => {
    // Unbounded, jose read any body the key server sent within timeoutDuration into memory.
    const padding = 'x'.repeat(2 * 1024 * 1024);
    jwks.fault = (res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys: [keyA.jwk], padding }));
    };
    const token = await sign(keyA);
    const error = await serverError(make()(token));
    expect(error).toMatchObject({
      code: 'ERR_AUTH_STORE_FAILURE',
      message: 'The JWK Set could not be fetched from jwksUri',
    });
    expect((error as { cause?: { message?: unknown } }).cause?.message).toBe(
      'The JWK Set is larger than 1048576 bytes',
    );
    // Sent in chunks, without Content-Length, it is cut off as well.
    jwks.fault = (res) => {
      res.setHeader('Content-Type', 'application/json');
      res.write(`{"keys":[${JSON.stringify(keyA.jwk)}],"padding":"`);
      for (let i = 0; i < 32; i++) res.write('y'.repeat(64 * 1024));
      res.end('"}');
    };
    await serverError(make()(token));
    // A larger limit takes the same set.
    const roomy = make({ jwks: { cooldownDuration: COOLDOWN, maxResponseBytes: 4 * 1024 * 1024 } });
    expect(await roomy(token)).toMatchObject({ user: 'alice' });
  });

  // A status other than 200 is cancelled unread, and jose refuses it. Once the body had failed
  // (the key server reset the connection mid-body), cancel() rejected with undici's bare
  // TypeError('terminated'), which became the failed fetch's cause in place of jose's refusal.
  it('fails a 503 whose body the key server cut short as a failed fetch, jose’s refusal as the cause, then backs off', async () => {
    const cut = await cutShortServer(503, { 'Content-Type': 'application/json' });
    jest.spyOn(globalThis, 'fetch').mockImplementation(cut.fetch);
    try {
      const verify = make({ jwksUri: `${cut.url}/jwks.json` });
      const token = await sign(keyA);
      const error = await serverError(verify(token));
      expect(error).toMatchObject({
        code: 'ERR_AUTH_STORE_FAILURE',
        message: 'The JWK Set could not be fetched from jwksUri',
      });
      expect((error as { cause?: { message?: unknown } }).cause?.message).toBe(
        'Expected 200 OK from the JSON Web Key Set HTTP response',
      );
      // The cool-down of a failed fetch: no new attempt within it.
      expect(await serverError(verify(token))).toMatchObject({ code: 'ERR_AUTH_STORE_FAILURE' });
      expect(cut.hits()).toBe(1);
    } finally {
      await cut.close();
    }
  });

  // The bounded read goes through jose's customFetch, which is given jose's request: no test saw
  // it if that request lost its headers on the way (the redirect and timeout are tested above).
  it('asks the key server as jose does, through the bounded read: a GET with its Accept and User-Agent', async () => {
    let asked: http.IncomingMessage | undefined;
    jwks.fault = (res) => {
      asked = res.req;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys: jwks.keys }));
    };
    expect(await make()(await sign(keyA))).toMatchObject({ user: 'alice' });
    expect(asked?.method).toBe('GET');
    expect(asked?.headers.accept).toBe('application/json, application/jwk-set+json');
    expect(asked?.headers['user-agent']).toMatch(/^jose\/v/);
  });

  it('fails a key server that cannot be reached with ERR_AUTH_STORE_FAILURE (audit, error handlers), its error as the cause', async () => {
    // A port nothing listens on: undici's bare TypeError('fetch failed') said neither what
    // failed nor, to audit (code undefined), that it was authscheme's store of keys.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const outcomes: unknown[] = [];
    const app = express();
    app.use(
      authenticate({
        audit: (outcome) => outcomes.push(outcome),
        schemes: [
          jwtBearer({
            jwksUri: `http://127.0.0.1:${port}/jwks.json`,
            issuer: ISSUER,
            audience: AUDIENCE,
          }),
        ],
      }),
    );
    const errors: unknown[] = [];
    app.use(
      (err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        errors.push(err);
        res.status(500).end();
      },
    );
    const token = await sign(keyA);
    for (let i = 0; i < 2; i++) {
      await request(app).get('/').set('Authorization', `Bearer ${token}`).expect(500);
    }
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({
      code: 'ERR_AUTH_STORE_FAILURE',
      message: 'The JWK Set could not be fetched from jwksUri',
    });
    expect(((errors[0] as Error).cause as Error).message).toBe('fetch failed');
    // Within the back-off, without a fetch.
    expect(errors[1]).toMatchObject({ code: 'ERR_AUTH_STORE_FAILURE' });
    expect(outcomes).toEqual([
      expect.objectContaining({
        outcome: 'error',
        scheme: 'Bearer',
        code: 'ERR_AUTH_STORE_FAILURE',
      }),
      expect.objectContaining({
        outcome: 'error',
        scheme: 'Bearer',
        code: 'ERR_AUTH_STORE_FAILURE',
      }),
    ]);
  });

  it('refuses an alg "none" token', async () => {
    const verify = make();
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${b64url({ alg: 'none', kid: 'key-a' })}.${b64url({
      sub: 'mallory',
      iss: ISSUER,
      aud: AUDIENCE,
      exp: now + 300,
    })}.`;
    expect(await refusal(verify(unsigned))).toMatch(/algorithm is not allowed|malformed/);
  });

  it('refuses an HS256 token signed with the RSA public key as HMAC secret', async () => {
    const verify = make();
    const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' });
    const forged = await sign({
      kid: 'rsa-1',
      alg: 'HS256',
      privateKey: Buffer.from(pem),
      jwk: {},
    });
    expect(await refusal(verify(forged))).toBe('The access token algorithm is not allowed');
  });

  // Pinned, as jose (a peer dependency, ^6.2.10) decides these: RFC 7515 §4.1.11 (crit) and §4.1.4
  // (kid is a string; jose before 6.2.10 ignored a kid that is not one and took the token).
  it.each([
    [
      'an unknown crit extension',
      { crit: ['foo'], foo: 1 },
      'The access token uses an unsupported feature',
    ],
    [
      'crit naming a registered claim',
      { crit: ['exp'], exp: 1 },
      'The access token uses an unsupported feature',
    ],
    ['an empty crit', { crit: [] }, 'The access token is malformed'],
    ['a kid that is a number', { kid: 1 }, 'No key matches the access token'],
    ['a kid that is null', { kid: null }, 'No key matches the access token'],
  ])('refuses a token with %s (401)', async (_name, header, message) => {
    const verify = make();
    const now = Math.floor(Date.now() / 1000);
    const input = `${b64url({ alg: 'ES256', kid: 'key-a', ...header })}.${b64url({
      sub: 'mallory',
      iss: ISSUER,
      aud: AUDIENCE,
      exp: now + 300,
    })}`;
    const { privateKey } = keyA as { privateKey: Parameters<typeof KeyObject.from>[0] };
    const signature = cryptoSign('sha256', Buffer.from(input), {
      key: KeyObject.from(privateKey),
      dsaEncoding: 'ieee-p1363',
    });
    expect(await refusal(verify(`${input}.${signature.toString('base64url')}`))).toBe(message);
  });

  // Pinned, as jose decides these too. RFC 8725 §3.10: a key or key URL the token brings (jwk, jku,
  // x5u, x5c; RFC 7515 §4.1.2-4.1.6) is never trusted, nor fetched: only jwksUri's keys verify.
  it('never verifies with, or fetches, a key the token names in its own header', async () => {
    const verify = make();
    const mallory = await signer('key-a');
    const header = {
      alg: 'ES256',
      jwk: mallory.jwk,
      jku: `${jwks.url}?jku`,
      x5u: `${jwks.url}?x5u`,
    };
    const claims = { sub: 'mallory', iss: ISSUER, aud: AUDIENCE };
    const forge = (extra: object) =>
      new SignJWT(claims)
        .setProtectedHeader({ ...header, ...extra })
        .setExpirationTime('1m')
        .sign(mallory.privateKey);
    // With the kid of a published key, and without one (every ES256 key of the set is tried).
    for (const token of [await forge({ kid: 'key-a' }), await forge({})]) {
      expect(await refusal(verify(token))).toBe('The access token signature is invalid');
    }
    // The one fetch of jwksUri itself (the token without kid falls within its cool-down).
    expect(jwks.hits).toBe(1);
  });

  // RFC 7517 §4.2-4.4: a key of the set marked for another use or algorithm verifies nothing.
  it('passes over a published key meant for encryption or for another algorithm', async () => {
    const rsaPublic = rsa.publicKey.export({ format: 'jwk' }) as JWK;
    jwks.keys = [
      keyA.jwk,
      rsaJwk,
      { ...rsaPublic, kid: 'rsa-enc', use: 'enc' },
      { ...rsaPublic, kid: 'rsa-ops', key_ops: ['encrypt'] },
    ];
    const verify = make();
    const token = (alg: string, kid: string) =>
      new SignJWT({ sub: 'svc' })
        .setProtectedHeader({ alg, kid })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('1m')
        .sign(rsa.privateKey);
    for (const [alg, kid] of [
      ['RS256', 'rsa-enc'],
      ['RS256', 'rsa-ops'],
      ['PS256', 'rsa-1'], // published with alg RS256
    ] as const) {
      expect(await refusal(verify(await token(alg, kid)))).toBe('No key matches the access token');
    }
    expect(await verify(await token('RS256', 'rsa-1'))).toMatchObject({ user: 'svc' });
  });

  // RFC 9068 §4: "at+jwt" or "application/at+jwt" (media types in any case, RFC 7515 §4.1.9), and
  // nothing else, not even no typ.
  it('with typ at+jwt, accepts at+jwt and application/at+jwt only', async () => {
    const verify = make({ typ: 'at+jwt' });
    const typed = (typ: string | undefined) =>
      new SignJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE })
        .setProtectedHeader({ alg: 'ES256', kid: 'key-a', ...(typ === undefined ? {} : { typ }) })
        .setExpirationTime('1m')
        .sign(keyA.privateKey);
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT']) {
      expect(await verify(await typed(typ))).toMatchObject({ user: 'alice' });
    }
    for (const typ of [undefined, 'JWT', 'application/jwt', 'dpop+jwt']) {
      expect(await refusal(verify(await typed(typ)))).toBe(
        'The access token is of the wrong type (typ)',
      );
    }
  });

  // RFC 7519 §7.2 step 10, RFC 8725 §3.7: UTF-8 only. A lenient decoder would read the byte as
  // U+FFFD, and two signed spellings would name one user.
  it('refuses a signed token whose claims are not valid UTF-8', async () => {
    const verify = make();
    const now = Math.floor(Date.now() / 1000);
    const claims = Buffer.concat([
      Buffer.from('{"sub":"al'),
      Buffer.from([0xff]),
      Buffer.from(`ice","iss":"${ISSUER}","aud":"${AUDIENCE}","exp":${now + 300}}`),
    ]);
    const input = `${b64url({ alg: 'ES256', kid: 'key-a' })}.${claims.toString('base64url')}`;
    const { privateKey } = keyA as { privateKey: Parameters<typeof KeyObject.from>[0] };
    const signature = cryptoSign('sha256', Buffer.from(input), {
      key: KeyObject.from(privateKey),
      dsaEncoding: 'ieee-p1363',
    });
    expect(await refusal(verify(`${input}.${signature.toString('base64url')}`))).toBe(
      'The access token is malformed',
    );
  });

  it('accepts an RS256 token from the same key set', async () => {
    const verify = make();
    const token = await new SignJWT({ sub: 'svc' })
      .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1m')
      .sign(rsa.privateKey);
    expect(await verify(token)).toMatchObject({ user: 'svc', scopes: [] });
  });

  it('refuses a token naming a published key that cannot verify: RSA under 2048 bits, unreadable key material, a private key (401, not 500)', async () => {
    // jose refuses a short RSA key on every token with a TypeError and WebCrypto a broken JWK with
    // a DOMException: either was a 500 for anyone who wrote that kid into a token.
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weakJwk = { ...weak.publicKey.export({ format: 'jwk' }), kid: 'weak', use: 'sig' } as JWK;
    const brokenJwk = { ...keyA.jwk, kid: 'broken', x: 'AAAA' };
    // A private key published by mistake: jose refuses it with ERR_JWKS_INVALID, a 500 as well.
    const leaked = await signer('leaked');
    const leakedKey = leaked.privateKey as Parameters<typeof exportJWK>[0];
    const privateJwk = { ...(await exportJWK(leakedKey)), kid: 'leaked' };
    jwks.keys = [keyA.jwk, rsaJwk, weakJwk, brokenJwk, privateJwk];
    const verify = make();
    const now = Math.floor(Date.now() / 1000);
    const payload = { sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp: now + 300 };
    const signedBy = (header: object, key: Parameters<typeof cryptoSign>[2]) => {
      const input = `${b64url(header)}.${b64url(payload)}`;
      return `${input}.${cryptoSign('sha256', Buffer.from(input), key).toString('base64url')}`;
    };
    const weakToken = signedBy({ alg: 'RS256', kid: 'weak' }, weak.privateKey);
    expect(await refusal(verify(weakToken))).toBe('No usable key matches the access token');
    const brokenToken = await sign({ ...keyA, kid: 'broken' });
    expect(await refusal(verify(brokenToken))).toBe('No usable key matches the access token');
    expect(await refusal(verify(await sign(leaked)))).toBe(
      'No usable key matches the access token',
    );
    // Without kid every RSA key of the set is tried: the short one is passed over, not a 500.
    const noKid = signedBy({ alg: 'RS256' }, weak.privateKey);
    expect(await refusal(verify(noKid))).toBe('The access token signature is invalid');
    // The usable keys of the same set still verify.
    expect(await verify(await sign(keyA))).toMatchObject({ user: 'alice' });
  });

  it.each([
    [
      'a wrong audience',
      { aud: 'https://other.test' },
      'The access token has an invalid aud claim',
    ],
    ['a wrong issuer', { iss: 'https://evil.test/' }, 'The access token has an invalid iss claim'],
    ['an expired token', { exp: Math.floor(Date.now() / 1000) - 60 }, 'The access token expired'],
    [
      'a token not yet valid',
      { nbf: Math.floor(Date.now() / 1000) + 600 },
      'The access token is not yet valid',
    ],
    [
      'an nbf that is not a number',
      { nbf: 'soon' } as unknown as JWTPayload,
      'The access token has an invalid nbf claim',
    ],
  ])('refuses %s', async (_name, claims, message) => {
    const verify = make();
    expect(await refusal(verify(await sign(keyA, claims)))).toBe(message);
  });

  it('takes a plain-http JWKS URL on another host only with insecureHttp', () => {
    const options = { jwksUri: 'http://issuer.test/jwks.json', issuer: ISSUER, audience: AUDIENCE };
    expect(() => jwtVerifier({ ...options, insecureHttp: true })).not.toThrow();
    expect(() => jwtVerifier({ ...options, jwksUri: 'http://localhost/jwks.json' })).not.toThrow();
  });

  it('refuses a token issued in the future, beyond the clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    const future = await sign(keyA, { iat: now + 3600, exp: now + 7200 });
    expect(await refusal(make()(future))).toBe('The access token has an invalid iat claim');
    const skewed = await sign(keyA, { iat: now + 3 });
    expect(await make()(skewed)).toMatchObject({ user: 'alice' });
  });

  it('refuses a token bound to a key (cnf) unless allowBoundTokens is set (RFC 9449 §7.2)', async () => {
    const dpop = await sign(keyA, { cnf: { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' } });
    const mtls = await sign(keyA, {
      cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' },
    });
    for (const token of [dpop, mtls]) {
      expect(await refusal(make()(token))).toBe(
        'The access token is bound to a key (cnf); a Bearer request cannot prove possession of it',
      );
    }
    expect(await make({ allowBoundTokens: true })(mtls)).toMatchObject({ user: 'alice' });
    // Read once, at setup, as every option: set later, it lets no bound token in.
    const options = {
      jwksUri: jwks.url,
      issuer: ISSUER,
      audience: AUDIENCE,
      allowBoundTokens: false,
    };
    const verify = jwtVerifier(options);
    options.allowBoundTokens = true;
    expect(await refusal(verify(mtls))).toMatch(/^The access token is bound to a key/);
  });

  it('hands over frozen claims (a cached validation shares them between requests)', async () => {
    const identity = await make()(await sign(keyA, { roles: ['admin'], org: { id: 1 } }));
    const claims = identity.claims as { roles: string[]; org: { id: number } };
    expect(Object.isFrozen(claims)).toBe(true);
    expect(() => claims.roles.push('root')).toThrow(TypeError);
    expect(Object.isFrozen(claims.org)).toBe(true);
  });

  it('applies the clock tolerance to exp', async () => {
    const expired = await sign(keyA, { exp: Math.floor(Date.now() / 1000) - 3 });
    expect(await make({ clockTolerance: 30 })(expired)).toMatchObject({
      user: 'alice',
    });
    expect(await refusal(make({ clockTolerance: 0 })(expired))).toBe('The access token expired');
  });

  it('refuses at setup a clock tolerance beyond a few minutes (milliseconds given for seconds)', () => {
    // Every other duration in authscheme is in ms: CLOCK_TOLERANCE_MS=5000 read as seconds would
    // take tokens for 83 minutes after exp.
    for (const clockTolerance of [301, 5000, 30_000, 1e9]) {
      expect(() => make({ clockTolerance })).toThrow(/clockTolerance is in seconds.*at most 300/);
    }
    for (const clockTolerance of [0, 5, 60, 300])
      expect(typeof make({ clockTolerance })).toBe('function');
  });

  it('applies the clock tolerance to exp through bearer() too (expiresAt includes it)', async () => {
    const expired = await sign(keyA, { exp: Math.floor(Date.now() / 1000) - 3 });
    const server = express();
    server.use(
      authenticate({
        realm: 'api',
        schemes: [
          jwtBearer({ jwksUri: jwks.url, issuer: ISSUER, audience: AUDIENCE, clockTolerance: 30 }),
        ],
      }),
    );
    server.get('/', (req, res) => res.json(req.auth));
    const res = await request(server).get('/').set('Authorization', `Bearer ${expired}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ user: 'alice' });
  });

  it('refuses a tampered signature and a token that is not a JWT', async () => {
    const verify = make();
    const token = await sign(keyA);
    const [header, , signature] = token.split('.');
    const tampered = `${header}.${b64url({ sub: 'root', iss: ISSUER, aud: AUDIENCE, exp: 9e9 })}.${signature}`;
    expect(await refusal(verify(tampered))).toBe('The access token signature is invalid');
    expect(await refusal(verify('not-a-jwt'))).toBe('The access token is malformed');
  });

  it('refuses other spellings of a valid token: padding, set bits past the last byte', async () => {
    const verify = make();
    const token = await sign(keyA);
    expect(await verify(token)).toMatchObject({ user: 'alice' });
    // An ES256 signature is 64 bytes: 86 digits, whose last carries 4 bits beyond the bytes.
    const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = digits.indexOf(token.at(-1)!);
    const flipped = token.slice(0, -1) + digits[last ^ 1]!;
    for (const spelling of [`${token}==`, flipped, token.replace('.', '.='), ` ${token}`]) {
      expect(await refusal(verify(spelling))).toBe('The access token is malformed');
    }
  });

  it('refuses a token without a subject, and reads a configured user claim', async () => {
    const noSub = await sign(keyA, { sub: undefined, email: 'a@x.test' });
    expect(await refusal(make()(noSub))).toBe('The access token has no sub claim');
    // An empty sub names no one (RFC 7519 §4.1.2: it identifies the principal): not a user ''.
    const emptySub = await sign(keyA, { sub: '' });
    expect(await refusal(make()(emptySub))).toBe('The access token has no sub claim');
    expect(await make({ userClaim: 'email' })(noSub)).toMatchObject({
      user: 'a@x.test',
    });
  });

  it('maps scp lists and a configured scope claim', async () => {
    const verify = make();
    const scp = await sign(keyA, { scope: undefined, scp: ['a', 'b'] });
    expect(await verify(scp)).toMatchObject({ scopes: ['a', 'b'] });
    const custom = await sign(keyA, { permissions: 'x y' });
    expect(await make({ scopeClaim: 'permissions' })(custom)).toMatchObject({
      scopes: ['x', 'y'],
    });
  });

  it('takes scp only when scope is absent, and refuses a scope claim of another type', async () => {
    const verify = make();
    // An empty scope grants nothing: scp does not stand in for it.
    const empty = await sign(keyA, { scope: '', scp: ['admin'] });
    expect(await verify(empty)).toMatchObject({ scopes: [] });
    for (const scope of [null, 5, { admin: true }, ['read', 1]]) {
      const token = await sign(keyA, { scope, scp: ['admin'] });
      expect(await refusal(verify(token))).toBe('The access token has an invalid scope claim');
    }
    const badScp = await sign(keyA, { scope: undefined, scp: ['read', null] });
    expect(await refusal(verify(badScp))).toBe('The access token has an invalid scp claim');
    const badCustom = await sign(keyA, { permissions: 7 });
    expect(await refusal(make({ scopeClaim: 'permissions' })(badCustom))).toBe(
      'The access token has an invalid permissions claim',
    );
  });

  it('rejects with a non-token error when the key server is unreachable (next(err), not 401)', async () => {
    const down = new JwksServer();
    await down.start();
    await down.stop();
    const verify = jwtVerifier({ jwksUri: down.url, issuer: ISSUER, audience: AUDIENCE });
    const error = await verify(await sign(keyA)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).not.toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ code: 'ERR_AUTH_STORE_FAILURE' });
    // The fetch of the key set failed: the connection was refused.
    expect((error as { cause?: { cause?: { code?: unknown } } }).cause?.cause?.code).toBe(
      'ECONNREFUSED',
    );
  });

  describe('end to end with authenticate() and jwtBearer()', () => {
    function app(extra: object = {}) {
      const server = express();
      server.use(
        authenticate({
          realm: 'api',
          schemes: [
            jwtBearer({
              jwksUri: jwks.url,
              issuer: ISSUER,
              audience: AUDIENCE,
              cache: true,
              ...extra,
            }),
          ],
        }),
      );
      server.get('/', (req, res) => res.json(req.auth));
      server.use(
        (_e: unknown, _q: express.Request, res: express.Response, _n: express.NextFunction) => {
          res.status(500).end();
        },
      );
      return server;
    }

    it('authenticates a valid token and caches its validation', async () => {
      const server = app();
      const token = await sign(keyA);
      const res = await request(server).get('/').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        scheme: 'Bearer',
        user: 'alice',
        scopes: ['read', 'write'],
      });
      const again = await request(server).get('/').set('Authorization', `Bearer ${token}`);
      expect(again.status).toBe(200);
      expect(jwks.hits).toBe(1);
    });

    it('answers a wrong-audience token 401 invalid_token with a description', async () => {
      const token = await sign(keyA, { aud: 'https://other.test' });
      const res = await request(app()).get('/').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe(
        'Bearer realm="api", error="invalid_token", error_description="The access token has an invalid aud claim"',
      );
    });

    it('answers a DPoP-bound token sent as Bearer 401 invalid_token, on each request', async () => {
      const server = app();
      const token = await sign(keyA, {
        cnf: { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' },
      });
      for (let i = 0; i < 2; i++) {
        const res = await request(server).get('/').set('Authorization', `Bearer ${token}`);
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toBe(
          'Bearer realm="api", error="invalid_token", error_description="The access token is bound to a key (cnf); a Bearer request cannot prove possession of it"',
        );
      }
    });

    // jose refuses an exp in the past before bearer sees it: an exp of 1970-1973 (whose value in
    // ms bearer would take for seconds given by mistake) is a 401 too, not a 500.
    it('answers a token that expired in 1971 401 invalid_token', async () => {
      const token = await sign(keyA, { iat: 40_000_000, exp: 50_000_000 });
      const res = await request(app()).get('/').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe(
        'Bearer realm="api", error="invalid_token", error_description="The access token expired"',
      );
    });

    it('answers a token without the required scope 403', async () => {
      const token = await sign(keyA, { scope: 'read' });
      const res = await request(app({ requiredScopes: ['write'] }))
        .get('/')
        .set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
    });
  });
});

describe('jwtVerifier() with a local key or a secret', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaPem = rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString();

  const rs256 = (claims: JWTPayload = {}) =>
    new SignJWT({ sub: 'alice', ...claims })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1m')
      .sign(rsa.privateKey);
  /** An HS256 token for `sub`, signed with `secret` as the HMAC key. */
  const hs256 = (sub: string, secret: Uint8Array) =>
    new SignJWT({ sub })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1m')
      .sign(secret);

  it('accepts RS256 with a PEM public key, a KeyObject, a JWK or the private key', async () => {
    const token = await rs256();
    for (const key of [
      rsaPem,
      rsa.publicKey,
      rsa.publicKey.export({ format: 'jwk' }),
      rsa.privateKey,
    ]) {
      const verify = jwtVerifier({ key: key, issuer: ISSUER, audience: AUDIENCE });
      expect(await verify(token)).toMatchObject({ user: 'alice' });
    }
  });

  it('refuses an HS256 token whose secret is the RSA public key (default allow-list)', async () => {
    const verify = jwtVerifier({ key: rsaPem, issuer: ISSUER, audience: AUDIENCE });
    const forged = await hs256('mallory', Buffer.from(rsaPem));
    expect(await refusal(verify(forged))).toBe('The access token algorithm is not allowed');
  });

  // From a review: the `key` side refused this confusion, the `secret` side took any 32 bytes,
  // and a token HMAC-signed with the (public) PEM verified.
  it.each([
    ['a PEM public key', () => rsaPem],
    ['a PEM certificate-like text', () => `-----BEGIN CERTIFICATE-----\n${'A'.repeat(64)}\n`],
    ['a PEM private key', () => rsa.privateKey.export({ format: 'pem', type: 'pkcs8' })],
    ['a DER SPKI key', () => rsa.publicKey.export({ format: 'der', type: 'spki' })],
    ['a DER PKCS#1 key', () => rsa.publicKey.export({ format: 'der', type: 'pkcs1' })],
    ['a DER PKCS#8 private key', () => rsa.privateKey.export({ format: 'der', type: 'pkcs8' })],
    ['a JWK as JSON', () => JSON.stringify(rsa.publicKey.export({ format: 'jwk' }))],
    // From a second review: the forms a public key is most often copied in.
    [
      'a base64 SPKI key without the PEM lines (as Keycloak shows it)',
      () => rsa.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    ],
    [
      'a JWK Set as JSON',
      () => JSON.stringify({ keys: [rsa.publicKey.export({ format: 'jwk' })] }),
    ],
    ['a PEM file in base64', () => Buffer.from(rsaPem).toString('base64')],
  ])('refuses %s as the HMAC secret, at setup', async (_what, secret) => {
    const given = secret();
    expect(() =>
      jwtVerifier({
        secret: typeof given === 'string' ? given : new Uint8Array(given),
        issuer: ISSUER,
        audience: AUDIENCE,
      }),
    ).toThrow(/secret is a key or certificate/);
  });

  it('refuses a certificate, PEM or DER, as the HMAC secret', async () => {
    const certificate = await makeCertificate();
    try {
      const der = new X509Certificate(certificate.cert).raw;
      for (const secret of [certificate.cert.toString('latin1'), new Uint8Array(der)]) {
        expect(() => jwtVerifier({ secret, issuer: ISSUER, audience: AUDIENCE })).toThrow(
          /secret is a key or certificate/,
        );
      }
    } finally {
      await certificate.remove();
    }
  });

  it.each([
    ['32 random bytes', () => new Uint8Array(randomBytes(32))],
    ['32 random bytes in base64', () => randomBytes(32).toString('base64')],
    ['32 random bytes in hex', () => randomBytes(32).toString('hex')],
    ['text that starts with a brace', () => '{not json, only a long passphrase}'],
    ['JSON without kty', () => JSON.stringify({ k: 'a'.repeat(40) })],
  ])('takes %s as the HMAC secret', async (_what, secret) => {
    const given = secret();
    const verify = jwtVerifier({ secret: given, issuer: ISSUER, audience: AUDIENCE });
    const token = await hs256('hs', typeof given === 'string' ? Buffer.from(given) : given);
    expect(await verify(token)).toMatchObject({ user: 'hs' });
  });

  it('accepts ES256 from an EC key and derives the allow-list from the curve', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = await new SignJWT({ sub: 'e' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1m')
      .sign(ec.privateKey);
    expect(
      await jwtVerifier({
        key: createPublicKey(ec.privateKey),
        issuer: ISSUER,
        audience: AUDIENCE,
      })(token),
    ).toMatchObject({ user: 'e' });
    expect(() =>
      jwtVerifier({ key: ec.publicKey, issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES384'] }),
    ).toThrow(TypeError);
  });

  // README/JwtOptions: `key` may be a CryptoKey; its algorithm decides what it verifies (the
  // curve for ECDSA, the hash for RSA-PSS), as jose's own lookup would.
  it('accepts a CryptoKey for ECDSA, Ed25519 and RSA-PSS, each for its own algorithm', async () => {
    const cases = [
      { alg: 'ES256', params: { name: 'ECDSA', namedCurve: 'P-256' } },
      { alg: 'EdDSA', params: { name: 'Ed25519' } },
      { alg: 'PS384', params: { name: 'RSA-PSS', hash: 'SHA-384' } },
    ];
    for (const { alg, params } of cases) {
      // RSA-PSS signs with this suite's RSA key: generating another took up to 1.5 s of the
      // test's 5 s under load. An RSA key's SPKI is the same for PKCS#1 v1.5 and PSS.
      const { privateKey, spki } =
        alg === 'PS384'
          ? {
              privateKey: rsa.privateKey,
              spki: rsa.publicKey.export({ format: 'der', type: 'spki' }),
            }
          : await generateKeyPair(alg, { extractable: true }).then(async (pair) => ({
              privateKey: pair.privateKey,
              spki: await webcrypto.subtle.exportKey('spki', pair.publicKey),
            }));
      const cryptoKey = await webcrypto.subtle.importKey('spki', spki, params, false, ['verify']);
      const token = await new SignJWT({ sub: alg })
        .setProtectedHeader({ alg })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('1m')
        .sign(privateKey);
      const verify = jwtVerifier({ key: cryptoKey, issuer: ISSUER, audience: AUDIENCE });
      expect(await verify(token)).toMatchObject({ user: alg });
    }
  });

  // From a run on Node 26: KeyObject.from() of a CryptoKey that is not extractable (the public
  // key importKey('spki', …, false, …) makes, as above) is deprecated there (DEP0204), and may
  // become an error. Such a key is kept as it is and jose verifies with it.
  it('keeps a CryptoKey that is not extractable as it is, with its own algorithm only', async () => {
    const from = jest.spyOn(KeyObject, 'from');
    try {
      const es256 = await generateKeyPair('ES256', { extractable: true });
      const spki = await webcrypto.subtle.exportKey('spki', es256.publicKey);
      const params = { name: 'ECDSA', namedCurve: 'P-256' };
      const cryptoKey = await webcrypto.subtle.importKey('spki', spki, params, false, ['verify']);
      const verify = jwtVerifier({ key: cryptoKey, issuer: ISSUER, audience: AUDIENCE });
      const signed = (alg: string, key: Parameters<SignJWT['sign']>[0]) =>
        new SignJWT({ sub: alg })
          .setProtectedHeader({ alg })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime('1m')
          .sign(key);
      expect(await verify(await signed('ES256', es256.privateKey))).toMatchObject({
        user: 'ES256',
      });
      const es384 = await generateKeyPair('ES384');
      await expect(verify(await signed('ES384', es384.privateKey))).rejects.toBeInstanceOf(
        InvalidTokenError,
      );
      const hs = await signed('HS256', new TextEncoder().encode('x'.repeat(32)));
      await expect(verify(hs)).rejects.toBeInstanceOf(InvalidTokenError);
      expect(from).not.toHaveBeenCalled();
    } finally {
      from.mockRestore();
    }
  });

  it('refuses at setup a CryptoKey that is not extractable and cannot verify on its own', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const rsa1024 = await webcrypto.subtle.importKey(
      'spki',
      weak.export({ format: 'der', type: 'spki' }),
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    expect(() => jwtVerifier({ key: rsa1024, issuer: ISSUER, audience: AUDIENCE })).toThrow(
      'an RSA key must have at least 2048 bits',
    );
    // SHA-1 fits no RS*/PS* algorithm: a setup error, as for the extractable key (from a review:
    // "RS1" was taken, and every token refused).
    for (const name of ['RSASSA-PKCS1-v1_5', 'RSA-PSS']) {
      const sha1 = await webcrypto.subtle.importKey(
        'spki',
        rsa.publicKey.export({ format: 'der', type: 'spki' }),
        { name, hash: 'SHA-1' },
        false,
        ['verify'],
      );
      expect(() => jwtVerifier({ key: sha1, issuer: ISSUER, audience: AUDIENCE })).toThrow(
        'fits no JWS algorithm',
      );
    }
    const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ]);
    expect(() => jwtVerifier({ key: pair.privateKey, issuer: ISSUER, audience: AUDIENCE })).toThrow(
      'give the public key',
    );
    const hmac = await webcrypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, [
      'verify',
    ]);
    expect(() => jwtVerifier({ key: hmac, issuer: ISSUER, audience: AUDIENCE })).toThrow(
      'a secret key goes in `secret`',
    );
  });

  it('accepts HS256 with a shared secret and refuses a token signed with another one', async () => {
    const secret = randomBytes(32);
    const verify = jwtVerifier({ secret, issuer: [ISSUER, 'other'], audience: [AUDIENCE] });
    const hs = (key: Uint8Array) =>
      new SignJWT({ sub: 'h' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('1m')
        .sign(key);
    expect(await verify(await hs(secret))).toMatchObject({ user: 'h' });
    expect(await refusal(verify(await hs(randomBytes(32))))).toBe(
      'The access token signature is invalid',
    );
  });

  // RFC 7519 §7.2 step 10: the payload must be a JSON object. A validly signed token whose
  // payload is not one is the client's bad token (401), not a server error.
  it('refuses a signed token whose payload is not a JSON object as malformed (401, not 500)', async () => {
    const secret = randomBytes(32);
    const verify = jwtVerifier({ secret, issuer: ISSUER, audience: AUDIENCE });
    const header = Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url');
    for (const payload of ['[1]', 'not json']) {
      const input = `${header}.${Buffer.from(payload).toString('base64url')}`;
      const token = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      expect(await refusal(verify(token))).toBe('The access token is malformed');
    }
  });

  it('freezes the claims of a deeply nested payload without running out of stack', async () => {
    // JSON.parse takes any depth; a recursive freeze threw RangeError past some 10,000 levels.
    const secret = randomBytes(32);
    const verify = jwtVerifier({ secret, issuer: ISSUER, audience: AUDIENCE });
    // Written as text: jose's SignJWT and JSON.stringify recurse too.
    const exp = Math.floor(Date.now() / 1000) + 60;
    const claims = `{"sub":"deep","iss":"${ISSUER}","aud":"${AUDIENCE}","exp":${exp},"deep":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const input = `${b64url({ alg: 'HS256' })}.${Buffer.from(claims).toString('base64url')}`;
    const token = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    const identity = await verify(token);
    expect(frozenDepth((identity.claims as { deep: unknown }).deep)).toBe(20_000);
  });

  it("jwtBearer's unknown-option message lists the options it takes, not the `verify` it refuses", () => {
    const call = () =>
      jwtBearer({
        secret: randomBytes(32),
        issuer: ISSUER,
        audience: AUDIENCE,
        scopes: 'a',
      } as never);
    expect(call).toThrow('jwtBearer: unknown option `scopes`');
    expect(call).toThrow(/requiredScopes/);
    expect(call).not.toThrow(/\bverify\b/);
  });

  // An option set to undefined is an option not given, here as everywhere (shared settings spread
  // in with `verify: undefined`): only a verify of its own is refused.
  it('jwtBearer takes `verify: undefined` as no verify', async () => {
    const secret = randomBytes(32);
    const scheme = jwtBearer({
      secret,
      issuer: ISSUER,
      audience: AUDIENCE,
      verify: undefined,
    } as never);
    const token = await new SignJWT({ sub: 'u' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(secret);
    const server = express();
    server.use(authenticate({ schemes: [scheme] }));
    server.get('/', (req, res) => res.send(req.auth!.user));
    const res = await request(server).get('/').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.text).toBe('u');
  });

  it('jwtBearer reads inherited and getter options as jwtVerifier does (none is dropped)', async () => {
    const secret = randomBytes(32);
    const token = await new SignJWT({ sub: 'h' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1m')
      .sign(secret);
    const inherited = Object.assign(Object.create({ typ: 'at+jwt' }) as object, {
      secret,
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    class Options {
      secret = secret;
      issuer = ISSUER;
      audience = AUDIENCE;
      get typ() {
        return 'at+jwt';
      }
    }
    for (const options of [inherited, new Options()]) {
      const server = express();
      server.use(
        authenticate({ schemes: [jwtBearer(options as Parameters<typeof jwtBearer>[0])] }),
      );
      server.get('/', (_req, res) => res.send('ok'));
      const res = await request(server).get('/').set('Authorization', `Bearer ${token}`);
      // typ JWT, where at+jwt is required: refused, and typ is named as the header it is.
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toContain(
        'error="invalid_token", error_description="The access token is of the wrong type (typ)"',
      );
    }
  });

  it('accepts HS512 with a secret of 64 bytes (RFC 7518 §3.2)', async () => {
    const secret = randomBytes(64);
    const verify = jwtVerifier({
      secret,
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['HS512'],
    });
    const token = await new SignJWT({ sub: 'h' })
      .setProtectedHeader({ alg: 'HS512' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1m')
      .sign(secret);
    expect(await verify(token)).toMatchObject({ user: 'h' });
  });

  it('requires exp', async () => {
    const token = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .sign(rsa.privateKey);
    const verify = jwtVerifier({ key: rsaPem, issuer: ISSUER, audience: AUDIENCE });
    expect(await refusal(verify(token))).toBe('The access token has an invalid exp claim');
  });

  it('derives EdDSA for an Ed25519 key and PS* for an RSA-PSS key', async () => {
    const ed = generateKeyPairSync('ed25519');
    const token = await new SignJWT({ sub: 'ed' })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1m')
      .sign(ed.privateKey);
    expect(
      await jwtVerifier({ key: ed.publicKey, issuer: ISSUER, audience: AUDIENCE })(token),
    ).toMatchObject({
      user: 'ed',
    });
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    expect(() =>
      jwtVerifier({
        key: pss.publicKey,
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['RS256'],
      }),
    ).toThrow(TypeError);
    expect(() =>
      jwtVerifier({
        key: pss.publicKey,
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['PS256'],
      }),
    ).not.toThrow();
  });

  it.each([
    ['a secp256k1 key', () => generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey],
    ['an X25519 key', () => generateKeyPairSync('x25519').publicKey],
    // jose would refuse it on every token, each a 500.
    ['a 1024-bit RSA key', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey],
    ['a number', () => 42],
  ])('throws TypeError at setup for %s', (_name, key) => {
    expect(() => jwtVerifier({ key: key() as never, issuer: ISSUER, audience: AUDIENCE })).toThrow(
      TypeError,
    );
  });

  it.each([
    ['no key source', { issuer: ISSUER, audience: AUDIENCE }],
    [
      'two key sources',
      { key: rsaPem, secret: 'x'.repeat(32), issuer: ISSUER, audience: AUDIENCE },
    ],
    ['no issuer', { key: rsaPem, audience: AUDIENCE }],
    ['no audience', { key: rsaPem, issuer: ISSUER }],
    ['an empty audience list', { key: rsaPem, issuer: ISSUER, audience: [] }],
    [
      'an empty algorithm list',
      { key: rsaPem, issuer: ISSUER, audience: AUDIENCE, algorithms: [] },
    ],
    ['alg none', { key: rsaPem, issuer: ISSUER, audience: AUDIENCE, algorithms: ['none'] }],
    [
      'HS256 with an RSA key',
      { key: rsaPem, issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] },
    ],
    [
      'HS256 with a JWKS',
      { jwksUri: 'https://x.test/jwks', issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] },
    ],
    [
      'RS256 with a secret',
      { secret: 'x'.repeat(32), issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256'] },
    ],
    ['a short secret', { secret: 'short', issuer: ISSUER, audience: AUDIENCE }],
    // RFC 7518 §3.2: the key must be at least as long as the hash output.
    [
      'HS384 with a 32-byte secret',
      { secret: 'x'.repeat(32), issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS384'] },
    ],
    [
      'HS512 with a 48-byte secret',
      {
        secret: 'x'.repeat(48),
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256', 'HS512'],
      },
    ],
    [
      'a secret KeyObject as key',
      { key: { kty: 'oct', k: 'AAAA' }, issuer: ISSUER, audience: AUDIENCE },
    ],
    ['a non-http JWKS URL', { jwksUri: 'file:///etc/passwd', issuer: ISSUER, audience: AUDIENCE }],
    // fetch would refuse it on every key fetch, with the password in its message.
    [
      'a JWKS URL holding credentials',
      { jwksUri: 'https://u:pw@issuer.test/jwks.json', issuer: ISSUER, audience: AUDIENCE },
    ],
    [
      'a JWKS URL holding a user name alone',
      { jwksUri: 'https://u@issuer.test/jwks.json', issuer: ISSUER, audience: AUDIENCE },
    ],
    [
      'a JWKS URL holding a password alone',
      { jwksUri: 'https://:pw@issuer.test/jwks.json', issuer: ISSUER, audience: AUDIENCE },
    ],
    // Whoever answers a plain-http key fetch could sign any token.
    [
      'a plain-http JWKS URL on another host',
      { jwksUri: 'http://issuer.test/jwks.json', issuer: ISSUER, audience: AUDIENCE },
    ],
    ...[0, 1.5, NaN, '1000'].map((maxResponseBytes): [string, object] => [
      `a jwks.maxResponseBytes of ${String(maxResponseBytes)}`,
      {
        jwksUri: 'https://issuer.test/jwks.json',
        issuer: ISSUER,
        audience: AUDIENCE,
        jwks: { maxResponseBytes },
      },
    ]),
    [
      'a negative clock tolerance',
      { key: rsaPem, issuer: ISSUER, audience: AUDIENCE, clockTolerance: -1 },
    ],
    // An endless tolerance would accept every expired token.
    ...[Infinity, NaN, '5'].map((clockTolerance): [string, object] => [
      `a clock tolerance of ${String(clockTolerance)}`,
      { key: rsaPem, issuer: ISSUER, audience: AUDIENCE, clockTolerance },
    ]),
    ['an empty issuer', { key: rsaPem, issuer: '', audience: AUDIENCE }],
    // Read from a file or the environment with its line end or padding: no token would match.
    // Padding as trim() takes it (a BOM a Windows editor wrote, a no-break space), and a control
    // character it keeps (a NUL ending a C string).
    ...[`\ufeff${ISSUER}`, `${ISSUER}\u00a0`, `${ISSUER}\0`, `https://iss\u0000uer.test/`].map(
      (issuer): [string, object] => [
        `an issuer of ${JSON.stringify(issuer)}`,
        { key: rsaPem, issuer, audience: AUDIENCE },
      ],
    ),
    ...[`${ISSUER}\n`, `${ISSUER}\r`, ` ${ISSUER}`, `${ISSUER} `, [ISSUER, `${ISSUER}\r\n`]].map(
      (issuer): [string, object] => [
        `an issuer of ${JSON.stringify(issuer)}`,
        { key: rsaPem, issuer, audience: AUDIENCE },
      ],
    ),
    ...[`${AUDIENCE}\n`, `\t${AUDIENCE}`, [AUDIENCE, ' api']].map((audience): [string, object] => [
      `an audience of ${JSON.stringify(audience)}`,
      { key: rsaPem, issuer: ISSUER, audience },
    ]),
    [
      'an issuer list with an empty entry',
      { key: rsaPem, issuer: [ISSUER, ''], audience: AUDIENCE },
    ],
  ])('throws TypeError at setup for %s', (_name, options) => {
    expect(() => jwtVerifier(options as never)).toThrow(TypeError);
  });

  it('says what a key read from the environment needs: a PEM on one line, a JWK as JSON text', () => {
    // JWT_PUBLIC_KEY="-----BEGIN PUBLIC KEY-----\nMIIB…" keeps backslash-n, two characters.
    const oneLine = rsaPem.replaceAll('\n', '\\n');
    expect(() => jwtVerifier({ key: oneLine, issuer: ISSUER, audience: AUDIENCE })).toThrow(
      "the PEM holds the two characters \\n where its line breaks belong, as a one-line environment variable does: give key.replaceAll('\\\\n', '\\n')",
    );
    expect(() =>
      jwtVerifier({ key: oneLine.replaceAll('\\n', '\n'), issuer: ISSUER, audience: AUDIENCE }),
    ).not.toThrow();
    const jwk = JSON.stringify(createPublicKey(rsaPem).export({ format: 'jwk' }));
    expect(() => jwtVerifier({ key: jwk, issuer: ISSUER, audience: AUDIENCE })).toThrow(
      '(a JWK as JSON text: give JSON.parse(key))',
    );
  });

  it('says \\r\\n of a one-line PEM escaped from a Windows file, and the advice works', () => {
    const oneLine = rsaPem.replaceAll('\n', '\\r\\n');
    expect(() => jwtVerifier({ key: oneLine, issuer: ISSUER, audience: AUDIENCE })).toThrow(
      "the PEM holds the characters \\r\\n where its line breaks belong, as a one-line environment variable does: give key.replace(/\\\\r\\\\n/g, '\\n')",
    );
    expect(() =>
      jwtVerifier({ key: oneLine.replace(/\\r\\n/g, '\n'), issuer: ISSUER, audience: AUDIENCE }),
    ).not.toThrow();
  });

  it('says \\n of a one-line PEM read with its line end, and of no key without a \\n', () => {
    const note = 'the PEM holds the two characters \\n';
    const refusal = (key: string): string => {
      try {
        jwtVerifier({ key, issuer: ISSUER, audience: AUDIENCE });
        return 'taken';
      } catch (error) {
        return (error as Error).message;
      }
    };
    // A secret file or a .env line read whole keeps its final line end.
    expect(refusal(`${rsaPem.trim().replaceAll('\n', '\\n')}\n`)).toContain(note);
    // Line breaks lost to spaces, and a text that is no PEM: no \n to replace.
    for (const key of [rsaPem.trim().replaceAll('\n', ' '), 'MIIBIjANBgkq\\nhkiG9w0BAQEF']) {
      expect(refusal(key)).toMatch(/^jwtVerifier: key must be/);
      expect(refusal(key)).not.toContain(note);
    }
  });

  it('names the entry of an issuer or audience list that holds a line end or padding', () => {
    const refused = /holds a control character or starts or ends with white space/;
    expect(() =>
      jwtVerifier({ key: rsaPem, issuer: [ISSUER, `${ISSUER}\r\n`], audience: AUDIENCE }),
    ).toThrow(new RegExp(`^jwtVerifier: issuer\\[1\\] ${refused.source}`));
    expect(() => jwtVerifier({ key: rsaPem, issuer: ISSUER, audience: ` ${AUDIENCE}` })).toThrow(
      new RegExp(`^jwtVerifier: audience ${refused.source}`),
    );
  });
});
