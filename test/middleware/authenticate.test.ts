import http from 'node:http';
import { performance } from 'node:perf_hooks';
import request from 'supertest';
import express from 'express';
import connect from 'connect';
import {
  AuthenticationError,
  authenticate,
  basic,
  bearer,
  digest,
  refuse,
  requireScopes,
  type Scheme,
  type AuthenticateOptions,
  type AuthOutcome,
  type Challenge,
} from 'authscheme';
import { FRAMEWORKS, HIT, basicAuth, mount, rawRequest } from '../helpers/frameworks';
import { recordingRejections } from '../helpers/rejections';

const users = { alice: 'wonderland' };

/** A scheme with a token68 secret and an optional async delay, for exercising the middleware alone. */
function tokenScheme(name: string, secret: string, extra: Partial<Scheme> = {}): Scheme {
  return {
    name,
    challenges: (ctx) => [{ scheme: name, params: { realm: ctx.realm } }],
    verify: (credentials) =>
      credentials.token68 === secret ? { ok: true, user: 'token-user' } : refuse(),
    ...extra,
  };
}

describe.each(FRAMEWORKS)('authenticate() on %s', (framework) => {
  const make = (options: Partial<AuthenticateOptions> = {}): http.Server =>
    mount(framework, authenticate({ realm: 'test', schemes: [basic({ users })], ...options }));

  it('answers a request without credentials with 401, the challenge and no-store', async () => {
    const res = await request(make()).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="test", charset="UTF-8"');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.text).toBe('Unauthorized');
    expect(res.headers[HIT]).toBeUndefined();
  });

  it('sends one field line per challenge, in the order the schemes were given', async () => {
    const server = mount(
      framework,
      authenticate({ realm: 'r', schemes: [tokenScheme('Token', 's3'), basic({ users })] }),
    );
    const res = await rawRequest(server, {});
    server.close();
    expect(res.status).toBe(401);
    expect(res.distinct['www-authenticate']).toEqual([
      'Token realm="r"',
      'Basic realm="r", charset="UTF-8"',
    ]);
  });

  it('authenticates good credentials, sets req.auth and Vary', async () => {
    const res = await request(make())
      .get('/')
      .set('Authorization', basicAuth('alice', 'wonderland'));
    expect(res.status).toBe(200);
    expect(res.headers[HIT]).toBe('yes');
    expect(res.body).toEqual({ auth: { scheme: 'Basic', user: 'alice' } });
    expect(res.headers['cache-control']).toBeUndefined();
    expect(res.headers.vary).toMatch(/Authorization/);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['false', false],
    ["'route'", 'route'],
  ])('never lets a request through when a verifier throws or rejects with %s', async (_, value) => {
    // What is thrown here is the point of the test: not an Error.
    const throwing = basic({
      verify: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw value;
      },
    });
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    const rejecting = basic({ verify: () => Promise.reject(value) });
    const challenging = tokenScheme('Token', 's3', {
      challenges: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw value;
      },
    });
    for (const scheme of [throwing, rejecting, challenging]) {
      const server = mount(framework, authenticate({ realm: 't', schemes: [scheme] }));
      const res = await request(server)
        .get('/')
        .set('Authorization', basicAuth('alice', 'wonderland'));
      expect(res.status).toBe(500);
      expect(res.headers[HIT]).toBeUndefined();
    }
  });

  it('authenticates HEAD like GET', async () => {
    const app = make();
    expect((await request(app).head('/')).status).toBe(401);
    expect(
      (await request(app).head('/').set('Authorization', basicAuth('alice', 'wonderland'))).status,
    ).toBe(200);
  });

  it('matches the scheme name case-insensitively', async () => {
    for (const name of ['basic', 'BASIC', 'bAsIc']) {
      const token = basicAuth('alice', 'wonderland').slice('Basic '.length);
      const res = await request(make()).get('/').set('Authorization', `${name} ${token}`);
      expect(res.status).toBe(200);
    }
  });

  it('refuses a wrong password with 401 and the challenge', async () => {
    const res = await request(make()).get('/').set('Authorization', basicAuth('alice', 'nope'));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="test", charset="UTF-8"');
    expect(res.headers[HIT]).toBeUndefined();
  });

  it('refuses two Authorization field lines with 400', async () => {
    const server = make();
    const good = basicAuth('alice', 'wonderland');
    const res = await rawRequest(server, { Authorization: [good, good] });
    server.close();
    expect(res.status).toBe(400);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers[HIT]).toBeUndefined();
  });

  it('answers a scheme that is not offered with 401 and the challenges', async () => {
    const outcomes: AuthOutcome[] = [];
    const audit = (outcome: AuthOutcome): void => void outcomes.push(outcome);
    const res = await request(make({ audit })).get('/').set('Authorization', 'Bearer abc');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="test", charset="UTF-8"');
    // README, Errors: ERR_AUTH_UNSUPPORTED_SCHEME, 401 (407).
    const proxied = await request(make({ audit, proxy: true }))
      .get('/')
      .set('Proxy-Authorization', 'Bearer abc');
    expect(proxied.status).toBe(407);
    expect(proxied.headers['proxy-authenticate']).toBe('Basic realm="test", charset="UTF-8"');
    expect(outcomes.map(({ outcome, code, status }) => [outcome, code, status])).toEqual([
      ['refused', 'ERR_AUTH_UNSUPPORTED_SCHEME', 401],
      ['refused', 'ERR_AUTH_UNSUPPORTED_SCHEME', 407],
    ]);
  });

  it('answers a field that does not parse with 400 and the challenges', async () => {
    const res = await request(make()).get('/').set('Authorization', 'Basic a, b="');
    expect(res.status).toBe(400);
    expect(res.headers['www-authenticate']).toBe('Basic realm="test", charset="UTF-8"');
    expect(res.headers[HIT]).toBeUndefined();
  });

  it('tells the scheme a malformed or duplicated field names, so its challenge can say so', async () => {
    const scheme = tokenScheme('Token', 's3', {
      challenges: (ctx, failure) => [
        {
          scheme: 'Token',
          params: { realm: ctx.realm, ...(failure ? { error: failure.code } : {}) },
        },
      ],
    });
    const server = mount(
      framework,
      authenticate({ realm: 'r', schemes: [scheme, basic({ users })] }),
    );
    const syntax = await rawRequest(server, { Authorization: 'token a b' });
    const twice = await rawRequest(server, { Authorization: ['Token s3', 'Token s3'] });
    const unnamed = await rawRequest(server, { Authorization: '=x' });
    server.close();
    expect(syntax.status).toBe(400);
    expect(syntax.distinct['www-authenticate']).toEqual([
      'Token realm="r", error="ERR_AUTH_HEADER_SYNTAX"',
      'Basic realm="r", charset="UTF-8"',
    ]);
    expect(twice.status).toBe(400);
    expect(twice.distinct['www-authenticate']?.[0]).toBe(
      'Token realm="r", error="ERR_AUTH_DUPLICATE_HEADER"',
    );
    expect(unnamed.status).toBe(400);
    expect(unnamed.distinct['www-authenticate']?.[0]).toBe('Token realm="r"');
  });

  it('tells the one scheme offered of a malformed field that names no scheme, not of one that names another (RFC 6750 §3.1)', async () => {
    const scheme = tokenScheme('Token', 's3', {
      challenges: (ctx, failure) => [
        {
          scheme: 'Token',
          params: { realm: ctx.realm, ...(failure ? { error: failure.code } : {}) },
        },
      ],
    });
    const server = mount(framework, authenticate({ realm: 'r', schemes: [scheme] }));
    const unnamed = await rawRequest(server, { Authorization: '=x' });
    const other = await rawRequest(server, { Authorization: 'Basic a, b="' });
    const otherTwice = await rawRequest(server, { Authorization: ['Basic YTpi', 'Basic YTpi'] });
    server.close();
    expect(unnamed.status).toBe(400);
    expect(unnamed.distinct['www-authenticate']).toEqual([
      'Token realm="r", error="ERR_AUTH_HEADER_SYNTAX"',
    ]);
    // The client tried a method this middleware does not offer: nothing to say about Token.
    expect(other.status).toBe(400);
    expect(other.distinct['www-authenticate']).toEqual(['Token realm="r"']);
    expect(otherTwice.status).toBe(400);
    expect(otherTwice.distinct['www-authenticate']).toEqual(['Token realm="r"']);
  });

  it('tells the scheme a malformed field names whichever line names it, after a leading comma or before a comma (RFC 6750 §3.1)', async () => {
    const scheme = tokenScheme('Token', 's3', {
      challenges: (ctx, failure) => [
        {
          scheme: 'Token',
          params: { realm: ctx.realm, ...(failure ? { error: failure.code } : {}) },
        },
      ],
    });
    const server = mount(framework, authenticate({ realm: 'r', schemes: [scheme] }));
    const optional = mount(
      framework,
      authenticate({ realm: 'r', schemes: [scheme], credentialsRequired: false }),
    );
    // Two lines, one of them Token's: the client tried Token, whichever line came first.
    const tokenFirst = await rawRequest(server, { Authorization: ['Token s3', 'Basic YTpi'] });
    const tokenSecond = await rawRequest(server, { Authorization: ['Basic YTpi', 'Token s3'] });
    // A line naming no scheme beside one naming another: none of ours, in either order.
    const unnamedFirst = await rawRequest(server, { Authorization: ['=x', 'Basic YTpi'] });
    const unnamedSecond = await rawRequest(server, { Authorization: ['Basic YTpi', '=x'] });
    // An empty list element before the scheme (a front end that joined an empty line to it).
    const otherAfterComma = await rawRequest(server, { Authorization: ', Basic a b' });
    const tokenAfterComma = await rawRequest(server, { Authorization: ', Token a b' });
    const onlyCommas = await rawRequest(server, { Authorization: ', ,' });
    // A comma right after the scheme's name ends the name (RFC 9110 §5.6.1: a list separator).
    const otherThenComma = await rawRequest(server, { Authorization: 'Basic,a' });
    // Made for another middleware: passes this optional one, as without the comma.
    const foreign = await rawRequest(optional, { Authorization: ', Negotiate a b' });
    const foreignThenComma = await rawRequest(optional, { Authorization: 'Negotiate,a' });
    server.close();
    optional.close();
    const told = ['Token realm="r", error="ERR_AUTH_DUPLICATE_HEADER"'];
    const bare = ['Token realm="r"'];
    expect([tokenFirst.status, tokenSecond.status]).toEqual([400, 400]);
    expect(tokenFirst.distinct['www-authenticate']).toEqual(told);
    expect(tokenSecond.distinct['www-authenticate']).toEqual(told);
    expect([unnamedFirst.status, unnamedSecond.status]).toEqual([400, 400]);
    expect(unnamedFirst.distinct['www-authenticate']).toEqual(bare);
    expect(unnamedSecond.distinct['www-authenticate']).toEqual(bare);
    expect([otherAfterComma.status, tokenAfterComma.status, onlyCommas.status]).toEqual([
      400, 400, 400,
    ]);
    expect(otherAfterComma.distinct['www-authenticate']).toEqual(bare);
    expect(tokenAfterComma.distinct['www-authenticate']).toEqual([
      'Token realm="r", error="ERR_AUTH_HEADER_SYNTAX"',
    ]);
    expect(onlyCommas.distinct['www-authenticate']).toEqual([
      'Token realm="r", error="ERR_AUTH_HEADER_SYNTAX"',
    ]);
    expect(otherThenComma.status).toBe(400);
    expect(otherThenComma.distinct['www-authenticate']).toEqual(bare);
    expect(foreign.status).toBe(200);
    expect(foreign.headers[HIT]).toBe('yes');
    expect(foreignThenComma.status).toBe(200);
    expect(foreignThenComma.headers[HIT]).toBe('yes');
  });

  it('in proxy mode answers 407 with Proxy-Authenticate and reads Proxy-Authorization only', async () => {
    const app = make({ proxy: true });
    const none = await request(app).get('/').set('Authorization', basicAuth('alice', 'wonderland'));
    expect(none.status).toBe(407);
    expect(none.headers['proxy-authenticate']).toBe('Basic realm="test", charset="UTF-8"');
    expect(none.headers['www-authenticate']).toBeUndefined();
    expect(none.text).toBe('Proxy Authentication Required');
    const ok = await request(app)
      .get('/')
      .set('Proxy-Authorization', basicAuth('alice', 'wonderland'));
    expect(ok.status).toBe(200);
    expect(ok.headers.vary).toMatch(/Proxy-Authorization/);
  });

  describe('with credentialsRequired: false', () => {
    const optional = (options: Partial<AuthenticateOptions> = {}): http.Server =>
      make({ credentialsRequired: false, ...options });

    it('lets a request without credentials through unauthenticated, with Vary', async () => {
      const res = await request(optional()).get('/');
      expect(res.status).toBe(200);
      expect(res.headers[HIT]).toBe('yes');
      expect(res.body).toEqual({ auth: null });
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.headers.vary).toMatch(/Authorization/);
    });

    it('still authenticates good credentials, and the next anonymous request has no req.auth', async () => {
      const server = optional();
      const res = await request(server)
        .get('/')
        .set('Authorization', basicAuth('alice', 'wonderland'));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ auth: { scheme: 'Basic', user: 'alice' } });
      const anonymous = await request(server).get('/');
      expect(anonymous.body).toEqual({ auth: null });
    });

    it('lets credentials of a scheme it does not offer through, as made for another authenticate()', async () => {
      const unoffered = await request(optional()).get('/').set('Authorization', 'Bearer abc');
      expect(unoffered.status).toBe(200);
      expect(unoffered.body).toEqual({ auth: null });
      expect(unoffered.headers.vary).toMatch(/Authorization/);
    });

    // Only a proxy's req.auth is dropped by an origin-side authenticate() that lets the request
    // through (RFC 9110 §11.7.2: those are not the origin's credentials); a site-wide one's stays.
    it('keeps the req.auth of an authenticate() before it when it lets the request through', async () => {
      const site = authenticate({ realm: 'test', schemes: [basic({ users })] });
      const route = authenticate({
        realm: 'test',
        credentialsRequired: false,
        schemes: [tokenScheme('Token', 's3')],
      });
      const both = ((req: http.IncomingMessage, res: http.ServerResponse, next) =>
        site(req, res, (err?: unknown) =>
          err === undefined ? route(req, res, next) : next(err),
        )) as typeof site;
      const res = await request(mount(framework, both))
        .get('/')
        .set('Authorization', basicAuth('alice', 'wonderland'));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ auth: { scheme: 'Basic', user: 'alice' } });
    });

    it('still refuses wrong, malformed and duplicated credentials', async () => {
      const server = optional();
      const wrong = await request(server).get('/').set('Authorization', basicAuth('alice', 'x'));
      expect(wrong.status).toBe(401);
      expect(wrong.headers['www-authenticate']).toBe('Basic realm="test", charset="UTF-8"');
      const malformed = await request(server).get('/').set('Authorization', 'Basic a b');
      expect(malformed.status).toBe(400);
      // A field that names no scheme at all was made for no other authenticate(): it is a
      // malformed request (RFC 9110 §15.5.1), not credentials to let through as another's.
      for (const nameless of ['=abc', ', ,']) {
        const res = await request(server).get('/').set('Authorization', nameless);
        expect([nameless, res.status, res.headers[HIT]]).toEqual([nameless, 400, undefined]);
      }
      const good = basicAuth('alice', 'wonderland');
      const duplicated = await rawRequest(server, { Authorization: [good, good] });
      server.close();
      expect(duplicated.status).toBe(400);
      for (const res of [wrong, malformed, duplicated]) {
        expect(res.headers[HIT]).toBeUndefined();
      }
    });

    it('in proxy mode lets a request without Proxy-Authorization through', async () => {
      const server = optional({ proxy: true });
      const none = await request(server).get('/');
      expect(none.status).toBe(200);
      expect(none.body).toEqual({ auth: null });
      expect(none.headers.vary).toMatch(/Proxy-Authorization/);
      const wrong = await request(server)
        .get('/')
        .set('Proxy-Authorization', basicAuth('alice', 'x'));
      expect(wrong.status).toBe(407);
    });
  });

  it('hands a throwing verifier to next(err) and never authenticates', async () => {
    const app = make({
      schemes: [
        basic({
          verify: () => {
            throw new Error('database down');
          },
        }),
      ],
    });
    const res = await request(app).get('/').set('Authorization', basicAuth('alice', 'x'));
    expect(res.status).toBe(500);
    expect(res.headers[HIT]).toBeUndefined();
  });

  it('hands a rejecting verifier to next(err)', async () => {
    const app = make({ schemes: [basic({ verify: () => Promise.reject(new Error('down')) })] });
    const res = await request(app).get('/').set('Authorization', basicAuth('alice', 'x'));
    expect(res.status).toBe(500);
    expect(res.headers[HIT]).toBeUndefined();
  });

  it.each([[true], [1], [{ name: 'alice' }], [{ user: 5 }], [''], [[]]])(
    'treats a verifier result of %j as a programming error',
    async (result) => {
      const app = make({ schemes: [basic({ verify: () => result as never })] });
      const res = await request(app).get('/').set('Authorization', basicAuth('alice', 'x'));
      expect(res.status).toBe(500);
      expect(res.headers[HIT]).toBeUndefined();
    },
  );

  // A success names a user (README, ERR_AUTH_VERIFIER_RESULT: a verifier returned no
  // identity): a custom scheme's with an empty one is a programming error, not an anonymous login.
  it("treats a custom scheme's success with an empty user as a programming error", async () => {
    const scheme = tokenScheme('Token', 'secret', { verify: () => ({ ok: true, user: '' }) });
    const res = await request(make({ schemes: [scheme] }))
      .get('/')
      .set('Authorization', 'Token secret');
    expect(res.status).toBe(500);
    expect(res.headers[HIT]).toBeUndefined();
  });

  it.each([
    ['status 200', { status: 200 }],
    ['status 302', { status: 302 }],
    ['status 407 on the origin side', { status: 407 }],
    ['no code', { code: undefined }],
  ])('treats a refusal with %s from a custom scheme as a programming error', async (_what, bad) => {
    const scheme = tokenScheme('Token', 'secret', {
      verify: () => ({ ...refuse(), ...bad }) as never,
    });
    const res = await request(make({ schemes: [scheme] }))
      .get('/')
      .set('Authorization', 'Token nope');
    expect(res.status).toBe(500);
    expect(res.headers[HIT]).toBeUndefined();
  });

  it('treats a 401 for which no scheme made a challenge as a programming error (RFC 9110 §11.6.1)', async () => {
    const silent = tokenScheme('Token', 'secret', { challenges: () => [] });
    const res = await request(make({ schemes: [silent] })).get('/');
    expect(res.status).toBe(500);
    expect(res.headers['www-authenticate']).toBeUndefined();
    // A 407 likewise (RFC 9110 §11.7.1: at least one Proxy-Authenticate in each 407).
    const proxy = await request(make({ schemes: [silent], proxy: true })).get('/');
    expect(proxy.status).toBe(500);
    expect(proxy.headers['proxy-authenticate']).toBeUndefined();
    // With another scheme that does challenge, the 401 goes out with that one.
    const both = await request(make({ schemes: [silent, basic({ users })] })).get('/');
    expect(both.status).toBe(401);
    expect(both.headers['www-authenticate']).toMatch(/^Basic /);
  });

  // README: req.auth = { scheme, user, ...details }. The scheme and user are the middleware's
  // word: a custom scheme's details that name another user must not make req.auth that user's.
  it("keeps req.auth's scheme and user when a scheme's details name others", async () => {
    const custom = tokenScheme('Token', 's3', {
      verify: () => ({
        ok: true,
        user: 'token-user',
        details: { user: 'root', scheme: 'Basic', role: 'reader' },
      }),
    });
    const res = await request(make({ schemes: [custom] }))
      .get('/')
      .set('Authorization', 'Token s3');
    expect(res.status).toBe(200);
    expect(res.body.auth).toEqual({ scheme: 'Token', user: 'token-user', role: 'reader' });
  });

  it('accepts async verifiers and copies identity fields onto req.auth as data', async () => {
    const identity = JSON.parse(
      '{"user":"carol","role":"admin","__proto__":{"polluted":true}}',
    ) as object;
    const app = make({
      schemes: [basic({ verify: async (user) => (user === 'carol' ? identity : false) as never })],
    });
    const res = await request(app).get('/').set('Authorization', basicAuth('carol', 'pw'));
    expect(res.status).toBe(200);
    expect(res.body.auth).toEqual({
      scheme: 'Basic',
      user: 'carol',
      role: 'admin',
      ['__proto__']: { polluted: true },
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers 503 when an asynchronous verifier does not answer in time', async () => {
    const app = make({
      timeout: 50,
      schemes: [basic({ verify: () => new Promise<never>(() => undefined) })],
    });
    const res = await request(app).get('/').set('Authorization', basicAuth('alice', 'x'));
    expect(res.status).toBe(503);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers[HIT]).toBeUndefined();
  });

  it("answers 503 when a scheme's asynchronous challenges do not come in time", async () => {
    const app = make({
      timeout: 50,
      schemes: [
        tokenScheme('Token', 's3', { challenges: () => new Promise<never>(() => undefined) }),
      ],
    });
    const res = await request(app).get('/');
    expect(res.status).toBe(503);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.headers[HIT]).toBeUndefined();
  });

  // README, `timeout`: the milliseconds a verifier MAY take. One that answers within it is heard,
  // however often the deadlines are swept meanwhile (every timeout / 4): a deadline fired at the
  // first sweep instead of its own time went unnoticed. The sweeps run on a fake interval, 59 of
  // them at once, while the deadline, a real minute away, is nowhere near: no wall time to race.
  it('waits the whole timeout for an asynchronous verifier before answering 503', async () => {
    expect(await statusOfHeldVerifier(60_000, 59_999, 0)).toBe(200);
  });

  // README, `timeout`: `0` disables the deadline. As above, with the sweeps' monotonic clock
  // (performance.now, which a wall clock set back cannot move) put a minute ahead too while the
  // verifier is held: a 0 taken as "at once" or as the 10 s default would answer 503.
  it('waits for an asynchronous verifier without end when timeout is 0', async () => {
    expect(await statusOfHeldVerifier(0, 60_000, 60_000)).toBe(200);
  });

  /**
   * The status of a request whose verifier answers only after `sweeps` ms of the deadlines' fake
   * interval have run, with their clock `ahead` ms in front of the real one meanwhile.
   */
  async function statusOfHeldVerifier(timeout: number, sweeps: number, ahead: number) {
    let answer: (user: string) => void = () => undefined;
    let asked: () => void = () => undefined;
    const verifying = new Promise<void>((resolve) => (asked = resolve));
    let clock: jest.SpiedFunction<typeof performance.now> | undefined;
    // Only the interval the sweeps run on: clocks, timeouts and ticks stay real for the sockets.
    jest.useFakeTimers({
      doNotFake: [
        'Date',
        'hrtime',
        'performance',
        'nextTick',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setTimeout',
        'clearTimeout',
      ],
    });
    try {
      const app = make({
        timeout,
        schemes: [
          basic({
            verify: () => {
              asked();
              return new Promise<string>((resolve) => (answer = resolve));
            },
          }),
        ],
      });
      const done = request(app)
        .get('/')
        .set('Authorization', basicAuth('alice', 'x'))
        .then((res) => res);
      await verifying;
      if (ahead > 0) {
        const now = performance.now.bind(performance);
        clock = jest.spyOn(performance, 'now').mockImplementation(() => now() + ahead);
      }
      jest.advanceTimersByTime(sweeps);
      answer('alice');
      return (await done).status;
    } finally {
      clock?.mockRestore();
      jest.useRealTimers();
    }
  }

  // README, `body`: the default body of a refusal is its status text, for every status it sends.
  it('answers a 400, a 403 and a 503 with their status text as the default body', async () => {
    const malformed = await request(make()).get('/').set('Authorization', 'Basic a b');
    expect([malformed.status, malformed.text]).toEqual([400, 'Bad Request']);
    const forbidding = tokenScheme('Token', 's3', { verify: () => ({ ...refuse(), status: 403 }) });
    const forbidden = await request(make({ schemes: [forbidding] }))
      .get('/')
      .set('Authorization', 'Token s3');
    expect([forbidden.status, forbidden.text]).toEqual([403, 'Forbidden']);
    const slow = make({
      timeout: 50,
      schemes: [basic({ verify: () => new Promise<never>(() => undefined) })],
    });
    const late = await request(slow).get('/').set('Authorization', basicAuth('alice', 'x'));
    expect([late.status, late.text]).toEqual([503, 'Service Unavailable']);
  });

  // README, `audit`: a refusal's `user` is the name the credentials claimed, a string; a custom
  // scheme's refusal that carries something else names no user.
  it("reports no user for a custom scheme's refusal whose user is not a string", async () => {
    const outcomes: AuthOutcome[] = [];
    const odd = tokenScheme('Token', 's3', {
      verify: () => ({ ...refuse(), user: 5 as unknown as string }),
    });
    const res = await request(make({ schemes: [odd], audit: (o) => void outcomes.push(o) }))
      .get('/')
      .set('Authorization', 'Token s3');
    expect(res.status).toBe(401);
    expect(outcomes).toMatchObject([{ outcome: 'refused', scheme: 'Token', user: undefined }]);
  });

  it('lets a CORS preflight through only when allowed', async () => {
    const preflight = (app: http.Server) =>
      request(app)
        .options('/')
        .set('Origin', 'http://x.test')
        .set('Access-Control-Request-Method', 'GET');
    expect((await preflight(make())).status).toBe(401);
    expect((await preflight(make({ allowPreflight: true }))).headers[HIT]).toBe('yes');
    // A plain OPTIONS (no Access-Control-Request-Method) is still challenged.
    expect((await request(make({ allowPreflight: true })).options('/')).status).toBe(401);
  });

  // RFC 6454 §7.1 and the Fetch standard: a preflight's Origin is a serialized origin or "null",
  // never empty. An empty one (Node's parser trims a blank one to empty) made any client's OPTIONS
  // a preflight, let through unchallenged.
  it.each([
    ['empty', ''],
    ['blank', ' \t '],
  ])('with allowPreflight, challenges an OPTIONS whose Origin is %s', async (_title, origin) => {
    const res = await request(make({ allowPreflight: true }))
      .options('/')
      .set('Origin', origin)
      .set('Access-Control-Request-Method', 'GET');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="test", charset="UTF-8"');
    expect(res.headers[HIT]).toBeUndefined();
  });

  it('leaves out the challenge for script requests only when asked', async () => {
    const xhr = (app: http.Server, value = 'XMLHttpRequest') =>
      request(app).get('/').set('X-Requested-With', value);
    expect((await xhr(make())).headers['www-authenticate']).toBeDefined();
    const app = make({ omitChallengeForXhr: true });
    // The value in any letter case (jQuery sends XMLHttpRequest, others lower-case it); any other
    // value keeps the challenge.
    for (const [value, challenged] of [
      ['XMLHttpRequest', false],
      ['xmlhttprequest', false],
      ['com.example.app', true],
    ] as const) {
      const res = await xhr(app, value);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate'] !== undefined).toBe(challenged);
    }
  });

  it('leaves out the challenge where omitChallenge says so (fetch() sends no X-Requested-With)', async () => {
    const app = make({ omitChallenge: (req) => req.headers['sec-fetch-mode'] === 'cors' });
    const fromFetch = await request(app).get('/').set('Sec-Fetch-Mode', 'cors');
    expect(fromFetch.status).toBe(401);
    expect(fromFetch.headers['www-authenticate']).toBeUndefined();
    const navigation = await request(app).get('/').set('Sec-Fetch-Mode', 'navigate');
    expect(navigation.status).toBe(401);
    expect(navigation.headers['www-authenticate']).toBeDefined();
    // A predicate that throws: next(err), never a success.
    const throwing = await request(
      make({
        omitChallenge: () => {
          throw new Error('broken');
        },
      }),
    ).get('/');
    expect(throwing.status).toBe(500);
    expect(throwing.headers[HIT]).toBeUndefined();
    expect(() =>
      authenticate({
        schemes: [basic({ users: {} })],
        omitChallenge: () => true,
        omitChallengeForXhr: true,
      }),
    ).toThrow(/not both/);
  });

  // RFC 6750 §3: a request whose token "does not enable access" MUST get WWW-Authenticate, and
  // browsers show a login dialog on a 401 only: a 400 or 403 keeps its challenge (and its error).
  it('leaves out the challenge of a 401 only, not of a 400 or a 403', async () => {
    const app = mount(
      framework,
      authenticate({
        realm: 'api',
        omitChallengeForXhr: true,
        schemes: [
          bearer({
            verify: (token) => (token === 'good' ? { user: 'alice', scopes: 'read' } : false),
            requiredScopes: ['write'],
          }),
        ],
      }),
    );
    const xhr = (authorization: string) =>
      request(app)
        .get('/')
        .set('X-Requested-With', 'XMLHttpRequest')
        .set('Authorization', authorization);
    const unauthorized = await xhr('Bearer bad');
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['www-authenticate']).toBeUndefined();
    const forbidden = await xhr('Bearer good');
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
    const malformed = await xhr('Bearer');
    expect(malformed.status).toBe(400);
    expect(malformed.headers['www-authenticate']).toMatch(/error="invalid_request"/);
  });

  it('hands the request to a body function too (a body per path or language)', async () => {
    const res = await request(make({ body: (err, req) => `${err.status} for ${req.url}` })).get(
      '/private?x=1',
    );
    expect(res.status).toBe(401);
    expect(res.text).toBe('401 for /private?x=1');
  });

  it('sends a custom body and content type', async () => {
    const res = await request(
      make({ body: (err) => JSON.stringify({ error: err.code }), contentType: 'application/json' }),
    ).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.text).toBe('{"error":"ERR_AUTH_MISSING_CREDENTIALS"}');
  });

  // Node writes the head and a string body as one string in the body's encoding (UTF-8), which
  // sent a Latin-1 realm as two bytes per character. Field values are octets, obs-text one each
  // (RFC 9110 §5.5), which is how Node encodes a head sent on its own.
  it('sends a Latin-1 realm as one octet per character, with or without a custom body', async () => {
    for (const body of [undefined, 'Anmeldung n\u00f6tig']) {
      const server = make({ realm: 'caf\u00e9', ...(body === undefined ? {} : { body }) });
      const res = await rawRequest(server, {});
      server.close();
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="caf\u00e9", charset="UTF-8"');
      expect(res.body).toBe(body ?? 'Unauthorized');
      expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.body)));
    }
  });

  it('hands a body function that returns no string to next(err)', async () => {
    const res = await request(make({ body: () => 42 as unknown as string })).get('/');
    expect(res.status).toBe(500);
    expect(res.headers[HIT]).toBeUndefined();
  });

  it('escapes quotes and backslashes in the realm', async () => {
    const res = await request(make({ realm: 'say "hi" \\o/' })).get('/');
    expect(res.headers['www-authenticate']).toBe(
      'Basic realm="say \\"hi\\" \\\\o/", charset="UTF-8"',
    );
  });
});

