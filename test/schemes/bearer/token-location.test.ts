/** RFC 6750 §2.2 (form body) and §2.3 (URI query), and "one method only" (§2). */
import http from 'node:http';
import express from 'express';
import request from 'supertest';
import {
  authenticate,
  AuthenticationError,
  basic,
  bearer,
  type AuthenticateOptions,
  type AuthOutcome,
  type Scheme,
} from 'authscheme';
import { parseChallenges } from '../../../src/header';
import { listen, rawGet, sendRaw } from '../../hostile/helpers';
import { bearerApp, HIT, tableVerify } from './helpers';

const verify = tableVerify({ good: { user: 'alice', scopes: 'read' }, other: 'bob' });
const form = [express.urlencoded({ extended: false })];
const formExtended = [express.urlencoded({ extended: true })];

function errorOf(header: unknown): string | undefined {
  const [challenge] = parseChallenges(header as string);
  return challenge?.params['error'];
}

describe('bearer(): token in the query (RFC 6750 §2.3)', () => {
  const app = bearerApp({ verify, allowQueryToken: true });

  it('accepts access_token from the query and marks the response Cache-Control: private', async () => {
    const res = await request(app).get('/items?x=1&access_token=good');
    expect(res.status).toBe(200);
    expect(res.body.auth.user).toBe('alice');
    expect(res.headers['cache-control']).toBe('private');
  });

  // RFC 3986 §3.5: a fragment is no part of the query. Clients do not send one, but a raw request
  // target may carry it (Node's parser takes it), and a token after it is not in the query.
  it('reads access_token from the query only, never from a fragment in the request target', async () => {
    const target = await listen(http.createServer(app));
    try {
      const ok = await sendRaw(target, rawGet([], '/items?access_token=good#part'));
      expect(ok.status).toBe(200);
      expect(ok.headers['cache-control']).toEqual(['private']);
      const fragment = await sendRaw(target, rawGet([], '/items?x=1#&access_token=good'));
      expect(fragment.status).toBe(401);
      expect(errorOf(fragment.headers['www-authenticate']?.[0])).toBeUndefined();
    } finally {
      await target.close();
    }
  });

  it('keeps a stricter Cache-Control (the app’s, or the cacheControl option) and adds private to a looser one', async () => {
    const setBefore = (value: string): express.RequestHandler[] => [
      (_req, res, next) => {
        res.setHeader('Cache-Control', value);
        next();
      },
    ];
    const cases: [express.Express, string][] = [
      [bearerApp({ verify, allowQueryToken: true }, {}, setBefore('no-store')), 'no-store'],
      [bearerApp({ verify, allowQueryToken: true }, { cacheControl: 'no-store' }), 'no-store'],
      [
        bearerApp({ verify, allowQueryToken: true }, {}, setBefore('max-age=60')),
        'max-age=60, private',
      ],
      [
        bearerApp({ verify, allowQueryToken: true }, { cacheControl: 'max-age=5' }),
        'max-age=5, private',
      ],
      // A qualified private="field" still lets shared caches store the rest (RFC 9111 §5.2.2.7);
      // commas inside a quoted argument do not split; public and s-maxage contradict private.
      [
        bearerApp(
          { verify, allowQueryToken: true },
          {},
          setBefore('private="Set-Cookie", max-age=5'),
        ),
        'private="Set-Cookie", max-age=5, private',
      ],
      [
        bearerApp({ verify, allowQueryToken: true }, {}, setBefore('no-cache="a,private,b"')),
        'no-cache="a,private,b", private',
      ],
      [
        bearerApp(
          { verify, allowQueryToken: true },
          {},
          setBefore('public, max-age=600, s-maxage=60'),
        ),
        'max-age=600, private',
      ],
      [
        bearerApp({ verify, allowQueryToken: true }, {}, setBefore('PRIVATE, max-age=5')),
        'PRIVATE, max-age=5',
      ],
      // A quote left open would swallow what is added after it.
      [
        bearerApp({ verify, allowQueryToken: true }, {}, setBefore('no-cache="x, max-age=5')),
        'no-store',
      ],
    ];
    for (const [withCacheControl, expected] of cases) {
      const res = await request(withCacheControl).get('/?access_token=good');
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe(expected);
    }
    // A token in the header leaves the option's value alone.
    const header = bearerApp({ verify, allowQueryToken: true }, { cacheControl: 'max-age=5' });
    const res = await request(header).get('/').set('Authorization', 'Bearer good');
    expect(res.headers['cache-control']).toBe('max-age=5');
  });

  it('refuses a bad query token 401 invalid_token with Cache-Control: no-store', async () => {
    const res = await request(app).get('/?access_token=bad');
    expect(res.status).toBe(401);
    expect(errorOf(res.headers['www-authenticate'])).toBe('invalid_token');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers a token in the header and in the query 400 invalid_request', async () => {
    const res = await request(app).get('/?access_token=good').set('Authorization', 'Bearer good');
    expect(res.status).toBe(400);
    expect(errorOf(res.headers['www-authenticate'])).toBe('invalid_request');
    expect(res.headers[HIT]).toBeUndefined();
  });

  it.each([
    ['twice', '/?access_token=good&access_token=good'],
    ['empty', '/?access_token='],
    ['outside b64token syntax', '/?access_token=a%20b'],
  ])('answers a query token given %s 400 invalid_request', async (_name, path) => {
    const res = await request(app).get(path);
    expect(res.status).toBe(400);
    expect(errorOf(res.headers['www-authenticate'])).toBe('invalid_request');
  });

  it('takes the header token when the query holds other parameters only', async () => {
    const res = await request(app).get('/items?page=2').set('Authorization', 'Bearer good');
    expect(res.status).toBe(200);
    expect(res.body.auth.user).toBe('alice');
  });

  // RFC 6750 §2.3: the token travels in the query component (RFC 3986 §3.4), after the '?'.
  it('reads no token from the path', async () => {
    const res = await request(app).get('/items&access_token=good');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="example"');
  });

  it('ignores the query when not enabled (default)', async () => {
    const res = await request(bearerApp({ verify })).get('/?access_token=good');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="example"');
  });

  it('reads the query of the original URL under a mounted router', async () => {
    const outer = express();
    outer.use('/api', app);
    const res = await request(outer).get('/api/x?access_token=good');
    expect(res.status).toBe(200);
  });
});

