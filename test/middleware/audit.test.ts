/**
 * authenticate({ audit }): one report per request the middleware decides, for logs, metrics and
 * lockouts, on Express with supertest; the user name a refusal reports is the one the credentials
 * claimed (Basic's user-id, Digest's username).
 */
import express from 'express';
import request from 'supertest';
import {
  authenticate,
  AuthenticationError,
  basic,
  bearer,
  digest,
  formatCredentials,
  parseChallenges,
  type AuthenticateOptions,
  type AuthOutcome,
  type DigestOptions,
  type Scheme,
} from 'authscheme';
import { jwtBearer } from 'authscheme/jwt';
import { SignJWT } from 'jose';
import { answer } from '../schemes/digest/helpers';
import { recordingRejections } from '../helpers/rejections';

const users = { alice: 'secret' };
const basicAuth = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

function appWith(options: Partial<AuthenticateOptions>, outcomes: AuthOutcome[]) {
  const app = express();
  app.use(
    authenticate({
      realm: 'audit',
      schemes: [
        basic({ users }),
        bearer({ verify: (token) => (token === 'good' ? 'bob' : false) }),
      ],
      audit: (outcome, req) => {
        expect(req.url).toBeDefined();
        outcomes.push(outcome);
      },
      ...options,
    }),
  );
  app.get('/', (req, res) => res.json({ user: req.auth?.user ?? null }));
  app.use(
    (err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res
        .status((err as { status?: number }).status ?? 500)
        .json({ user: (err as { user?: unknown }).user ?? null });
    },
  );
  return app;
}

/**
 * appWith() guarded by digest() with `options`, its outcomes, and the challenge of a first
 * request (whose refusal is the first outcome).
 */
async function digestApp(options: Partial<DigestOptions> = {}) {
  const outcomes: AuthOutcome[] = [];
  const app = appWith(
    { schemes: [digest({ users, secret: 's'.repeat(32), ...options } as DigestOptions)] },
    outcomes,
  );
  const challenge = parseChallenges(
    (await request(app).get('/').expect(401)).headers['www-authenticate'] as string,
  )[0]!;
  return { app, outcomes, challenge };
}

const thrown = (): never => {
  throw new Error('directory down');
};

/** A custom scheme that accepts any `Custom` credentials with these success headers. */
const customSuccess = (headers: Record<string, string>): Scheme => ({
  name: 'Custom',
  challenges: () => [{ scheme: 'Custom', params: {} }],
  verify: () => ({ ok: true, user: 'a', headers }),
});

const outcome = (init: Partial<AuthOutcome>): AuthOutcome => ({
  outcome: 'refused',
  scheme: undefined,
  user: undefined,
  status: undefined,
  code: undefined,
  message: undefined,
  ...init,
});

