import express from 'express';
import request from 'supertest';
import { authenticate, basic, type AuthenticationError, type AuthOutcome } from '../../../src';
import { parseChallenges } from '../../../src/header';
import { bearer, InvalidTokenError } from '../../../src/schemes/bearer';
import { bearerApp, HIT, tableVerify } from './helpers';

const TOKENS = {
  'alice-token': { user: 'alice', scopes: 'read write' },
  'bob-token': { user: 'bob', scopes: ['read'] },
  'carol-token': 'carol',
};
const verify = tableVerify(TOKENS);

describe('bearer(): RFC 6750 §3 challenges', () => {
  it('answers a request without credentials 401 with the bare challenge of §3 (no error)', async () => {
    const res = await request(bearerApp({ verify })).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="example"');
    expect(res.headers[HIT]).toBeUndefined();
  });

  // §3.1: a request that "attempted using an unsupported authentication method" lacks
  // authentication information: no error code, though it carried well-formed credentials.
  it.each([
    ['Basic YWxpY2U6c2VjcmV0'],
    ['Digest username="alice"'],
    ['Negotiate YIIBhwYGKwYBBQUC'],
  ])(
    'answers credentials of a scheme it does not offer (%s) 401 with the bare challenge',
    async (value) => {
      const res = await request(bearerApp({ verify })).get('/').set('Authorization', value);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="example"');
      expect(res.headers[HIT]).toBeUndefined();
    },
  );

  it('answers an expired token with the second example of §3', async () => {
    const app = bearerApp({
      verify: () => {
        throw new InvalidTokenError('The access token expired');
      },
    });
    const res = await request(app).get('/').set('Authorization', 'Bearer mF_9.B5f-4.1JqM');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="example", error="invalid_token", error_description="The access token expired"',
    );
  });

  it('answers a token the verifier refuses 401 error="invalid_token"', async () => {
    const res = await request(bearerApp({ verify })).get('/').set('Authorization', 'Bearer nope');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="example", error="invalid_token"');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers 401 invalid_token when the verifier says the token already expired (expiresAt)', async () => {
    const app = bearerApp({ verify: () => ({ user: 'x', expiresAt: Date.now() - 1000 }) });
    const res = await request(app).get('/').set('Authorization', 'Bearer t');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="example", error="invalid_token", error_description="The access token expired"',
    );
  });

  it('answers an empty or scheme-less field 400 invalid_request when Bearer is the one scheme offered', async () => {
    for (const value of ['', ', ,', '"token"']) {
      const res = await request(bearerApp({ verify })).get('/').set('Authorization', value);
      expect(res.status).toBe(400);
      expect(res.headers['www-authenticate']).toBe(
        'Bearer realm="example", error="invalid_request"',
      );
    }
    // With several schemes offered, the field concerns none of them in particular.
    const both = express();
    both.use(
      authenticate({ realm: 'example', schemes: [basic({ users: {} }), bearer({ verify })] }),
    );
    const res = await request(both).get('/').set('Authorization', '');
    expect(res.status).toBe(400);
    // (Two field lines, which Node's client joins.)
    expect(res.headers['www-authenticate']).toBe(
      'Basic realm="example", charset="UTF-8", Bearer realm="example"',
    );
  });

  // RFC 6750 §3.1: invalid_request is a request that "includes a parameter more than once";
  // RFC 9110 §5.3: Authorization is a singleton field, so two lines are malformed.
  it('answers two Authorization lines 400 invalid_request', async () => {
    const res = await request(bearerApp({ verify }))
      .get('/')
      // (supertest's types take a list for Cookie only; Node sends each item as a line.)
      .set('Authorization', ['Bearer alice-token', 'Bearer bob-token'] as unknown as string);
    expect(res.status).toBe(400);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="example", error="invalid_request"');
    expect(res.headers[HIT]).toBeUndefined();
  });

  // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token. No token, or auth-params in its place,
  // is malformed (§3.1 invalid_request), and the verifier is never asked.
  it('answers Bearer without a token, or with auth-params instead, 400 invalid_request, without the verifier', async () => {
    const asked: string[] = [];
    const app = bearerApp({ verify: (token) => (asked.push(token), 'u') });
    for (const value of ['Bearer', 'Bearer a=b', 'Bearer realm="x", token=abc']) {
      const res = await request(app).get('/').set('Authorization', value);
      expect([res.status, res.headers['www-authenticate']]).toEqual([
        400,
        'Bearer realm="example", error="invalid_request", error_description="The Bearer credentials must be one token"',
      ]);
    }
    expect(asked).toEqual([]);
  });

  it.each([
    ['Basic a, b="', 'malformed Basic'],
    ['Digest username="a", username="b"', 'a Digest field with a duplicate parameter'],
    ['Token a b', 'an unknown scheme followed by junk'],
  ])(
    'answers %j (%s) 400 with the bare challenge: no error for a method Bearer does not cover (RFC 6750 §3.1)',
    async (value) => {
      const res = await request(bearerApp({ verify })).get('/').set('Authorization', value);
      expect(res.status).toBe(400);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="example"');
    },
  );

  // An introspection response or a database row read as JSON says "no expiry" with null.
  it('takes an expiresAt of null for no expiry', async () => {
    const app = bearerApp({ verify: () => ({ user: 'x', expiresAt: null as never }) });
    const res = await request(app).get('/').set('Authorization', 'Bearer t');
    expect([res.status, res.body.auth?.user]).toEqual([200, 'x']);
  });

  // 1e11 ms is March 1973: a past time in ms, not a future one in seconds.
  it('reads an expiresAt of 1e11 as ms, a time long past: 401 expired', async () => {
    const app = bearerApp({ verify: () => ({ user: 'x', expiresAt: 1e11 }) });
    const res = await request(app).get('/').set('Authorization', 'Bearer t');
    expect([res.status, res.headers['www-authenticate']]).toEqual([
      401,
      'Bearer realm="example", error="invalid_token", error_description="The access token expired"',
    ]);
  });

  it('takes an expiresAt in seconds (a JWT exp passed on as is) for the programming error it is', async () => {
    const verifySeconds = () => ({ user: 'x', expiresAt: Math.floor(Date.now() / 1000) + 3600 });
    const res = await request(bearerApp({ verify: verifySeconds }))
      .get('/')
      .set('Authorization', 'Bearer t');
    // Not a 401 "expired" for every token: the verifier is wrong, and next(err) says so.
    expect(res.status).toBe(500);
    expect(res.headers[HIT]).toBeUndefined();
    const scheme = bearer({ verify: verifySeconds });
    const ctx = { req: {}, res: {} } as never;
    expect(() => scheme.verify({ scheme: 'Bearer', token68: 't', params: {} }, ctx)).toThrow(
      'bearer: a verifier’s expiresAt looks like seconds since the epoch; give ms (exp * 1000)',
    );
    // The code of a verifier's other wrong results (`scopes`), so that audit counts it and says
    // why (it reported an error with neither code nor message).
    for (const expiresAt of [Math.floor(Date.now() / 1000) + 3600, 'tomorrow']) {
      const wrong = bearer({ verify: () => ({ user: 'x', expiresAt }) as never });
      expect(() => wrong.verify({ scheme: 'Bearer', token68: 't', params: {} }, ctx)).toThrow(
        expect.objectContaining({ code: 'ERR_AUTH_VERIFIER_RESULT' }),
      );
    }
    // 0, or any past time, is an expiry that has passed: 401, as for any expired token.
    for (const expiresAt of [0, new Date(0), 1000]) {
      const expired = await request(bearerApp({ verify: () => ({ user: 'x', expiresAt }) }))
        .get('/')
        .set('Authorization', 'Bearer t');
      expect(expired.status).toBe(401);
    }
  });

  it.each([
    ['Bearer \tt', 'a tab after the space (1*SP, RFC 6750 §2.1)'],
    ['Bearer', 'no token'],
    ['Bearer ', 'no token after the space'],
    ['Bearer a=b', 'auth-params instead of a token'],
    ['Bearer a="b", c=d', 'several auth-params'],
  ])('answers %j (%s) 400 error="invalid_request"', async (header) => {
    const res = await request(bearerApp({ verify })).get('/').set('Authorization', header);
    expect(res.status).toBe(400);
    const [challenge] = parseChallenges(res.headers['www-authenticate'] as string);
    expect(challenge?.params['error']).toBe('invalid_request');
    expect(res.headers[HIT]).toBeUndefined();
  });

  it('answers a token outside token68 syntax 400 (the codec refuses the field)', async () => {
    const res = await request(bearerApp({ verify }))
      .get('/')
      .set('Authorization', 'Bearer abc def');
    expect(res.status).toBe(400);
    expect(res.headers[HIT]).toBeUndefined();
  });

  it('answers 403 insufficient_scope with the required scope', async () => {
    const app = bearerApp({ verify, requiredScopes: ['write'] });
    const res = await request(app).get('/').set('Authorization', 'Bearer bob-token');
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="example", scope="write", error="insufficient_scope", error_description="The access token lacks the required scope"',
    );
  });

  it('names the user a 403 insufficient_scope refused, whose token verified (audit, the error)', async () => {
    const outcomes: AuthOutcome[] = [];
    const errors: unknown[] = [];
    const app = express();
    app.use(
      authenticate({
        onFailure: 'next',
        audit: (outcome) => outcomes.push(outcome),
        schemes: [bearer({ verify, requiredScopes: ['write'], cache: true })],
      }),
    );
    app.use(
      (err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        errors.push(err);
        res.status(403).end();
      },
    );
    // The second request is answered from the validation cache.
    for (let i = 0; i < 2; i++) {
      await request(app).get('/').set('Authorization', 'Bearer bob-token').expect(403);
    }
    await request(app).get('/').set('Authorization', 'Bearer nope').expect(403);
    expect(outcomes.map(({ user, code }) => [user, code])).toEqual([
      ['bob', 'ERR_AUTH_INSUFFICIENT_SCOPE'],
      ['bob', 'ERR_AUTH_INSUFFICIENT_SCOPE'],
      // A token the verifier refused names no one.
      [undefined, 'ERR_AUTH_INVALID_CREDENTIALS'],
    ]);
    expect(errors.map((err) => (err as AuthenticationError).user)).toEqual([
      'bob',
      'bob',
      undefined,
    ]);
  });

  it('names the required scopes in every challenge, including the bare one', async () => {
    const app = bearerApp({ verify, requiredScopes: ['read', 'write'] });
    const res = await request(app).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="example", scope="read write"');
  });

  it('adds error_uri to error challenges only', async () => {
    const app = bearerApp({ verify, errorUri: 'https://example.com/errors/bearer' });
    const bare = await request(app).get('/');
    expect(bare.headers['www-authenticate']).toBe('Bearer realm="example"');
    const res = await request(app).get('/').set('Authorization', 'Bearer nope');
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="example", error="invalid_token", error_uri="https://example.com/errors/bearer"',
    );
  });

  it('uses its own realm over the one of authenticate()', async () => {
    const res = await request(bearerApp({ verify, realm: 'own "realm"' })).get('/');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="own \\"realm\\""');
  });

  it('answers 407 with Proxy-Authenticate in proxy mode', async () => {
    const res = await request(bearerApp({ verify }, { proxy: true }))
      .get('/')
      .set('Proxy-Authorization', 'Bearer nope');
    expect(res.status).toBe(407);
    expect(res.headers['proxy-authenticate']).toBe('Bearer realm="example", error="invalid_token"');
  });

  it.each([
    ['a "quoted" word', "The token: a 'quoted' word"],
    ['back\\slash', 'The token: back/slash'],
    ['non-ASCII é ü 漢', 'The token: non-ASCII ? ? ?'],
    ['CR\r\nLF\tand NUL\u0000', 'The token: CR??LF?and NUL?'],
  ])('restricts a verifier description with %j to RFC 6750 characters', async (text, expected) => {
    const app = bearerApp({
      verify: () => {
        throw new InvalidTokenError(`The token: ${text}`);
      },
    });
    const res = await request(app).get('/').set('Authorization', 'Bearer t');
    expect(res.status).toBe(401);
    const [challenge] = parseChallenges(res.headers['www-authenticate'] as string);
    expect(challenge?.params['error_description']).toBe(expected);
  });

  // RFC 6750 §3: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E ): '~' is kept.
  it('keeps every allowed character of a description, up to ~', async () => {
    const app = bearerApp({
      verify: () => {
        throw new InvalidTokenError('! # [ ] ~');
      },
    });
    const res = await request(app).get('/').set('Authorization', 'Bearer t');
    const [challenge] = parseChallenges(res.headers['www-authenticate'] as string);
    expect(challenge?.params['error_description']).toBe('! # [ ] ~');
  });

  it('cuts a very long description', async () => {
    const app = bearerApp({
      verify: () => {
        throw new InvalidTokenError('x'.repeat(5000));
      },
    });
    const res = await request(app).get('/').set('Authorization', 'Bearer t');
    const [challenge] = parseChallenges(res.headers['www-authenticate'] as string);
    expect(challenge?.params['error_description']).toBe('x'.repeat(200));
  });
});

