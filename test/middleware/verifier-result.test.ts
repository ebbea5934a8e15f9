/**
 * A user callback that answers, per request, with something of the wrong type (a verifier, a
 * Digest lookup, a body function, a custom scheme's challenges or locate) is a programming error:
 * the request fails closed through next(err) with an AuthschemeError ERR_AUTH_VERIFIER_RESULT,
 * whichever callback it was, never a bare TypeError (and never the handler). Setup-time option
 * errors stay TypeErrors.
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
      answer(challenge, { user: 'alice', password: 'secret', uri: '/', ...init.digestUser }),
    );
  }
  const req = request(app).post('/');
  const res = await (authorization === undefined ? req : req.set('Authorization', authorization));
  return { status: res.status, error, outcomes, handled };
}

const basicHeader = `Basic ${Buffer.from('alice:secret').toString('base64')}`;
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

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
  [
    'a scheme’s locate() returns a string',
    () =>
      run({
        schemes: [
          {
            name: 'Custom',
            challenges: () => [{ scheme: 'Custom', params: {} }],
            verify: () => ({ ok: true, user: 'a' }),
            locate: () => 'token' as never,
          },
        ],
      }),
  ],
  [
    'a scheme’s locate() returns credentials without a scheme',
    () =>
      run({
        schemes: [
          {
            name: 'Custom',
            challenges: () => [{ scheme: 'Custom', params: {} }],
            verify: () => ({ ok: true, user: 'a' }),
            locate: () => ({ token68: 'token' }) as never,
          },
        ],
      }),
  ],
];

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