describe('authenticate() and a challenge a scheme keeps', () => {
  /**
   * Status and WWW-Authenticate of two refusals by a scheme whose challenges() makes `challenge`,
   * with `between` run between them.
   */
  async function twoRefusals(challenge: unknown, between: () => void = () => undefined) {
    const scheme = tokenScheme('Token', 's3', { challenges: () => [challenge as Challenge] });
    const server = mount('http', authenticate({ realm: 'r', schemes: [scheme] }));
    try {
      const first = await request(server).get('/');
      between();
      const second = await request(server).get('/');
      return [first, second].map((res) => `${res.status} ${res.headers['www-authenticate']}`);
    } finally {
      server.close();
    }
  }

  // A frozen challenge is formatted once and remembered. Frozen on the outside only, its params
  // may still change (a key id rotated in place): the line sent kept the first values.
  it('formats again a frozen challenge whose params are not frozen', async () => {
    const params: Record<string, string> = { realm: 'r', kid: 'k1' };
    const challenge = Object.freeze({ scheme: 'Token', params });
    expect(await twoRefusals(challenge, () => (params.kid = 'k2'))).toEqual([
      '401 Token realm="r", kid="k1"',
      '401 Token realm="r", kid="k2"',
    ]);
  });

  // Object.freeze() keeps accessors: a frozen getter may answer otherwise on the next request.
  it.each([
    [
      'a getter among its frozen params',
      (kid: () => string) =>
        Object.freeze({
          scheme: 'Token',
          params: Object.freeze({
            realm: 'r',
            get kid() {
              return kid();
            },
          }),
        }),
    ],
    [
      'params that are a getter',
      (kid: () => string) =>
        Object.freeze({
          scheme: 'Token',
          get params() {
            return Object.freeze({ realm: 'r', kid: kid() });
          },
        }),
    ],
  ])('formats again a frozen challenge with %s', async (_what, make) => {
    let kid = 'k1';
    expect(
      await twoRefusals(
        make(() => kid),
        () => (kid = 'k2'),
      ),
    ).toEqual(['401 Token realm="r", kid="k1"', '401 Token realm="r", kid="k2"']);
  });

  // Plain JavaScript may leave `params` out of a token68 challenge: nothing to check for getters.
  it('sends a frozen token68 challenge without params on every refusal', async () => {
    const challenge = Object.freeze({ scheme: 'Token', token68: 'abc' });
    expect(await twoRefusals(challenge)).toEqual(['401 Token abc', '401 Token abc']);
  });

  // What basic() and negotiate() make: formatted on the first refusal only. A proxy counts the
  // reads of its values, which formatting makes and a remembered line does not.
  it('remembers the line of a frozen challenge whose params are plain data', async () => {
    let listed = 0;
    const params = new Proxy(Object.freeze({ realm: 'r', kid: 'k1' }), {
      get(target, name, receiver) {
        listed++;
        return Reflect.get(target, name, receiver) as unknown;
      },
    });
    let afterFirst = 0;
    const lines = await twoRefusals(Object.freeze({ scheme: 'Token', params }), () => {
      afterFirst = listed;
    });
    expect(lines).toEqual(['401 Token realm="r", kid="k1"', '401 Token realm="r", kid="k1"']);
    expect(afterFirst).toBeGreaterThan(0);
    expect(listed).toBe(afterFirst);
  });
});

