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
} from 'authscheme';
import { answer } from '../schemes/digest/helpers';

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

const thrown = (): never => {
  throw new Error('directory down');
};

const outcome = (init: Partial<AuthOutcome>): AuthOutcome => ({
  outcome: 'refused',
  scheme: undefined,
  user: undefined,
  status: undefined,
  code: undefined,
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
      }),
      outcome({
        scheme: 'Basic',
        user: 'mallory',
        status: 401,
        code: 'ERR_AUTH_INVALID_CREDENTIALS',
      }),
      outcome({ status: 401, code: 'ERR_AUTH_MISSING_CREDENTIALS' }),
      outcome({ scheme: 'Basic', status: 400, code: 'ERR_AUTH_HEADER_SYNTAX' }),
      outcome({ scheme: 'Bearer', status: 401, code: 'ERR_AUTH_INVALID_CREDENTIALS' }),
    ]);
  });

  it('names the Digest user a wrong answer claimed, known or not', async () => {
    const outcomes: AuthOutcome[] = [];
    const app = appWith({ schemes: [digest({ users, secret: 's'.repeat(32) })] }, outcomes);
    const challenge = parseChallenges(
      (await request(app).get('/').expect(401)).headers['www-authenticate'] as string,
    )[0]!;
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
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
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
    } finally {
      process.off('unhandledRejection', onRejection);
    }
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
      outcome({ outcome: 'error', scheme: 'Basic', code: 'ERR_AUTH_STORE_FAILURE' }),
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
      outcome({ outcome: 'error', scheme: 'Digest', code: 'ERR_AUTH_STORE_FAILURE' }),
      // A verifier that throws synchronously, one that returns nonsense, one that rejects.
      outcome({ outcome: 'error', scheme: 'Basic' }),
      outcome({ outcome: 'error', scheme: 'Basic', code: 'ERR_AUTH_VERIFIER_RESULT' }),
      outcome({ outcome: 'error', scheme: 'Bearer' }),
    ]);
  });

  it('names no user for a Digest userhash refusal: the hash hides it (RFC 7616 §3.4.4)', async () => {
    const outcomes: AuthOutcome[] = [];
    const app = appWith(
      { schemes: [digest({ users, secret: 's'.repeat(32), userhash: true })] },
      outcomes,
    );
    const challenge = parseChallenges(
      (await request(app).get('/').expect(401)).headers['www-authenticate'] as string,
    )[0]!;
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
