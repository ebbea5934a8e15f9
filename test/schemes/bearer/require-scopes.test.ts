import express from 'express';
import request from 'supertest';
import { AuthenticationError } from '../../../src/errors';
import { authenticate, type AuthOutcome } from '../../../src/middleware/authenticate';
import { letThroughReason } from '../../../src/middleware/let-through';
import { basic } from '../../../src/schemes/basic';
import { bearer, requireScopes } from '../../../src/schemes/bearer';
import { digest } from '../../../src/schemes/digest';
import type { Scheme } from '../../../src/scheme';
import { HIT, tableVerify } from './helpers';
import { recordingRejections } from '../../helpers/rejections';

const verify = tableVerify({
  reader: { user: 'r', scopes: ['read'] },
  writer: { user: 'w', scopes: 'read write' },
  admin: { user: 'a', scopes: ['admin'] },
});

function app(...guards: express.RequestHandler[]) {
  const server = express();
  server.get('/open', ...guards, (_req, res) => res.setHeader(HIT, 'yes').send('ok'));
  server.use(authenticate({ realm: 'api', schemes: [bearer({ verify })] }));
  server.get('/', ...guards, (_req, res) => res.setHeader(HIT, 'yes').send('ok'));
  return server;
}

const get = (server: express.Express, token: string) =>
  request(server).get('/').set('Authorization', `Bearer ${token}`);

/** An error handler on `server` (for onFailure: 'next') that keeps each error in `errors`. */
function collectErrors(server: express.Express, errors: unknown[]): void {
  server.use(
    (
      err: AuthenticationError,
      _req: express.Request,
      res: express.Response,
      _n: express.NextFunction,
    ) => {
      errors.push(err);
      res.status(err.status).set(err.headers).json({ error: err.code });
    },
  );
}

