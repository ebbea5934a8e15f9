/** Review 74: each test fails on 7a5b243 / f301752 (main at e571179). */
import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, exportJWK, jwtVerify, SignJWT } from 'jose';
import { jwtVerifier } from 'authscheme/jwt';
import { readChallenges } from '../src/client/challenges';

const ISSUER = 'https://issuer.test/';
const AUDIENCE = 'https://api.test';
const claims = () => ({
  sub: 'alice',
  iss: ISSUER,
  aud: AUDIENCE,
  exp: Math.floor(Date.now() / 1000) + 300,
});

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

describe('readChallenges: severing', () => {
  const P = (o: object) => Object.assign(Object.create(null), o);
  // A token68 challenge takes no auth-params: junk and parameters after it cannot have been
  // cut off from it. It is well-formed, yet dropped.
  it('keeps a token68 challenge followed by junk and parameters', () => {
    const read = readChallenges('Negotiate YIIBhg==, @@@, realm="x", Basic realm="b"');
    expect(read.map((c) => [c.scheme, c.token68 ?? c.params])).toEqual([
      ['Negotiate', 'YIIBhg=='],
      ['Basic', P({ realm: 'b' })],
    ]);
  });

  // The commit's own case with "@" is skipped; "a@b" cannot start a challenge either (a scheme
  // is followed by SP, "," or the end), but only the first character is checked: the Digest
  // challenge is kept without its algorithm (answered with MD5, as in test/client/audit.test.ts).
  it('skips a challenge cut short by junk that starts with a token character', () => {
    expect(readChallenges('Digest realm="r", @b, algorithm=SHA-256').map((c) => c.scheme)).toEqual(
      [],
    );
    expect(readChallenges('Digest realm="r", a@b, algorithm=SHA-256').map((c) => c.scheme)).toEqual(
      [],
    );
  });

  // At 32 challenges readChallenges returns before seeing the piece that severs the last one.
  it('does not keep the 32nd challenge when junk cuts its parameters off', () => {
    const read = readChallenges(`${'Basic, '.repeat(31)}Digest realm="r", @, algorithm=SHA-256`);
    expect(read.map((c) => c.scheme)).not.toContain('Digest');
  });
});