describe('bearer(): token in the form body (RFC 6750 §2.2)', () => {
  const app = bearerApp({ verify, allowFormToken: true }, {}, form);

  it('accepts access_token from a POST urlencoded body', async () => {
    const res = await request(app).post('/').type('form').send('access_token=good&x=1');
    expect(res.status).toBe(200);
    expect(res.body.auth.user).toBe('alice');
  });

  // RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
  it('accepts a token of one character', async () => {
    const one = bearerApp({ verify: tableVerify({ a: 'ann' }), allowFormToken: true }, {}, form);
    const res = await request(one).post('/').type('form').send('access_token=a');
    expect(res.status).toBe(200);
    expect(res.body.auth.user).toBe('ann');
  });

  it('accepts a charset parameter on the content type', async () => {
    const res = await request(app)
      .put('/')
      .set('Content-Type', 'Application/X-WWW-Form-Urlencoded; charset=utf-8')
      .send('access_token=good');
    expect(res.status).toBe(200);
  });

  it('refuses a token longer than the header could carry (limits.maxLength) with invalid_request, without calling the verifier', async () => {
    let calls = 0;
    const counting = (...args: Parameters<typeof verify>) => {
      calls++;
      return verify(...args);
    };
    const limited = bearerApp(
      { verify: counting, allowFormToken: true },
      { limits: { maxLength: 64 } },
      [express.urlencoded({ extended: false, limit: '1mb' })],
    );
    // 'Bearer ' + 57 characters is 64, the longest field the header could carry.
    const fits = await request(limited)
      .post('/')
      .type('form')
      .send(`access_token=${'a'.repeat(57)}`);
    expect(fits.status).toBe(401);
    expect(calls).toBe(1);
    const long = await request(limited)
      .post('/')
      .type('form')
      .send(`access_token=${'a'.repeat(58)}`);
    expect(long.status).toBe(400);
    expect(errorOf(long.headers['www-authenticate'])).toBe('invalid_request');
    const huge = await request(limited)
      .post('/')
      .type('form')
      .send(`access_token=${'a'.repeat(500_000)}`);
    expect(huge.status).toBe(400);
    expect(calls).toBe(1);
  });

  it('ignores the body of a GET request', async () => {
    const res = await request(app).get('/').type('form').send('access_token=good');
    expect(res.status).toBe(401);
    expect(errorOf(res.headers['www-authenticate'])).toBeUndefined();
  });

  it('ignores a JSON body', async () => {
    const json = bearerApp({ verify, allowFormToken: true }, {}, [express.json()]);
    const res = await request(json).post('/').send({ access_token: 'good' });
    expect(res.status).toBe(401);
  });

  it('ignores a multipart body', async () => {
    const res = await request(app).post('/').field('access_token', 'good');
    expect(res.status).toBe(401);
  });

  it('answers a token in the header and in the body 400 invalid_request', async () => {
    const res = await request(app)
      .post('/')
      .set('Authorization', 'Bearer good')
      .type('form')
      .send('access_token=good');
    expect(res.status).toBe(400);
    expect(errorOf(res.headers['www-authenticate'])).toBe('invalid_request');
  });

  it('answers a repeated access_token field 400 invalid_request', async () => {
    const extended = bearerApp({ verify, allowFormToken: true }, {}, formExtended);
    const res = await request(extended)
      .post('/')
      .type('form')
      .send('access_token=good&access_token=other');
    expect(res.status).toBe(400);
    expect(errorOf(res.headers['www-authenticate'])).toBe('invalid_request');
  });

  it('answers access_token[]=, access_token[0]= and access_token[k]= (a list or an object from qs) 400 invalid_request, on Express 5 and 4, without calling the verifier', async () => {
    // qs (express.urlencoded({ extended: true }), Express 4's default) gives `access_token[]=good`
    // as ['good']: one element, so no repeated field, but no access_token parameter either
    // (RFC 6750 §2.2). Accepted, it made a token out of a field that querystring (Express 5's
    // default) names `access_token[]`, and that the query (URLSearchParams) ignores.
    let calls = 0;
    const counting = (...args: Parameters<typeof verify>) => {
      calls++;
      return verify(...args);
    };
    const express4 = require('express4') as typeof express;
    const apps = [
      bearerApp({ verify: counting, allowFormToken: true }, {}, formExtended),
      bearerApp({ verify: counting, allowFormToken: true }, {}, [
        express4.urlencoded({ extended: true }),
      ]),
    ];
    for (const app of apps) {
      for (const body of ['access_token[]=good', 'access_token[0]=good', 'access_token[k]=good']) {
        const res = await request(app).post('/').type('form').send(body);
        expect([body, res.status, res.headers[HIT]]).toEqual([body, 400, undefined]);
        expect(errorOf(res.headers['www-authenticate'])).toBe('invalid_request');
      }
      // The plain field still works on both.
      const plain = await request(app).post('/').type('form').send('access_token=good');
      expect(plain.status).toBe(200);
    }
    expect(calls).toBe(2);
  });

  it('answers a token in the body and in the query 400 invalid_request', async () => {
    const both = bearerApp({ verify, allowFormToken: true, allowQueryToken: true }, {}, form);
    const res = await request(both)
      .post('/?access_token=good')
      .type('form')
      .send('access_token=good');
    expect(res.status).toBe(400);
    expect(errorOf(res.headers['www-authenticate'])).toBe('invalid_request');
  });

  it('ignores the body when not enabled (default)', async () => {
    const off = bearerApp({ verify }, {}, form);
    const res = await request(off).post('/').type('form').send('access_token=good');
    expect(res.status).toBe(401);
  });
});