describe('requireScopes()', () => {
  it('passes when every scope of requireScopes(a, b) is granted', async () => {
    const res = await get(app(requireScopes('read', 'write')), 'writer');
    expect(res.status).toBe(200);
    expect(res.headers[HIT]).toBe('yes');
  });

  it('answers 403 insufficient_scope with the scopes when one is missing', async () => {
    const res = await get(app(requireScopes('read', 'write')), 'reader');
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="Restricted", scope="read write", error="insufficient_scope", error_description="The access token lacks the required scope"',
    );
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers[HIT]).toBeUndefined();
  });

  it('leaves no Content-Encoding an earlier middleware set on its 403 (its body is plain text)', async () => {
    const labelled: express.RequestHandler = (_req, res, next) => {
      res.setHeader('Content-Encoding', 'gzip');
      res.setHeader('Content-Language', 'de');
      next();
    };
    const res = await get(app(labelled, requireScopes('admin')), 'reader');
    expect(res.status).toBe(403);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-language']).toBeUndefined();
  });

  it('accepts a list, { allOf } and { anyOf }', async () => {
    expect((await get(app(requireScopes(['read', 'write'])), 'reader')).status).toBe(403);
    expect((await get(app(requireScopes({ allOf: ['read', 'write'] })), 'writer')).status).toBe(
      200,
    );
    const anyOf = app(requireScopes({ anyOf: ['write', 'admin'] }));
    expect((await get(anyOf, 'admin')).status).toBe(200);
    expect((await get(anyOf, 'writer')).status).toBe(200);
    expect((await get(anyOf, 'reader')).status).toBe(403);
  });

  it('takes a key set to undefined as absent (a spec built from configuration)', async () => {
    // Refused as "allOf and anyOf" before: the types' `anyOf?: never` takes undefined.
    const allOf = app(requireScopes({ allOf: ['write'], anyOf: undefined }));
    expect((await get(allOf, 'writer')).status).toBe(200);
    expect((await get(allOf, 'reader')).status).toBe(403);
    const anyOf = app(requireScopes({ anyOf: ['read', 'write'], allOf: undefined }));
    expect((await get(anyOf, 'reader')).status).toBe(200);
    expect((await get(anyOf, 'admin')).status).toBe(403);
    for (const spec of [
      { anyOf: undefined },
      { allOf: undefined },
      { allOf: undefined, anyOf: undefined },
    ]) {
      expect(() => requireScopes(spec as never)).toThrow(
        'requireScopes: expected a list of scopes, { allOf: [...] } or { anyOf: [...] }',
      );
    }
  });

  it('uses the configured realm and error_uri', async () => {
    const guard = requireScopes({
      anyOf: ['admin'],
      realm: 'api',
      errorUri: 'https://x.test/scopes',
    });
    const res = await get(app(guard), 'reader');
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", scope="admin", error="insufficient_scope", error_description="The access token lacks the required scope", error_uri="https://x.test/scopes"',
    );
  });

  it("with onFailure: 'next' hands the refusal to the error handler as an AuthenticationError", async () => {
    const errors: unknown[] = [];
    const server = app(requireScopes({ allOf: ['write'], realm: 'api', onFailure: 'next' }));
    collectErrors(server, errors);
    const forbidden = await get(server, 'reader');
    const unauthenticated = await request(server).get('/open');
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toEqual({ error: 'ERR_AUTH_INSUFFICIENT_SCOPE' });
    expect(forbidden.headers['www-authenticate']).toBe(
      'Bearer realm="api", scope="write", error="insufficient_scope", error_description="The access token lacks the required scope"',
    );
    expect(forbidden.headers['cache-control']).toBe('no-store');
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.body).toEqual({ error: 'ERR_AUTH_MISSING_CREDENTIALS' });
    expect(unauthenticated.headers['www-authenticate']).toBe('Bearer realm="api", scope="write"');
    expect(errors.map((e) => e instanceof AuthenticationError)).toEqual([true, true]);
    expect((errors[0] as AuthenticationError).user).toBe('r');
  });

  it('reports each refusal to audit, with the user of the token on a 403, and no pass', async () => {
    const outcomes: AuthOutcome[] = [];
    const server = app(requireScopes({ anyOf: ['write'], audit: (o) => void outcomes.push(o) }));
    await get(server, 'writer').expect(200);
    await get(server, 'reader').expect(403);
    await request(server).get('/open').expect(401);
    expect(outcomes).toEqual([
      {
        outcome: 'refused',
        scheme: 'Bearer',
        user: 'r',
        status: 403,
        code: 'ERR_AUTH_INSUFFICIENT_SCOPE',
        message: 'The access token lacks the required scope',
      },
      {
        outcome: 'refused',
        scheme: undefined,
        user: undefined,
        status: 401,
        code: 'ERR_AUTH_MISSING_CREDENTIALS',
        message: 'No credentials were sent',
      },
    ]);
    // A hook that throws fails the request, as authenticate()'s does; a rejection is ignored.
    const throwing = app(
      requireScopes({
        allOf: ['write'],
        audit: () => {
          throw new Error('log down');
        },
      }),
    );
    await get(throwing, 'reader').expect(500);
    // Whatever it throws: next(), next(null), next(false) and next('route') would let the request
    // go on (Express, Connect) to the handler the scopes guard, as authenticate() knows.
    for (const thrown of [undefined, null, false, 0, '', 'route', 'router']) {
      const throwsValue = express();
      throwsValue.use(authenticate({ realm: 'api', schemes: [bearer({ verify })] }));
      throwsValue.get(
        '/',
        requireScopes({
          allOf: ['write'],
          audit: () => {
            // What this case is about: a hook that throws a value that is not an error.
            // eslint-disable-next-line @typescript-eslint/only-throw-error
            throw thrown;
          },
        }),
        (_req, res) => res.setHeader(HIT, 'yes').send('ok'),
      );
      // A handler the next route would reach with next('route').
      throwsValue.get('/', (_req, res) => res.setHeader(HIT, 'next route').send('ok'));
      const res = await get(throwsValue, 'reader');
      expect([thrown, res.status, res.headers[HIT]]).toEqual([thrown, 500, undefined]);
    }
    await recordingRejections(async (rejections) => {
      const audit = async () => {
        throw new Error('lockout store down');
      };
      // What this case is about: a hook that returns a promise, which is not awaited.
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      const guard = requireScopes({ allOf: ['write'], audit });
      await get(app(guard), 'reader').expect(403);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(rejections).toEqual([]);
    });
  });

  // The usual cause is requireScopes() mounted before authenticate(): the client did send a token,
  // and "No credentials were sent" sent the developer looking at the client.
  it('says credentials were sent when the request carries some that nothing authenticated', async () => {
    const outcomes: AuthOutcome[] = [];
    const errors: AuthenticationError[] = [];
    const server = app(
      requireScopes({ allOf: ['read'], onFailure: 'next', audit: (o) => void outcomes.push(o) }),
    );
    collectErrors(server, errors);
    const res = await request(server).get('/open').set('Authorization', 'Bearer reader');
    await request(server).get('/open').expect(401);
    // An empty field carries no credentials either.
    await request(server).get('/open').set('Authorization', '').expect(401);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="Restricted", scope="read"');
    const sent =
      'Credentials were sent, but no authenticate() ran before requireScopes() ' +
      '(is requireScopes() mounted after authenticate()?)';
    const none = 'No credentials were sent';
    expect(outcomes.map((o) => [o.code, o.message])).toEqual([
      ['ERR_AUTH_MISSING_CREDENTIALS', sent],
      ['ERR_AUTH_MISSING_CREDENTIALS', none],
      ['ERR_AUTH_MISSING_CREDENTIALS', none],
    ]);
    expect(errors.map((e) => e.message)).toEqual([sent, none, none]);
  });

  // authenticate({ credentialsRequired: false }) lets through credentials made for another
  // authenticate() (or none): "is requireScopes() mounted after authenticate()?" was false there.
  it('says what the authenticate() before it did when it let the request through unauthenticated', async () => {
    const outcomes: AuthOutcome[] = [];
    const server = express();
    server.use(
      authenticate({
        realm: 'api',
        credentialsRequired: false,
        allowPreflight: true,
        schemes: [digest({ users: { r: 'pw' }, secret: 's'.repeat(32) }), bearer({ verify })],
      }),
    );
    server.all(
      '/',
      requireScopes({ allOf: ['read'], audit: (o) => void outcomes.push(o) }),
      (_req, res) => res.setHeader(HIT, 'yes').send('ok'),
    );
    const basicHeader = `Basic ${Buffer.from('r:pw').toString('base64')}`;
    const otherRealm =
      'Digest username="r", realm="elsewhere", nonce="n", uri="/", response="' +
      '0'.repeat(64) +
      '", qop=auth, nc=00000001, cnonce="c", algorithm=SHA-256';
    await request(server).get('/').set('Authorization', basicHeader).expect(401);
    await request(server).get('/').set('Authorization', 'AWS4-HMAC-SHA256 a=b, ,').expect(401);
    await request(server).get('/').set('Authorization', otherRealm).expect(401);
    await request(server).get('/').expect(401);
    // A preflight it let through passes requireScopes() too (see "after allowPreflight" below).
    await request(server)
      .options('/')
      .set('Origin', 'https://app.test')
      .set('Access-Control-Request-Method', 'GET')
      .set('Authorization', basicHeader)
      .expect(HIT, 'yes');
    const letThrough =
      'The credentials use a scheme that authenticate() does not offer, and with ' +
      'credentialsRequired: false it let the request through unauthenticated';
    expect(outcomes.map((o) => [o.status, o.code, o.message])).toEqual([
      [401, 'ERR_AUTH_MISSING_CREDENTIALS', letThrough],
      [401, 'ERR_AUTH_MISSING_CREDENTIALS', letThrough],
      [
        401,
        'ERR_AUTH_MISSING_CREDENTIALS',
        'The credentials answer another protection space’s challenge (Digest realm does not ' +
          'match), and with credentialsRequired: false authenticate() let the request through ' +
          'unauthenticated',
      ],
      [401, 'ERR_AUTH_MISSING_CREDENTIALS', 'No credentials were sent'],
    ]);
  });

  it('records nothing for a request that sent no credentials (every anonymous request), and still says so', async () => {
    const outcomes: AuthOutcome[] = [];
    const recorded: (string | undefined)[] = [];
    const server = express();
    server.use(authenticate({ credentialsRequired: false, schemes: [bearer({ verify })] }));
    server.use((req, _res, next) => {
      recorded.push(letThroughReason(req));
      next();
    });
    server.get('/', requireScopes({ allOf: ['read'], audit: (o) => void outcomes.push(o) }));
    await request(server).get('/').expect(401);
    await request(server).get('/').set('Authorization', 'Basic cjpwdw==').expect(401);
    // A WeakMap set per anonymous request is work for nothing: requireScopes() tells this one
    // by the missing field. The foreign scheme's reason it cannot tell, so that one is kept.
    expect(recorded).toEqual([undefined, expect.stringMatching(/^The credentials use a scheme/)]);
    expect(outcomes.map((o) => o.message)).toEqual([
      'No credentials were sent',
      expect.stringMatching(/^The credentials use a scheme/),
    ]);
    // In proxy mode the Authorization field is the origin's: requireScopes() cannot tell by it.
    const proxied: AuthOutcome[] = [];
    const proxy = express();
    proxy.use(
      authenticate({
        proxy: true,
        credentialsRequired: false,
        schemes: [basic({ users: { r: 'pw' } })],
      }),
    );
    proxy.get('/', requireScopes({ allOf: ['read'], audit: (o) => void proxied.push(o) }));
    await request(proxy).get('/').set('Authorization', 'Bearer for-the-origin').expect(407);
    expect(proxied.map((o) => o.message)).toEqual(['No credentials were sent']);
  });

  it('knows what an authenticate() of another copy of the package did (ESM and CommonJS in one process)', async () => {
    let other!: typeof import('authscheme');
    jest.isolateModules(() => {
      other = jest.requireActual<typeof import('authscheme')>('../../../src/index');
    });
    const outcomes: AuthOutcome[] = [];
    const server = express();
    server.use(other.authenticate({ credentialsRequired: false, schemes: [bearer({ verify })] }));
    server.get('/', requireScopes({ allOf: ['read'], audit: (o) => void outcomes.push(o) }));
    await request(server).get('/').set('Authorization', 'Basic cjpwdw==').expect(401);
    expect(outcomes.map((o) => o.message)).toEqual([
      expect.stringMatching(/^The credentials use a scheme that authenticate\(\) does not offer/),
    ]);
    // And whether it was in proxy mode, for the request it let through and the req.auth it made.
    const proxy = express();
    proxy.use(
      other.authenticate({
        proxy: true,
        credentialsRequired: false,
        schemes: [bearer({ verify })],
      }),
    );
    proxy.get('/', requireScopes({ allOf: ['write'] }));
    await request(proxy).get('/').expect(407);
    await request(proxy)
      .get('/')
      .set('Proxy-Authorization', 'Bearer reader')
      .expect(403)
      .expect('Proxy-Authenticate', /insufficient_scope/);
    // And that it let a CORS preflight through as one.
    const cors = express();
    cors.use(other.authenticate({ allowPreflight: true, schemes: [bearer({ verify })] }));
    cors.options('/', requireScopes('read'), (_req, res) => res.setHeader(HIT, 'yes').send('ok'));
    await request(cors)
      .options('/')
      .set('Origin', 'https://app.test')
      .set('Access-Control-Request-Method', 'GET')
      .expect(HIT, 'yes');
  });

  it('says the form body was not parsed when that is why authenticate() found no token', async () => {
    const outcomes: AuthOutcome[] = [];
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const server = express();
      server.use(
        authenticate({
          credentialsRequired: false,
          schemes: [bearer({ verify, allowFormToken: true })],
        }),
      );
      server.post('/', requireScopes({ allOf: ['read'], audit: (o) => void outcomes.push(o) }));
      await request(server).post('/').type('form').send('access_token=reader').expect(401);
    } finally {
      warn.mockRestore();
    }
    expect(outcomes.map((o) => o.message)).toEqual([
      expect.stringMatching(/^The form body was not parsed .*express\.urlencoded\(\)/),
    ]);
  });

  it('refuses a wrong onFailure or audit at setup', () => {
    expect(() => requireScopes({ allOf: ['a'], onFailure: 'throw' as 'next' })).toThrow(
      /onFailure/,
    );
    expect(() => requireScopes({ allOf: ['a'], audit: 'log' as never })).toThrow(/audit/);
  });

  // A scope given after a list or a spec would be dropped in silence if the first were taken alone:
  // requireScopes(['read'], 'admin') would let a reader through to an admin route.
  it('refuses a list or a spec with more arguments, and says what it takes', () => {
    const expected = /^requireScopes: expected scope names, a list, \{ allOf \} or \{ anyOf \}$/;
    for (const args of [
      [['read'], 'admin'],
      [{ anyOf: ['read'] }, 'admin'],
      ['read', ['admin']],
      [null],
    ]) {
      expect(() => requireScopes(...(args as never[]))).toThrow(expected);
    }
  });

  // A refusal answered here ends the request: the handler the scopes guard must not run after it
  // (it could act on the request even though its response was refused).
  it('runs nothing after a 401 or 403 it answered', async () => {
    let ran = 0;
    const server = express();
    server.use(authenticate({ credentialsRequired: false, schemes: [bearer({ verify })] }));
    server.get('/', requireScopes('write'), (_req, _res, next) => {
      ran++;
      next();
    });
    await request(server).get('/').expect(401);
    await get(server, 'reader').expect(403);
    expect(ran).toBe(0);
    await get(server, 'writer').expect(404);
    expect(ran).toBe(1);
  });

  // Another middleware may leave req.auth null (no user): that is no authentication, a 401,
  // not a TypeError and a 500.
  it('answers 401 when something before it set req.auth to null', async () => {
    const server = express();
    server.get(
      '/',
      (req, _res, next) => {
        (req as unknown as { auth: unknown }).auth = null;
        next();
      },
      requireScopes('read'),
    );
    const res = await request(server).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="Restricted", scope="read"');
  });

  it('answers 401 with a bare challenge when no authentication ran', async () => {
    const res = await request(app(requireScopes('read'))).get('/open');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="Restricted", scope="read"');
    expect(res.headers[HIT]).toBeUndefined();
    // The same answer as authenticate()'s refusals: a short text body, never cached.
    expect([res.headers['content-type'], res.headers['cache-control'], res.text]).toEqual([
      'text/plain; charset=utf-8',
      'no-store',
      'Unauthorized',
    ]);
  });

  // A chain without Express (node:http, a hand-written runner) lets a handler's throw come back
  // up through next(): reporting it again as next(err) would run the error path after the
  // handler, for a request the guard had let through.
  it('calls next once when what follows it throws, and lets the throw go up', () => {
    const guard = requireScopes('read');
    const req = { auth: { scheme: 'Bearer', user: 'u', scopes: ['read'] }, headers: {} };
    const calls: unknown[] = [];
    const next = (err?: unknown): void => {
      calls.push(err);
      if (err === undefined) throw new Error('the handler failed');
    };
    expect(() => guard(req as never, {} as never, next)).toThrow('the handler failed');
    expect(calls).toEqual([undefined]);
  });

  it('chains: with two requirements on a route, both must hold', async () => {
    const server = app(requireScopes('read'), requireScopes('write'));
    expect((await get(server, 'writer')).status).toBe(200);
    expect((await get(server, 'reader')).status).toBe(403);
  });

  it.each([
    ['no scopes', []],
    ['an empty list', [[]]],
    ['a scope with a space', ['a b']],
    ['a scope with a quote', ['a"']],
    ['mixed arguments', ['a', ['b']]],
    ['a number', [1]],
    ['both allOf and anyOf', [{ allOf: ['admin'], anyOf: ['read'] }]],
    ['a realm with LF', [{ anyOf: ['a'], realm: 'x\ny' }]],
    ['an errorUri with a space', [{ anyOf: ['a'], errorUri: 'a b' }]],
  ])('throws TypeError for %s', (_name, args) => {
    expect(() => requireScopes(...(args as never[]))).toThrow(TypeError);
  });

  // The `scope` claim and OAuth's requests write scopes space-separated, so 'read write' is the
  // newcomer's way to ask for two: the message says how to write that.
  it('tells a space-separated string of scopes to give one scope per entry', () => {
    const hint = "(one scope per entry: requireScopes('read', 'write'), not 'read write')";
    expect(() => requireScopes('read write')).toThrow(hint);
    expect(() => requireScopes({ anyOf: ['read write'] })).toThrow(hint);
    expect(() => bearer({ verify, requiredScopes: ['read write'] })).toThrow(
      "(one scope per entry: ['read', 'write'], not 'read write')",
    );
    expect(() => requireScopes('a"')).toThrow(
      'requireScopes: a scope must be printable ASCII without space, quote or backslash',
    );
    expect(() => requireScopes('a"')).not.toThrow('one scope per entry');
  });

  // The hint is code to copy: for one entry of several it must keep the others, or copying it
  // would drop a scope the route needs ('admin' here).
  it('hints the whole requirement when a space-separated scope is one entry of several', () => {
    expect(() => requireScopes('admin', 'read write')).toThrow(
      "(one scope per entry: requireScopes('admin', 'read', 'write'), not 'read write')",
    );
    expect(() => bearer({ verify, requiredScopes: ['read write', 'admin'] })).toThrow(
      "(one scope per entry: ['read', 'write', 'admin'], not 'read write')",
    );
    // { anyOf } of several: 'admin' or ('read' and 'write') has no one-list form; no code is given.
    expect(() => requireScopes({ anyOf: ['admin', 'read write'] })).toThrow(
      "(one scope per entry, not 'read write')",
    );
  });

  it('names the scheme that authenticated the user on a 403, and none on the 401', async () => {
    const outcomes: AuthOutcome[] = [];
    const errors: unknown[] = [];
    const guard = requireScopes({
      allOf: ['write'],
      onFailure: 'next',
      audit: (o) => void outcomes.push(o),
    });
    const server = express();
    server.get('/open', guard);
    server.use(
      authenticate({ schemes: [basic({ users: { ann: 'pw' } })], credentialsRequired: true }),
    );
    server.get('/', guard);
    server.use((err: unknown, _req: express.Request, res: express.Response, _next: unknown) => {
      errors.push(err);
      res.status((err as AuthenticationError).status).end();
    });
    await request(server).get('/').auth('ann', 'pw').expect(403);
    await request(server).get('/open').expect(401);
    expect(outcomes.map((o) => [o.status, o.scheme, o.user])).toEqual([
      [403, 'Basic', 'ann'],
      [401, undefined, undefined],
    ]);
    expect(errors.map((e) => (e as AuthenticationError).scheme)).toEqual(['Basic', undefined]);
  });

  // express-jwt, for one, sets req.auth to the token's claims, where `user` may be anything.
  it('names only a string scheme and user on a 403 whose req.auth something else set', async () => {
    const outcomes: AuthOutcome[] = [];
    const errors: AuthenticationError[] = [];
    const server = express();
    server.get(
      '/',
      (req, _res, next) => {
        (req as unknown as { auth: unknown }).auth = { sub: 'ann', scheme: 7, user: { id: 7 } };
        next();
      },
      requireScopes({ allOf: ['write'], onFailure: 'next', audit: (o) => void outcomes.push(o) }),
    );
    server.use(
      (err: AuthenticationError, _req: express.Request, res: express.Response, _next: unknown) => {
        errors.push(err);
        res.status(err.status).end();
      },
    );
    await request(server).get('/').expect(403);
    expect(outcomes.map((o) => [o.code, o.scheme, o.user])).toEqual([
      ['ERR_AUTH_INSUFFICIENT_SCOPE', undefined, undefined],
    ]);
    expect(errors.map((e) => [e.code, e.scheme, e.user])).toEqual([
      ['ERR_AUTH_INSUFFICIENT_SCOPE', undefined, undefined],
    ]);
  });
});

