/**
 * Failures of what the middleware depends on: verifiers that throw, reject, return nonsense or
 * never answer, and nonce stores that fail. Never a 2xx, never a crash, never a hang; a verifier
 * that does not answer in time gets 503. Run on every framework the package supports.
 */
import {
  authenticate,
  basic,
  bearer,
  digest,
  type AuthenticateOptions,
  type NonceStore,
  type Scheme,
} from 'authscheme';
import { FRAMEWORKS, mount } from '../helpers/frameworks';
import {
  HIT,
  basicAuth,
  digestAnswer,
  digestHeader,
  expectRefused,
  listen,
  send,
  type TestServer,
} from './helpers';

const users = { alice: 'wonderland' };
const good = basicAuth('alice', 'wonderland');
const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

const crashes: unknown[] = [];
const onCrash = (err: unknown): void => {
  crashes.push(err);
};
beforeAll(() => {
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
});
afterAll(() => {
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
  expect(crashes).toEqual([]);
});

const verifiers: [string, (user: string, password: string) => unknown][] = [
  [
    'throws',
    () => {
      throw new Error('database down');
    },
  ],
  ['rejects', () => Promise.reject(new Error('database down'))],
  ['returns true', () => true],
  ['returns a number', () => 1],
  ['returns an object without user', () => ({ admin: true })],
  ['returns an empty user name', () => ''],
  ['resolves to true', () => Promise.resolve(true)],
  [
    'returns a thenable that throws',
    () => ({
      then: () => {
        throw new Error('odd thenable');
      },
    }),
  ],
];

const stores: [string, NonceStore][] = [
  ['rejects', { use: () => Promise.reject(new Error('redis down')) }],
  [
    'throws synchronously',
    {
      use: () => {
        throw new Error('redis down');
      },
    },
  ],
  ['resolves to a truthy non-boolean', { use: () => Promise.resolve('yes' as unknown as boolean) }],
  ['resolves to undefined', { use: () => Promise.resolve(undefined as unknown as boolean) }],
];

describe.each(FRAMEWORKS)('on %s', (framework) => {
  const servers: TestServer[] = [];
  const make = async (scheme: Scheme, options: Partial<AuthenticateOptions> = {}) => {
    const server = await listen(
      mount(
        framework,
        authenticate({ realm: 'faults', schemes: [scheme], timeout: 200, ...options }),
      ),
    );
    servers.push(server);
    return server;
  };
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  it.each(verifiers)('a Basic verifier that %s: 500, never the handler', async (_title, verify) => {
    const target = await make(basic({ verify: verify as never }));
    const reply = await send(target, { Authorization: good });
    expectRefused(reply, [500]);
  });

  it.each(verifiers)(
    'a Bearer verifier that %s: 500, never the handler',
    async (_title, verify) => {
      const target = await make(bearer({ verify: verify as never }));
      const reply = await send(target, { Authorization: 'Bearer some-token' });
      expectRefused(reply, [500]);
    },
  );

  it('a verifier that never answers: 503 after the timeout, no-store', async () => {
    for (const scheme of [basic({ verify: never }), bearer({ verify: never })]) {
      const target = await make(scheme);
      const auth = scheme.name === 'Basic' ? good : 'Bearer some-token';
      const reply = await send(target, { Authorization: auth });
      expectRefused(reply, [503]);
      expect(reply.headers['cache-control']).toEqual(['no-store']);
      expect(reply.elapsed).toBeGreaterThanOrEqual(150);
    }
  });

  it('a verifier that answers after the timeout changes nothing (no double response)', async () => {
    let answered!: () => void;
    const lateAnswer = new Promise<void>((resolve) => (answered = resolve));
    const guard = authenticate({
      realm: 'faults',
      timeout: 200,
      schemes: [
        basic({
          verify: () =>
            new Promise((resolve) =>
              setTimeout(() => {
                resolve('alice');
                answered();
              }, 300),
            ),
        }),
      ],
    });
    // Every call of next() after the 503, with or without an error, would be a second answer.
    let nextCalls = 0;
    const counted = ((req: never, res: never, next: (err?: unknown) => void) =>
      guard(req, res, (err?: unknown) => {
        nextCalls++;
        next(err);
      })) as typeof guard;
    const target = await listen(mount(framework, counted));
    servers.push(target);
    const reply = await send(target, { Authorization: good });
    expectRefused(reply, [503]);
    // The verifier's answer, then a turn of the event loop for the middleware to act on it.
    await lateAnswer;
    await new Promise((resolve) => setImmediate(resolve));
    expect(nextCalls).toBe(0);
    // The server is still healthy afterwards.
    expect((await send(target, {})).status).toBe(401);
  });

  it.each(stores)('a Digest nonce store that %s: never 2xx', async (_title, store) => {
    const target = await make(digest({ users, store, secret: 'f'.repeat(32) }));
    const a = await digestAnswer(target, 'alice', 'wonderland');
    const reply = await send(target, { Authorization: digestHeader(a) });
    expectRefused(reply, [401, 500]);
    expect(reply.headers[HIT]).toBeUndefined();
  });

  it('a Digest nonce store that never answers: 503 after the timeout', async () => {
    const target = await make(digest({ users, store: { use: never }, secret: 'f'.repeat(32) }));
    const a = await digestAnswer(target, 'alice', 'wonderland');
    expectRefused(await send(target, { Authorization: digestHeader(a) }), [503]);
  });

  it('a Digest password lookup that throws or rejects: 500', async () => {
    for (const getPassword of [
      () => {
        throw new Error('ldap down');
      },
      () => Promise.reject(new Error('ldap down')),
    ]) {
      const target = await make(digest({ getPassword, secret: 'f'.repeat(32) }));
      const a = await digestAnswer(target, 'alice', 'wonderland');
      expectRefused(await send(target, { Authorization: digestHeader(a) }), [500]);
    }
  });

  it('a scheme whose challenges() throws or rejects: 500 instead of a broken 401', async () => {
    for (const challenges of [
      () => {
        throw new Error('boom');
      },
      () => Promise.reject(new Error('boom')),
    ]) {
      const scheme: Scheme = {
        name: 'Odd',
        challenges: challenges,
        verify: () => ({ ok: false, code: 'ERR_AUTH_INVALID_CREDENTIALS', message: 'no' }),
      };
      const target = await make(scheme);
      expectRefused(await send(target, {}), [500]);
      expectRefused(await send(target, { Authorization: 'Odd x' }), [500]);
    }
  });

  it('a body function that throws: an error status, still no handler', async () => {
    const target = await make(basic({ users }), {
      body: () => {
        throw new Error('template broken');
      },
    });
    // The body is built before anything is set on the response: the error handler answers.
    expectRefused(await send(target, {}), [500]);
  });
});
