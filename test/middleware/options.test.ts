/**
 * Setup-time option checks: a misspelt or mistyped option is a TypeError that names it, not an
 * option ignored in silence (JavaScript callers get no excess-property check).
 */
import http from 'node:http';
import net from 'node:net';
import {
  authenticate,
  basic,
  bearer,
  digest,
  introspection,
  MemoryNonceStore,
  parseChallenges,
  requireScopes,
} from 'authscheme';
import { createAuthFetch } from 'authscheme/client';
import { jwtBearer, jwtVerifier } from 'authscheme/jwt';
import { negotiate } from 'authscheme/negotiate';
import { RedisNonceStore } from 'authscheme/redis';
import { Redis } from 'ioredis';
import { createClient } from 'redis';

const users = { alice: 'secret' };
const verify = () => false;
const jwt = { secret: 'x'.repeat(32), issuer: 'i', audience: 'a' };
const anyOptions = <T>(options: object) => options as T;

describe('unknown options', () => {
  it.each<[string, () => unknown, string]>([
    [
      'authenticate',
      () => authenticate(anyOptions({ schemes: [basic({ users })], realms: 'x' })),
      'authenticate(): unknown option `realms`',
    ],
    [
      'basic',
      () => basic(anyOptions({ users, charSet: true })),
      'basic(): unknown option `charSet`',
    ],
    [
      'digest',
      () => digest(anyOptions({ users, userHash: true })),
      'digest(): unknown option `userHash`',
    ],
    [
      'digest (algorithm, not algorithms)',
      () => digest(anyOptions({ users, algorithm: 'SHA-256' })),
      'digest(): unknown option `algorithm`',
    ],
    [
      'bearer',
      () => bearer(anyOptions({ verify, scopes: ['a'] })),
      'bearer: unknown option `scopes`',
    ],
    [
      'bearer cache',
      () => bearer(anyOptions({ verify, cache: { maxSize: 5 } })),
      'bearer: cache: unknown option `maxSize`',
    ],
    [
      'jwtVerifier',
      () => jwtVerifier(anyOptions({ ...jwt, audiences: ['a'] })),
      'jwtVerifier: unknown option `audiences`',
    ],
    [
      'jwtVerifier jwks',
      () =>
        jwtVerifier(
          anyOptions({
            issuer: 'i',
            audience: 'a',
            jwksUri: 'https://as.test/jwks',
            jwks: { cooldown: 1 },
          }),
        ),
      'jwtVerifier: jwks: unknown option `cooldown`',
    ],
    [
      'jwtBearer',
      () => jwtBearer(anyOptions({ ...jwt, cach: true })),
      'jwtBearer: unknown option `cach`',
    ],
    [
      'introspection',
      () =>
        introspection(
          anyOptions({ endpoint: 'https://as.test/', clientId: 'a', clientSecret: 'b', aud: 'x' }),
        ),
      'introspection: unknown option `aud`',
    ],
    [
      'negotiate',
      () => negotiate(anyOptions({ servicePrincipal: 'HTTP@localhost', keyTab: '/x' })),
      'negotiate(): unknown option `keyTab`',
    ],
    [
      'MemoryNonceStore',
      () => new MemoryNonceStore(anyOptions({ maxNonces: 5 })),
      'MemoryNonceStore: unknown option `maxNonces`',
    ],
    [
      'RedisNonceStore',
      () => new RedisNonceStore(anyOptions({ client: {}, prefix: 'x' })),
      'RedisNonceStore: unknown option `prefix`',
    ],
    [
      'requireScopes',
      () => requireScopes(anyOptions({ allOf: ['a'], relm: 'api' })),
      'requireScopes: unknown option `relm`',
    ],
    [
      'limits',
      () => authenticate(anyOptions({ schemes: [basic({ users })], limits: { maxlength: 5 } })),
      'HeaderLimits: unknown option `maxlength`',
    ],
    [
      "the codec's limits",
      () => parseChallenges('Basic', anyOptions({ maxchallenges: 1 })),
      'HeaderLimits: unknown option `maxchallenges`',
    ],
    [
      'createAuthFetch',
      () => createAuthFetch({ token: 'abc' }, anyOptions({ insecure: true })),
      'createAuthFetch(): unknown option `insecure`',
    ],
  ])('%s names the unknown option and lists the known ones', (_name, setup, message) => {
    expect(setup).toThrow(TypeError);
    expect(setup).toThrow(message);
    expect(setup).toThrow('(the options are ');
  });

  it('accepts every documented option of jwtBearer, split between jwtVerifier and bearer', () => {
    const scheme = jwtBearer({
      ...jwt,
      clockTolerance: 1,
      realm: 'api',
      cache: { max: 10, maxAge: 1000 },
      requiredScopes: ['read'],
      allowQueryToken: false,
    });
    expect(scheme.name).toBe('Bearer');
  });

  it('refuses verify in jwtBearer (it would be ignored), unless undefined', () => {
    expect(() => jwtBearer(anyOptions({ ...jwt, verify }))).toThrow(
      /jwtBearer: `verify` is made from the JWT options/,
    );
    expect(() => jwtBearer(anyOptions({ ...jwt, verify: undefined }))).not.toThrow();
  });
});