// A browser's preflight never carries credentials (Fetch standard, CORS-preflight request): a
// requireScopes() that answered it 401 kept it from the CORS handler after it, so no browser could
// call a scoped route cross-origin, whatever allowPreflight said.
describe('requireScopes() after authenticate({ allowPreflight: true })', () => {
  const ORIGIN = 'http://app.test';

  /** A CORS handler mounted after the guards, as cors() on a route or with preflightContinue. */
  const corsHandler: express.RequestHandler = (req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', ORIGIN);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, DELETE');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization');
      res.status(204).end();
      return;
    }
    next();
  };

  function scoped(
    outcomes: AuthOutcome[],
    auth: Partial<Parameters<typeof authenticate>[0]>,
    between: express.RequestHandler[] = [],
  ) {
    const server = express();
    server.use(authenticate({ realm: 'api', schemes: [bearer({ verify })], ...auth }));
    for (const middleware of between) server.use(middleware);
    server.use(
      requireScopes({ allOf: ['read'], realm: 'api', audit: (o) => void outcomes.push(o) }),
    );
    server.use(corsHandler);
    server.all('/orders', (_req, res) => res.setHeader(HIT, 'yes').send('ok'));
    return server;
  }

  const preflight = (server: express.Express) =>
    request(server)
      .options('/orders')
      .set('Origin', ORIGIN)
      .set('Access-Control-Request-Method', 'DELETE')
      .set('Access-Control-Request-Headers', 'authorization');

  it('lets the preflight authenticate() let through reach the CORS handler', async () => {
    const outcomes: AuthOutcome[] = [];
    const server = scoped(outcomes, { allowPreflight: true });
    const res = await preflight(server);
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(res.headers['access-control-allow-headers']).toBe('Authorization');
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.headers[HIT]).toBeUndefined();
    // The request that follows is judged on its own.
    await request(server).delete('/orders').set('Authorization', 'Bearer reader').expect(200);
    await request(server).delete('/orders').set('Authorization', 'Bearer admin').expect(403);
    await request(server).delete('/orders').expect(401);
    // A pass is not reported, the 403 is (the 401 is authenticate()'s).
    expect(outcomes.map((o) => o.status)).toEqual([403]);
  });

  it('refuses a request shaped like a preflight that no authenticate() let through as one', async () => {
    const outcomes: AuthOutcome[] = [];
    // No authenticate() before it at all.
    const bare = express();
    bare.use(requireScopes({ allOf: ['read'], audit: (o) => void outcomes.push(o) }));
    bare.use(corsHandler);
    const alone = await preflight(bare);
    expect(alone.status).toBe(401);
    expect(alone.headers['www-authenticate']).toBe('Bearer realm="Restricted", scope="read"');
    // An authenticate() without allowPreflight that lets anonymous requests through: it did not
    // let this one through as a preflight.
    const anonymous = await preflight(scoped(outcomes, { credentialsRequired: false }));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="api", scope="read"');
    // A method override after authenticate() made the preflight a DELETE, which the router runs.
    const override: express.RequestHandler = (req, _res, next) => {
      req.method = 'DELETE';
      next();
    };
    const overridden = await preflight(scoped(outcomes, { allowPreflight: true }, [override]));
    expect(overridden.status).toBe(401);
    expect(overridden.headers[HIT]).toBeUndefined();
    expect(outcomes.map((o) => [o.status, o.message])).toEqual([
      [401, 'No credentials were sent'],
      [401, 'No credentials were sent'],
      [401, 'authenticate() let a CORS preflight through unauthenticated (allowPreflight)'],
    ]);
  });

  // A CORS preflight always carries Origin (Fetch standard, CORS-preflight fetch): an OPTIONS
  // without one is a plain client's, which authenticate() let through unchallenged all the same.
  it('refuses an OPTIONS with Access-Control-Request-Method but no Origin: no preflight', async () => {
    const outcomes: AuthOutcome[] = [];
    const noOrigin = (server: express.Express) =>
      request(server).options('/orders').set('Access-Control-Request-Method', 'DELETE');
    // authenticate() challenges it, as any request without credentials.
    const challenged = await noOrigin(scoped(outcomes, { allowPreflight: true }));
    expect(challenged.status).toBe(401);
    expect(challenged.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(challenged.headers['access-control-allow-origin']).toBeUndefined();
    // Let through anonymously, it is no preflight to requireScopes() either.
    const anonymous = await noOrigin(
      scoped(outcomes, { allowPreflight: true, credentialsRequired: false }),
    );
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="api", scope="read"');
    expect(anonymous.headers['access-control-allow-origin']).toBeUndefined();
    expect(outcomes.map((o) => [o.status, o.message])).toEqual([[401, 'No credentials were sent']]);
    // With Origin, even the opaque origin "null" (a sandboxed page, a file: URL), it passes.
    const opaque = await preflight(scoped(outcomes, { allowPreflight: true })).set(
      'Origin',
      'null',
    );
    expect(opaque.status).toBe(204);
  });

  // The preflight record was a sentence among the reasons, so any reason that read the same was
  // taken for it: a custom scheme's locate() could say it (credentialsRequired: false).
  it('lets through no OPTIONS whose recorded reason only reads like the preflight’s', async () => {
    const sentence = 'authenticate() let a CORS preflight through unauthenticated (allowPreflight)';
    const outcomes: AuthOutcome[] = [];
    const apiKey: Scheme = {
      name: 'ApiKey',
      challenges: (ctx) => [{ scheme: 'ApiKey', params: { realm: ctx.realm } }],
      verify: () => ({ ok: false, code: 'ERR_AUTH_INVALID_CREDENTIALS', message: 'no' }),
      locate: () => ({ ok: false, code: 'ERR_AUTH_MISSING_CREDENTIALS', message: sentence }),
    };
    const server = scoped(outcomes, { credentialsRequired: false, schemes: [apiKey] });
    // And after an authenticate({ allowPreflight }) that did mark it: the later one let it
    // through for its own reason, and that one decides, whatever its sentence reads.
    const chained = scoped(outcomes, { allowPreflight: true }, [
      authenticate({ realm: 'keys', credentialsRequired: false, schemes: [apiKey] }),
    ]);
    for (const res of [
      await preflight(server),
      await request(server).options('/orders'),
      await preflight(chained),
    ]) {
      expect(res.status).toBe(401);
      expect(res.headers[HIT]).toBeUndefined();
      expect(res.headers['access-control-allow-methods']).toBeUndefined();
    }
    // Its message is still the one the scheme gave.
    expect(outcomes.map((o) => [o.status, o.message])).toEqual([
      [401, sentence],
      [401, sentence],
      [401, sentence],
    ]);
  });
});

