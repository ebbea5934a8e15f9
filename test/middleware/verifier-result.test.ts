/**
 * A user callback that answers, per request, with something of the wrong type (a verifier, a
 * Digest lookup, a body function, a custom scheme's challenges, locate or success headers) is a
 * programming error: the request fails closed through next(err) with an AuthschemeError
 * ERR_AUTH_VERIFIER_RESULT, whichever callback it was, never a bare TypeError (and never the
 * handler). Setup-time option errors stay TypeErrors.
 */
import { createHash } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import {
  authenticate,
  AuthschemeError,
  basic,
  bearer,
  digest,
  formatCredentials,
  parseChallenges,
  type AuthenticateOptions,
  type AuthOutcome,
  type Scheme,
} from 'authscheme';
import { answer } from '../schemes/digest/helpers';
import { recordingRejections } from '../helpers/rejections';

const SECRET = 's'.repeat(32);

interface Run {
  status: number;
  error: unknown;
  outcomes: AuthOutcome[];
  handled: boolean;
}

/** Sends one request (after a first one for the Digest challenge, when `digestUser` is given). */
async function run(
  options: Partial<AuthenticateOptions> & { schemes: Scheme[] },
  init: { authorization?: string; digestUser?: { userhash?: boolean } } = {},
): Promise<Run> {
  const outcomes: AuthOutcome[] = [];
  let error: unknown;
  let handled = false;
  const app = express();
  app.use(authenticate({ realm: 'api', audit: (o) => void outcomes.push(o), ...options }));
  app.all('/', (_req, res) => {
    handled = true;
    res.send('ok');
  });
  app.use(
    (err: unknown, _req: express.Request, res: express.Response, _n: express.NextFunction) => {
      error = err;
      res.status(500).end();
    },
  );
  let authorization = init.authorization;
  if (init.digestUser !== undefined) {
    const first = await request(app).get('/');
    const challenge = parseChallenges(first.headers['www-authenticate'] as string)[0]!;
    outcomes.length = 0;
    authorization = formatCredentials(
      answer(challenge, {
        user: 'alice',
        password: 'secret',
        uri: '/',
        method: 'POST',
        ...init.digestUser,
      }),
    );
  }
  const req = request(app).post('/');
  const res = await (authorization === undefined ? req : req.set('Authorization', authorization));
  return { status: res.status, error, outcomes, handled };
}

const basicHeader = `Basic ${Buffer.from('alice:secret').toString('base64')}`;
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** A scheme that lets everyone in, whose locate() returns `located`. */
const locating = (located: unknown): Promise<Run> =>
  run({
    schemes: [
      {
        name: 'Custom',
        challenges: () => [{ scheme: 'Custom', params: {} }],
        verify: () => ({ ok: true, user: 'a' }),
        locate: () => located as never,
      },
    ],
  });

/** A scheme that lets everyone in, with `result`'s fields on its success. */
function succeedingWith(result: object, name = 'Custom'): Scheme {
  return {
    name,
    challenges: () => [{ scheme: name, params: {} }],
    verify: () => ({ ok: true, user: 'a', ...result }) as never,
  };
}