describe('bearer({ allowFormToken }) without a body parser before authenticate()', () => {
  /** The app with its audit reports, and what reached the error handler with onFailure: 'next'. */
  function unparsed(auth: Partial<AuthenticateOptions> = {}, schemes?: Scheme[]) {
    const outcomes: AuthOutcome[] = [];
    const errors: AuthenticationError[] = [];
    const app = express();
    app.use(
      authenticate({
        realm: 'example',
        schemes: schemes ?? [bearer({ verify, allowFormToken: true })],
        audit: (outcome) => outcomes.push(outcome),
        ...auth,
      }),
    );
    app.all('/{*rest}', (req, res) => {
      res.setHeader(HIT, 'yes');
      res.json({ auth: req.auth ?? null });
    });
    app.use(
      (err: AuthenticationError, _req: express.Request, res: express.Response, _next: unknown) => {
        errors.push(err);
        res
          .status(err.status ?? 500)
          .set(err.headers ?? {})
          .end();
      },
    );
    return { app, outcomes, errors };
  }
  // Silenced: each copy of the package warns once.
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());
  const NOT_PARSED =
    /^The form body was not parsed \(req\.body holds no fields\): put express\.urlencoded\(\) before authenticate\(\)/;

  it('refuses a token sent only in the body 401, saying the body was not parsed (audit and AuthenticationError)', async () => {
    const { app, outcomes, errors } = unparsed();
    const res = await request(app).post('/').type('form').send('access_token=good');
    expect(res.status).toBe(401);
    expect(res.headers[HIT]).toBeUndefined();
    // RFC 6750 §3.1: the client sent nothing wrong, so the challenge carries no error code.
    expect(res.headers['www-authenticate']).toBe('Bearer realm="example"');
    expect(outcomes).toEqual([
      {
        outcome: 'refused',
        scheme: undefined,
        user: undefined,
        status: 401,
        code: 'ERR_AUTH_MISSING_CREDENTIALS',
        message: expect.stringMatching(NOT_PARSED),
      },
    ]);
    // Answered by the middleware itself: the error handler saw nothing.
    expect(errors).toEqual([]);
    const next = unparsed({ onFailure: 'next' });
    const passed = await request(next.app).post('/').type('form').send('access_token=good');
    expect(passed.status).toBe(401);
    expect(next.errors).toHaveLength(1);
    expect(next.errors[0]).toBeInstanceOf(AuthenticationError);
    expect(next.errors[0]!.code).toBe('ERR_AUTH_MISSING_CREDENTIALS');
    expect(next.errors[0]!.message).toMatch(NOT_PARSED);
  });

  it('says so on Express 4 too, where a parser for another type (express.json()) leaves req.body = {} unread', async () => {
    const express4 = require('express4') as typeof express;
    const outcomes: AuthOutcome[] = [];
    const app = (parser: express.RequestHandler) => {
      const app4 = express4();
      app4.use(parser);
      app4.use(
        authenticate({
          realm: 'example',
          schemes: [bearer({ verify, allowFormToken: true })],
          audit: (outcome) => outcomes.push(outcome),
        }),
      );
      app4.use((_req: express.Request, res: express.Response) => res.end());
      return app4;
    };
    const json = app(express4.json());
    await request(json).post('/').type('form').send('access_token=good').expect(401);
    // A form parser that read the body, and found no field in it, leaves {} too: nothing unread.
    const form4 = app(express4.urlencoded({ extended: false }));
    await request(form4).post('/').type('form').send('&').expect(401);
    await request(form4).post('/').type('form').send('access_token=good').expect(200);
    expect(outcomes.map((o) => o.message)).toEqual([
      expect.stringMatching(NOT_PARSED),
      'No credentials were sent',
      undefined,
    ]);
  });

  it('reads a token from fields another layer parsed, though the stream was left unread (Express 4)', async () => {
    // Only an empty object over an unread body means "not parsed": fields are a parsed body,
    // wherever they came from (a platform or a middleware that read the bytes elsewhere).
    const express4 = require('express4') as typeof express;
    const app4 = express4();
    app4.use(express4.json()); // skips the form type: req.body = {}
    app4.use((req: express.Request, _res: express.Response, next: express.NextFunction) => {
      req.body = { access_token: 'good' };
      next();
    });
    app4.use(
      authenticate({ realm: 'example', schemes: [bearer({ verify, allowFormToken: true })] }),
    );
    app4.use((req: express.Request, res: express.Response) => res.json({ user: req.auth?.user }));
    const res = await request(app4).post('/').type('form').send('x=1');
    expect([res.status, res.body]).toEqual([200, { user: 'alice' }]);
  });

  it('says "No credentials were sent" where no body could hold a token (GET, another type, an empty body)', async () => {
    const { app, outcomes } = unparsed();
    await request(app).post('/').expect(401);
    await request(app).get('/').expect(401);
    await request(app).post('/').type('json').send('{"access_token":"good"}').expect(401);
    await request(app).post('/').type('form').send('').expect(401);
    expect(outcomes.map((o) => o.message)).toEqual(Array(4).fill('No credentials were sent'));
  });

  it('still accepts a token in the header, and another scheme’s credentials, on a form POST', async () => {
    const { app } = unparsed({}, [
      basic({ users: { alice: 'secret' } }),
      bearer({ verify, allowFormToken: true }),
    ]);
    const viaHeader = await request(app)
      .post('/')
      .set('Authorization', 'Bearer good')
      .type('form')
      .send('x=1');
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.body.auth.user).toBe('alice');
    const viaBasic = await request(app)
      .post('/')
      .set('Authorization', `Basic ${Buffer.from('alice:secret').toString('base64')}`)
      .type('form')
      .send('access_token=good');
    expect(viaBasic.status).toBe(200);
    expect(viaBasic.body.auth.scheme).toBe('Basic');
  });

  it('lets the request through unauthenticated with credentialsRequired: false', async () => {
    const { app, outcomes } = unparsed({ credentialsRequired: false });
    const res = await request(app).post('/').type('form').send('access_token=good');
    expect(res.status).toBe(200);
    expect(res.body.auth).toBeNull();
    expect(outcomes).toEqual([]);
  });

  it('warns once per process (AUTHSCHEME_FORM_BODY_UNPARSED), with or without a token in the header', async () => {
    // A copy of the package of its own: the other tests here have warned already.
    let fresh!: typeof import('authscheme');
    jest.isolateModules(() => {
      fresh = jest.requireActual<typeof import('authscheme')>('../../../src/index');
    });
    const app = express();
    app.use(fresh.authenticate({ schemes: [fresh.bearer({ verify, allowFormToken: true })] }));
    app.post('/', (_req, res) => res.end());
    await request(app).post('/').type('form').send('').expect(401);
    expect(warn).not.toHaveBeenCalled();
    await request(app)
      .post('/')
      .set('Authorization', 'Bearer good')
      .type('form')
      .send('x=1')
      .expect(200);
    for (let i = 0; i < 3; i++) {
      await request(app).post('/').type('form').send('access_token=good').expect(401);
    }
    expect(warn.mock.calls).toEqual([
      [
        expect.stringMatching(/express\.urlencoded\(\) before authenticate\(\)/),
        { code: 'AUTHSCHEME_FORM_BODY_UNPARSED' },
      ],
    ]);
  });
});