// A proxy's token comes in Proxy-Authorization; its challenges go in Proxy-Authenticate (RFC 9110
// §11.7.1). requireScopes() answered 401/403 with WWW-Authenticate, which names the origin's
// credentials: a client would ask its user for the wrong ones, and take a missing proxy token for
// an origin refusal.
describe('requireScopes() after authenticate({ proxy: true })', () => {
  function proxyApp(
    guard: express.RequestHandler,
    auth: Partial<Parameters<typeof authenticate>[0]> = {},
  ) {
    const server = express();
    server.use(
      authenticate({ proxy: true, realm: 'proxy', schemes: [bearer({ verify })], ...auth }),
    );
    server.get('/', guard, (_req, res) => res.setHeader(HIT, 'yes').send('ok'));
    server.use(
      (err: AuthenticationError, _req: express.Request, res: express.Response, _n: unknown) => {
        res.status(err.status).set(err.headers).json({ error: err.code });
      },
    );
    return server;
  }

  it('answers a missing proxy token 407 with Proxy-Authenticate', async () => {
    const outcomes: AuthOutcome[] = [];
    const server = proxyApp(
      requireScopes({ allOf: ['read'], realm: 'proxy', audit: (o) => void outcomes.push(o) }),
      { credentialsRequired: false },
    );
    // The Authorization field is the origin's: it changes nothing here.
    for (const origin of [undefined, 'Bearer writer']) {
      const req = request(server).get('/');
      const res = await (origin === undefined ? req : req.set('Authorization', origin));
      expect(res.status).toBe(407);
      expect(res.headers['proxy-authenticate']).toBe('Bearer realm="proxy", scope="read"');
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.text).toBe('Proxy Authentication Required');
    }
    const ok = await request(server).get('/').set('Proxy-Authorization', 'Bearer reader');
    expect(ok.headers[HIT]).toBe('yes');
    expect(outcomes.map((o) => [o.status, o.code])).toEqual([
      [407, 'ERR_AUTH_MISSING_CREDENTIALS'],
      [407, 'ERR_AUTH_MISSING_CREDENTIALS'],
    ]);
  });

  it('answers insufficient scope 403 with Proxy-Authenticate, as bearer() requiredScopes does there', async () => {
    const res = await request(proxyApp(requireScopes({ allOf: ['write'], realm: 'proxy' })))
      .get('/')
      .set('Proxy-Authorization', 'Bearer reader')
      .set('Authorization', 'Bearer writer');
    expect(res.status).toBe(403);
    expect(res.headers['proxy-authenticate']).toBe(
      'Bearer realm="proxy", scope="write", error="insufficient_scope", error_description="The access token lacks the required scope"',
    );
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.headers[HIT]).toBeUndefined();
    // The same refusal from the scheme itself, in proxy mode: 403 in the same field.
    const server = express();
    server.use(
      authenticate({ proxy: true, schemes: [bearer({ verify, requiredScopes: ['write'] })] }),
    );
    const own = await request(server).get('/').set('Proxy-Authorization', 'Bearer reader');
    expect(own.status).toBe(403);
    expect(own.headers['proxy-authenticate']).toMatch(/^Bearer .*error="insufficient_scope"/);
    expect(own.headers['www-authenticate']).toBeUndefined();
  });

  it("with onFailure: 'next' puts the challenge in Proxy-Authenticate of the error's headers", async () => {
    const server = proxyApp(requireScopes({ allOf: ['write'], onFailure: 'next' }), {
      credentialsRequired: false,
    });
    const missing = await request(server).get('/');
    const short = await request(server).get('/').set('Proxy-Authorization', 'Bearer reader');
    expect([missing.status, missing.body]).toEqual([
      407,
      { error: 'ERR_AUTH_MISSING_CREDENTIALS' },
    ]);
    expect(missing.headers['proxy-authenticate']).toBe('Bearer realm="Restricted", scope="write"');
    expect([short.status, short.body]).toEqual([403, { error: 'ERR_AUTH_INSUFFICIENT_SCOPE' }]);
    expect(short.headers['proxy-authenticate']).toMatch(/error="insufficient_scope"/);
    expect([missing, short].map((r) => r.headers['www-authenticate'])).toEqual([
      undefined,
      undefined,
    ]);
  });

  // Negotiate's mutual-authentication token (RFC 4559 §4.1) goes in Proxy-Authenticate there.
  it('keeps the Proxy-Authenticate lines the response carries already on a 403', async () => {
    const mutual: Scheme = {
      name: 'Negotiate',
      challenges: () => [{ scheme: 'Negotiate', token68: undefined, params: {} }],
      verify: () => ({ ok: true, user: 'n', headers: { 'Proxy-Authenticate': 'Negotiate oRQw' } }),
    };
    const res = await request(
      proxyApp(requireScopes({ allOf: ['write'], realm: 'proxy' }), { schemes: [mutual] }),
    )
      .get('/')
      .set('Proxy-Authorization', 'Negotiate YII=');
    expect(res.status).toBe(403);
    expect(res.headers['proxy-authenticate']).toMatch(
      /^Negotiate oRQw, Bearer realm="proxy", scope="write", error="insufficient_scope"/,
    );
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('answers in the field of the authenticate() that made req.auth, not of any before it', async () => {
    const server = express();
    server.use(authenticate({ proxy: true, schemes: [bearer({ verify })] }));
    server.use(authenticate({ schemes: [basic({ users: { ann: 'pw' } })] }));
    server.get('/', requireScopes('read'), (_req, res) => res.send('ok'));
    const res = await request(server)
      .get('/')
      .set('Proxy-Authorization', 'Bearer reader')
      .auth('ann', 'pw');
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer .*error="insufficient_scope"/);
    expect(res.headers['proxy-authenticate']).toBeUndefined();
  });

  it('has no proxy option, and says where the mode comes from', () => {
    expect(() => requireScopes({ allOf: ['read'], proxy: true } as never)).toThrow(
      'requireScopes: there is no `proxy` option: it answers in the field of the authenticate() ' +
        'before it (Proxy-Authenticate after authenticate({ proxy: true }))',
    );
  });
});