describe('null options', () => {
  // One rule: null is no option's default. Some options read null as absent and others refused
  // it; from JSON (no undefined) the first kind fell back in silence.
  const store = new MemoryNonceStore();
  it.each<[string, () => unknown, string]>([
    [
      'authenticate realm',
      () => authenticate(anyOptions({ schemes: [basic({ users })], realm: null })),
      'authenticate(): `realm` is null',
    ],
    [
      'authenticate timeout',
      () => authenticate(anyOptions({ schemes: [basic({ users })], timeout: null })),
      'authenticate(): `timeout` is null',
    ],
    ['basic realm', () => basic(anyOptions({ users, realm: null })), 'basic(): `realm` is null'],
    [
      'digest secret',
      () => digest(anyOptions({ users, secret: null })),
      'digest(): `secret` is null',
    ],
    [
      'digest algorithms',
      () => digest(anyOptions({ users, algorithms: null })),
      'digest(): `algorithms` is null',
    ],
    [
      'digest nonceLifetime',
      () => digest(anyOptions({ users, nonceLifetime: null })),
      'digest(): `nonceLifetime` is null',
    ],
    [
      'bearer requiredScopes',
      () => bearer(anyOptions({ verify, requiredScopes: null })),
      'bearer: `requiredScopes` is null',
    ],
    [
      'requireScopes realm',
      () => requireScopes(anyOptions({ allOf: ['a'], realm: null })),
      'requireScopes: `realm` is null',
    ],
    [
      'jwtVerifier clockTolerance',
      () => jwtVerifier(anyOptions({ ...jwt, clockTolerance: null })),
      'jwtVerifier: `clockTolerance` is null',
    ],
    [
      'jwtBearer cache',
      () => jwtBearer(anyOptions({ ...jwt, cache: null })),
      'jwtBearer: `cache` is null',
    ],
    [
      'createAuthFetch verifyServer',
      () => createAuthFetch({ username: 'a', password: 'b' }, anyOptions({ verifyServer: null })),
      'createAuthFetch(): `verifyServer` is null',
    ],
    [
      'MemoryNonceStore maxEntries',
      () => new MemoryNonceStore(anyOptions({ maxEntries: null })),
      'MemoryNonceStore: `maxEntries` is null',
    ],
    [
      'negotiate realms',
      () => negotiate(anyOptions({ servicePrincipal: 'HTTP@x', realms: null })),
      'negotiate(): `realms` is null',
    ],
  ])('refuses %s: null', (_title, make, message) => {
    expect(make).toThrow(TypeError);
    expect(make).toThrow(
      `${message}: give a value, or leave the option out (or undefined) where it has a default`,
    );
  });

  it('takes undefined for the same options as absent', () => {
    expect(() =>
      authenticate({ schemes: [basic({ users, realm: undefined })], realm: undefined }),
    ).not.toThrow();
    expect(() =>
      digest({ users, store, algorithms: undefined, nonceLifetime: undefined }),
    ).not.toThrow();
  });
});