describe('bearer(): verification', () => {
  it('accepts a known token and puts user and normalised scopes on req.auth', async () => {
    const res = await request(bearerApp({ verify }))
      .get('/')
      .set('Authorization', 'Bearer alice-token');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      auth: { scheme: 'Bearer', user: 'alice', scopes: ['read', 'write'] },
    });
  });

  // RFC 6749 §3.3: scope = scope-token *( SP scope-token ), scope-token = 1*NQCHAR: an empty
  // item between spaces, or an empty entry of a list, is no scope.
  it('puts no empty scope on req.auth, from extra spaces or an empty list entry', async () => {
    for (const scopes of [' read  write ', ['read', '', 'write']]) {
      const res = await request(bearerApp({ verify: () => ({ user: 'dave', scopes }) }))
        .get('/')
        .set('Authorization', 'Bearer t');
      expect(res.body).toEqual({
        auth: { scheme: 'Bearer', user: 'dave', scopes: ['read', 'write'] },
      });
    }
  });

  it('names a scope required twice once in the challenge', async () => {
    const app = bearerApp({ verify, requiredScopes: ['admin', 'read', 'admin'] });
    const res = await request(app).get('/');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="example", scope="admin read"');
  });

  it('accepts a user name alone, with no scopes', async () => {
    const res = await request(bearerApp({ verify }))
      .get('/')
      .set('Authorization', 'Bearer carol-token');
    expect(res.body).toEqual({ auth: { scheme: 'Bearer', user: 'carol', scopes: [] } });
  });

  it.each(['bearer', 'BEARER', 'BeArEr'])(
    'matches the scheme name %s case-insensitively',
    async (name) => {
      const res = await request(bearerApp({ verify }))
        .get('/')
        .set('Authorization', `${name} bob-token`);
      expect(res.status).toBe(200);
    },
  );

  it('awaits an async verifier and gives it the request', async () => {
    const app = bearerApp({
      verify: async (token, req) => {
        await new Promise((resolve) => setImmediate(resolve));
        return token === 'async' && req.headers['x-tenant'] === 't1'
          ? { user: 'async-user' }
          : false;
      },
    });
    const ok = await request(app)
      .get('/')
      .set('Authorization', 'Bearer async')
      .set('X-Tenant', 't1');
    expect(ok.status).toBe(200);
    expect(ok.body.auth.user).toBe('async-user');
    const refused = await request(app).get('/').set('Authorization', 'Bearer async');
    expect(refused.status).toBe(401);
  });

  it('accepts anyOf when one scope is present and refuses allOf when one is missing', async () => {
    const anyOf = bearerApp({ verify, requiredScopes: { anyOf: ['admin', 'read'] } });
    expect((await request(anyOf).get('/').set('Authorization', 'Bearer bob-token')).status).toBe(
      200,
    );
    const allOf = bearerApp({ verify, requiredScopes: { allOf: ['read', 'write'] } });
    expect((await request(allOf).get('/').set('Authorization', 'Bearer bob-token')).status).toBe(
      403,
    );
    expect((await request(allOf).get('/').set('Authorization', 'Bearer alice-token')).status).toBe(
      200,
    );
  });

  it.each([
    ['true', true],
    ['a number', 42],
    ['an object without user', { scopes: ['a'] }],
    ['scopes of the wrong type', { user: 'u', scopes: 42 }],
    // README, ERR_AUTH_VERIFIER_RESULT: scopes are a string or a list of strings.
    ['a scope list with a non-string entry', { user: 'u', scopes: ['read', 1] }],
  ])('hands a verifier result of %s to next(err), never authenticating', async (_name, value) => {
    const res = await request(bearerApp({ verify: () => value as never }))
      .get('/')
      .set('Authorization', 'Bearer t');
    expect(res.status).toBe(500);
    expect(res.headers[HIT]).toBeUndefined();
  });

  it('hands a verifier that throws something else than InvalidTokenError to next(err)', async () => {
    const app = bearerApp({
      verify: () => Promise.reject(new Error('database down')),
    });
    const res = await request(app).get('/').set('Authorization', 'Bearer t');
    expect(res.status).toBe(500);
    expect(res.headers[HIT]).toBeUndefined();
  });

  // Express and Connect read next(undefined) (and next('route')) as "carry on": a verifier that
  // throws or rejects with a non-error value must still end in next(err), never let it through.
  const nonErrors: [string, unknown][] = [
    ['undefined', undefined],
    ['null', null],
    ['false', false],
    ['the string "route"', 'route'],
  ];
  it.each(nonErrors)('hands a verifier that throws %s to next(err)', async (_name, value) => {
    const verify = (): never => {
      throw value;
    };
    const res = await request(bearerApp({ verify })).get('/').set('Authorization', 'Bearer t');
    expect(res.status).toBe(500);
    expect(res.headers[HIT]).toBeUndefined();
  });

  it.each(nonErrors)('hands a verifier that rejects with %s to next(err)', async (_name, value) => {
    const verify = async (): Promise<never> => {
      await Promise.resolve();
      throw value;
    };
    const res = await request(bearerApp({ verify })).get('/').set('Authorization', 'Bearer t');
    expect(res.status).toBe(500);
    expect(res.headers[HIT]).toBeUndefined();
  });

  it('keeps a __proto__ field of the identity as data', async () => {
    const identity = JSON.parse('{"user":"u","__proto__":{"admin":true}}') as unknown;
    const app = bearerApp({ verify: () => identity as never });
    const res = await request(app).get('/').set('Authorization', 'Bearer t');
    expect(res.status).toBe(200);
    expect(res.body.auth.admin).toBeUndefined();
  });
});