describe('authenticate({ audit })', () => {
  it('reports a success with the user, and refusals with what was sent', async () => {
    const outcomes: AuthOutcome[] = [];
    const app = appWith({}, outcomes);
    await request(app).get('/').set('Authorization', basicAuth('alice', 'secret')).expect(200);
    await request(app).get('/').set('Authorization', basicAuth('alice', 'wrong')).expect(401);
    await request(app).get('/').set('Authorization', basicAuth('mallory', 'x')).expect(401);
    await request(app).get('/').expect(401);
    await request(app).get('/').set('Authorization', 'Basic a b').expect(400);
    await request(app).get('/').set('Authorization', 'Bearer bad').expect(401);
    expect(outcomes).toEqual([
      outcome({ outcome: 'success', scheme: 'Basic', user: 'alice' }),
      outcome({
        scheme: 'Basic',
        user: 'alice',
        status: 401,
        code: 'ERR_AUTH_INVALID_CREDENTIALS',
        message: 'Invalid credentials',
      }),
      outcome({
        scheme: 'Basic',
        user: 'mallory',
        status: 401,
        code: 'ERR_AUTH_INVALID_CREDENTIALS',
        message: 'Invalid credentials',
      }),
      outcome({
        status: 401,
        code: 'ERR_AUTH_MISSING_CREDENTIALS',
        message: 'No credentials were sent',
      }),
      outcome({
        scheme: 'Basic',
        status: 400,
        code: 'ERR_AUTH_HEADER_SYNTAX',
        message: expect.stringMatching(/^Invalid authentication header: .* at index \d+$/),
      }),
      outcome({
        scheme: 'Bearer',
        status: 401,
        code: 'ERR_AUTH_INVALID_CREDENTIALS',
        message: 'invalid_token',
      }),
    ]);
  });

  it('names the Digest user a wrong answer claimed, known or not', async () => {
    const { app, outcomes, challenge } = await digestApp();
    for (const [user, password, status] of [
      ['alice', 'secret', 200],
      ['alice', 'wrong', 401],
      ['mallory', 'x', 401],
    ] as const) {
      const header = formatCredentials(answer(challenge, { user, password, uri: '/' }));
      await request(app).get('/').set('Authorization', header).expect(status);
    }
    expect(outcomes.slice(1).map(({ outcome: kind, user }) => [kind, user])).toEqual([
      ['success', 'alice'],
      ['refused', 'alice'],
      ['refused', 'mallory'],
    ]);
  });

  // Lockouts and brute-force detection count refusals by the name the client gave: every refusal
  // once Digest has read (and decoded) `username`, not only those of the password check.
  it('names the Digest user on refusals before the password check too, once the name is read', async () => {
    const { app, outcomes, challenge } = await digestApp({ acceptLatin1: false });
    const send = async (
      status: number,
      change: (params: Record<string, string>) => void,
      init: Partial<Parameters<typeof answer>[1]> = {},
    ): Promise<void> => {
      const credentials = answer(challenge, {
        user: 'alice',
        password: 'secret',
        uri: '/',
        ...init,
      });
      change(credentials.params);
      await request(app)
        .get('/')
        .set('Authorization', formatCredentials(credentials))
        .expect(status);
    };
    await send(401, (p) => (p.realm = 'elsewhere'));
    await send(401, (p) => (p.opaque = 'other'));
    await send(400, () => undefined, { uri: '/elsewhere' });
    await send(401, (p) => (p.nonce = 'A'.repeat(72)));
    await send(401, (p) => {
      p.algorithm = 'MD5';
      p.response = '0'.repeat(32);
    });
    await send(401, (p) => (p.algorithm = 'SHA-1'));
    await send(401, () => undefined, { qop: 'auth-int' });
    await send(401, (p) => delete p.cnonce);
    await send(401, (p) => delete p.nc);
    await send(401, (p) => (p.response = 'abc'));
    // Decoded as the password check would: UTF-8 bytes of a plain name, an RFC 8187 username*.
    await send(401, (p) => (p.nonce = 'A'.repeat(72)), { user: 'j\u00f6rg' });
    await send(401, (p) => (p.nonce = 'A'.repeat(72)), { user: 'j\u00f6rg', extended: true });
    // No name to report: a hash (userhash), bytes that are not UTF-8, a control character, or a
    // refusal before the name was read.
    await send(401, () => undefined, { userhash: true });
    await send(401, (p) => (p.username = '\u00e4'));
    await send(401, (p) => (p['username*'] = "UTF-8''a%01b"), { extended: true });
    await send(401, (p) => (p.userhash = 'maybe'));
    expect(outcomes.slice(1).map((o) => [o.status, o.message, o.user])).toEqual([
      [401, 'Digest realm does not match', 'alice'],
      [401, 'Digest opaque does not match', 'alice'],
      [400, 'Digest uri does not match the request target', 'alice'],
      [401, 'Digest nonce is invalid', 'alice'],
      [401, 'Digest algorithm was not offered', 'alice'],
      [401, 'Digest credentials have an invalid algorithm', 'alice'],
      [401, 'Digest qop was not offered', 'alice'],
      [401, 'Digest credentials lack cnonce', 'alice'],
      [401, 'Digest credentials lack nc', 'alice'],
      [401, 'Digest credentials have an invalid response', 'alice'],
      [401, 'Digest nonce is invalid', 'j\u00f6rg'],
      [401, 'Digest nonce is invalid', 'j\u00f6rg'],
      [401, 'Digest userhash was not offered', undefined],
      [401, 'Invalid credentials', undefined],
      [401, 'Digest credentials have an invalid username*', undefined],
      [401, 'Digest credentials have an invalid userhash', undefined],
    ]);
    // A refusal never authenticates, named user or not.
    expect(outcomes.slice(1).every((o) => o.outcome === 'refused')).toBe(true);
    // Only the password check's refusal is a failed guess, the code lockouts count (README).
    expect(
      outcomes
        .slice(1)
        .filter((o) => o.code === 'ERR_AUTH_INVALID_CREDENTIALS')
        .map((o) => o.message),
    ).toEqual(['Invalid credentials']);
  });

  it('counts no failed guess for a nonce from before a restart (a new random secret)', async () => {
    const outcomes: AuthOutcome[] = [];
    // Two digest()s without `secret`: each signs with a random key, as a process before and
    // after a restart.
    const before = appWith({ schemes: [digest({ users })] }, []);
    const after = appWith({ schemes: [digest({ users })] }, outcomes);
    const challenge = parseChallenges(
      (await request(before).get('/').expect(401)).headers['www-authenticate'] as string,
    )[0]!;
    const credentials = answer(challenge, { user: 'alice', password: 'secret', uri: '/' });
    await request(before).get('/').set('Authorization', formatCredentials(credentials)).expect(200);
    await request(after).get('/').set('Authorization', formatCredentials(credentials)).expect(401);
    expect(outcomes.map((o) => [o.outcome, o.code, o.user])).toEqual([
      ['refused', 'ERR_AUTH_INVALID_REQUEST', 'alice'],
    ]);
  });

  it('names the Digest user when qop=auth-int finds no raw body', async () => {
    const { app, outcomes, challenge } = await digestApp({ qop: ['auth-int'] });
    const credentials = answer(challenge, {
      user: 'alice',
      password: 'secret',
      uri: '/',
      method: 'POST',
      qop: 'auth-int',
      body: Buffer.from('note'),
    });
    // No express.raw() before authenticate(): the body cannot be hashed.
    await request(app)
      .post('/')
      .type('text')
      .set('Authorization', formatCredentials(credentials))
      .send('note')
      .expect(401);
    expect(outcomes.slice(1).map((o) => [o.code, o.user])).toEqual([
      ['ERR_AUTH_INVALID_REQUEST', 'alice'],
    ]);
  });

  it('reports an error of the verifier as such, and a refusal handed to next() once', async () => {
    const outcomes: AuthOutcome[] = [];
    const failing = appWith(
      {
        schemes: [
          basic({
            verify: () => {
              throw new Error('directory down');
            },
          }),
        ],
      },
      outcomes,
    );
    await request(failing).get('/').set('Authorization', basicAuth('alice', 'x')).expect(500);
    const next = appWith({ onFailure: 'next' }, outcomes);
    const refused = await request(next)
      .get('/')
      .set('Authorization', basicAuth('alice', 'wrong'))
      .expect(401);
    // The AuthenticationError names the claimed user too.
    expect(refused.body).toEqual({ user: 'alice' });
    expect(outcomes).toEqual([
      outcome({ outcome: 'error', scheme: 'Basic' }),
      outcome({
        scheme: 'Basic',
        user: 'alice',
        status: 401,
        code: 'ERR_AUTH_INVALID_CREDENTIALS',
        message: 'Invalid credentials',
      }),
    ]);
  });

  it('does not report requests let through without credentials', async () => {
    const outcomes: AuthOutcome[] = [];
    await request(appWith({ credentialsRequired: false }, outcomes))
      .get('/')
      .expect(200);
    expect(outcomes).toEqual([]);
  });

  it('fails the request closed when the hook throws: no req.auth, no handler', async () => {
    const throwing = () => {
      throw new Error('log full');
    };
    const app = appWith({ audit: throwing }, []);
    const ok = await request(app).get('/').set('Authorization', basicAuth('alice', 'secret'));
    // The error handler answered (the handler would have said 200 and alice).
    expect(ok.status).toBe(500);
    expect(ok.body).toEqual({ user: null });
    const refused = await request(app).get('/').set('Authorization', basicAuth('alice', 'no'));
    expect(refused.status).toBe(500);
  });

  // Before: the error response carried the success's Authentication-Info (the rspauth proving the
  // password known, for a request that failed), the Cache-Control and the Vary.
  it('sends none of the success headers when the hook throws after a Digest success', async () => {
    const app = express();
    app.use((req, res, next) => {
      // An application header of the same name, set before authenticate(): it stays.
      if (req.query.app !== undefined) res.setHeader('Authentication-Info', 'from-the-app');
      res.setHeader('Vary', 'Origin');
      next();
    });
    app.use(
      authenticate({
        realm: 'audit',
        schemes: [digest({ users, secret: 's'.repeat(32) })],
        cacheControl: 'no-store',
        audit: (outcome) => {
          if (outcome.outcome === 'success') throw new Error('log full');
        },
      }),
    );
    app.get('/', (_req, res) => res.send('in'));
    app.use(answerFailed);
    for (const uri of ['/', '/?app=1']) {
      const first = await request(app).get(uri).expect(401);
      const challenge = parseChallenges(first.headers['www-authenticate'] as string)[0]!;
      const credentials = answer(challenge, { user: 'alice', password: 'secret', uri });
      const res = await request(app).get(uri).set('Authorization', formatCredentials(credentials));
      expect([res.status, res.text]).toEqual([500, 'failed']);
      expect(res.headers['authentication-info']).toBe(uri === '/' ? undefined : 'from-the-app');
      expect(res.headers['cache-control']).toBeUndefined();
      expect(res.headers['vary']).toBe('Origin');
    }
  });

  it("sends a custom scheme's Date neither, and keeps the one Node adds, when the hook throws", async () => {
    const app = express();
    app.use(
      authenticate({
        schemes: [customSuccess({ 'X-Info': 'a', Date: 'Thu, 01 Jan 1970 00:00:00 GMT' })],
        audit: thrown,
      }),
    );
    app.use(answerFailed);
    const res = await request(app).get('/').set('Authorization', 'Custom t').expect(500);
    expect(res.headers['x-info']).toBeUndefined();
    expect(res.headers['date']).not.toBe('Thu, 01 Jan 1970 00:00:00 GMT');
    expect(Date.parse(res.headers['date'] as string)).toBeGreaterThan(Date.now() - 60_000);
  });

  // Nothing can be taken back once the head went out: the hook's own error goes on to next(err),
  // not Node's ERR_HTTP_HEADERS_SENT from an undo of headers already sent.
  it('hands on the error of a hook that answered the request before it threw', async () => {
    const errors: unknown[] = [];
    const app = express();
    app.use(
      authenticate({
        schemes: [customSuccess({ 'X-Info': 'a' })],
        audit: (_outcome, req) => {
          (req as express.Request).res!.status(429).end();
          throw new Error('too many');
        },
      }),
    );
    app.use((err: unknown, _req: express.Request, _res: express.Response, _n: unknown) => {
      errors.push(err);
    });
    const res = await request(app).get('/').set('Authorization', 'Custom t');
    expect(res.status).toBe(429);
    // Sent with the head before the hook threw.
    expect(res.headers['x-info']).toBe('a');
    expect(errors).toEqual([new Error('too many')]);
  });

  it('is refused at setup when it is not a function', () => {
    expect(() =>
      authenticate({ schemes: [basic({ users })], audit: 'log' as unknown as () => void }),
    ).toThrow(/`audit` must be a function/);
  });

  it('reports a request once: a refusal whose body function throws, a hook that throws', async () => {
    const outcomes: AuthOutcome[] = [];
    const broken = appWith(
      {
        body: () => {
          throw new Error('template broken');
        },
      },
      outcomes,
    );
    await request(broken).get('/').set('Authorization', basicAuth('alice', 'wrong')).expect(500);
    expect(outcomes.map((o) => o.outcome)).toEqual(['refused']);
    let calls = 0;
    const seen: AuthOutcome[] = [];
    const flaky = appWith(
      {
        audit: (o) => {
          seen.push(o);
          if (++calls === 1) throw new Error('log full');
        },
      },
      [],
    );
    await request(flaky).get('/').set('Authorization', basicAuth('alice', 'secret')).expect(500);
    expect(seen.map((o) => o.outcome)).toEqual(['success']);
  });

  it('ignores a promise the hook returns: a rejection neither crashes nor changes the answer', async () => {
    await recordingRejections(async (rejections) => {
      const app = appWith(
        {
          // What this test is about: a hook that returns a promise, which is not awaited.
          // eslint-disable-next-line @typescript-eslint/no-misused-promises
          audit: async () => {
            throw new Error('lockout store down');
          },
        },
        [],
      );
      await request(app).get('/').set('Authorization', basicAuth('alice', 'wrong')).expect(401);
      await request(app).get('/').set('Authorization', basicAuth('alice', 'secret')).expect(200);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(rejections).toEqual([]);
    });
  });

  it('reports each run of a middleware mounted twice on a request', async () => {
    const outcomes: string[] = [];
    let calls = 0;
    const guard = authenticate({
      timeout: 30,
      schemes: [
        basic({
          verify: (user) => (++calls === 1 ? Promise.resolve(user) : new Promise<string>(() => {})),
        }),
      ],
      audit: (o) => outcomes.push(`${o.outcome} ${o.status ?? ''}`.trim()),
    });
    const app = express();
    app.use(guard);
    app.get('/admin', guard, (_req, res) => res.end('ok'));
    await request(app).get('/admin').set('Authorization', basicAuth('alice', 'x')).expect(503);
    expect(outcomes).toEqual(['success', 'refused 503']);
  });

  it('reports a verifier that rejects with an AuthenticationError of its own', async () => {
    const outcomes: AuthOutcome[] = [];
    const app = appWith(
      {
        schemes: [
          basic({
            verify: async () => {
              throw new AuthenticationError('ERR_AUTH_STORE_FAILURE', 'upstream', { status: 500 });
            },
          }),
        ],
      },
      outcomes,
    );
    await request(app).get('/').set('Authorization', basicAuth('alice', 'x')).expect(500);
    expect(outcomes).toEqual([
      outcome({
        outcome: 'error',
        scheme: 'Basic',
        code: 'ERR_AUTH_STORE_FAILURE',
        message: 'upstream',
      }),
    ]);
  });

  it('names the scheme whose verifier or store failed, so that errors can be counted by scheme', async () => {
    const outcomes: AuthOutcome[] = [];
    const failingStore = {
      use: () => {
        throw new Error('store down');
      },
    };
    const app = appWith(
      {
        schemes: [
          digest({ users, secret: 's'.repeat(32), store: failingStore }),
          basic({ verify: (user) => (user === 'sync' ? thrown() : (true as unknown as string)) }),
          bearer({ verify: () => Promise.reject(new Error('introspection down')) }),
        ],
      },
      outcomes,
    );
    const challenge = parseChallenges(
      (await request(app).get('/').expect(401)).headers['www-authenticate'] as string,
    )[0]!;
    const digestHeader = formatCredentials(
      answer(challenge, { user: 'alice', password: 'secret', uri: '/' }),
    );
    await request(app).get('/').set('Authorization', digestHeader).expect(500);
    await request(app).get('/').set('Authorization', basicAuth('sync', 'x')).expect(500);
    await request(app).get('/').set('Authorization', basicAuth('alice', 'x')).expect(500);
    await request(app).get('/').set('Authorization', 'Bearer abc').expect(500);
    expect(outcomes.slice(1)).toEqual([
      outcome({
        outcome: 'error',
        scheme: 'Digest',
        code: 'ERR_AUTH_STORE_FAILURE',
        message: 'The Digest nonce store failed',
      }),
      // A verifier that throws synchronously, one that returns nonsense, one that rejects: the
      // message of an error that is not authscheme's is not told (it may hold anything).
      outcome({ outcome: 'error', scheme: 'Basic' }),
      outcome({
        outcome: 'error',
        scheme: 'Basic',
        code: 'ERR_AUTH_VERIFIER_RESULT',
        message: expect.stringMatching(/^A verifier must return a non-empty user name/),
      }),
      outcome({ outcome: 'error', scheme: 'Bearer' }),
    ]);
  });

  it('says why in `message`, where codes are shared: Digest nonces, algorithms and counts', async () => {
    let now = Date.now();
    const { app, outcomes, challenge } = await digestApp({ now: () => now });
    const header = (
      init: { nc: number; password?: string; uri?: string },
      params: Record<string, string> = {},
    ): string =>
      formatCredentials(
        answer(
          { ...challenge, params: { ...challenge.params, ...params } },
          { user: 'alice', password: 'secret', uri: '/', ...init },
        ),
      );
    const sends: [string, number][] = [
      [header({ nc: 1 }), 200],
      [header({ nc: 1 }), 401], // replayed count
      [header({ nc: 2, password: 'wrong' }), 401],
      [header({ nc: 3 }, { nonce: 'A'.repeat(72) }), 401], // forged nonce
      [header({ nc: 4 }, { algorithm: 'MD5' }), 401], // not offered
      [header({ nc: 5, uri: '/elsewhere' }), 400],
    ];
    for (const [value, status] of sends) {
      await request(app).get('/').set('Authorization', value).expect(status);
    }
    now += 600_000;
    await request(app)
      .get('/')
      .set('Authorization', header({ nc: 6 }))
      .expect(401);
    expect(outcomes.slice(2).map((o) => [o.code, o.message])).toEqual([
      ['ERR_AUTH_STALE_NONCE', 'Digest nonce count already used'],
      ['ERR_AUTH_INVALID_CREDENTIALS', 'Invalid credentials'],
      // Refused before the password is checked: no failed guess for a lockout to count.
      ['ERR_AUTH_INVALID_REQUEST', 'Digest nonce is invalid'],
      ['ERR_AUTH_INVALID_REQUEST', 'Digest algorithm was not offered'],
      ['ERR_AUTH_INVALID_REQUEST', 'Digest uri does not match the request target'],
      ['ERR_AUTH_STALE_NONCE', 'Digest nonce expired'],
    ]);
  });

  it('says why in `message`, where codes are shared: JWTs expired, forged, for another audience', async () => {
    const outcomes: AuthOutcome[] = [];
    const secret = 'k'.repeat(32);
    const claims = { iss: 'https://issuer.test/', aud: 'https://api.test', sub: 'alice' };
    const app = appWith(
      { schemes: [jwtBearer({ secret, issuer: claims.iss, audience: claims.aud })] },
      outcomes,
    );
    const sign = (payload: object, key = secret, expires: string | number = '5m') =>
      new SignJWT({ ...claims, ...payload })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime(expires)
        .sign(Buffer.from(key));
    for (const token of [
      await sign({}, secret, Math.floor(Date.now() / 1000) - 60),
      await sign({}, 'f'.repeat(32)),
      await sign({ aud: 'https://other.test' }),
    ]) {
      await request(app).get('/').set('Authorization', `Bearer ${token}`).expect(401);
    }
    expect(outcomes.map((o) => [o.code, o.message])).toEqual([
      ['ERR_AUTH_INVALID_CREDENTIALS', 'The access token expired'],
      ['ERR_AUTH_INVALID_CREDENTIALS', 'The access token signature is invalid'],
      ['ERR_AUTH_INVALID_CREDENTIALS', 'The access token has an invalid aud claim'],
    ]);
  });

  it('names no user for a Digest userhash refusal: the hash hides it (RFC 7616 §3.4.4)', async () => {
    const { app, outcomes, challenge } = await digestApp({ userhash: true });
    for (const user of ['alice', 'mallory']) {
      const header = formatCredentials(
        answer(challenge, { user, password: 'wrong', uri: '/', userhash: true }),
      );
      await request(app).get('/').set('Authorization', header).expect(401);
    }
    expect(outcomes.slice(1).map((o) => [o.outcome, o.user])).toEqual([
      ['refused', undefined],
      ['refused', undefined],
    ]);
  });
});