// requireScopes() answers as the last authenticate() before it did with the request. One that lets
// an anonymous request through without an Authorization field records nothing (that is every
// anonymous request), so what an earlier one recorded was taken for its doing: a proxy's let-through
// made the origin's anonymous request a 407 (a 401 when the client sent an unrelated Authorization),
// and an app-wide allowPreflight let a preflight past a route whose authenticate() has none.
describe('requireScopes() after two authenticate()s: the later one decides', () => {
  const proxyThenOrigin = () => {
    const server = express();
    server.use(
      authenticate({ proxy: true, credentialsRequired: false, schemes: [bearer({ verify })] }),
    );
    server.use(authenticate({ credentialsRequired: false, schemes: [bearer({ verify })] }));
    server.get('/', requireScopes('read'), (_req, res) => res.setHeader(HIT, 'yes').send('ok'));
    return server;
  };

  it('answers the anonymous request an origin authenticate() let through 401, whatever it sent', async () => {
    const server = proxyThenOrigin();
    for (const origin of [undefined, 'AWS4-HMAC-SHA256 Credential=x']) {
      const req = request(server).get('/');
      const res = await (origin === undefined ? req : req.set('Authorization', origin));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="Restricted", scope="read"');
      expect(res.headers['proxy-authenticate']).toBeUndefined();
    }
  });

  // The proxy's req.auth stayed on the request: the origin's route, guarded by requireScopes(),
  // answered 200 to a client that sent the proxy its token and the origin nothing, and a route
  // that personalises greeted the proxy's user as the origin's.
  it('does not take the proxy’s req.auth for the origin’s when the origin authenticate() let the request through', async () => {
    const server = proxyThenOrigin();
    server.get('/me', (req, res) => res.json({ auth: req.auth ?? null }));
    for (const origin of [undefined, 'AWS4-HMAC-SHA256 Credential=x']) {
      const req = request(server).get('/').set('Proxy-Authorization', 'Bearer reader');
      const res = await (origin === undefined ? req : req.set('Authorization', origin));
      expect(res.status).toBe(401);
      expect(res.headers[HIT]).toBeUndefined();
      expect(res.headers['www-authenticate']).toBe('Bearer realm="Restricted", scope="read"');
      expect(res.headers['proxy-authenticate']).toBeUndefined();
    }
    const me = await request(server).get('/me').set('Proxy-Authorization', 'Bearer reader');
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ auth: null });
    // The origin's own credentials still make req.auth.
    const both = await request(server)
      .get('/')
      .set('Proxy-Authorization', 'Bearer admin')
      .set('Authorization', 'Bearer reader');
    expect(both.headers[HIT]).toBe('yes');
  });

  it('does not keep the proxy’s req.auth on a preflight the origin let through (allowPreflight)', async () => {
    const server = express();
    server.use(authenticate({ proxy: true, schemes: [bearer({ verify })] }));
    server.use(authenticate({ allowPreflight: true, schemes: [bearer({ verify })] }));
    server.options('/', requireScopes('write'), (req, res) => res.json({ auth: req.auth ?? null }));
    const res = await request(server)
      .options('/')
      .set('Proxy-Authorization', 'Bearer reader')
      .set('Origin', 'https://app.test')
      .set('Access-Control-Request-Method', 'DELETE');
    // Before: 403 insufficient_scope in Proxy-Authenticate, the proxy's token judged for the origin.
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ auth: null });
  });

  it('does not keep the proxy’s req.auth past a Digest answer to another realm that the origin passed on', async () => {
    const server = express();
    server.use(authenticate({ proxy: true, schemes: [bearer({ verify })] }));
    server.use(
      authenticate({
        realm: 'site',
        credentialsRequired: false,
        schemes: [digest({ users: { ann: 'pw' } })],
      }),
    );
    server.get('/', (req, res) => res.json({ auth: req.auth ?? null }));
    const res = await request(server)
      .get('/')
      .set('Proxy-Authorization', 'Bearer reader')
      .set(
        'Authorization',
        `Digest username="ann", realm="other", nonce="n", uri="/", qop=auth, nc=00000001, ` +
          `cnonce="c", response="${'0'.repeat(64)}", algorithm=SHA-256`,
      );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ auth: null });
  });

  it('answers in WWW-Authenticate when the origin authenticate() made req.auth', async () => {
    const res = await request(proxyThenOrigin()).get('/').set('Authorization', 'Bearer admin');
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer .*error="insufficient_scope"/);
    expect(res.headers['proxy-authenticate']).toBeUndefined();
    const ok = await request(proxyThenOrigin()).get('/').set('Authorization', 'Bearer reader');
    expect(ok.headers[HIT]).toBe('yes');
  });

  it('refuses a preflight that the route’s authenticate(), without allowPreflight, let through anonymously', async () => {
    const outcomes: AuthOutcome[] = [];
    const server = express();
    server.use(authenticate({ allowPreflight: true, schemes: [bearer({ verify })] }));
    server.options(
      '/',
      authenticate({ credentialsRequired: false, schemes: [bearer({ verify })] }),
      requireScopes({ allOf: ['read'], audit: (o) => void outcomes.push(o) }),
      (_req, res) => res.setHeader(HIT, 'yes').send('ok'),
    );
    const res = await request(server)
      .options('/')
      .set('Origin', 'https://app.test')
      .set('Access-Control-Request-Method', 'DELETE');
    expect(res.status).toBe(401);
    expect(res.headers[HIT]).toBeUndefined();
    expect(outcomes.map((o) => o.message)).toEqual(['No credentials were sent']);
  });
});