describe('bearer(): setup', () => {
  it.each([
    ['no verify', {}],
    ['a realm with CR LF', { verify, realm: 'a\r\nb' }],
    ['a realm above U+00FF', { verify, realm: 'realm ☃' }],
    ['an errorUri with a space', { verify, errorUri: 'https://x/a b' }],
    ['an errorUri with a quote', { verify, errorUri: 'https://x/"' }],
    ['an errorUri that is no URI', { verify, errorUri: 'not-a-uri' }],
    ['an errorUri with characters RFC 3986 forbids', { verify, errorUri: 'https://x/{id}' }],
    ['an errorUri that is not http(s)', { verify, errorUri: 'javascript:alert(1)' }],
    ['an errorUri with a broken escape', { verify, errorUri: 'https://x/%zz' }],
    ['an errorUri with an escape cut short', { verify, errorUri: 'https://x/%4' }],
    ['an errorUri with two fragments', { verify, errorUri: 'https://x/a#b#c' }],
    ['an errorUri with brackets in its path', { verify, errorUri: 'https://x/a[b]' }],
    [
      'requiredScopes with a key of requireScopes()',
      { verify, requiredScopes: { anyOf: ['a'], errorUri: 'https://x/' } },
    ],
    ['an empty scope list', { verify, requiredScopes: [] }],
    ['a scope with a space', { verify, requiredScopes: ['a b'] }],
    ['a scope with non-ASCII', { verify, requiredScopes: ['lesen-ä'] }],
    ['a scope that is not a string', { verify, requiredScopes: [1] }],
    // RFC 6749 §3.3: scope-token = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E.
    ['an empty scope', { verify, requiredScopes: [''] }],
    ['a scope with a quote', { verify, requiredScopes: ['a"b'] }],
    ['a scope with a backslash', { verify, requiredScopes: ['a\\b'] }],
    ['a scope with DEL', { verify, requiredScopes: ['a\x7f'] }],

    ['a bad requirement', { verify, requiredScopes: 'read' }],
    ['both allOf and anyOf', { verify, requiredScopes: { allOf: ['admin'], anyOf: ['read'] } }],
    ['a bad cache size', { verify, cache: { max: 0 } }],
    ['a bad cache age', { verify, cache: { maxAge: -1 } }],
    ['a bad cache option', { verify, cache: 'yes' }],
    // A string 'false' is truthy: taking it would open a token location the app did not mean to.
    ['allowFormToken that is not a boolean', { verify, allowFormToken: 'false' }],
    ['allowQueryToken that is not a boolean', { verify, allowQueryToken: 1 }],
    ['a negative refusedMaxAge', { verify, cache: { refusedMaxAge: -1 } }],
    ['a fractional refusedMaxAge', { verify, cache: { refusedMaxAge: 1.5 } }],
    ['a refusedMaxAge in a string', { verify, cache: { refusedMaxAge: '60000' } }],
    ['a refusedMaxAge of Infinity', { verify, cache: { refusedMaxAge: Infinity } }],
  ])('throws TypeError for %s', (_name, options) => {
    expect(() => bearer(options as never)).toThrow(TypeError);
  });

  it('says what is wrong with a missing verifier or a requirement', () => {
    expect(() => bearer({} as never)).toThrow(
      'bearer: options.verify must be a function (token, req) => identity | false',
    );
    expect(() => bearer({ verify, requiredScopes: { anyOf: 'read' } as never })).toThrow(
      'bearer: requiredScopes: the scopes must be an array of strings',
    );
    expect(() => bearer({ verify, requiredScopes: { anyOf: ['a'], realm: 'x' } as never })).toThrow(
      'bearer: requiredScopes: unknown option `realm` (the options are allOf, anyOf)',
    );
    expect(() => bearer({ verify, errorUri: 'https://example.com/errors?code=1' })).not.toThrow();
    expect(() => bearer({ verify, errorUri: 'http://[::1]:8080/e%20rr#x' })).not.toThrow();
  });

  it('takes every NQCHAR in a scope, from ! to ~ (RFC 6749 §3.3)', async () => {
    const edge = '!#[]~';
    const app = bearerApp({ verify: () => ({ user: 'x', scopes: edge }), requiredScopes: [edge] });
    expect((await request(app).get('/').set('Authorization', 'Bearer t')).status).toBe(200);
  });

  it('is named Bearer', () => {
    expect(bearer({ verify }).name).toBe('Bearer');
  });
});