describe('authenticate() with Express routing', () => {
  it('answers credentials sent two ways (Basic header, Bearer query) 400, Bearer saying invalid_request', async () => {
    const app = express();
    app.use(
      authenticate({
        realm: 'r',
        schemes: [
          basic({ users }),
          bearer({
            verify: (token) => (token === 'good' ? 'alice' : false),
            allowQueryToken: true,
          }),
        ],
      }),
    );
    app.get('/', (_req, res) => res.send('ok'));
    const res = await request(app)
      .get('/?access_token=good')
      .set('Authorization', basicAuth('alice', 'wonderland'));
    expect(res.status).toBe(400);
    // RFC 6750 §3.1: "uses more than one method for including an access token".
    expect(res.headers['www-authenticate']).toContain('Bearer realm="r", error="invalid_request"');
  });

  it('protects a single route and leaves others open', async () => {
    const app = express();
    const auth = authenticate({ schemes: [basic({ users })] });
    app.get('/open', (_req, res) => res.send('open'));
    app.get('/closed', auth, (req, res) => res.json(req.auth));
    expect((await request(app).get('/open')).status).toBe(200);
    const closed = await request(app).get('/closed');
    expect(closed.status).toBe(401);
    expect(closed.headers['www-authenticate']).toBe('Basic realm="Restricted", charset="UTF-8"');
    const ok = await request(app)
      .get('/closed')
      .set('Authorization', basicAuth('alice', 'wonderland'));
    expect(ok.body).toEqual({ scheme: 'Basic', user: 'alice' });
  });

  it('keeps instances with different realms on different routers apart', async () => {
    const app = express();
    const admin = express.Router();
    admin.use(authenticate({ realm: 'admin', schemes: [basic({ users: { root: 'toor' } })] }));
    admin.get('/', (req, res) => res.send(`admin ${req.auth?.user}`));
    const api = express.Router();
    api.use(authenticate({ realm: 'api', schemes: [basic({ users })] }));
    api.get('/', (req, res) => res.send(`api ${req.auth?.user}`));
    app.use('/admin', admin);
    app.use('/api', api);
    expect((await request(app).get('/admin')).headers['www-authenticate']).toContain(
      'realm="admin"',
    );
    expect((await request(app).get('/api')).headers['www-authenticate']).toContain('realm="api"');
    expect(
      (await request(app).get('/admin').set('Authorization', basicAuth('alice', 'wonderland')))
        .status,
    ).toBe(401);
    expect(
      (await request(app).get('/api').set('Authorization', basicAuth('alice', 'wonderland'))).text,
    ).toBe('api alice');
    expect(
      (await request(app).get('/admin').set('Authorization', basicAuth('root', 'toor'))).text,
    ).toBe('admin root');
  });

  it("with onFailure: 'next' lets Express's default error handler send status and challenges", async () => {
    const app = express();
    app.use(authenticate({ realm: 'r', schemes: [basic({ users })], onFailure: 'next' }));
    app.get('/', (_req, res) => res.send('ok'));
    const res = await request(app).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="r", charset="UTF-8"');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it("with onFailure: 'next' lets Connect's default error handler (finalhandler) send status and challenges", async () => {
    const app = connect();
    app.use(authenticate({ realm: 'r', schemes: [basic({ users })], onFailure: 'next' }));
    app.use((_req: http.IncomingMessage, res: http.ServerResponse) => res.end('ok'));
    const res = await request(http.createServer(app)).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="r", charset="UTF-8"');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it("with onFailure: 'next' a Connect error handler sends the refusal with res.writeHead(err.status, err.headers)", async () => {
    const app = connect();
    app.use(authenticate({ realm: 'r', schemes: [basic({ users })], onFailure: 'next' }));
    app.use((_req: http.IncomingMessage, res: http.ServerResponse) => res.end('ok'));
    app.use(
      (err: unknown, _req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => {
        if (!(err instanceof AuthenticationError)) return next();
        res.writeHead(err.status, err.headers).end();
      },
    );
    const res = await request(http.createServer(app))
      .get('/')
      .set('Authorization', basicAuth('alice', 'bad'));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="r", charset="UTF-8"');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toBe('');
  });

  it("with onFailure: 'next' hands an AuthenticationError with status, headers and code", async () => {
    const app = express();
    let seen: unknown;
    app.use(authenticate({ realm: 'r', schemes: [basic({ users })], onFailure: 'next' }));
    app.use(
      (err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        seen = err;
        res.status(418).end();
      },
    );
    await request(app).get('/').set('Authorization', basicAuth('alice', 'bad'));
    expect(seen).toBeInstanceOf(AuthenticationError);
    const err = seen as AuthenticationError;
    expect(err.code).toBe('ERR_AUTH_INVALID_CREDENTIALS');
    expect(err.status).toBe(401);
    expect(err.statusCode).toBe(401);
    expect(err.expose).toBe(true);
    expect(err.scheme).toBe('Basic');
    expect(err.headers).toEqual({
      'Cache-Control': 'no-store',
      'WWW-Authenticate': ['Basic realm="r", charset="UTF-8"'],
    });
  });

  it('keeps an application Cache-Control on authenticated responses', async () => {
    const app = express();
    app.use((_req, res, next) => {
      res.setHeader('Cache-Control', 'no-cache');
      next();
    });
    app.use(authenticate({ schemes: [basic({ users })] }));
    app.get('/', (_req, res) => res.send('ok'));
    const res = await request(app).get('/').set('Authorization', basicAuth('alice', 'wonderland'));
    expect(res.headers['cache-control']).toBe('no-cache');
  });
});

describe('authenticate() configuration', () => {
  const schemes = [basic({ users })];
  it.each([
    ['a CR', 'a\rb'],
    ['a LF', 'a\nb'],
    ['a NUL', 'a\u0000b'],
    ['a DEL', 'a\u007fb'],
    ['a character above U+00FF', 'caf\u00e9 \u20ac'],
  ])('refuses a realm with %s at setup', (_label, realm) => {
    expect(() => authenticate({ realm, schemes })).toThrow(TypeError);
  });

  it('accepts Latin-1 text in a realm', () => {
    expect(() => authenticate({ realm: 'caf\u00e9', schemes })).not.toThrow();
  });

  // Each factory said "above U+00FF" in words of its own, and none what to do instead.
  it('says, in every factory, why a realm above U+00FF cannot be sent and what to give instead', () => {
    const realm = 'Caf\u00e9 \u2013 staff';
    const why =
      /^(authenticate\(\)|basic\(\)|digest\(\)|bearer|requireScopes): the realm holds "\u2013" \(U\+2013\): a header field carries one octet per character.*Buffer\.from\(realm, 'utf8'\)\.toString\('latin1'\)/;
    const verify = (): false => false;
    expect(() => authenticate({ realm, schemes })).toThrow(why);
    expect(() => basic({ users, realm })).toThrow(why);
    expect(() => digest({ users, realm })).toThrow(why);
    expect(() => bearer({ verify, realm })).toThrow(why);
    expect(() => requireScopes({ anyOf: ['read'], realm })).toThrow(why);
    // What it suggests is taken.
    const octets = Buffer.from(realm, 'utf8').toString('latin1');
    expect(() =>
      authenticate({ realm: octets, schemes: [digest({ users, realm: octets })] }),
    ).not.toThrow();
  });

  // One rule for the five, in src/util/realm.ts. Before it, a tab passed authenticate(), basic()
  // and digest() but not bearer() or requireScopes(); C1 controls passed all five; bearer() alone
  // refused the empty realm the others took; each worded its refusal its own way.
  const verifyNone = (): false => false;
  const factories: [string, (realm: string) => unknown][] = [
    ['authenticate()', (realm) => authenticate({ realm, schemes })],
    ['basic()', (realm) => basic({ users, realm })],
    ['digest()', (realm) => digest({ users, realm })],
    ['bearer', (realm) => bearer({ verify: verifyNone, realm })],
    ['requireScopes', (realm) => requireScopes({ anyOf: ['read'], realm })],
  ];
  const utf8 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

  describe.each(factories)('%s and the realm', (who, make) => {
    const prefix = who.replace(/[()]/g, '\\$&');
    it.each([
      ['a tab', 'a\tb', 'U\\+0009 \\(a tab\\)'],
      ['a line feed', 'a\nb', 'U\\+000A \\(a line break\\)'],
      ['a NUL', 'a\u0000b', 'U\\+0000'],
      ['an escape', 'a\u001b[31mb', 'U\\+001B'],
      ['a DEL', 'a\u007fb', 'U\\+007F'],
      ['a C1 NEL', 'a\u0085b', 'U\\+0085'],
      ['a C1 CSI', 'a\u009b31mb', 'U\\+009B'],
      ['the last C1 control', 'a\u009fb', 'U\\+009F'],
      // Latin-1 text with a UTF-8 sequence in it is neither: 0x80 stands for itself.
      ['Latin-1 text mixed with UTF-8 octets', `Z\u00fcrich ${utf8('\u2013')} Nord`, 'U\\+0080'],
      ['UTF-8 octets of a control', utf8('caf\u00e9 \u0085'), 'U\\+0085 in its UTF-8 octets'],
      [
        'UTF-8 octets of the last C1 control',
        utf8('caf\u00e9 \u009f'),
        'U\\+009F in its UTF-8 octets',
      ],
    ])('refuses %s, naming the caller and the character', (_label, realm, char) => {
      expect(() => make(realm)).toThrow(TypeError);
      expect(() => make(realm)).toThrow(
        new RegExp(
          `^${prefix}: the realm holds ${char}, a control character: .*Give printable text`,
        ),
      );
    });

    it.each([
      ['the empty realm', ''],
      ['Latin-1 text', 'Caf\u00e9 \u00bb Z\u00fcrich'],
      // The printable characters next to the refused ranges: space, ~, NBSP, ÿ (RFC 9110 §5.5).
      ['the edges of printable Latin-1', ' ~\u00a0\u00ff'],
      ['quotes and backslashes', 'say "hi" \\o/'],
      // What the README tells users to give for a realm beyond Latin-1: octets 0x80-0x9F inside.
      ['UTF-8 octets holding 0x80 and 0x93', utf8('Z\u00fcrich \u2013 Nord')],
      ['UTF-8 octets holding 0x9D', utf8('\u6771\u4eac')],
    ])('accepts %s', (_label, realm) => {
      expect(() => make(realm)).not.toThrow();
    });

    it('says a realm that is no string must be one', () => {
      expect(() => make(5 as unknown as string)).toThrow(
        new RegExp(`^${prefix}: the realm must be a string, not a number$`),
      );
    });
  });

  it('sends the empty realm that bearer() now takes', async () => {
    const app = express();
    app.use(authenticate({ realm: 'api', schemes: [bearer({ verify: verifyNone, realm: '' })] }));
    const res = await request(app).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm=""');
  });

  it('refuses an empty or missing scheme list', () => {
    expect(() => authenticate({ schemes: [] })).toThrow(/non-empty/);
    expect(() => authenticate({} as AuthenticateOptions)).toThrow(TypeError);
  });

  // Either made every refusal a 500 (formatting its challenge, or calling challenges(), threw).
  it('refuses a scheme without challenges() or whose name is not a token at setup', () => {
    const noChallenges = { ...tokenScheme('Token', 's3'), challenges: undefined };
    expect(() => authenticate({ schemes: [noChallenges as unknown as Scheme] })).toThrow(TypeError);
    expect(() => authenticate({ schemes: [tokenScheme('Api Key', 's3')] })).toThrow(TypeError);
    expect(() => authenticate({ schemes: [tokenScheme('', 's3')] })).toThrow(TypeError);
  });

  // Its rejection (a configuration error found late) went unhandled, which ends the process.
  it('refuses at setup a scheme whose setup() returns a promise, and catches its rejection', async () => {
    await recordingRejections(async (rejections) => {
      const asyncSetup = {
        ...tokenScheme('Token', 's3'),
        setup: async () => {
          throw new TypeError('bad option');
        },
      };
      expect(() => authenticate({ schemes: [asyncSetup as unknown as Scheme] })).toThrow(
        "authenticate(): the Token scheme's setup() returned a promise",
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(rejections).toEqual([]);
    });
  });

  it('refuses a credentialsRequired that is not a boolean', () => {
    const wrong = { schemes, credentialsRequired: 'false' } as unknown as AuthenticateOptions;
    expect(() => authenticate(wrong)).toThrow(/credentialsRequired/);
  });

  it('refuses a scheme given twice', () => {
    expect(() => authenticate({ schemes: [basic({ users }), basic({ users })] })).toThrow(/twice/);
  });

  // RFC 9110 §11.1: scheme names are case-insensitive; 'Token' and 'token' are one scheme.
  it('refuses a scheme given twice in two cases', () => {
    const twice = [tokenScheme('Token', 's3'), tokenScheme('token', 's4')];
    expect(() => authenticate({ schemes: twice })).toThrow(
      'authenticate(): the scheme token is given twice',
    );
  });

  // In proxy mode the URL and body are the origin's: an access_token there is the origin's token.
  it('refuses in proxy mode a scheme that locates credentials outside Proxy-Authorization', () => {
    const fromQuery = bearer({ verify: verifyNone, allowQueryToken: true });
    expect(() => authenticate({ proxy: true, schemes: [fromQuery] })).toThrow(
      /in proxy mode credentials come from Proxy-Authorization only/,
    );
    expect(() => authenticate({ schemes: [fromQuery] })).not.toThrow();
    expect(() =>
      authenticate({ proxy: true, schemes: [bearer({ verify: verifyNone })] }),
    ).not.toThrow();
  });

  // From a review: with allowPreflight, a proxy forwarded any OPTIONS carrying Origin and
  // Access-Control-Request-Method, body and all, without proxy credentials; browsers send those
  // credentials on preflights anyway. And a 407 must carry Proxy-Authenticate (RFC 9110 §15.5.8).
  it.each([
    ['allowPreflight', { allowPreflight: true }, /allowPreflight cannot be used in proxy mode/],
    [
      'omitChallengeForXhr',
      { omitChallengeForXhr: true },
      /omitChallengeForXhr cannot be used in proxy mode/,
    ],
    [
      'omitChallenge',
      { omitChallenge: () => true },
      /omitChallengeForXhr cannot be used in proxy mode/,
    ],
  ])('refuses %s in proxy mode', (_name, option, message) => {
    const schemes = [bearer({ verify: verifyNone })];
    expect(() => authenticate({ proxy: true, schemes, ...option })).toThrow(message);
    expect(() => authenticate({ schemes, ...option })).not.toThrow();
  });

  // Unchecked, a bad limit threw on every request that carried credentials: a 500 for each.
  it.each([
    ['maxLength: Infinity', { maxLength: Infinity }],
    ['maxParams: -1', { maxParams: -1 }],
    ['maxChallenges: 1.5', { maxChallenges: 1.5 }],
  ])('refuses limits with %s at setup', (_label, limits) => {
    expect(() => authenticate({ schemes, limits })).toThrow(TypeError);
  });

  it('exposes the message of a refusal but not of a 503, as http-errors does', () => {
    const init = (status: number) =>
      new AuthenticationError('ERR_AUTH_VERIFIER_TIMEOUT', 'x', { status });
    expect(init(401).expose).toBe(true);
    expect(init(503).expose).toBe(false);
  });

  it('refuses an onFailure other than respond or next at setup', () => {
    expect(() => authenticate({ schemes, onFailure: 'nxet' as 'next' })).toThrow(TypeError);
  });

  it('applies the limits it is given', async () => {
    const app = express();
    app.use(authenticate({ schemes, limits: { maxLength: 10 } }));
    app.get('/', (_req, res) => res.send('ok'));
    const long = await request(app).get('/').set('Authorization', basicAuth('alice', 'wonderland'));
    expect(long.status).toBe(400);
    const fits = await request(app).get('/').set('Authorization', 'Basic YTpi');
    expect(fits.status).toBe(401);
  });

  it('refuses a negative timeout and a bad body option', () => {
    expect(() => authenticate({ schemes, timeout: -1 })).toThrow(TypeError);
    expect(() => authenticate({ schemes, body: 5 as never })).toThrow(TypeError);
  });
});

describe('authenticate() and a response something else already sent', () => {
  it('hands an async scheme’s late “foreign” refusal to next(err) instead of throwing, while the response is unfinished', async () => {
    const foreign = tokenScheme('Token', 'secret', {
      verify: async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        return { ...refuse(), foreign: true };
      },
    });
    const mw = authenticate({ realm: 't', credentialsRequired: false, schemes: [foreign] });
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => void rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    const seen: unknown[] = [];
    const server = http.createServer((req, res) => {
      // Something else answers while the scheme works, its end still to come. (Had the response
      // ended, the request would be over, and nothing handed on: test/middleware/audit.test.ts.)
      setTimeout(() => {
        res.writeHead(200);
        res.write('ear');
      }, 5);
      setTimeout(() => res.end('ly'), 60);
      mw(req, res, (err?: unknown) => seen.push(err));
    });
    try {
      const res = await request(server).get('/').set('Authorization', 'Token other');
      expect(res.text).toBe('early');
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ code: 'ERR_HTTP_HEADERS_SENT' });
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });
  it('never lets a request through to the handler on a sent response, whatever Vary says already', async () => {
    const mw = authenticate({
      realm: 't',
      credentialsRequired: false,
      schemes: [basic({ users })],
    });
    for (const vary of [undefined, 'Authorization', '*']) {
      for (const authorization of [undefined, 'Token not-offered']) {
        const seen: unknown[] = [];
        const server = http.createServer((req, res) => {
          if (vary !== undefined) res.setHeader('Vary', vary);
          res.end('early');
          mw(req, res, (err?: unknown) => seen.push(err));
        });
        const get = request(server).get('/');
        const res = await (authorization === undefined
          ? get
          : get.set('Authorization', authorization));
        expect(res.text).toBe('early');
        expect(seen).toHaveLength(1);
        expect(seen[0]).toMatchObject({ code: 'ERR_HTTP_HEADERS_SENT' });
      }
    }
  });
  // A refusal that can no longer be sent still reaches the error handler as what it is (its
  // code, status and challenges), not as Node's error for a header set too late.
  it('hands a refusal to next(err) as its AuthenticationError once the response went out', async () => {
    const mw = authenticate({ realm: 't', schemes: [basic({ users })] });
    const seen: unknown[] = [];
    const server = http.createServer((req, res) => {
      res.end('early');
      mw(req, res, (err?: unknown) => seen.push(err));
    });
    const res = await request(server).get('/').set('Authorization', basicAuth('alice', 'x'));
    expect(res.text).toBe('early');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(AuthenticationError);
    expect(seen[0]).toMatchObject({ code: 'ERR_AUTH_INVALID_CREDENTIALS', status: 401 });
  });
});