// Node writes the head with a string body in the body's encoding, UTF-8: requireScopes() sent
// each octet above 0x7F of its realm as two, where authenticate() sends a Buffer and the realm's
// ISO-8859-1 octets (README, "a realm beyond ASCII"). Clients read a header as Latin-1, as
// supertest does: 'Zürich' arrived as 'ZÃ¼rich'.
describe('requireScopes() and a realm beyond ASCII', () => {
  it('sends its octets as authenticate() does, on the 401, the 403 and the 407', async () => {
    const realm = 'Z\u00fcrich';
    const server = express();
    server.use(authenticate({ realm, credentialsRequired: false, schemes: [bearer({ verify })] }));
    server.get('/', requireScopes({ allOf: ['read'], realm }), (_req, res) => res.send('ok'));
    const missing = await request(server).get('/');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe(`Bearer realm="${realm}", scope="read"`);
    expect(missing.text).toBe('Unauthorized');
    const short = await get(server, 'admin');
    expect(short.status).toBe(403);
    expect(short.headers['www-authenticate']).toMatch(new RegExp(`^Bearer realm="${realm}", `));
    // authenticate()'s own challenge, for comparison.
    const own = await get(server, 'nobody');
    expect(own.headers['www-authenticate']).toMatch(new RegExp(`^Bearer realm="${realm}", `));

    const proxy = express();
    proxy.use(
      authenticate({
        proxy: true,
        realm,
        credentialsRequired: false,
        schemes: [bearer({ verify })],
      }),
    );
    proxy.get('/', requireScopes({ allOf: ['read'], realm }), (_req, res) => res.send('ok'));
    const proxied = await request(proxy).get('/');
    expect(proxied.status).toBe(407);
    expect(proxied.headers['proxy-authenticate']).toBe(`Bearer realm="${realm}", scope="read"`);
    expect(proxied.text).toBe('Proxy Authentication Required');
  });
});