const cases: [string, () => Promise<Run>][] = [
  // Consistent already: the verifier results that identityResult() and bearer() check.
  [
    'a Bearer verifier returns a non-string user',
    () =>
      run(
        { schemes: [bearer({ verify: () => ({ user: 42 }) as never })] },
        { authorization: 'Bearer t' },
      ),
  ],
  [
    'a Bearer verifier returns an expiresAt that is not a number',
    () =>
      run(
        { schemes: [bearer({ verify: () => ({ user: 'a', expiresAt: 'tomorrow' }) as never })] },
        { authorization: 'Bearer t' },
      ),
  ],
  [
    'a Basic verifier returns true',
    () =>
      run({ schemes: [basic({ verify: () => true as never })] }, { authorization: basicHeader }),
  ],
  [
    // An array is no identity object (an index would land on req.auth), whatever fields it has.
    'a Basic verifier returns an array with a user field',
    () =>
      run(
        { schemes: [basic({ verify: () => Object.assign(['x'], { user: 'alice' }) })] },
        { authorization: basicHeader },
      ),
  ],
  // Plain TypeErrors before.
  [
    'getHA1 returns a number',
    () =>
      run({ schemes: [digest({ getHA1: () => 42 as never, secret: SECRET })] }, { digestUser: {} }),
  ],
  [
    'getHA1 returns a hex string of the wrong length',
    () =>
      run(
        {
          schemes: [
            digest({ getHA1: () => md5('x').slice(1), algorithms: ['MD5'], secret: SECRET }),
          ],
        },
        { digestUser: {} },
      ),
  ],
  [
    'getHA1 returns a hex string longer than the hash (a SHA-256 HA1 for MD5)',
    () =>
      run(
        {
          schemes: [
            digest({
              getHA1: () => createHash('sha256').update('x').digest('hex'),
              algorithms: ['MD5'],
              secret: SECRET,
            }),
          ],
        },
        { digestUser: {} },
      ),
  ],
  [
    'getPassword returns a number',
    () =>
      run(
        { schemes: [digest({ getPassword: () => 42 as never, secret: SECRET })] },
        { digestUser: {} },
      ),
  ],
  [
    'getPassword returns details that are not an object',
    () =>
      run(
        {
          schemes: [
            digest({
              getPassword: () => ({ password: 'secret', details: 'x' }) as never,
              secret: SECRET,
            }),
          ],
        },
        { digestUser: {} },
      ),
  ],
  [
    'getPassword returns a details.user that is not a string',
    () =>
      run(
        {
          schemes: [
            digest({
              getPassword: () => ({ password: 'secret', details: { user: 42 } }),
              secret: SECRET,
            }),
          ],
        },
        { digestUser: {} },
      ),
  ],
  [
    'findUserByHash returns a number',
    () =>
      run(
        {
          schemes: [
            digest({
              getPassword: () => 'secret',
              findUserByHash: () => 42 as never,
              userhash: true,
              secret: SECRET,
            }),
          ],
        },
        { digestUser: { userhash: true } },
      ),
  ],
  [
    'the body function returns a number',
    () => run({ schemes: [basic({ users: { alice: 'x' } })], body: () => 42 as never }),
  ],
  [
    'a scheme’s challenges() makes a challenge that cannot be sent',
    () =>
      run({
        schemes: [
          {
            name: 'Custom',
            challenges: () => [{ scheme: 'not a token', params: {} }],
            verify: () => ({ ok: false, code: 'ERR_AUTH_INVALID_CREDENTIALS', message: 'no' }),
          },
        ],
      }),
  ],
  [
    'a scheme’s challenges() returns no list',
    () =>
      run({
        schemes: [
          {
            name: 'Custom',
            challenges: () => 'Custom' as never,
            verify: () => ({ ok: false, code: 'ERR_AUTH_INVALID_CREDENTIALS', message: 'no' }),
          },
        ],
      }),
  ],
  ['a scheme’s locate() returns a string', () => locating('token')],
  [
    'a scheme’s locate() returns credentials without a scheme',
    () => locating({ token68: 'token' }),
  ],
  // Node's own errors before (ERR_INVALID_CHAR, ERR_INVALID_HTTP_TOKEN), or no error at all: a
  // number, an array or a string of headers went out as Node made them.
  ...(
    [
      ['a header value that is a number', { 'X-Count': 5 }],
      ['a header value that is a list', { 'X-List': ['a', 'b'] }],
      ['a header name that is no token', { 'X Info': 'a' }],
      ['a header value with CR LF', { 'X-Info': 'a\r\nSet-Cookie: s=1' }],
      ['a header value above U+00FF', { 'X-Info': 'caf\u00e9 \u20ac' }],
      ['headers that are a string', 'X-Info: a'],
      ['headers that are a list', [['X-Info', 'a']]],
    ] as const
  ).map(([what, headers]): [string, () => Promise<Run>] => [
    `a scheme’s success carries ${what}`,
    () => run({ schemes: [succeeding(headers)] }, { authorization: 'Custom t' }),
  ]),
  // From a review: for-in copied a string's characters and an array's items onto req.auth, and
  // dropped a Map's entries, in silence.
  ...(
    [
      'abc',
      ['x', 'y'],
      Buffer.from('ab'),
      new Map([['role', 'admin']]),
      new Set(['admin']),
      5,
    ] as const
  ).map((details): [string, () => Promise<Run>] => [
    `a custom scheme's success has details ${Object.prototype.toString.call(details)}`,
    () => run({ schemes: [succeedingWith({ details })] }, { authorization: 'Custom' }),
  ]),
];

/** A custom scheme that accepts any `Custom` credentials with these success headers. */
function succeeding(headers: unknown, name = 'Custom'): Scheme {
  return {
    name,
    challenges: () => [{ scheme: name, params: {} }],
    verify: () => ({ ok: true, user: 'a', headers: headers as Record<string, string> }),
  };
}