describe('secrets given as text', () => {
  // A line end kept from a file counts toward the minimum, and a process that reads the secret
  // from the environment signs with other bytes: Digest nonces or HMAC tokens of one refused by
  // the other. The bytes themselves can still be anything, as a Buffer.
  const lineEnd = 'is text ending in a line end (read from a file as is?)';
  it.each([
    ['a line end', `${'s'.repeat(40)}\n`],
    ['a CRLF', `${'s'.repeat(40)}\r\n`],
  ])(
    'refuses a Digest or JWT secret string with %s, not the same bytes as a Buffer',
    (_title, secret) => {
      expect(() => digest({ users, secret })).toThrow(
        new TypeError(
          `digest(): \`secret\` ${lineEnd}, which would count toward its length and be signed with, where another process reading it from the environment would not: give the secret without it, or its bytes as a Buffer`,
        ),
      );
      expect(() => jwtVerifier({ ...jwt, secret })).toThrow(`jwtVerifier: \`secret\` ${lineEnd}`);
      expect(() => digest({ users, secret: Buffer.from(secret) })).not.toThrow();
      expect(() => jwtVerifier({ ...jwt, secret: Buffer.from(secret) })).not.toThrow();
    },
  );

  it('takes white space inside or around, and random bytes as latin1 text even when they end in a line end', () => {
    // Bytes as latin1 characters hold control characters besides the last: not text from a file.
    const random = `${Buffer.from(Array.from({ length: 40 }, (_, i) => (i * 37) % 256)).toString('latin1')}\n`;
    for (const secret of [
      'correct horse battery staple and more words',
      ` ${'s'.repeat(40)} `,
      random,
    ]) {
      expect(() => digest({ users, secret })).not.toThrow();
      expect(() => jwtVerifier({ ...jwt, secret })).not.toThrow();
    }
  });
});