/** An error handler that answers 500 "failed", whatever the error. */
function answerFailed(
  _err: unknown,
  _req: express.Request,
  res: express.Response,
  _next: express.NextFunction,
): void {
  res.status(500).send('failed');
}

// Something before authenticate() (a timeout middleware, say) answers while an async verifier
// works: `audit` hears of it as an `error` (Node's ERR_HTTP_HEADERS_SENT), whatever the scheme:
// the request was never served as authenticated, so a metrics user counts no success, and a
// lockout hears of no failure (the credentials were right). The response having ended, nothing
// goes to next(err): Express's handler would destroy the socket, which keep-alive may by then
// have given to the client's next request (test/middleware/transport.test.ts). A response whose
// head went out but not its end still goes to next(err), once.
describe('authenticate({ audit }) when the head went out while an async verifier worked', () => {
  const slow = async <T>(value: T): Promise<T> => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return value;
  };

  async function lateSuccess(
    options: Pick<AuthenticateOptions, 'schemes'>,
    header: string,
    ended = true,
  ) {
    const outcomes: AuthOutcome[] = [];
    const errors: unknown[] = [];
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => void rejections.push(reason);
    const app = express();
    app.use((req, res, next) => {
      next();
      // Answers only the request with credentials: a first one may fetch a Digest challenge.
      if (req.headers.authorization === undefined) return;
      if (ended) {
        res.status(503).send('busy');
      } else {
        // A head and part of a body, the end after the verifier has answered.
        res.writeHead(503);
        res.write('bu');
        setTimeout(() => res.end('sy'), 40);
      }
    });
    app.use(
      authenticate({ realm: 'audit', audit: (outcome) => outcomes.push(outcome), ...options }),
    );
    app.get('/', (_req, res) => res.send('ok'));
    app.use(
      (err: unknown, _req: express.Request, _res: express.Response, _n: express.NextFunction) =>
        void errors.push(err),
    );
    process.on('unhandledRejection', onRejection);
    try {
      const first = await request(app).get('/');
      const value =
        header === 'digest'
          ? formatCredentials(
              answer(parseChallenges(first.headers['www-authenticate'] as string)[0]!, {
                user: 'alice',
                password: 'secret',
                uri: '/',
              }),
            )
          : header;
      outcomes.length = 0;
      const res = await request(app).get('/').set('Authorization', value);
      expect(res.status).toBe(503);
      // The verifier's 20 ms, and time for a second next(err) or a rejection to show.
      await new Promise((resolve) => setTimeout(resolve, 60));
    } finally {
      process.off('unhandledRejection', onRejection);
    }
    return { outcomes, errors, rejections };
  }

  it.each([
    ['Basic', { schemes: [basic({ verify: (user) => slow(user === 'alice' && user) })] }],
    ['Bearer', { schemes: [bearer({ verify: (token) => slow(token === 'good' && 'bob') })] }],
    [
      'Digest',
      {
        schemes: [
          digest({ getPassword: (user) => slow(users[user as 'alice']), secret: 's'.repeat(32) }),
        ],
      },
    ],
  ])(
    'reports the same error for %s; next(err) once only while the response has not ended',
    async (scheme, options) => {
      const header = { Basic: basicAuth('alice', 'x'), Bearer: 'Bearer good', Digest: 'digest' }[
        scheme
      ]!;
      const ended = await lateSuccess(options, header);
      expect(ended.outcomes).toEqual([outcome({ outcome: 'error', scheme })]);
      expect(ended.errors).toEqual([]);
      expect(ended.rejections).toEqual([]);
      const streaming = await lateSuccess(options, header, false);
      expect(streaming.outcomes).toEqual([outcome({ outcome: 'error', scheme })]);
      expect(streaming.errors).toHaveLength(1);
      expect(streaming.errors[0]).toMatchObject({ code: 'ERR_HTTP_HEADERS_SENT' });
      expect(streaming.rejections).toEqual([]);
    },
  );
});