describe('authenticate() and what runs after it', () => {
  // next() is called once: an error thrown by what next() ran (a handler on plain node:http) goes
  // back up to its caller, and is not handed to next(err) as if the middleware had failed.
  it('lets an error thrown after next() propagate, without calling next again', async () => {
    const mw = authenticate({ realm: 't', schemes: [basic({ users })] });
    const calls: unknown[] = [];
    let caught: unknown;
    const server = http.createServer((req, res) => {
      try {
        mw(req, res, (err?: unknown) => {
          calls.push(err);
          if (err === undefined) throw new Error('handler failed');
        });
      } catch (err) {
        caught = err;
      }
      res.end('done');
    });
    const res = await request(server)
      .get('/')
      .set('Authorization', basicAuth('alice', 'wonderland'));
    expect(res.text).toBe('done');
    expect(calls).toEqual([undefined]);
    expect(caught).toMatchObject({ message: 'handler failed' });
  });
});

describe('authenticate() and fields an earlier middleware set for another body', () => {
  // A refusal's body is ours: Content-Encoding: gzip over it made clients unzip plain text. The
  // fields finalhandler removes are removed, so that onFailure: 'next' and 'respond' agree.
  it.each(['respond', 'next'] as const)(
    'leaves no Content-Encoding, Content-Language or Content-Range on a refusal (%s)',
    async (onFailure) => {
      const guard = authenticate({ realm: 'r', schemes: [basic({ users })], onFailure });
      const app = express();
      app.use((_req, res, next) => {
        res.setHeader('Content-Encoding', 'gzip');
        res.setHeader('Content-Language', 'de');
        res.setHeader('Content-Range', 'bytes 0-9/100');
        res.setHeader('ETag', '"kept"');
        next();
      });
      app.use(guard);
      app.use(() => {
        throw new Error('not reached');
      });
      const res = await request(app).get('/').set('Accept-Encoding', 'identity');
      expect(res.status).toBe(401);
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(res.headers['content-language']).toBeUndefined();
      expect(res.headers['content-range']).toBeUndefined();
      expect(res.headers['www-authenticate']).toBe('Basic realm="r", charset="UTF-8"');
      // Only those: the rest is the application's (finalhandler keeps them too).
      expect(res.headers.etag).toBe('"kept"');
    },
  );

  it("keeps Content-Language over the application's own body text", async () => {
    const app = express();
    app.use((_req, res, next) => {
      res.setHeader('Content-Language', 'de');
      res.setHeader('Content-Encoding', 'gzip');
      next();
    });
    app.use(authenticate({ realm: 'r', schemes: [basic({ users })], body: 'Nicht angemeldet' }));
    const res = await request(app).get('/');
    expect(res.status).toBe(401);
    expect(res.text).toBe('Nicht angemeldet');
    expect(res.headers['content-language']).toBe('de');
    expect(res.headers['content-encoding']).toBeUndefined();
  });
});
