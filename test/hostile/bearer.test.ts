/**
 * Bearer (RFC 6750) with JWT access tokens against a forger: a token in two places, characters
 * outside token68, `alg: none`, HS256 signed with the RSA public key, expired tokens, wrong
 * audience or issuer, and a flood of unknown `kid`s that must not hammer the JWKS endpoint.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { SignJWT, exportJWK } from 'jose';
import { authenticate, bearer, type BearerOptions } from 'authscheme';
import { jwtVerifier } from 'authscheme/jwt';
import { HIT, expectRefused, send, startForThisFile, type Reply, type TestServer } from './helpers';

const issuer = 'https://issuer.test/';
const audience = 'https://api.test';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

async function jwt(
  claims: Record<string, unknown> = {},
  options: { key?: KeyObject | Uint8Array; alg?: string; kid?: string; exp?: number } = {},
): Promise<string> {
  const alg = options.alg ?? 'RS256';
  return new SignJWT({ scope: 'read', ...claims })
    .setProtectedHeader({ alg, ...(options.kid === undefined ? {} : { kid: options.kid }) })
    .setSubject('alice')
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 600)
    .sign(options.key ?? privateKey);
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

const start = startForThisFile();
async function make(
  options: BearerOptions,
  before: express.RequestHandler[] = [],
): Promise<TestServer> {
  return start(authenticate({ realm: 'api', schemes: [bearer(options)] }), {
    before,
  });
}

function challengeOf(reply: Reply): string {
  const lines = reply.headers['www-authenticate'] ?? [];
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

/** 401 invalid_token, or 400 invalid_request, with the Bearer challenge saying so. */
function expectBearerError(reply: Reply, error: 'invalid_token' | 'invalid_request'): void {
  expectRefused(reply, [error === 'invalid_token' ? 401 : 400]);
  expect(challengeOf(reply)).toContain(`error="${error}"`);
}

describe('JWT signed with a local key', () => {
  let target: TestServer;
  beforeAll(async () => {
    target = await make({ verify: jwtVerifier({ key: publicPem, issuer, audience }) });
  });

  it('accepts a good token (the control)', async () => {
    const reply = await send(target, { Authorization: `Bearer ${await jwt()}` });
    expect(reply.status).toBe(200);
    expect(reply.headers[HIT]).toEqual(['yes']);
  });

  it('refuses alg "none" (unsigned)', async () => {
    const good = await jwt();
    const payload = good.split('.')[1]!;
    for (const alg of ['none', 'None', 'NONE']) {
      const token = `${b64url({ alg, typ: 'JWT' })}.${payload}.`;
      expectBearerError(await send(target, { Authorization: `Bearer ${token}` }), 'invalid_token');
    }
  });

  it('refuses HS256 signed with the RSA public key as HMAC secret', async () => {
    for (const secret of [publicPem, publicKey.export({ type: 'pkcs1', format: 'der' })]) {
      const token = await jwt({}, { alg: 'HS256', key: new Uint8Array(Buffer.from(secret)) });
      expectBearerError(await send(target, { Authorization: `Bearer ${token}` }), 'invalid_token');
    }
  });

  it('refuses a token signed by another key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const token = await jwt({}, { key: other });
    expectBearerError(await send(target, { Authorization: `Bearer ${token}` }), 'invalid_token');
  });

  it.each([
    ['expired an hour ago', {}, { exp: Math.floor(Date.now() / 1000) - 3600 }],
    ['with another audience', { aud: 'https://other.test' }, {}],
    ['with another issuer', { iss: 'https://evil.test/' }, {}],
    ['with an audience list not holding ours', { aud: ['a', 'b'] }, {}],
    ['not yet valid', { nbf: Math.floor(Date.now() / 1000) + 3600 }, {}],
  ])('refuses a token %s', async (_title, claims, options) => {
    const good = await jwt({}, options);
    let token = good;
    if (Object.keys(claims).length > 0) {
      // Claims set through the payload so that they override the builder's defaults.
      const builder = new SignJWT({
        scope: 'read',
        sub: 'alice',
        iss: issuer,
        aud: audience,
        ...claims,
      })
        .setProtectedHeader({ alg: 'RS256' })
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + 600);
      token = await builder.sign(privateKey);
    }
    expectBearerError(await send(target, { Authorization: `Bearer ${token}` }), 'invalid_token');
  });

  it('refuses a token with its payload swapped (signature of another payload)', async () => {
    const [head, , sig] = (await jwt()).split('.');
    const payload = b64url({ sub: 'admin', iss: issuer, aud: audience, exp: 9999999999 });
    const reply = await send(target, { Authorization: `Bearer ${head}.${payload}.${sig}` });
    expectBearerError(reply, 'invalid_token');
  });

  it.each([
    ['a space inside', 'Bearer abc def', 400],
    ['a quoted token', 'Bearer "abc"', 400],
    ['a comma inside', 'Bearer abc,def', 400],
    ['an exclamation mark', 'Bearer abc!def', 400],
    ['auth-params instead of a token', 'Bearer token="abc"', 400],
    ['a token with = inside', 'Bearer abc=def', 400],
    ['no token', 'Bearer', 400],
    ['obs-text', 'Bearer abc\u00e9', 400],
  ])('refuses a token with %s', async (_title, value, status) => {
    const reply = await send(target, { Authorization: value });
    expectRefused(reply, [status]);
    expect(challengeOf(reply).startsWith('Bearer ')).toBe(true);
    // RFC 6750 §3.1: a malformed request is invalid_request.
    expect(challengeOf(reply)).toMatch(/error="invalid_request"/);
  });
});