// From a review: a response something before authenticate() sent, then called next() (a timeout
// middleware that answered while a body parser read): a synchronous success is not reported
// as one, and the outcome does not depend on whether Vary already lists Authorization (nothing
// is written then, so nothing throws by itself).
describe('authenticate() on a response sent before it ran', () => {
  function sentFirst(options: { audit: boolean; vary: boolean; schemes: Scheme[] }) {
    const outcomes: AuthOutcome[] = [];
    const errors: unknown[] = [];
    let handled = 0;
    const app = express();
    app.use((_req, res, next) => {
      if (options.vary) res.vary('Authorization');
      res.status(503).send('busy');
      next();
    });
    app.use(
      authenticate({
        realm: 'audit',
        credentialsRequired: false,
        ...(options.audit ? { audit: (outcome: AuthOutcome) => void outcomes.push(outcome) } : {}),
        schemes: options.schemes,
      }),
    );
    app.get('/', (_req, res) => {
      handled++;
      res.end();
    });
    app.use(
      (err: unknown, _req: express.Request, _res: express.Response, _n: express.NextFunction) =>
        void errors.push(err),
    );
    return { app, outcomes, errors, handled: () => handled };
  }

  it.each([
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ])(
    'a synchronous success (audit %p, Vary listed %p) goes to next(err), an error for audit',
    async (audit, vary) => {
      const run = sentFirst({ audit, vary, schemes: [basic({ users: { alice: 'pw' } })] });
      const res = await request(run.app).get('/').set('Authorization', basicAuth('alice', 'pw'));
      expect(res.status).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(run.handled()).toBe(0);
      expect(run.errors).toEqual([expect.objectContaining({ code: 'ERR_HTTP_HEADERS_SENT' })]);
      if (audit) expect(run.outcomes).toEqual([outcome({ outcome: 'error', scheme: 'Basic' })]);
    },
  );

  it.each([
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ])(
    'a foreign result (async %p, Vary listed %p) goes to next(err) unless awaited, never on to the handler',
    async (late, vary) => {
      const foreign: Scheme = {
        name: 'Custom',
        challenges: () => [{ scheme: 'Custom', params: {} }],
        verify: () => {
          const result = {
            ok: false,
            code: 'ERR_AUTH_INVALID_REQUEST',
            message: 'not ours',
            foreign: true,
          } as const;
          if (!late) return result;
          return new Promise((resolve) => setTimeout(() => resolve(result), 20));
        },
      };
      const run = sentFirst({ audit: false, vary, schemes: [foreign] });
      const res = await request(run.app).get('/').set('Authorization', 'Custom abc');
      expect(res.status).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(run.handled()).toBe(0);
      // Awaited, the result comes after the response ended: there is no one to hand it to.
      expect(run.errors).toEqual(
        late ? [] : [expect.objectContaining({ code: 'ERR_HTTP_HEADERS_SENT' })],
      );
    },
  );
});