describe('option types', () => {
  const introspect = { endpoint: 'https://as.test/', clientId: 'a', clientSecret: 'b' };
  const remote = { jwksUri: 'https://as.test/jwks', issuer: 'i', audience: 'a' };
  it.each<[string, () => unknown, string]>([
    [
      'jwtVerifier typ',
      () => jwtVerifier(anyOptions({ ...jwt, typ: 5 })),
      'jwtVerifier: `typ` must be a non-empty string without control characters or surrounding white space',
    ],
    [
      'jwtVerifier typ empty',
      () => jwtVerifier(anyOptions({ ...jwt, typ: '' })),
      'jwtVerifier: `typ` must be a non-empty string without control characters or surrounding white space',
    ],
    [
      'introspection issuer empty',
      () => introspection(anyOptions({ ...introspect, issuer: '' })),
      'introspection: `issuer` must be a non-empty string',
    ],
    [
      'jwtVerifier jwks.cacheMaxAge a numeric string (compares as a number, but is none)',
      () => jwtVerifier(anyOptions({ ...remote, jwks: { cacheMaxAge: '600000' } })),
      'jwtVerifier: jwks: `cacheMaxAge` must be a number of milliseconds >= 0',
    ],
    [
      'jwtVerifier userClaim',
      () => jwtVerifier(anyOptions({ ...jwt, userClaim: 5 })),
      'jwtVerifier: `userClaim` must be a non-empty string without control characters or surrounding white space',
    ],
    [
      'jwtVerifier scopeClaim',
      () => jwtVerifier(anyOptions({ ...jwt, scopeClaim: [] })),
      'jwtVerifier: `scopeClaim` must be a non-empty string without control characters or surrounding white space',
    ],
    [
      'jwtVerifier jwks.cooldownDuration',
      () => jwtVerifier(anyOptions({ ...remote, jwks: { cooldownDuration: 'x' } })),
      'jwtVerifier: jwks: `cooldownDuration` must be a number of milliseconds >= 0',
    ],
    [
      'jwtVerifier jwks.timeoutDuration',
      () => jwtVerifier(anyOptions({ ...remote, jwks: { timeoutDuration: Infinity } })),
      'jwtVerifier: jwks: `timeoutDuration` must be an integer number of milliseconds from 1 to 2^31 - 1',
    ],
    [
      'introspection userClaim',
      () => introspection(anyOptions({ ...introspect, userClaim: 5 })),
      'introspection: `userClaim` must be a non-empty string without control characters or surrounding white space',
    ],
    // Names compared exactly: a line end or padding from a file or variable matched nothing.
    [
      'jwtVerifier userClaim with a line end',
      () => jwtVerifier({ ...jwt, userClaim: 'email\n' }),
      'jwtVerifier: `userClaim` must be a non-empty string without control characters or surrounding white space',
    ],
    [
      'jwtVerifier scopeClaim padded',
      () => jwtVerifier({ ...jwt, scopeClaim: ' roles' }),
      'jwtVerifier: `scopeClaim` must be a non-empty string without control characters or surrounding white space',
    ],
    [
      'jwtVerifier typ padded',
      () => jwtVerifier({ ...jwt, typ: 'at+jwt ' }),
      'jwtVerifier: `typ` must be a non-empty string without control characters or surrounding white space',
    ],
    [
      'introspection userClaim with a line end',
      () => introspection({ ...introspect, userClaim: 'username\r\n' }),
      'introspection: `userClaim` must be a non-empty string without control characters or surrounding white space',
    ],
    [
      'introspection tokenTypeHint padded',
      () => introspection({ ...introspect, tokenTypeHint: 'access_token ' }),
      'introspection: `tokenTypeHint` must be a non-empty string without control characters or surrounding white space',
    ],
    [
      'introspection issuer',
      () => introspection(anyOptions({ ...introspect, issuer: 5 })),
      'introspection: `issuer` must be a non-empty string',
    ],
    [
      'introspection audience',
      () => introspection(anyOptions({ ...introspect, audience: [5] })),
      'introspection: `audience` must be a non-empty string or list of them',
    ],
    [
      'introspection tokenTypeHint',
      () => introspection(anyOptions({ ...introspect, tokenTypeHint: 5 })),
      'introspection: `tokenTypeHint` must be a non-empty string without control characters or surrounding white space',
    ],
    [
      'proxy',
      () => authenticate(anyOptions({ schemes: [basic({ users })], proxy: 'yes' })),
      'authenticate(): `proxy` must be a boolean',
    ],
    [
      'allowPreflight',
      () => authenticate(anyOptions({ schemes: [basic({ users })], allowPreflight: 1 })),
      'authenticate(): `allowPreflight` must be a boolean',
    ],
    [
      'cacheControl',
      () => authenticate(anyOptions({ schemes: [basic({ users })], cacheControl: true })),
      'authenticate(): `cacheControl` must be a string or false',
    ],
    [
      'contentType',
      () => authenticate(anyOptions({ schemes: [basic({ users })], contentType: 5 })),
      'authenticate(): `contentType` must be a string',
    ],
    [
      'limits',
      () => authenticate(anyOptions({ schemes: [basic({ users })], limits: 5 })),
      'authenticate(): `limits` must be a plain object (HeaderLimits)',
    ],
    [
      'limits in a Map (read as no limits at all)',
      () =>
        authenticate(
          anyOptions({ schemes: [basic({ users })], limits: new Map([['maxLength', 100]]) }),
        ),
      'authenticate(): `limits` must be a plain object (HeaderLimits)',
    ],
    [
      'charset',
      () => basic(anyOptions({ users, charset: 'utf-8' })),
      'basic(): `charset` must be a boolean',
    ],
    [
      'userhash',
      () => digest(anyOptions({ users, userhash: 'true' })),
      'digest(): `userhash` must be a boolean',
    ],
    [
      'allowFormToken',
      () => bearer(anyOptions({ verify, allowFormToken: 'yes' })),
      'bearer: `allowFormToken` must be a boolean',
    ],
    [
      'jwtVerifier allowBoundTokens',
      () => jwtVerifier(anyOptions({ ...jwt, allowBoundTokens: 'true' })),
      'jwtVerifier: `allowBoundTokens` must be a boolean',
    ],
    [
      'introspection insecureHttp',
      () =>
        introspection(
          anyOptions({
            endpoint: 'http://as.test/',
            clientId: 'a',
            clientSecret: 'b',
            insecureHttp: 1,
          }),
        ),
      'introspection: `insecureHttp` must be a boolean',
    ],
    [
      'createAuthFetch with verifyServer among the credentials (the check it asks for was skipped)',
      () => createAuthFetch(anyOptions({ username: 'a', password: 'b', verifyServer: 'require' })),
      'createAuthFetch(): unknown credential `verifyServer` (credentials are { username, password } or { token }; options go in the second argument)',
    ],
    [
      'createAuthFetch with a token and a password (one of them was ignored)',
      () => createAuthFetch(anyOptions({ token: 'abc', username: 'a', password: 'b' })),
      'createAuthFetch(): give { username, password } or { token }, not both',
    ],
    [
      'createAuthFetch with a password and a token left undefined (said `username` was unknown)',
      () => createAuthFetch(anyOptions({ token: undefined, username: 'a', password: 1 })),
      'createAuthFetch(): username and password must be strings',
    ],
    [
      'createAuthFetch with a user name and a token left undefined, no password (not "both")',
      () => createAuthFetch(anyOptions({ token: undefined, username: 'a' })),
      'createAuthFetch(): username and password must be strings',
    ],
    [
      'createAuthFetch with a password and a token left undefined, no user name (not "both")',
      () => createAuthFetch(anyOptions({ token: undefined, password: 'b' })),
      'createAuthFetch(): username and password must be strings',
    ],
    [
      "createAuthFetch with a token left undefined and verifyServer 'require' (named the option, not the token)",
      () => createAuthFetch(anyOptions({ token: undefined }), { verifyServer: 'require' }),
      'createAuthFetch(): the token is not in RFC 6750 b64token syntax',
    ],
    [
      'createAuthFetch with a token that is undefined alone (process.env.TOKEN unset)',
      () => createAuthFetch(anyOptions({ token: undefined })),
      'createAuthFetch(): the token is not in RFC 6750 b64token syntax',
    ],
    [
      "createAuthFetch insecureHttp 'false' (truthy: a token in clear)",
      () => createAuthFetch({ token: 'abc' }, anyOptions({ insecureHttp: 'false' })),
      'createAuthFetch(): `insecureHttp` must be a boolean',
    ],
    [
      'createAuthFetch schemes in another case (it crashed on a Basic challenge)',
      () => createAuthFetch({ username: 'a', password: 'b' }, anyOptions({ schemes: ['basic'] })),
      "createAuthFetch(): schemes must be a non-empty list of 'Digest' and 'Basic'",
    ],
    [
      'createAuthFetch algorithms in lower case (Digest was never answered)',
      () =>
        createAuthFetch({ username: 'a', password: 'b' }, anyOptions({ algorithms: ['sha-256'] })),
      'createAuthFetch(): algorithms must be a non-empty list of SHA-512-256, SHA-512-256-sess, SHA-256, SHA-256-sess, MD5, MD5-sess',
    ],
    [
      'jwks not an object',
      () => jwtVerifier(anyOptions({ ...jwt, jwks: 'x' })),
      'jwtVerifier: jwks must be an object',
    ],
    [
      'jwks without jwksUri',
      () => jwtVerifier(anyOptions({ ...jwt, jwks: { cooldownDuration: 1 } })),
      'jwtVerifier: jwks configures the key set of jwksUri; give jwksUri',
    ],
  ])('%s of the wrong type is a TypeError', (_name, setup, message) => {
    expect(setup).toThrow(new TypeError(message));
  });

  it('reads each credential of createAuthFetch once (a getter answering otherwise later escapes no check)', () => {
    const reads: string[] = [];
    const counted = (values: Record<string, string>) =>
      Object.defineProperties(
        {},
        Object.fromEntries(
          Object.entries(values).map(([key, value]) => [
            key,
            { enumerable: true, get: () => (reads.push(key), value) },
          ]),
        ),
      );
    expect(typeof createAuthFetch(anyOptions(counted({ token: 'abc' })))).toBe('function');
    expect(typeof createAuthFetch(anyOptions(counted({ username: 'a', password: 'b' })))).toBe(
      'function',
    );
    expect(reads.sort()).toEqual(['password', 'token', 'username']);
  });

  it('takes jwks durations up to their edges, and refuses them one step past', () => {
    const withJwks = (jwks: object) => () => jwtVerifier(anyOptions({ ...remote, jwks }));
    // A delay handed to a timer: 0 would time out at once, past 2^31 - 1 setTimeout makes 1 ms.
    for (const timeoutDuration of [1, 2 ** 31 - 1]) {
      expect(withJwks({ timeoutDuration })).not.toThrow();
    }
    for (const timeoutDuration of [0, 2 ** 31, 1.5]) {
      expect(withJwks({ timeoutDuration })).toThrow(
        'jwtVerifier: jwks: `timeoutDuration` must be an integer number of milliseconds from 1 to 2^31 - 1',
      );
    }
    for (const cooldownDuration of [0, 0.5]) {
      expect(withJwks({ cooldownDuration, cacheMaxAge: cooldownDuration })).not.toThrow();
    }
    for (const cacheMaxAge of [-1, NaN]) {
      expect(withJwks({ cacheMaxAge })).toThrow(
        'jwtVerifier: jwks: `cacheMaxAge` must be a number of milliseconds >= 0',
      );
    }
  });

  it('takes Infinity for the JWKS cache age and cool-down, as jose does', () => {
    expect(() =>
      jwtVerifier({ ...remote, jwks: { cacheMaxAge: Infinity, cooldownDuration: Infinity } }),
    ).not.toThrow();
  });

  it('refuses limits that are not an object', () => {
    expect(() => parseChallenges('Basic', anyOptions(5 as unknown as object))).toThrow(
      new TypeError('HeaderLimits must be an object'),
    );
  });

  it('names authenticate() in a bad limit, refuses empty contentType and cacheControl, and sets schemes up only once every option passed', () => {
    expect(() => authenticate({ schemes: [basic({ users })], limits: { maxLength: -1 } })).toThrow(
      'authenticate(): HeaderLimits.maxLength must be a positive integer',
    );
    for (const option of [
      { contentType: '' },
      { cacheControl: '' },
      { contentType: ' ' },
      { cacheControl: '\t ' },
    ]) {
      expect(() => authenticate({ schemes: [basic({ users })], ...option })).toThrow(
        'authenticate(): `contentType` and `cacheControl` must not be empty',
      );
    }
    const setup = jest.fn();
    const scheme = { ...basic({ users }), setup };
    expect(() => authenticate({ schemes: [scheme], timeout: -1 })).toThrow(TypeError);
    expect(setup).not.toHaveBeenCalled();
    authenticate({ schemes: [scheme] });
    expect(setup).toHaveBeenCalledTimes(1);
  });

  // authenticate() and digest() checked this text with copies of one function, worded apart.
  it.each<[string, () => unknown, string]>([
    [
      'contentType with a LF',
      () => authenticate({ schemes: [basic({ users })], contentType: 'text/plain\nX: 1' }),
      'authenticate(): `contentType`',
    ],
    [
      'cacheControl with a character above U+00FF',
      () => authenticate({ schemes: [basic({ users })], cacheControl: 'no-store \u20ac' }),
      'authenticate(): `cacheControl`',
    ],
    // (A domain URI is checked as a URI, in test/schemes/digest/verify.test.ts.)
    ['Digest opaque with a NUL', () => digest({ users, opaque: 'a\u0000b' }), 'digest(): `opaque`'],
  ])('refuses %s at setup, in the words every header text check uses', (_label, make, named) => {
    expect(make).toThrow(
      new TypeError(
        `${named} holds a control character (HTAB aside) or a character above U+00FF, which a ` +
          'header field cannot carry',
      ),
    );
  });

  it('takes a tab in header text other than a realm, as a field value may hold one', () => {
    expect(() => digest({ users, opaque: 'a\tb' })).not.toThrow();
    expect(() =>
      authenticate({ schemes: [basic({ users })], cacheControl: 'private,\tno-cache' }),
    ).not.toThrow();
    expect(() => digest({ users, opaque: 5 as unknown as string })).toThrow(
      new TypeError('digest(): `opaque` must be a string'),
    );
  });

  it('refuses a shared store without a secret (an unset environment variable)', () => {
    // A node-redis-shaped client: digest() only sets up here, nothing is sent.
    const redis = new RedisNonceStore({
      client: { eval: async () => 1, evalSha: async () => 1 },
    });
    const custom = { use: async () => true, shared: true };
    for (const store of [redis, custom]) {
      expect(() => digest({ users, store, secret: process.env['NO_SUCH_VARIABLE'] })).toThrow(
        /a shared nonce store needs `secret`/,
      );
      expect(() => digest({ users, store, secret: 'x'.repeat(32) })).not.toThrow();
    }
    // One process: a random key is right, with the default store, a MemoryNonceStore or a
    // wrapper around one.
    const memory = new MemoryNonceStore();
    expect(() => digest({ users, secret: undefined })).not.toThrow();
    expect(() => digest({ users, store: memory })).not.toThrow();
    expect(() => digest({ users, store: { use: memory.use.bind(memory) } })).not.toThrow();
    // A store that is none gets its own message; null is refused as for every option.
    expect(() => digest(anyOptions({ users, store: 42 }))).toThrow(/store must be a NonceStore/);
    expect(() => digest(anyOptions({ users, store: null }))).toThrow(/`store` is null/);
  });
});