describe('a user callback’s result of the wrong type, per request', () => {
  it.each(cases)(
    '%s: next(err) with ERR_AUTH_VERIFIER_RESULT, never the handler',
    async (_title, send) => {
      const { status, error, handled, outcomes } = await send();
      expect(status).toBe(500);
      expect(handled).toBe(false);
      expect(error).toBeInstanceOf(AuthschemeError);
      expect(error).toMatchObject({ code: 'ERR_AUTH_VERIFIER_RESULT' });
      // audit hears of it as an error of authscheme's, unless it was told of the refusal first
      // (the body function runs after that report).
      expect(outcomes).toHaveLength(1);
      const [outcome] = outcomes;
      if (outcome!.outcome === 'error') expect(outcome!.code).toBe('ERR_AUTH_VERIFIER_RESULT');
      else expect(outcome!.outcome).toBe('refused');
    },
  );
});

// omitChallenge, the body function and locate() answer synchronously. Given an async function
// (plain JavaScript, or a cast), the promise it returns was taken for its answer: a promise is
// truthy, so omitChallenge left the challenges out of every refusal, and a rejection (the callback
// throwing on what a client sent) went unhandled, which ends a Node process.
describe('a synchronous callback given an async function, per request', () => {
  const custom = (locate: Scheme['locate']): Scheme => ({
    name: 'Custom',
    challenges: () => [{ scheme: 'Custom', params: {} }],
    verify: () => ({ ok: true, user: 'a' }),
    locate,
  });
  const basics = [basic({ users: { alice: 'x' } })];
  const cases: [string, boolean, Partial<AuthenticateOptions> & { schemes: Scheme[] }][] = [
    ['omitChallenge', false, { schemes: basics, omitChallenge: (async () => false) as never }],
    [
      'omitChallenge',
      true,
      {
        schemes: basics,
        omitChallenge: (async () => {
          throw new Error('bad header');
        }) as never,
      },
    ],
    [
      'the body function',
      true,
      {
        schemes: basics,
        body: (async () => {
          throw new Error('no template');
        }) as never,
      },
    ],
    [
      'locate()',
      true,
      {
        schemes: [
          custom((async () => {
            throw new Error('bad cookie');
          }) as never),
        ],
      },
    ],
  ];

  it.each(cases)(
    '%s (rejecting: %s): next(err) with ERR_AUTH_VERIFIER_RESULT saying so, no unhandled rejection',
    async (_what, _rejecting, options) => {
      await recordingRejections(async (rejections) => {
        const { status, error, handled } = await run(options);
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(rejections).toEqual([]);
        expect(status).toBe(500);
        expect(handled).toBe(false);
        expect(error).toBeInstanceOf(AuthschemeError);
        expect(error).toMatchObject({
          code: 'ERR_AUTH_VERIFIER_RESULT',
          message: expect.stringContaining('a promise') as unknown,
        });
      });
    },
  );
});

describe('a challenges() list that holds promises', () => {
  // `[makeChallenge()]` with an async maker: no list of challenges, and the rejection of one
  // went unhandled, which ends the process.
  it('fails closed with ERR_AUTH_VERIFIER_RESULT, and no rejection goes unhandled', async () => {
    await recordingRejections(async (rejections) => {
      const scheme: Scheme = {
        name: 'Custom',
        challenges: () => [Promise.reject(new Error('no key yet'))] as never,
        verify: () => ({ ok: true, user: 'a' }),
      };
      const { status, error, handled } = await run({ schemes: [scheme] });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(rejections).toEqual([]);
      expect([status, handled]).toEqual([500, false]);
      expect(error).toMatchObject({
        code: 'ERR_AUTH_VERIFIER_RESULT',
        message: expect.stringContaining('made a challenge that cannot be sent') as unknown,
      });
    });
  });
  // Once one list failed, the lists after it were not looked at (nor, when a scheme's
  // challenges() threw, the promises inside the lists before it): their rejections went
  // unhandled.
  const rejecting = (name: string): Scheme => ({
    name,
    challenges: () => [Promise.reject(new Error(`no ${name} key yet`))] as never,
    verify: () => ({ ok: true, user: 'a' }),
  });
  const noList: Scheme = {
    name: 'One',
    challenges: () => 'Basic realm="api"' as never,
    verify: () => ({ ok: true, user: 'a' }),
  };
  const throwing: Scheme = {
    name: 'Two',
    challenges: () => {
      throw new AuthschemeError('ERR_AUTH_VERIFIER_RESULT', 'Two cannot challenge');
    },
    verify: () => ({ ok: true, user: 'a' }),
  };
  it.each([
    [
      'holds promises, before one that does too',
      [rejecting('One'), rejecting('Two')],
      'One scheme made a challenge that cannot be sent',
    ],
    [
      'is no list, before one that holds promises',
      [noList, rejecting('Two')],
      "One scheme's challenges() returned no list",
    ],
    [
      'holds promises, before one whose challenges() throws',
      [rejecting('One'), throwing],
      'Two cannot challenge',
    ],
  ])('leaves no rejection unhandled when a list %s', async (_, schemes, message) => {
    await recordingRejections(async (rejections) => {
      const { status, error, handled } = await run({ schemes });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(rejections).toEqual([]);
      expect([status, handled]).toEqual([500, false]);
      expect(error).toMatchObject({
        code: 'ERR_AUTH_VERIFIER_RESULT',
        message: expect.stringContaining(message) as unknown,
      });
    });
  });
});

