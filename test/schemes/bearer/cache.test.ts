/** The validation cache of bearer() and the LruCache under it. */
import request from 'supertest';
import { LruCache } from '../../../src/util/lru-cache';
import { bearer, InvalidTokenError } from '../../../src/schemes/bearer';
import { bearerApp, HIT } from './helpers';

describe('LruCache', () => {
  it('forgets the least recently used entry when full', () => {
    const cache = new LruCache<number>(2);
    cache.set('a', 1, Infinity);
    cache.set('b', 2, Infinity);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3, Infinity);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  // That it moves only once per max / 2 reads is checked against a model in test/util/lru-cache.test.ts.
  it('keeps a hot entry read many times, and still evicts the coldest', () => {
    const cache = new LruCache<number>(4);
    for (const [i, key] of ['a', 'b', 'c', 'd'].entries()) cache.set(key, i, Infinity);
    for (let i = 0; i < 100; i++) expect(cache.get('a')).toBe(0);
    cache.set('e', 4, Infinity);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(0);
  });

  it('never evicts an entry read once every max / 2 operations, whatever floods in', () => {
    const cache = new LruCache<number>(8);
    cache.set('hot', 0, Infinity);
    for (let i = 0; i < 1000; i++) {
      cache.set(`cold-${i}`, i, Infinity);
      // One read after every three writes: once per four operations, max / 2.
      if (i % 3 === 2) expect(cache.get('hot')).toBe(0);
    }
    expect(cache.size).toBe(8);
  });

  it('drops an entry once it expires', () => {
    const cache = new LruCache<string>(10);
    cache.set('k', 'v', 1000);
    expect(cache.get('k', 999)).toBe('v');
    expect(cache.get('k', 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('replaces, deletes and clears', () => {
    const cache = new LruCache<string>(1);
    cache.set('k', 'v1', Infinity);
    cache.set('k', 'v2', Infinity);
    expect(cache.get('k')).toBe('v2');
    cache.delete('k');
    expect(cache.get('k')).toBeUndefined();
    cache.set('k', 'v3', Infinity);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it.each([0, -1, 1.5, NaN])('refuses max %p', (max) => {
    expect(() => new LruCache(max)).toThrow(TypeError);
  });
});

describe('bearer({ cache })', () => {
  afterEach(() => jest.restoreAllMocks());

  function counting(identity: (token: string) => unknown) {
    const calls: string[] = [];
    const verify = (token: string) => {
      calls.push(token);
      return identity(token) as never;
    };
    return { calls, verify };
  }

  it('calls the verifier once for repeated requests with the same token', async () => {
    const { calls, verify } = counting(() => ({ user: 'alice', scopes: ['read'] }));
    const app = bearerApp({ verify, cache: true });
    for (let i = 0; i < 3; i++) {
      const res = await request(app).get('/').set('Authorization', 'Bearer tok');
      expect(res.status).toBe(200);
      expect(res.body.auth).toEqual({ scheme: 'Bearer', user: 'alice', scopes: ['read'] });
    }
    expect(calls).toEqual(['tok']);
  });

  it('does not cache refusals', async () => {
    const { calls, verify } = counting(() => false);
    const app = bearerApp({ verify, cache: true });
    await request(app).get('/').set('Authorization', 'Bearer bad');
    await request(app).get('/').set('Authorization', 'Bearer bad');
    expect(calls).toEqual(['bad', 'bad']);
  });

  it('asks the verifier once for a burst of concurrent requests with a new token', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { calls, verify } = counting(async (token) => {
      await gate;
      return token === 'good' ? { user: 'u' } : false;
    });
    const app = bearerApp({ verify, cache: true });
    const burst = Array.from({ length: 20 }, () =>
      request(app)
        .get('/')
        .set('Authorization', 'Bearer good')
        .then((res) => res.status),
    );
    const refused = request(app)
      .get('/')
      .set('Authorization', 'Bearer bad')
      .then((res) => res.status);
    // Both tokens reach the verifier (waited for: which first is up to the connections), and the
    // burst has a while to join the check of 'good'; one that comes later finds it cached.
    while (calls.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    expect(await Promise.all(burst)).toEqual(Array(20).fill(200));
    expect(await refused).toBe(401);
    expect([...calls].sort()).toEqual(['bad', 'good']);
    // Once settled, a refused token is asked about again (failures are not cached).
    expect((await request(app).get('/').set('Authorization', 'Bearer bad')).status).toBe(401);
    expect([...calls].sort()).toEqual(['bad', 'bad', 'good']);
  });

  it('does not let a check that hangs hold a token up for good', async () => {
    let first = true;
    const { calls, verify } = counting(async () => {
      if (first) {
        first = false;
        return new Promise(() => undefined); // never settles
      }
      return { user: 'u' };
    });
    const app = bearerApp({ verify, cache: true }, { timeout: 100 });
    const get = () =>
      request(app)
        .get('/')
        .set('Authorization', 'Bearer t')
        .then((r) => r.status);
    expect(await get()).toBe(503); // the hung check, cut short by the middleware's timeout
    expect(await get()).toBe(503); // still within the sharing time: waits on it
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect(await get()).toBe(200); // past the 2 s it waits on another's check: one of its own
    expect(calls).toEqual(['t', 't']);
  });

  it('does not cache a late success once a newer check has answered (a token revoked in between)', async () => {
    const answers: Array<(identity: unknown) => void> = [];
    let called = (): void => undefined;
    const { calls, verify } = counting(
      () =>
        new Promise((resolve) => {
          answers.push(resolve);
          called();
        }),
    );
    /**
     * Whether `request` reached the verifier (its `n`th call) or was answered without it: waits
     * for whichever comes first, not for a time that a busy machine may overrun.
     */
    const asked = (n: number, request: Promise<number>): Promise<string> =>
      Promise.race([
        new Promise<string>((resolve) => {
          called = () => {
            if (answers.length >= n) resolve('asked');
          };
          called();
        }),
        request.then((status) => `answered ${status} without asking`),
      ]);
    const app = bearerApp({ verify, cache: true }, { timeout: 5000 });
    const get = () =>
      request(app)
        .get('/')
        .set('Authorization', 'Bearer t')
        .then((r) => r.status);
    const first = get();
    expect(await asked(1, first)).toBe('asked');
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const second = get(); // past the sharing: a check of its own
    expect(await asked(2, second)).toBe('asked');
    answers[1]!(false); // revoked
    expect(await second).toBe(401);
    answers[0]!({ user: 'u' }); // the older check answers late
    expect(await first).toBe(200);
    const third = get();
    expect(await asked(3, third)).toBe('asked');
    expect(calls).toEqual(['t', 't', 't']);
    answers[2]!(false);
    expect(await third).toBe(401);
  });

  it('checks the required scopes on every request, cached or not', async () => {
    const { calls, verify } = counting(() => ({ user: 'u', scopes: 'read' }));
    const app = bearerApp({ verify, cache: true, requiredScopes: ['write'] });
    expect((await request(app).get('/').set('Authorization', 'Bearer t')).status).toBe(403);
    expect((await request(app).get('/').set('Authorization', 'Bearer t')).status).toBe(403);
    expect(calls).toHaveLength(1);
  });

  const START = 1_700_000_000_000;
  /**
   * A cached app whose token `short` expires 5 s after `START` and `long` never; maxAge 60 s.
   * Date.now reads `clock.wall`, performance.now `clock.mono`: maxAge runs on the monotonic
   * clock, the token's expiry on the wall clock, and the test moves them (`pass` moves both).
   */
  function shortAndLong() {
    const clock = { wall: START, mono: 0 };
    jest.spyOn(Date, 'now').mockImplementation(() => clock.wall);
    jest.spyOn(performance, 'now').mockImplementation(() => clock.mono);
    const pass = (ms: number): void => {
      clock.wall += ms;
      clock.mono += ms;
    };
    const { calls, verify } = counting((token) =>
      token === 'short' ? { user: 'u', expiresAt: new Date(START + 5_000) } : { user: 'u' },
    );
    const app = bearerApp({ verify, cache: { maxAge: 60_000 } });
    const hit = (token: string) => request(app).get('/').set('Authorization', `Bearer ${token}`);
    return { calls, hit, clock, pass };
  }

  it('expires an entry no later than the token (expiresAt) and after maxAge', async () => {
    const { calls, hit, pass } = shortAndLong();
    await hit('short');
    await hit('long');
    pass(4_000);
    await hit('short');
    await hit('long');
    expect(calls).toEqual(['short', 'long']);
    pass(1_000); // short's own exp: the verifier is asked again (and here, refuses it as expired)
    expect((await hit('short')).status).toBe(401);
    await hit('long');
    expect(calls).toEqual(['short', 'long', 'short']);
    pass(56_000); // past maxAge for long
    await hit('long');
    expect(calls).toEqual(['short', 'long', 'short', 'long']);
  });

  it('a wall clock set back neither stretches maxAge nor revives an expired token', async () => {
    const { calls, hit, clock } = shortAndLong();
    await hit('short');
    await hit('long');
    // An hour back on the wall clock, and 6 s on: the short token's 5 s are over all the same.
    clock.wall -= 3_600_000;
    clock.mono += 6_000;
    await hit('short');
    // …and 61 s on: so is maxAge for the long one.
    clock.mono += 55_000;
    await hit('long');
    expect(calls).toEqual(['short', 'long', 'short', 'long']);
  });

  // The token's expiry is a wall-clock time: a wall clock set forward (an NTP step) reaches it
  // before the monotonic clock that bounds the entry does. From its expiresAt on, the token is
  // expired (as settle() says, `expiresAt <= now`): no cached success may grant it any more.
  it('a wall clock set forward to the token’s expiresAt ends its entry', async () => {
    const { calls, hit, clock } = shortAndLong();
    expect((await hit('short')).status).toBe(200);
    clock.wall = START + 4_999;
    clock.mono += 1_000;
    expect((await hit('short')).status).toBe(200);
    expect(calls).toEqual(['short']);
    // 5 s on the wall clock, 2 s on the monotonic one: the entry would still be live by the latter.
    clock.wall = START + 5_000;
    clock.mono += 1_000;
    expect((await hit('short')).status).toBe(401);
    expect(calls).toEqual(['short', 'short']);
  });

  it('keeps at most `max` tokens', async () => {
    const { calls, verify } = counting(() => 'u');
    const app = bearerApp({ verify, cache: { max: 2 } });
    const hit = (token: string) => request(app).get('/').set('Authorization', `Bearer ${token}`);
    await hit('a');
    await hit('b');
    await hit('c'); // evicts a
    await hit('a');
    expect(calls).toEqual(['a', 'b', 'c', 'a']);
  });

  describe('refusedMaxAge', () => {
    const get = (app: ReturnType<typeof bearerApp>, token: string) =>
      request(app).get('/').set('Authorization', `Bearer ${token}`);

    it('refuses a refused token again without the verifier, with the same challenge', async () => {
      const { calls, verify } = counting((token) => {
        if (token === 'revoked') throw new InvalidTokenError('The "token" was revoked');
        return false;
      });
      const app = bearerApp({ verify, cache: { refusedMaxAge: 60_000 } });
      for (const token of ['revoked', 'unknown']) {
        const first = await get(app, token);
        const again = await get(app, token);
        expect(first.status).toBe(401);
        expect(again.status).toBe(401);
        expect(again.headers['www-authenticate']).toBe(first.headers['www-authenticate']);
        expect(again.headers[HIT]).toBeUndefined();
      }
      expect((await get(app, 'revoked')).headers['www-authenticate']).toBe(
        `Bearer realm="example", error="invalid_token", error_description="The 'token' was revoked"`,
      );
      expect(calls).toEqual(['revoked', 'unknown']);
    });

    it('keeps a token whose expiresAt is past, an async refusal too', async () => {
      const { calls, verify } = counting(async (token) =>
        token === 'old' ? { user: 'u', expiresAt: Date.now() - 1000 } : false,
      );
      const app = bearerApp({ verify, cache: { refusedMaxAge: 60_000 } });
      for (const token of ['old', 'old', 'bad', 'bad']) {
        expect((await get(app, token)).status).toBe(401);
      }
      expect(calls).toEqual(['old', 'bad']);
    });

    it('asks again once refusedMaxAge has passed', async () => {
      let valid = false;
      const { calls, verify } = counting(() => (valid ? 'u' : false));
      // refusedMaxAge goes by on a clock the test moves (the cache's, performance.now): in real
      // time a busy machine could let 200 ms pass between the two requests meant to fall within it.
      let now = performance.now();
      const clock = jest.spyOn(performance, 'now').mockImplementation(() => now);
      try {
        const app = bearerApp({ verify, cache: { refusedMaxAge: 200 } });
        expect((await get(app, 't')).status).toBe(401);
        valid = true; // e.g. an authorization server's replica that had not seen the token yet
        now += 199;
        expect((await get(app, 't')).status).toBe(401);
        now += 2;
        expect((await get(app, 't')).status).toBe(200);
        expect(calls).toEqual(['t', 't']);
      } finally {
        clock.mockRestore();
      }
    });

    it('never keeps a verifier failure, a malformed token or a missing scope', async () => {
      let fail = true;
      const { calls, verify } = counting(() => {
        if (fail) throw new Error('database down');
        return { user: 'u', scopes: 'read' };
      });
      const app = bearerApp({
        verify,
        cache: { refusedMaxAge: 60_000 },
        requiredScopes: ['write'],
      });
      expect((await get(app, 't')).status).toBe(500);
      fail = false;
      expect((await get(app, 't')).status).toBe(403);
      expect((await get(app, 't')).status).toBe(403);
      expect((await get(app, 'a"b')).status).toBe(400);
      expect(calls).toEqual(['t', 't']);
    });

    it('keeps refusals apart from successes: a flood of bad tokens evicts no good one', async () => {
      const { calls, verify } = counting((token) => (token === 'good' ? 'u' : false));
      const app = bearerApp({ verify, cache: { max: 2, refusedMaxAge: 60_000 } });
      expect((await get(app, 'good')).status).toBe(200);
      for (let i = 0; i < 5; i++) expect((await get(app, `bad${i}`)).status).toBe(401);
      expect((await get(app, 'good')).status).toBe(200);
      // The last two refusals are kept (max 2), the older ones were pushed out.
      expect((await get(app, 'bad4')).status).toBe(401);
      expect((await get(app, 'bad0')).status).toBe(401);
      expect(calls).toEqual(['good', 'bad0', 'bad1', 'bad2', 'bad3', 'bad4', 'bad0']);
    });

    /**
     * Two requests with token `t`, the second past the 2 s in which checks are shared, so a check
     * of its own; resolves with their statuses to come once both checks are with the verifier.
     */
    async function twoChecks(verify: ReturnType<typeof counting>['verify'], pending: () => number) {
      const app = bearerApp({ verify, cache: { refusedMaxAge: 60_000 } }, { timeout: 5000 });
      const first = get(app, 't').then((r) => r.status);
      while (pending() < 1) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const second = get(app, 't').then((r) => r.status);
      while (pending() < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      return { app, first, second };
    }

    it('keeps the newer check’s refusal, not an older check’s late success', async () => {
      const answers: Array<(identity: unknown) => void> = [];
      const { verify } = counting(() => new Promise((resolve) => answers.push(resolve)));
      const { app, first, second } = await twoChecks(verify, () => answers.length);
      answers[1]!(false); // revoked
      expect(await second).toBe(401);
      answers[0]!({ user: 'u' }); // the older check answers late: neither cached nor kept
      expect(await first).toBe(200);
      expect((await get(app, 't')).status).toBe(401); // the refusal, without a third call
      expect(answers).toHaveLength(2);
    });

    it('refuses a token an async verifier rejects with InvalidTokenError (401 invalid_token, not 500), and keeps the refusal', async () => {
      const { calls, verify } = counting(async () => {
        throw new InvalidTokenError('The token was revoked');
      });
      const app = bearerApp({ verify, cache: { refusedMaxAge: 60_000 } });
      for (let i = 0; i < 2; i++) {
        const res = await get(app, 't');
        expect([res.status, res.headers['www-authenticate']]).toEqual([
          401,
          'Bearer realm="example", error="invalid_token", error_description="The token was revoked"',
        ]);
      }
      expect(calls).toEqual(['t']);
    });

    it('keeps the newer check’s success, not an older check’s late InvalidTokenError', async () => {
      const answers: Array<{ resolve: (identity: unknown) => void; reject: (e: unknown) => void }> =
        [];
      const { verify } = counting(
        () => new Promise((resolve, reject) => answers.push({ resolve, reject })),
      );
      const { app, first, second } = await twoChecks(verify, () => answers.length);
      answers[1]!.resolve({ user: 'u' });
      expect(await second).toBe(200);
      // The older check is refused late (a replica that had not seen the token): the newer
      // answer stands, neither dropped from the cache nor shadowed by a kept refusal.
      answers[0]!.reject(new InvalidTokenError('Unknown token'));
      expect(await first).toBe(401);
      expect((await get(app, 't')).status).toBe(200); // from the cache, without a third call
      expect(answers).toHaveLength(2);
    });

    it('tells audit of a kept refusal what it heard of the first: status, code, message', async () => {
      const long = `Revoked: ${'x'.repeat(300)}`;
      const { calls, verify } = counting((token) => {
        if (token === 'quoted') throw new InvalidTokenError('The "token" was revoked\u00e9');
        if (token === 'long') throw new InvalidTokenError(long);
        return false;
      });
      const heard: unknown[] = [];
      const app = bearerApp(
        { verify, cache: { refusedMaxAge: 60_000 } },
        { audit: (outcome) => void heard.push(outcome) },
      );
      for (const token of ['quoted', 'long', 'unknown']) {
        const first = await get(app, token);
        const again = await get(app, token);
        expect(again.headers['www-authenticate']).toBe(first.headers['www-authenticate']);
      }
      expect(calls).toEqual(['quoted', 'long', 'unknown']);
      expect(heard).toHaveLength(6);
      for (let i = 0; i < 6; i += 2) expect(heard[i + 1]).toEqual(heard[i]);
      expect(heard[0]).toMatchObject({
        outcome: 'refused',
        status: 401,
        code: 'ERR_AUTH_INVALID_CREDENTIALS',
        message: 'The "token" was revoked\u00e9',
      });
      expect(heard[2]).toMatchObject({ message: long });
    });

    it('does not keep a refusal whose message is over 1000 characters: its table stays bounded', async () => {
      const { calls, verify } = counting((token) => {
        throw new InvalidTokenError(token === 'huge' ? 'x'.repeat(1001) : 'y'.repeat(1000));
      });
      const app = bearerApp({ verify, cache: { refusedMaxAge: 60_000 } });
      for (const token of ['huge', 'huge', 'big', 'big']) {
        expect((await get(app, token)).status).toBe(401);
      }
      expect(calls).toEqual(['huge', 'huge', 'big']);
    });

    it.each([-1, 1.5, '10', NaN])('refuses refusedMaxAge %p at setup', (value) => {
      expect(() =>
        bearer({ verify: () => false, cache: { refusedMaxAge: value as never } }),
      ).toThrow('bearer: cache.refusedMaxAge must be a non-negative integer (ms)');
    });

    it('names refusedMaxAge among the cache options in the setup error', () => {
      for (const cache of ['yes', new Map([['refusedMaxAge', 5]])]) {
        expect(() => bearer({ verify: () => false, cache: cache as never })).toThrow(
          'bearer: cache must be a boolean or { max, maxAge, refusedMaxAge }',
        );
      }
    });

    it('is off at 0 and by default', async () => {
      for (const cache of [true, { refusedMaxAge: 0 }]) {
        const { calls, verify } = counting(() => false);
        const app = bearerApp({ verify, cache });
        await get(app, 'bad');
        await get(app, 'bad');
        expect(calls).toEqual(['bad', 'bad']);
      }
    });
  });

  it('caches per scheme instance', async () => {
    const { calls, verify } = counting(() => 'u');
    const one = bearerApp({ verify, cache: true });
    const two = bearerApp({ verify, cache: true });
    await request(one).get('/').set('Authorization', 'Bearer t');
    await request(two).get('/').set('Authorization', 'Bearer t');
    expect(calls).toEqual(['t', 't']);
  });
});
