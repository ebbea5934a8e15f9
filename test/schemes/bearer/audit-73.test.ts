/**
 * Audit 73 of bearer() and authscheme/jwt: each test fails on the code it was written against.
 */
import { constants, generateKeyPairSync, sign as cryptoSign, webcrypto } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { createLocalJWKSet, exportJWK, jwtVerify, SignJWT } from 'jose';
import { jwtBearer, jwtVerifier } from 'authscheme/jwt';
import { authenticate } from '../../../src/middleware/authenticate';

const ISSUER = 'https://issuer.test/';
const AUDIENCE = 'https://api.test';
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claims = () => ({
  sub: 'alice',
  iss: ISSUER,
  aud: AUDIENCE,
  exp: Math.floor(Date.now() / 1000) + 300,
});

function jwtApp(scheme: ReturnType<typeof jwtBearer>) {
  const app = express();
  app.use(authenticate({ realm: 'api', schemes: [scheme] }));
  app.get('/', (req, res) => res.json({ user: req.auth?.user }));
  app.use(
    (_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).send('error');
    },
  );
  return app;
}

describe('jwtVerifier({ key }) with an RSA-PSS key (id-RSASSA-PSS), which setup accepts', () => {
  // algorithmsOf() (src/adapters/jwt.ts:172-179) derives PS256/384/512 for an `rsa-pss`
  // KeyObject, but jose 6 works through JWK/WebCrypto, which cannot take such a key: every
  // token, a correctly signed one included, throws ERR_CRYPTO_JWK_UNSUPPORTED_KEY_TYPE and
  // the request goes to next(err). The RSA < 2048 bits check exists to avoid exactly that
  // ("jose refuses smaller keys on every token, which would turn each request into a 500").
  const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });

  function signPss(): string {
    const input = `${b64url({ alg: 'PS256', typ: 'JWT' })}.${b64url(claims())}`;
    const signature = cryptoSign('sha256', Buffer.from(input), {
      key: pss.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    });
    return `${input}.${signature.toString('base64url')}`;
  }

  it('either refuses the key at setup or verifies a valid PS256 token (no 500 per request)', async () => {
    let scheme: ReturnType<typeof jwtBearer>;
    try {
      scheme = jwtBearer({ key: pss.publicKey, issuer: ISSUER, audience: AUDIENCE });
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError);
      return;
    }
    const app = jwtApp(scheme);
    const good = await request(app).get('/').set('Authorization', `Bearer ${signPss()}`);
    expect(good.status).toBe(200);
    expect(good.body.user).toBe('alice');
    // And a forged one is a 401 invalid_token, not a 500.
    const forged = `${b64url({ alg: 'PS256' })}.${b64url(claims())}.${Buffer.alloc(256, 1).toString('base64url')}`;
    const bad = await request(app).get('/').set('Authorization', `Bearer ${forged}`);
    expect(bad.status).toBe(401);
  });

  it('with PSS parameters (SHA-256, salt 32): PS256 verifies, PS384 is a 401, never a 500', async () => {
    const restricted = generateKeyPairSync('rsa-pss', {
      modulusLength: 2048,
      hashAlgorithm: 'sha256',
      mgf1HashAlgorithm: 'sha256',
      saltLength: 32,
    } as Parameters<typeof generateKeyPairSync>[1] as never);
    let scheme: ReturnType<typeof jwtBearer>;
    try {
      scheme = jwtBearer({ key: restricted.publicKey, issuer: ISSUER, audience: AUDIENCE });
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError);
      return;
    }
    const app = jwtApp(scheme);
    const input = `${b64url({ alg: 'PS256' })}.${b64url(claims())}`;
    const signature = cryptoSign('sha256', Buffer.from(input), {
      key: restricted.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    }).toString('base64url');
    const good = await request(app).get('/').set('Authorization', `Bearer ${input}.${signature}`);
    expect(good.status).toBe(200);
    const other = `${b64url({ alg: 'PS384' })}.${b64url(claims())}.${Buffer.alloc(256, 1).toString('base64url')}`;
    const bad = await request(app).get('/').set('Authorization', `Bearer ${other}`);
    expect(bad.status).toBe(401);
  });
});

describe('jwtVerifier({ key }): what a JWK or CryptoKey says about its use is ignored', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

  // RFC 7517 §4.4: "alg" identifies the algorithm intended for use with the key; jose's own
  // JWK Set lookup honours it (a JWK with alg RS256 never verifies a PS256 token), but
  // toPublicKey() (src/adapters/jwt.ts:153-154) keeps only the key material, and
  // algorithmsOf() then allows every RS* and PS* algorithm.
  it('a JWK with "alg": "RS256" does not verify a PS256 (or RS512) token', async () => {
    const jwk = { ...(await exportJWK(rsa.publicKey)), alg: 'RS256' };
    const verify = jwtVerifier({ key: jwk, issuer: ISSUER, audience: AUDIENCE });
    for (const alg of ['PS256', 'RS512']) {
      const token = await new SignJWT(claims()).setProtectedHeader({ alg }).sign(rsa.privateKey);
      await expect(verify(token)).rejects.toThrow('The access token algorithm is not allowed');
    }
  });

  // RFC 7517 §4.2: "use": "enc" marks a key for encryption, §4.3 key_ops likewise; jose's JWK
  // Set lookup skips such keys for a signature. Given as `key`, it verifies tokens.
  it('a JWK with "use": "enc" is not used to verify signatures', async () => {
    const jwk = { ...(await exportJWK(rsa.publicKey)), use: 'enc' };
    let verify: ReturnType<typeof jwtVerifier>;
    try {
      verify = jwtVerifier({ key: jwk, issuer: ISSUER, audience: AUDIENCE });
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError);
      return;
    }
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256' })
      .sign(rsa.privateKey);
    await expect(verify(token)).rejects.toThrow();
  });

  // A CryptoKey carries its algorithm (RSASSA-PKCS1-v1_5 with SHA-256 = RS256 only); jose given
  // that CryptoKey refuses other algorithms. KeyObject.from() drops it (jwt.ts:151).
  it('a CryptoKey imported for RS256 does not verify a PS256 token', async () => {
    const spki = rsa.publicKey.export({ type: 'spki', format: 'der' });
    const cryptoKey = await webcrypto.subtle.importKey(
      'spki',
      spki,
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      true,
      ['verify'],
    );
    const verify = jwtVerifier({ key: cryptoKey, issuer: ISSUER, audience: AUDIENCE });
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'PS256' })
      .sign(rsa.privateKey);
    await expect(verify(token)).rejects.toThrow('The access token algorithm is not allowed');
  });
});

// From the review of the fixes above.
describe('jwtVerifier({ key }): a public JWK whose key_ops lack "verify"', () => {
  // docs/bearer.md (`key` row): "a JWK whose ... key_ops lack verify ... is a setup error";
  // jwt.ts says jose's JWK Set lookup "honours the same". jose refuses such a key for a
  // signature (ERR_JWKS_NO_MATCHING_KEY); intendedAlgorithms() accepts "sign" as well as "verify".
  it('is refused at setup, as jose refuses it in a JWK Set', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...(await exportJWK(rsa.publicKey)), key_ops: ['sign'] };
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256' })
      .sign(rsa.privateKey);
    await expect(jwtVerify(token, createLocalJWKSet({ keys: [jwk] }))).rejects.toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    });
    expect(() => jwtVerifier({ key: jwk, issuer: ISSUER, audience: AUDIENCE })).toThrow(TypeError);
  });
});