describe('the headers of a scheme’s success', () => {
  /** The error next(err) got, the response headers and whether the handler ran with req.auth. */
  async function send(scheme: Scheme, authorization = `${scheme.name} t`) {
    let error: unknown;
    let auth: unknown;
    const app = express();
    app.use(authenticate({ realm: 'api', schemes: [scheme] }));
    app.get('/', (req, res) => {
      auth = (req as { auth?: unknown }).auth;
      res.send('ok');
    });
    app.use(
      (err: unknown, _req: express.Request, res: express.Response, _n: express.NextFunction) => {
        error = err;
        res.status(500).end();
      },
    );
    const res = await request(app).get('/').set('Authorization', authorization);
    return { status: res.status, headers: res.headers, error, auth };
  }

  it.each([
    [
      { 'X-Ok': 'yes', 'X Info': 'a' },
      'The Custom scheme\'s success carries a header named "X Info", which is no field name (a token, RFC 9110 §5.1)',
    ],
    [
      { 'X-Ok': 'yes', 'X\r\nInjected': 'a' },
      'The Custom scheme\'s success carries a header named "X\\r\\nInjected", which is no field name (a token, RFC 9110 §5.1)',
    ],
    [
      { 'X-Ok': 'yes', 'X-Info': 'secret-part\r\nSet-Cookie: s=1' },
      "The Custom scheme's success carries a header X-Info whose value holds U+000D, which no field value can carry (RFC 9110 §5.5)",
    ],
    [
      { 'X-Ok': 'yes', 'X-Info': 'secret-part\u0000' },
      "The Custom scheme's success carries a header X-Info whose value holds U+0000, which no field value can carry (RFC 9110 §5.5)",
    ],
    [
      { 'X-Ok': 'yes', 'X-Info': 'secret-part \u2603' },
      "The Custom scheme's success carries a header X-Info whose value holds U+2603, which no field value can carry (RFC 9110 §5.5)",
    ],
    [
      { 'X-Ok': 'yes', 'X-Count': 5 },
      "The Custom scheme's success carries a header X-Count whose value is a number, not a string",
    ],
    [
      'X-Info: a',
      "The Custom scheme's success carries headers that are a string, not an object of field names to strings",
    ],
  ])(
    'fail the request closed, naming the scheme and the header, setting none of them: %j',
    async (headers, message) => {
      const { status, headers: sent, error, auth } = await send(succeeding(headers));
      expect(status).toBe(500);
      expect(auth).toBeUndefined();
      expect(error).toBeInstanceOf(AuthschemeError);
      expect(error).toMatchObject({ code: 'ERR_AUTH_VERIFIER_RESULT', message });
      // The value is never quoted: it may hold what the scheme knows (a token, a session).
      expect((error as Error).message).not.toContain('secret-part');
      // A success that failed sends none of its headers, the good ones included.
      expect(sent['x-ok']).toBeUndefined();
      expect(sent['x-count']).toBeUndefined();
    },
  );

  // The undo once removed every name this success had set, so a Vary or Cache-Control an
  // earlier middleware set went missing from the error response.
  it('leave a header set before them as it was, value and all, when one is refused', async () => {
    const vary = ['Origin', 'Accept-Encoding'];
    const app = express();
    app.use((_req, res, next) => {
      res.setHeader('Cache-Control', 'no-cache, app');
      res.setHeader('Vary', vary);
      res.setHeader('X-Count', 5);
      res.setHeader('X-App', 'app');
      next();
    });
    app.use(
      authenticate({
        realm: 'api',
        schemes: [
          succeeding({
            'Cache-Control': 'private',
            Vary: 'Cookie',
            // One field named twice: each gets back what it replaced, the first the app's.
            'X-Count': '6',
            'x-count': '7',
            'X-New': 'a',
            'x-new': 'b',
            // Never set before: its undo must not stop the Date Node adds.
            Date: 'Thu, 01 Jan 1970 00:00:00 GMT',
            'X-Info': 'a\nb',
            // After the refused one: never set, so never undone either.
            'X-App': 'scheme',
          }),
        ],
      }),
    );
    app.get('/', (_req, res) => res.send('ok'));
    let held: Record<string, unknown> = {};
    let error: unknown;
    app.use(
      (err: unknown, _req: express.Request, res: express.Response, _n: express.NextFunction) => {
        error = err;
        held = {
          vary: res.getHeader('Vary'),
          count: res.getHeader('X-Count'),
          fresh: res.hasHeader('X-New'),
          date: res.hasHeader('Date'),
        };
        res.status(500).end();
      },
    );
    const res = await request(app).get('/').set('Authorization', 'Custom t');
    expect(res.status).toBe(500);
    expect(error).toMatchObject({ code: 'ERR_AUTH_VERIFIER_RESULT' });
    // As set: the same list (two field lines), the same number.
    expect(held).toEqual({ vary, count: 5, fresh: false, date: false });
    expect(held.vary).toBe(vary);
    expect(res.headers['cache-control']).toBe('no-cache, app');
    expect(res.headers['vary']).toBe('Origin, Accept-Encoding');
    expect(res.headers['x-count']).toBe('5');
    expect(res.headers['x-app']).toBe('app');
    expect(res.headers['x-new']).toBeUndefined();
    expect(res.headers['date']).not.toBe('Thu, 01 Jan 1970 00:00:00 GMT');
    expect(Date.parse(res.headers['date'] as string)).toBeGreaterThan(Date.now() - 60_000);
  });

  /**
   * An app that sets `name` to `before`, then authenticates with a scheme whose success carries
   * `headers` (and `audit`, if given); its error handler answers 500.
   */
  function appAfter(
    name: string,
    before: string | string[],
    headers: Record<string, string>,
    audit?: () => void,
  ) {
    const app = express();
    app.use((_req, res, next) => {
      res.setHeader(name, before);
      next();
    });
    app.use(
      authenticate({
        realm: 'api',
        schemes: [succeeding(headers)],
        ...(audit === undefined ? {} : { audit }),
      }),
    );
    app.get('/', (_req, res) => res.send('ok'));
    app.use((_e: unknown, _q: express.Request, res: express.Response, _n: express.NextFunction) => {
      res.status(500).end();
    });
    return app;
  }

  /**
   * The responses of {@link appAfter}'s app to credentials its scheme accepts: as is, and with an
   * `audit` hook that throws (the success's headers taken back).
   */
  async function acceptedAndUndone(
    name: string,
    before: string | string[],
    headers: Record<string, string>,
  ) {
    const ok = await request(appAfter(name, before, headers))
      .get('/')
      .set('Authorization', 'Custom t');
    const failed = await request(
      appAfter(name, before, headers, () => {
        throw new Error('log full');
      }),
    )
      .get('/')
      .set('Authorization', 'Custom t');
    return { ok, failed };
  }

  // RFC 6265 §3: Set-Cookie cannot be combined; the scheme's went in place of the app's (a CSRF
  // token's cookie, set before authenticate()).
  it.each([
    ['one cookie', 'csrf=1', ['csrf=1']],
    ['a list', ['csrf=1', 'theme=dark'], ['csrf=1', 'theme=dark']],
  ])(
    'put a Set-Cookie beside the app’s (%s), and take only it back when the audit hook throws',
    async (_title, before, kept) => {
      const { ok, failed } = await acceptedAndUndone('Set-Cookie', before, {
        'Set-Cookie': 'session=2',
      });
      expect(ok.status).toBe(200);
      expect(ok.headers['set-cookie']).toEqual([...kept, 'session=2']);
      expect(failed.status).toBe(500);
      expect(failed.headers['set-cookie']).toEqual(kept);
    },
  );

  // RFC 9110 §12.5.5: Vary lists every request field the response depends on. A scheme's
  // `Vary: Cookie` replaced the Vary a cors() before authenticate() had set, and a cache then
  // served one origin's Access-Control-Allow-Origin to another.
  it.each([
    ['one name', 'Origin', 'Cookie', 'Origin, Cookie, Authorization'],
    ['a list of lines', ['Origin', 'Accept'], 'Cookie', 'Origin, Accept, Cookie, Authorization'],
    ['its own name in another case', 'Origin, COOKIE', 'cookie', 'Origin, COOKIE, Authorization'],
    ['its own name, sent in capitals', 'Origin, Cookie', 'COOKIE', 'Origin, Cookie, Authorization'],
    [
      'names the scheme repeats',
      'Origin',
      'Cookie, X-Tenant, cookie',
      'Origin, Cookie, X-Tenant, Authorization',
    ],
    ['"*"', '*', 'Cookie', '*'],
    ['a name, when the scheme says "*"', 'Origin', '*', '*'],
    ['an empty value', '', 'Cookie', 'Cookie, Authorization'],
  ])(
    'add a Vary’s names to the one set before (%s), and take them back when the audit hook throws',
    async (_title, before, scheme, sent) => {
      const { ok, failed } = await acceptedAndUndone('Vary', before, { Vary: scheme });
      expect(ok.status).toBe(200);
      expect(ok.headers['vary']).toBe(sent);
      expect(failed.status).toBe(500);
      expect(failed.headers['vary']).toBe(Array.isArray(before) ? before.join(', ') : before);
    },
  );

  // RFC 6265 §4.1.1: a server SHOULD NOT send two Set-Cookie fields with one cookie-name. The
  // scheme's cookie went out beside the app's of the same name, and twice when two
  // authenticate()s (the site's, a route's) both accepted the request.
  it('replace only the app’s cookie of the same name, and set one only once on a second success', async () => {
    const app = express();
    app.use((_req, res, next) => {
      res.setHeader('Set-Cookie', ['csrf=1', 'session=old; Path=/', 'theme=dark']);
      next();
    });
    const custom = succeeding({ 'Set-Cookie': 'session=2; HttpOnly' });
    app.use(authenticate({ realm: 'api', credentialsRequired: false, schemes: [custom] }));
    app.use(authenticate({ realm: 'api', schemes: [custom] }));
    app.get('/', (_req, res) => res.send('ok'));
    const res = await request(app).get('/').set('Authorization', 'Custom t');
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toEqual(['csrf=1', 'theme=dark', 'session=2; HttpOnly']);
  });

  // RFC 6265 §5.2 trims only WSP (SP, HTAB) around the name: a NO-BREAK SPACE (sent as the byte
  // 0xA0) stays part of it, so that cookie is another than the scheme's and stays.
  it('read the cookie-name as a user agent does: only SP and HTAB trimmed, up to ";" and "="', async () => {
    const app = express();
    app.use((_req, res, next) => {
      res.setHeader('Set-Cookie', [
        '\u00A0session=a',
        ' \tsession\t = b; Path=/',
        'session',
        'a;session=c',
        'x=session=2',
      ]);
      next();
    });
    app.use(authenticate({ realm: 'api', schemes: [succeeding({ 'Set-Cookie': 'session=2' })] }));
    app.get('/', (_req, res) => res.send('ok'));
    const res = await request(app).get('/').set('Authorization', 'Custom t');
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toEqual([
      '\u00A0session=a',
      'session',
      'a;session=c',
      'x=session=2',
      'session=2',
    ]);
  });

  // RFC 6265bis §5.6: a cookie without "=" has the empty name, the whole pair its value. So one
  // is the same cookie as a scheme's "=v" (replaced), and another than a scheme's named cookie
  // however its text begins (kept).
  it('take a cookie without "=" as the nameless cookie', async () => {
    const make = (scheme: string) => {
      const app = express();
      app.use((_req, res, next) => {
        res.setHeader('Set-Cookie', ['csrf=1', 'sessions']);
        next();
      });
      app.use(authenticate({ realm: 'api', schemes: [succeeding({ 'Set-Cookie': scheme })] }));
      app.get('/', (_req, res) => res.send('ok'));
      return app;
    };
    const named = await request(make('session=2')).get('/').set('Authorization', 'Custom t');
    expect(named.headers['set-cookie']).toEqual(['csrf=1', 'sessions', 'session=2']);
    const nameless = await request(make('=2')).get('/').set('Authorization', 'Custom t');
    expect(nameless.headers['set-cookie']).toEqual(['csrf=1', '=2']);
  });

  it('fail the same way when an async scheme answers', async () => {
    const scheme: Scheme = {
      ...succeeding({}),
      verify: async () => ({ ok: true, user: 'a', headers: { 'X-Info': 'a\nb' } }),
    };
    const { status, error, auth } = await send(scheme);
    expect(status).toBe(500);
    expect(auth).toBeUndefined();
    expect(error).toMatchObject({
      code: 'ERR_AUTH_VERIFIER_RESULT',
      message:
        "The Custom scheme's success carries a header X-Info whose value holds U+000A, which no field value can carry (RFC 9110 §5.5)",
    });
  });

  // Node refuses a well-formed header too once the head went out: not the scheme's doing, so its
  // own error goes on, not one that blames the value.
  it('hand on Node’s error when the head went out while an async scheme worked', async () => {
    let release!: () => void;
    const answered = new Promise<void>((resolve) => (release = resolve));
    const scheme: Scheme = {
      ...succeeding({}),
      verify: async () => {
        await answered;
        return { ok: true, user: 'a', headers: { 'X-Info': 'ok' } };
      },
    };
    let failed!: (err: unknown) => void;
    const error = new Promise<unknown>((resolve) => (failed = resolve));
    const app = express();
    // Something before it answers while the verifier works, its end still to come.
    app.use((_req, res, next) => {
      next();
      res.status(503).write('bu');
      release();
      setTimeout(() => res.end('sy'), 20);
    });
    app.use(authenticate({ realm: 'api', schemes: [scheme] }));
    app.get('/', (_req, res) => res.send('ok'));
    app.use((err: unknown, _req: express.Request, _res: express.Response, _n: unknown) =>
      failed(err),
    );
    const res = await request(app).get('/').set('Authorization', 'Custom t');
    expect(res.status).toBe(503);
    expect(res.headers['x-info']).toBeUndefined();
    expect(await error).toMatchObject({ code: 'ERR_HTTP_HEADERS_SENT' });
  });

  it('go out when Node can send them: a tab, Latin-1, an empty value, none at all', async () => {
    const latin1 = 'caf\u00e9';
    const { status, headers, auth } = await send(
      succeeding({ 'X-Tab': 'a\tb', 'X-Latin1': latin1, 'X-Empty': '' }),
    );
    expect(status).toBe(200);
    expect(auth).toMatchObject({ scheme: 'Custom', user: 'a' });
    expect(headers['x-tab']).toBe('a\tb');
    // supertest reads the head as latin1, as Node wrote it.
    expect(headers['x-latin1']).toBe(latin1);
    expect(headers['x-empty']).toBe('');
    for (const none of [undefined, null]) {
      const bare = await send(succeeding(none));
      expect(bare.status).toBe(200);
      expect(bare.auth).toMatchObject({ user: 'a' });
    }
  });
});