describe('negotiate() setup messages', () => {
  it('says a missing servicePrincipal is required, and that stripRealm may be a boolean', () => {
    expect(() => negotiate(anyOptions({}))).toThrow(
      new TypeError('negotiate(): servicePrincipal is required, e.g. HTTP@www.example.com'),
    );
    expect(() =>
      negotiate(anyOptions({ servicePrincipal: 'HTTP@localhost', stripRealm: 'EXAMPLE.COM' })),
    ).toThrow('stripRealm must be a non-empty list of realm names (or a boolean)');
  });
});

describe('setup mistakes, told with what to do', () => {
  it('tells a scheme factory given uncalled (schemes: [basic]) to be called', () => {
    expect(() => authenticate(anyOptions({ schemes: [basic] }))).toThrow(
      new TypeError(
        'authenticate(): schemes[0] is a function, not a scheme: give the scheme it makes ' +
          '(basic({ … })), not the function itself',
      ),
    );
    expect(() => authenticate(anyOptions({ schemes: [basic({ users }), bearer] }))).toThrow(
      'authenticate(): schemes[1] is a function, not a scheme: give the scheme it makes (bearer({ … }))',
    );
    expect(() => authenticate(anyOptions({ schemes: [basic({ users }), { name: 'X' }] }))).toThrow(
      'authenticate(): schemes[1] is not a scheme (one that basic(), digest(), bearer() make, ' +
        'or an object with name, challenges() and verify(): the Scheme interface)',
    );
  });

  // A promise not awaited: node-redis's connect() answers one (its README writes
  // `await createClient().connect()`), so do loadHtpasswd(), loadHtdigest() and jose's key imports.
  // "must be a function" or "must be an ioredis client" alone did not say what was wrong.
  it('tells a promise given where its value was meant to be awaited', async () => {
    const pending = <T>(value: T) => Promise.resolve(value);
    const client = createClient();
    expect(() => new RedisNonceStore(anyOptions({ client: pending(client) }))).toThrow(
      new TypeError(
        'RedisNonceStore: client is a promise (node-redis’s connect() returns one): ' +
          'pass the client once it has connected (await client.connect())',
      ),
    );
    expect(() => basic(anyOptions({ verify: pending(verify) }))).toThrow(
      new TypeError('basic(): `verify` must be a function (it is a promise: await it first)'),
    );
    expect(() => basic(anyOptions({ users: pending(users) }))).toThrow(
      '(it is a promise: await it first)',
    );
    expect(() => digest(anyOptions({ getHA1: pending(verify) }))).toThrow(
      new TypeError('digest(): getHA1 must be a function (it is a promise: await it first)'),
    );
    expect(() => digest(anyOptions({ users: pending(users) }))).toThrow(
      '(it is a promise: await it first)',
    );
    expect(() => digest(anyOptions({ users, store: pending(new MemoryNonceStore()) }))).toThrow(
      '(it is a promise: await it first)',
    );
    expect(() => jwtVerifier(anyOptions({ key: pending({}), issuer: 'i', audience: 'a' }))).toThrow(
      'jwtVerifier: key must be a public (or private) KeyObject, CryptoKey, PEM string or JWK ' +
        '(it is a promise: await it first)',
    );
    // `(loadHtpasswd(path)).verify` without the await: the promise has no `verify`.
    expect(() => basic(anyOptions({ verify: undefined }))).toThrow(
      new TypeError(
        'basic(): give exactly one of `users` or `verify` (`verify` is undefined); loadHtpasswd() returns a promise: `(await loadHtpasswd(path)).verify`',
      ),
    );
    expect(() => digest(anyOptions({ getHA1: undefined }))).toThrow(
      new TypeError(
        'digest(): give exactly one of users, getPassword or getHA1 (getHA1 is undefined)',
      ),
    );
    // Two given: the undefined third is not what is wrong.
    expect(() => digest(anyOptions({ users, getPassword: () => 'x', getHA1: undefined }))).toThrow(
      new TypeError('digest(): give exactly one of users, getPassword or getHA1'),
    );
    // Without such a key, the message stays as it was.
    expect(() => basic(anyOptions({}))).toThrow(
      new TypeError('basic(): give exactly one of `users` or `verify`'),
    );
  });

  // `app.use(authenticate)`: Express calls the factory with each request, and every request got a
  // 500 "unknown option `_events`". Schemes given bare got "unknown option `0`" or "`name`".
  it('tells a factory mounted itself, and schemes given outside { schemes }, what to write', () => {
    const req = new http.IncomingMessage(new net.Socket());
    expect(() => authenticate(anyOptions(req))).toThrow(
      new TypeError(
        'authenticate() was called with a request: it was mounted itself ' +
          '(app.use(authenticate)); mount the middleware it makes: ' +
          'app.use(authenticate({ schemes: [ … ] }))',
      ),
    );
    expect(() =>
      requireScopes(
        anyOptions(req),
        anyOptions({}),
        anyOptions(() => undefined),
      ),
    ).toThrow(
      new TypeError(
        'requireScopes() was called with a request: it was mounted itself ' +
          '(app.use(requireScopes)); mount the middleware it makes: ' +
          "app.use(requireScopes('scope'))",
      ),
    );
    const scheme = basic({ users });
    expect(() => authenticate(anyOptions([scheme]))).toThrow(
      new TypeError(
        'authenticate(): give the schemes in an options object: authenticate({ schemes: [ … ] })',
      ),
    );
    expect(() => authenticate(anyOptions(scheme))).toThrow(
      new TypeError(
        'authenticate(): give the schemes in an options object: authenticate({ schemes: [ … ] })',
      ),
    );
  });

  // Only own enumerable keys are options: a settings object of the application's own class may
  // have methods named verify and challenges. It has its schemes, which a scheme has not.
  it('takes an options object with inherited verify and challenges methods for options', () => {
    class AuthSettings {
      schemes = [basic({ users })];
      realm = 'api';
      verify(): boolean {
        return true;
      }
      challenges(): string[] {
        return [];
      }
    }
    expect(typeof authenticate(new AuthSettings())).toBe('function');
  });

  it('tells a Redis client given in place of the options to go in { client }', () => {
    const io = new Redis({ lazyConnect: true });
    const message =
      'RedisNonceStore: pass the client in an options object: new RedisNonceStore({ client })';
    try {
      expect(() => new RedisNonceStore(anyOptions(io))).toThrow(new TypeError(message));
      expect(() => new RedisNonceStore(anyOptions(createClient()))).toThrow(new TypeError(message));
    } finally {
      io.disconnect();
    }
  });
});

// From a mutation-testing pass over authenticate()'s setup: `timeout` had no test of its edges.
describe('authenticate() timeout', () => {
  it('refuses a timeout that is no finite number of milliseconds >= 0', () => {
    for (const timeout of [-1, -0.5, NaN, Infinity, '100']) {
      expect(() =>
        authenticate({ schemes: [basic({ users })], timeout: timeout as number }),
      ).toThrow('authenticate(): `timeout` must be a number of milliseconds >= 0');
    }
  });
});