describe('a token in more than one place', () => {
  let target: TestServer;
  beforeAll(async () => {
    target = await make(
      {
        verify: (token) => (token === 'good' ? 'alice' : false),
        allowQueryToken: true,
        allowFormToken: true,
      },
      [express.urlencoded({ extended: false })],
    );
  });

  it('accepts a token in the query alone (the control)', async () => {
    expect((await send(target, {}, 'GET', '/?access_token=good')).status).toBe(200);
  });

  it.each([
    ['header and query', { Authorization: 'Bearer good' }, 'GET', '/?access_token=good', undefined],
    ['the query twice', {}, 'GET', '/?access_token=good&access_token=good', undefined],
    [
      'header and form body',
      { Authorization: 'Bearer good', 'Content-Type': 'application/x-www-form-urlencoded' },
      'POST',
      '/',
      'access_token=good',
    ],
    [
      'form body and query',
      { 'Content-Type': 'application/x-www-form-urlencoded' },
      'POST',
      '/?access_token=good',
      'access_token=good',
    ],
    ['a query token outside token68', {}, 'GET', '/?access_token=a%20b', undefined],
    ['an empty query token', {}, 'GET', '/?access_token=', undefined],
  ])('refuses %s with 400 invalid_request', async (_title, headers, method, path, body) => {
    const reply = await send(target, headers, method, path, body);
    expectBearerError(reply, 'invalid_request');
  });
});

describe('unknown kid flood against a JWKS endpoint', () => {
  let jwks: http.Server;
  let hits = 0;
  let target: TestServer;
  const kid = 'key-1';

  beforeAll(async () => {
    const jwk = { ...(await exportJWK(createPublicKey(publicPem))), kid, alg: 'RS256', use: 'sig' };
    jwks = http.createServer((_req, res) => {
      hits++;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const { port } = jwks.address() as AddressInfo;
    target = await make({
      verify: jwtVerifier({ jwksUri: `http://127.0.0.1:${port}/jwks.json`, issuer, audience }),
    });
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        jwks.closeAllConnections();
        jwks.close(() => resolve());
      }),
  );

  it('accepts a token with the known kid, then refuses 200 unknown kids with at most one refetch', async () => {
    const good = await send(target, { Authorization: `Bearer ${await jwt({}, { kid })}` });
    expect(good.status).toBe(200);
    const afterFirst = hits;
    expect(afterFirst).toBe(1);
    const tokens = await Promise.all(
      Array.from({ length: 200 }, () => jwt({}, { kid: randomBytes(8).toString('hex') })),
    );
    for (let i = 0; i < tokens.length; i += 50) {
      const batch = tokens.slice(i, i + 50);
      const replies = await Promise.all(
        batch.map((token) => send(target, { Authorization: `Bearer ${token}` })),
      );
      for (const reply of replies) expectBearerError(reply, 'invalid_token');
    }
    // jose refetches on an unknown kid at most once per cooldown (30 s by default).
    expect(hits - afterFirst).toBeLessThanOrEqual(1);
  });
});

describe('unknown kid flood against a failing JWKS endpoint', () => {
  let jwks: http.Server;
  let hits = 0;
  let failing = false;
  let target: TestServer;
  const kid = 'key-1';
  const COOLDOWN = 500;

  beforeAll(async () => {
    const jwk = { ...(await exportJWK(createPublicKey(publicPem))), kid, alg: 'RS256', use: 'sig' };
    jwks = http.createServer((_req, res) => {
      hits++;
      res.statusCode = failing ? 503 : 200;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(failing ? { error: 'unavailable' } : { keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const { port } = jwks.address() as AddressInfo;
    target = await make({
      verify: jwtVerifier({
        jwksUri: `http://127.0.0.1:${port}/jwks.json`,
        issuer,
        audience,
        jwks: { cooldownDuration: COOLDOWN },
      }),
    });
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        jwks.closeAllConnections();
        jwks.close(() => resolve());
      }),
  );

  it('fetches at most once per cool-down while the endpoint answers 503, and known keys still verify', async () => {
    const good = await jwt({}, { kid });
    expect((await send(target, { Authorization: `Bearer ${good}` })).status).toBe(200);
    expect(hits).toBe(1);
    failing = true;
    await new Promise((resolve) => setTimeout(resolve, COOLDOWN + 50));
    const tokens = await Promise.all(
      Array.from({ length: 200 }, () => jwt({}, { kid: randomBytes(8).toString('hex') })),
    );
    const began = performance.now();
    for (let i = 0; i < tokens.length; i += 50) {
      const batch = tokens.slice(i, i + 50);
      const replies = await Promise.all(
        batch.map((token) => send(target, { Authorization: `Bearer ${token}` })),
      );
      // Not a 401: the kid may be a key published since, which the key server cannot tell.
      for (const reply of replies) expectRefused(reply, [500]);
    }
    const cooldowns = Math.ceil((performance.now() - began) / COOLDOWN);
    expect(hits - 1).toBeLessThanOrEqual(cooldowns);
    // The last good set still verifies its own keys, without a fetch.
    const before = hits;
    expect((await send(target, { Authorization: `Bearer ${good}` })).status).toBe(200);
    expect(hits).toBe(before);
  });
});