// From a review of the extension points at run time: what an async scheme answered was handled
// where nothing caught a throw (a getter of the result, a message that is no string), which ended
// the process or left the request unanswered; fields checked were read again for their use.
describe('a custom scheme’s result', () => {
  const custom = (verify: Scheme['verify'], challenges?: Scheme['challenges']): Scheme => ({
    name: 'Custom',
    challenges: challenges ?? (() => [{ scheme: 'Custom', params: {} }]),
    verify,
  });

  it.each([
    ['sync', false],
    ['async', true],
  ])(
    'whose getter throws (%s): next(err), no rejection unhandled, no hang',
    async (_mode, async) => {
      await recordingRejections(async (rejections) => {
        const failure = {
          ok: false,
          code: 'ERR_AUTH_INVALID_CREDENTIALS',
          message: 'no',
          get status(): number {
            throw new Error('lazy field failed');
          },
        };
        const verify = () => (async ? Promise.resolve(failure) : failure) as never;
        const { status, error } = await run(
          { schemes: [custom(verify)], timeout: 2000 },
          { authorization: 'Custom' },
        );
        expect(status).toBe(500);
        expect((error as Error).message).toBe('lazy field failed');
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(rejections).toEqual([]);
      });
    },
  );

  it('with details null has none, as with undefined', async () => {
    const app = express();
    app.use(authenticate({ schemes: [succeedingWith({ details: null })] }));
    app.get('/', (req, res) => res.json(req.auth));
    const res = await request(app).get('/').set('Authorization', 'Custom');
    expect(res.body).toEqual({ scheme: 'Custom', user: 'a' });
  });

  it('from locate(), with a message that is no string, is refused all the same', async () => {
    const locating: Scheme = {
      ...custom(() => ({ ok: true, user: 'a' })),
      locate: () =>
        ({
          ok: false,
          code: 'ERR_AUTH_MISSING_CREDENTIALS',
          message: Object.create(null) as string,
        }) as never,
    };
    for (const onFailure of ['respond', 'next'] as const) {
      const { status, outcomes, error } = await run({ schemes: [locating], onFailure });
      expect(status).toBe(onFailure === 'respond' ? 401 : 500);
      expect(outcomes).toMatchObject([
        { outcome: 'refused', message: 'The credentials were refused' },
      ]);
      if (onFailure === 'next') expect(error).toMatchObject({ status: 401 });
    }
  });

  it('whose message is no string is refused all the same, with a message of ours', async () => {
    await recordingRejections(async (rejections) => {
      const failure = {
        ok: false,
        code: 'ERR_AUTH_INVALID_CREDENTIALS',
        message: Object.create(null),
      };
      const { status, outcomes } = await run(
        { schemes: [custom(async () => failure as never)] },
        { authorization: 'Custom' },
      );
      expect(status).toBe(401);
      expect(outcomes).toMatchObject([
        { outcome: 'refused', message: 'The credentials were refused' },
      ]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(rejections).toEqual([]);
    });
  });

  it('is read once per field: a user getter that answers otherwise the second time', async () => {
    let reads = 0;
    const success = {
      ok: true,
      get user(): unknown {
        reads++;
        return reads === 1 ? 'alice' : {};
      },
    };
    const app = express();
    app.use(authenticate({ schemes: [custom(() => success as never)] }));
    app.get('/', (req, res) => res.json(req.auth));
    const res = await request(app).get('/').set('Authorization', 'Custom');
    expect(res.body).toEqual({ scheme: 'Custom', user: 'alice' });
    expect(reads).toBe(1);
  });

  it('is read once per field: a code getter and a claimed user', async () => {
    let codeReads = 0;
    let userReads = 0;
    const failure = {
      ok: false,
      message: 'no',
      get code(): unknown {
        codeReads++;
        return codeReads === 1 ? 'ERR_AUTH_INVALID_CREDENTIALS' : undefined;
      },
      get user(): unknown {
        userReads++;
        return userReads === 1 ? 'bob' : { not: 'a string' };
      },
    };
    const { status, outcomes } = await run(
      { schemes: [custom(() => failure as never)] },
      { authorization: 'Custom' },
    );
    expect(status).toBe(401);
    expect(outcomes).toMatchObject([
      { outcome: 'refused', code: 'ERR_AUTH_INVALID_CREDENTIALS', user: 'bob' },
    ]);
    expect([codeReads, userReads]).toEqual([1, 1]);
  });

  it('a frozen challenge whose params getter is inherited is made anew on every refusal', async () => {
    let made = 0;
    class Challenge {
      readonly scheme = 'Custom';
      get params(): Record<string, string> {
        return Object.freeze({ nonce: String(++made) });
      }
    }
    const challenge = Object.freeze(new Challenge());
    const app = express();
    app.use(
      authenticate({
        schemes: [
          custom(
            () => ({ ok: false, code: 'ERR_AUTH_INVALID_CREDENTIALS', message: 'no' }),
            () => [challenge],
          ),
        ],
      }),
    );
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) {
      sent.push((await request(app).get('/')).headers['www-authenticate'] as string);
    }
    expect(sent).toEqual(['Custom nonce="1"', 'Custom nonce="2"', 'Custom nonce="3"']);
  });

  // From the same review: a verifier that refused late, then challenges that never came, got the
  // whole `timeout` twice.
  it('gets one timeout for the verifier and the challenges together', async () => {
    const timeout = 1500;
    const scheme = custom(
      () =>
        new Promise((resolve) =>
          setTimeout(
            () => resolve({ ok: false, code: 'ERR_AUTH_INVALID_CREDENTIALS', message: 'no' }),
            timeout * 0.6,
          ),
        ),
      (_ctx, failure) => (failure === undefined ? [] : new Promise<never>(() => undefined)),
    );
    const started = performance.now();
    const { status } = await run({ schemes: [scheme], timeout }, { authorization: 'Custom' });
    const took = performance.now() - started;
    expect(status).toBe(503);
    // The deadline fires up to a quarter of the timeout late (deadlines.ts): 1.25 × at most,
    // where two timeouts in a row took 1.6 × at least.
    expect(took).toBeGreaterThanOrEqual(timeout * 0.95);
    expect(took).toBeLessThan(timeout * 1.45);
  });
});

describe('a NonceStore whose use() answers other than true or false', () => {
  it.each([['yes'], [1], [undefined], [{}]])(
    'answering %p: next(err) with ERR_AUTH_STORE_FAILURE, not a replay with stale=true',
    async (answered) => {
      for (const async of [false, true]) {
        const store = {
          use: () => (async ? Promise.resolve(answered) : answered) as never,
        };
        const { status, error, outcomes } = await run(
          {
            schemes: [
              digest({ users: { alice: 'secret' }, algorithms: ['MD5'], secret: SECRET, store }),
            ],
          },
          { digestUser: {} },
        );
        expect(status).toBe(500);
        expect(error).toMatchObject({ code: 'ERR_AUTH_STORE_FAILURE' });
        expect(outcomes).toMatchObject([{ outcome: 'error', code: 'ERR_AUTH_STORE_FAILURE' }]);
      }
    },
  );
});
