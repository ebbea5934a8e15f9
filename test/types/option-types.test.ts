/**
 * Options that the runtime refuses at setup and the declared types refuse too, so that a
 * TypeScript user learns of the mistake from the compiler. Each `@ts-expect-error` line is a
 * misuse (`npm run typecheck` compiles this file, and fails when the line below the comment
 * compiles); the test runs it as JavaScript would and expects the setup error, so that the type
 * and the runtime cannot drift apart unnoticed. The legitimate forms beside them must compile.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  basic,
  bearer,
  digest,
  requireScopes,
  type BasicOptions,
  type DigestOptions,
  type RequireScopesSpec,
  type ScopeRequirement,
} from 'authscheme';
import { createAuthFetch, type AuthFetchCredentials } from 'authscheme/client';
import {
  jwtBearer,
  jwtVerifier,
  type JwtAlgorithm,
  type JwtHmacAlgorithm,
  type JwtOptions,
} from 'authscheme/jwt';
import { negotiate, type NegotiateOptions, type NegotiateVerify } from 'authscheme/negotiate';

const SECRET = 'option-types-test-secret-of-32-bytes!';
const issuer = 'https://issuer.test/';
const audience = 'https://api.test';
const JWKS = 'https://issuer.test/jwks';

describe('requireScopes() and requiredScopes', () => {
  it('refuse allOf and anyOf together', () => {
    // @ts-expect-error allOf and anyOf in one spec
    expect(() => requireScopes({ allOf: ['read'], anyOf: ['admin'] })).toThrow(TypeError);
    expect(() =>
      // @ts-expect-error the same in bearer's requiredScopes
      bearer({ verify: () => false, requiredScopes: { allOf: ['read'], anyOf: ['admin'] } }),
    ).toThrow(TypeError);
    // @ts-expect-error a ScopeRequirement typed apart
    const both: ScopeRequirement = { anyOf: ['read'], allOf: ['admin'] };
    // @ts-expect-error a RequireScopesSpec typed apart
    const spec: RequireScopesSpec = { allOf: ['read'], anyOf: ['admin'], realm: 'api' };
    expect(() => requireScopes(spec)).toThrow(TypeError);
    expect(() => bearer({ verify: () => false, requiredScopes: both })).toThrow(TypeError);
  });

  it('refuse a list or a spec beside more arguments', () => {
    // @ts-expect-error a list, then a name
    expect(() => requireScopes(['read'], 'admin')).toThrow(TypeError);
    // @ts-expect-error a spec, then a name
    expect(() => requireScopes({ anyOf: ['read'] }, 'admin')).toThrow(TypeError);
    // @ts-expect-error a name, then a list
    expect(() => requireScopes('read', ['admin'])).toThrow(TypeError);
  });

  it('take each form the README and docs/bearer.md show', () => {
    const names = ['read', 'write'];
    const readonlyList: readonly string[] = names;
    const forms = [
      requireScopes('read'),
      requireScopes('read', 'write'),
      requireScopes(...names),
      requireScopes(['read', 'write']),
      requireScopes(readonlyList),
      requireScopes({ allOf: ['read', 'write'] }),
      requireScopes({ anyOf: ['read', 'admin'], realm: 'api', errorUri: 'https://api.test/e' }),
      requireScopes({ allOf: ['orders:write'], realm: 'api', onFailure: 'next' }),
      bearer({ verify: () => false, requiredScopes: ['read'] }),
      bearer({ verify: () => false, requiredScopes: { anyOf: readonlyList } }),
    ];
    // A value that is one of several forms (from a review: the overloads took no union).
    const requirement = { anyOf: ['read'] } as ScopeRequirement;
    const either = (names.length > 1 ? 'read' : names) as string | string[];
    const listOrSpec = names as string[] | RequireScopesSpec;
    forms.push(requireScopes(requirement), requireScopes(either), requireScopes(listOrSpec));
    expect(forms.every((made) => typeof made === 'function' || typeof made === 'object')).toBe(
      true,
    );
  });
});

describe('createAuthFetch() credentials', () => {
  it('refuse a token beside a user name or password', () => {
    // @ts-expect-error a token and a user name
    expect(() => createAuthFetch({ username: 'alice', token: 'abc' })).toThrow(TypeError);
    // @ts-expect-error a token and a whole password pair
    expect(() => createAuthFetch({ username: 'a', password: 'b', token: 'abc' })).toThrow(
      TypeError,
    );
    // @ts-expect-error typed apart
    const mixed: AuthFetchCredentials = { token: 'abc', password: 'b' };
    expect(() => createAuthFetch(mixed)).toThrow(TypeError);
  });

  it('take either kind, and a value of the union', () => {
    const pair: AuthFetchCredentials = { username: 'alice', password: 'secret' };
    const token: AuthFetchCredentials = { token: 'abc' };
    const either: AuthFetchCredentials = Math.random() < 2 ? pair : token;
    for (const credentials of [pair, token, either]) {
      expect(typeof createAuthFetch(credentials, { insecureHttp: true })).toBe('function');
    }
    expect(typeof createAuthFetch({ username: 'a', password: 'b' })).toBe('function');
    // The other kind's fields take `undefined` (under exactOptionalPropertyTypes too), and so does setup.
    const fromEnv = { token: undefined, username: 'a', password: 'b' };
    expect(typeof createAuthFetch(fromEnv)).toBe('function');
    expect(typeof createAuthFetch({ token: 'abc', username: undefined })).toBe('function');
    expect(typeof createAuthFetch({ token: 'abc' }, { origins: ['https://api.test'] })).toBe(
      'function',
    );
  });
});

describe('basic() and digest() user sources', () => {
  const password = (): string => 'secret';
  const ha1 = (): null => null;
  const byHash = (): null => null;

  it('refuse none, or more than one', () => {
    // @ts-expect-error basic() with neither users nor verify
    expect(() => basic({ realm: 'r' })).toThrow(TypeError);
    // @ts-expect-error basic() with both
    expect(() => basic({ users: { alice: 'secret' }, verify: () => false })).toThrow(TypeError);
    // @ts-expect-error digest() with none of users, getPassword, getHA1
    expect(() => digest({ secret: SECRET })).toThrow(TypeError);
    // @ts-expect-error digest() with users and getPassword
    expect(() => digest({ users: { alice: 'secret' }, getPassword: password })).toThrow(TypeError);
    // @ts-expect-error digest() with getPassword and getHA1
    expect(() => digest({ getPassword: password, getHA1: ha1 })).toThrow(TypeError);
    // @ts-expect-error typed apart
    const both: DigestOptions = { users: {}, getHA1: ha1 };
    expect(() => digest(both)).toThrow(TypeError);
  });

  it('refuse findUserByHash beside users, which would never ask it', () => {
    expect(() =>
      // @ts-expect-error users' hashed names are computed from users
      digest({ users: { alice: 'secret' }, userhash: true, findUserByHash: byHash }),
    ).toThrow('digest(): findUserByHash is for getPassword or getHA1');
  });

  it('take each source, findUserByHash beside a callback, and a value of the union', () => {
    const made: unknown[] = [
      basic({ users: { alice: 'secret' } }),
      basic({ verify: () => false, realm: 'r' }),
      digest({ users: { alice: 'secret' } }),
      digest({ getPassword: password, userhash: true, findUserByHash: byHash }),
      digest({ getHA1: ha1, findUserByHash: byHash, userhash: true }),
    ];
    // The other sources' fields take `undefined` (under exactOptionalPropertyTypes too).
    made.push(digest({ users: { alice: 'secret' }, getPassword: undefined }));
    made.push(basic({ verify: () => false, users: undefined }));
    const either: DigestOptions =
      Math.random() < 2 ? { users: { alice: 'secret' } } : { getPassword: password };
    const eitherBasic: BasicOptions =
      Math.random() < 2 ? { users: { alice: 'secret' } } : { verify: () => false };
    made.push(digest(either), basic(eitherBasic));
    expect(made.every((scheme) => typeof scheme === 'object' && scheme !== null)).toBe(true);
  });
});

describe('jwtVerifier() and jwtBearer()', () => {
  it('refuse no key source, or more than one', () => {
    // @ts-expect-error no jwksUri, key or secret
    expect(() => jwtVerifier({ issuer, audience })).toThrow(TypeError);
    expect(() =>
      // @ts-expect-error a secret and a key set
      jwtVerifier({ secret: SECRET, jwksUri: JWKS, issuer, audience }),
    ).toThrow(TypeError);
    expect(() =>
      // @ts-expect-error the same through jwtBearer
      jwtBearer({ secret: SECRET, key: 'a PEM', issuer, audience, cache: true }),
    ).toThrow(TypeError);
  });

  it('refuse jwks without jwksUri', () => {
    // @ts-expect-error jwks configures the key set of jwksUri
    expect(() => jwtVerifier({ secret: SECRET, jwks: {}, issuer, audience })).toThrow(TypeError);
  });

  it('refuse insecureHttp without jwksUri, and take false there', () => {
    expect(() =>
      // @ts-expect-error insecureHttp allows a plain http jwksUri, and a secret fetches nothing
      jwtVerifier({ secret: SECRET, insecureHttp: true, issuer, audience }),
    ).toThrow('jwtVerifier: insecureHttp allows a plain http jwksUri; give jwksUri');
    expect(typeof jwtVerifier({ secret: SECRET, insecureHttp: false, issuer, audience })).toBe(
      'function',
    );
    expect(
      typeof jwtVerifier({
        jwksUri: 'http://keys.internal/jwks',
        insecureHttp: true,
        issuer,
        audience,
      }),
    ).toBe('function');
  });

  it('refuse an algorithm of the other kind of key, or none that jose knows', () => {
    expect(() =>
      // @ts-expect-error HMAC with a key set: anyone could sign with its public keys
      jwtVerifier({ jwksUri: JWKS, issuer, audience, algorithms: ['HS256'] }),
    ).toThrow(TypeError);
    // @ts-expect-error a public-key algorithm with a secret
    expect(() => jwtVerifier({ secret: SECRET, issuer, audience, algorithms: ['RS256'] })).toThrow(
      TypeError,
    );
    // @ts-expect-error `none` is never allowed
    expect(() => jwtVerifier({ secret: SECRET, issuer, audience, algorithms: ['none'] })).toThrow(
      TypeError,
    );
    const { publicKey } = generateKeyPairSync('ed25519');
    // @ts-expect-error an HMAC algorithm with a public key
    expect(() => jwtVerifier({ key: publicKey, issuer, audience, algorithms: ['HS256'] })).toThrow(
      TypeError,
    );
  });

  it('take each key source with its algorithms, as docs/bearer.md shows them', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const hmac: readonly JwtHmacAlgorithm[] = ['HS256', 'HS384'];
    const some: JwtOptions = { jwksUri: new URL('https://issuer.test/jwks'), issuer, audience };
    const made = [
      jwtVerifier({
        jwksUri: JWKS,
        jwks: { cooldownDuration: 1000 },
        issuer: [issuer],
        audience,
        algorithms: ['RS256', 'ES256', 'EdDSA'],
      }),
      jwtVerifier({ key: publicKey, issuer, audience, algorithms: ['ES256'] }),
      jwtVerifier({ secret: SECRET.repeat(2), issuer, audience, algorithms: hmac }),
      jwtVerifier({ secret: Buffer.from(SECRET), issuer, audience, typ: 'at+jwt' }),
      jwtVerifier(some),
      jwtBearer({ jwksUri: JWKS, issuer, audience, cache: true }),
      bearer({ verify: jwtVerifier({ ...some, clockTolerance: 0 }) }),
    ];
    expect(made).toHaveLength(7);
    const names: JwtAlgorithm[] = ['HS512', 'PS512', 'Ed25519'];
    expect(names).toHaveLength(3);
  });
});

describe('negotiate()', () => {
  it('refuses stripRealm beside verify', () => {
    expect(() =>
      // @ts-expect-error verify gets the whole principal: stripRealm would do nothing
      negotiate({ servicePrincipal: 'HTTP@localhost', verify: (p) => p, stripRealm: true }),
    ).toThrow(TypeError);
    expect(() =>
      // @ts-expect-error nor a list of realms
      negotiate({ servicePrincipal: 'HTTP@localhost', verify: (p) => p, stripRealm: ['A.TEST'] }),
    ).toThrow(TypeError);
  });
});

/** The forms of docs/negotiate.md, compiled only (negotiate() loads the kerberos addon). */
export function negotiateForms(): NegotiateOptions[] {
  const verify: NegotiateVerify = (principal) => principal.split('@')[0];
  return [
    { servicePrincipal: 'HTTP@www.example.com' },
    { servicePrincipal: 'HTTP@www.example.com', stripRealm: true, realms: ['EXAMPLE.COM'] },
    { servicePrincipal: 'HTTP@www.example.com', stripRealm: ['EXAMPLE.COM'], mutual: false },
    { servicePrincipal: 'HTTP@www.example.com', verify },
    { servicePrincipal: 'HTTP@www.example.com', verify, stripRealm: false, keytab: 'a.keytab' },
  ];
}
