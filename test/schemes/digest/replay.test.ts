import { digest, type DigestOptions } from '../../../src/schemes/digest';
import { MemoryNonceStore } from '../../../src/stores/memory';
import type { NonceStore } from '../../../src/stores/nonce-store';
import type { Challenge } from '../../../src/header/types';
import type { RequestContext, Scheme, SchemeFailure } from '../../../src/scheme';
import { answer, fakeContext, parseInfo } from './helpers';

const SECRET = 's'.repeat(32);
const alice = { user: 'alice', password: 'secret' };

function clock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

function make(options: Partial<DigestOptions> = {}): Scheme {
  return digest({ users: { alice: 'secret' }, secret: SECRET, ...options } as DigestOptions);
}

/** verify() answers synchronously when it can; the tests read every answer as a promise. */
async function verifyAsync(
  scheme: Scheme,
  ...args: Parameters<Scheme['verify']>
): Promise<Awaited<ReturnType<Scheme['verify']>>> {
  return scheme.verify(...args);
}

async function challenge(scheme: Scheme, failure?: SchemeFailure): Promise<Challenge> {
  const [first] = await scheme.challenges(fakeContext(), failure);
  return first as Challenge;
}

describe('digest(): replay protection with nc (RFC 7616 §3.4, §5.5)', () => {
  it('refuses the same nc twice for a nonce', async () => {
    const scheme = make();
    const credentials = answer(await challenge(scheme), alice);
    await expect(verifyAsync(scheme, credentials, fakeContext())).resolves.toMatchObject({
      ok: true,
    });
    await expect(verifyAsync(scheme, credentials, fakeContext())).resolves.toEqual({
      ok: false,
      code: 'ERR_AUTH_STALE_NONCE',
      message: 'Digest nonce count already used',
      user: 'alice',
    });
  });

  it('accepts increasing counts, and counts arriving out of order within the window', async () => {
    const scheme = make({ window: 8 });
    const c = await challenge(scheme);
    for (const nc of [1, 2, 5, 3, 4, 12, 6, 11]) {
      await expect(
        verifyAsync(scheme, answer(c, { ...alice, nc }), fakeContext()),
      ).resolves.toMatchObject({
        ok: true,
      });
    }
    // 4 and 11 again: seen.
    for (const nc of [4, 11]) {
      await expect(
        verifyAsync(scheme, answer(c, { ...alice, nc }), fakeContext()),
      ).resolves.toMatchObject({
        ok: false,
      });
    }
  });

  it('refuses a count below the window, even if never seen', async () => {
    const scheme = make({ window: 8 });
    const c = await challenge(scheme);
    await expect(
      verifyAsync(scheme, answer(c, { ...alice, nc: 20 }), fakeContext()),
    ).resolves.toMatchObject({ ok: true });
    // 20 - 12 = 8: out of an 8-wide window; 13 is the lowest still inside.
    await expect(
      verifyAsync(scheme, answer(c, { ...alice, nc: 12 }), fakeContext()),
    ).resolves.toMatchObject({ ok: false });
    await expect(
      verifyAsync(scheme, answer(c, { ...alice, nc: 13 }), fakeContext()),
    ).resolves.toMatchObject({ ok: true });
  });

  it('tracks counts per nonce: nc=1 on a new nonce is fine', async () => {
    const scheme = make();
    for (let i = 0; i < 3; i++) {
      await expect(
        verifyAsync(scheme, answer(await challenge(scheme), alice), fakeContext()),
      ).resolves.toMatchObject({
        ok: true,
      });
    }
  });

  it('does not spend a count on a wrong password', async () => {
    const scheme = make();
    const c = await challenge(scheme);
    await expect(
      verifyAsync(scheme, answer(c, { user: 'alice', password: 'wrong' }), fakeContext()),
    ).resolves.toMatchObject({ ok: false, code: 'ERR_AUTH_INVALID_CREDENTIALS' });
    await expect(verifyAsync(scheme, answer(c, alice), fakeContext())).resolves.toMatchObject({
      ok: true,
    });
  });

  it('shares one store between two realms without mixing their counts', async () => {
    const store = new MemoryNonceStore();
    const one = make({ store, realm: 'one' });
    const two = make({ store, realm: 'two' });
    const c1 = await challenge(one);
    const c2 = await challenge(two);
    await expect(verifyAsync(one, answer(c1, alice), fakeContext())).resolves.toMatchObject({
      ok: true,
    });
    await expect(verifyAsync(two, answer(c2, alice), fakeContext())).resolves.toMatchObject({
      ok: true,
    });
    expect(store.size).toBe(2);
  });

  it('fails closed when the store rejects: verify throws ERR_AUTH_STORE_FAILURE with the cause', async () => {
    const cause = new Error('redis down');
    const store: NonceStore = { use: () => Promise.reject(cause) };
    const scheme = make({ store });
    const promise = Promise.resolve(
      verifyAsync(scheme, answer(await challenge(scheme), alice), fakeContext()),
    );
    await expect(promise).rejects.toMatchObject({ code: 'ERR_AUTH_STORE_FAILURE', cause });
  });

  // Fails closed as a store that throws: taken for "count used before", it logged a replay and
  // sent stale=true, which the client's retry met again.
  it('fails with ERR_AUTH_STORE_FAILURE when the store answers neither true nor false', async () => {
    const store = { use: async () => 'yes' } as unknown as NonceStore;
    const scheme = make({ store });
    await expect(
      verifyAsync(scheme, answer(await challenge(scheme), alice), fakeContext()),
    ).rejects.toMatchObject({ code: 'ERR_AUTH_STORE_FAILURE' });
  });
});

describe('digest(): synchronous path', () => {
  it('answers without a promise for a users map and the memory store, and with one for an async store', async () => {
    const scheme = make();
    const c = await challenge(scheme);
    const first = scheme.verify(answer(c, alice), fakeContext());
    expect(first).not.toBeInstanceOf(Promise);
    expect(first).toMatchObject({ ok: true, user: 'alice' });
    const replay = scheme.verify(answer(c, alice), fakeContext());
    expect(replay).toMatchObject({ ok: false, code: 'ERR_AUTH_STALE_NONCE' });

    const memory = new MemoryNonceStore();
    const asyncStore: NonceStore = { use: async (...args) => memory.use(...args) };
    const viaPromise = make({ store: asyncStore });
    const pending = viaPromise.verify(answer(await challenge(viaPromise), alice), fakeContext());
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).resolves.toMatchObject({ ok: true, user: 'alice' });
  });

  it('fails closed when a store throws synchronously', async () => {
    const cause = new Error('broken');
    const store: NonceStore = {
      use: () => {
        throw cause;
      },
    };
    const scheme = make({ store });
    const credentials = answer(await challenge(scheme), alice);
    expect(() => scheme.verify(credentials, fakeContext())).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH_STORE_FAILURE', cause }) as Error,
    );
  });
});

describe('digest(): one request checked twice', () => {
  it('accepts it again on the same response, and a replay on another response never', async () => {
    for (const qop of ['auth', 'auth-int'] as const) {
      const scheme = make({ qop: ['auth', 'auth-int'] });
      const body = Buffer.from('x=1');
      const credentials = answer(await challenge(scheme), { ...alice, qop, body });
      const ctx = fakeContext({ rawBody: body });
      const first = await verifyAsync(scheme, credentials, ctx);
      expect(first).toMatchObject({ ok: true });
      // authenticate() sets the scheme's headers on the response (auth-int has none); a second
      // check then passes.
      for (const [name, value] of Object.entries(
        (first as { headers?: Record<string, string> }).headers ?? {},
      )) {
        ctx.res.setHeader(name, value);
      }
      await expect(verifyAsync(scheme, credentials, ctx)).resolves.toMatchObject({ ok: true });
      // A replay is another request, even if its response somehow carries the same header (an
      // application copying one).
      const replay = fakeContext({ rawBody: body });
      const info = ctx.res.getHeader('Authentication-Info');
      expect(info === undefined).toBe(qop === 'auth-int');
      if (info !== undefined) replay.res.setHeader('Authentication-Info', info);
      await expect(verifyAsync(scheme, credentials, replay)).resolves.toMatchObject({
        ok: false,
        code: 'ERR_AUTH_STALE_NONCE',
      });
    }
  });
});

describe('digest(): two schemes on one response', () => {
  it('does not take a proxy check’s success for the origin’s (a replay with counts copied)', async () => {
    // A proxy-mode authenticate() and an origin one in one app, sharing secret, realm and store.
    const store = new MemoryNonceStore();
    const proxyScheme = digest({ users: { bob: 'builder' }, secret: SECRET, store });
    const originScheme = make({ store });
    const issued = await challenge(originScheme);
    const captured = answer(issued, alice);
    await expect(verifyAsync(originScheme, captured, fakeContext())).resolves.toMatchObject({
      ok: true,
    });
    // Bob replays Alice's request with his own Proxy-Authorization on her nonce, nc and cnonce.
    const replay = fakeContext();
    const bobs = answer(issued, { user: 'bob', password: 'builder', nc: 2 });
    await expect(verifyAsync(proxyScheme, bobs, { ...replay, proxy: true })).resolves.toMatchObject(
      { ok: true },
    );
    await expect(verifyAsync(originScheme, captured, replay)).resolves.toMatchObject({
      ok: false,
      code: 'ERR_AUTH_STALE_NONCE',
    });
  });
});

describe('digest(): one request checked by two digest()s over one store', () => {
  /** A store over a backend that several store objects share (as RedisNonceStores share Redis). */
  const storeOver = (used: Set<string>): NonceStore => ({
    shared: true,
    use: (nonce, nc) => !used.has(`${nonce} ${nc}`) && used.add(`${nonce} ${nc}`).size > 0,
  });

  it.each<[string, () => [NonceStore, NonceStore]]>([
    [
      'one store object',
      () => {
        const store = new MemoryNonceStore();
        return [store, store];
      },
    ],
    [
      'two store objects over one backend (two RedisNonceStores, one Redis)',
      () => {
        const used = new Set<string>();
        return [storeOver(used), storeOver(used)];
      },
    ],
  ])('passes both with %s (the count is used up in what they share)', async (_name, stores) => {
    const [siteStore, routeStore] = stores();
    const site = make({ store: siteStore });
    const route = make({ store: routeStore });
    const credentials = answer(await challenge(route), alice);
    const ctx = fakeContext();
    await expect(verifyAsync(site, credentials, ctx)).resolves.toMatchObject({ ok: true });
    await expect(verifyAsync(route, credentials, ctx)).resolves.toMatchObject({ ok: true });
    await expect(verifyAsync(route, credentials, fakeContext())).resolves.toMatchObject({
      ok: false,
      code: 'ERR_AUTH_STALE_NONCE',
    });
  });

  it('keeps what each field accepted on one response (origin, proxy, origin again)', async () => {
    const scheme = digest({ users: { alice: 'secret', bob: 'builder' }, secret: SECRET });
    const issued = await challenge(scheme);
    const origin = answer(issued, alice);
    const proxy = answer(issued, { user: 'bob', password: 'builder', nc: 2 });
    const ctx = fakeContext();
    await expect(verifyAsync(scheme, origin, ctx)).resolves.toMatchObject({ ok: true });
    await expect(verifyAsync(scheme, proxy, { ...ctx, proxy: true })).resolves.toMatchObject({
      ok: true,
    });
    await expect(verifyAsync(scheme, origin, ctx)).resolves.toMatchObject({ ok: true });
  });
});

describe('digest(): a restart', () => {
  it('answers a nonce from before the restart with stale=true, though the secret is the same', async () => {
    const time = clock();
    const before = make({ now: time.now });
    const credentials = answer(await challenge(before), alice);
    await expect(verifyAsync(before, credentials, fakeContext())).resolves.toMatchObject({
      ok: true,
    });
    // The new process's memory store knows nothing of the counts used: a replay would pass.
    time.advance(1);
    const after = make({ now: time.now });
    await expect(verifyAsync(after, credentials, fakeContext())).resolves.toEqual({
      ok: false,
      code: 'ERR_AUTH_STALE_NONCE',
      message:
        'Digest nonce was issued for another nonce store (another process, or before a restart)',
      user: 'alice',
      // Here, in one process, `before` and its store are still alive: the nonce is also another
      // digest()'s, which an optional authenticate() leaves to it (a required one answers as
      // above). After a real restart the old store is gone, and only the stale refusal remains.
      foreign: true,
    });
    const fresh = answer(await challenge(after), alice);
    await expect(verifyAsync(after, fresh, fakeContext())).resolves.toMatchObject({ ok: true });
  });

  it('refuses the counts of a nonce from before the restart whatever its lifetime or the old clock said', async () => {
    // The deploy shortened nonceLifetime from 1 h to the default 5 min: the old nonce expires
    // after any nonce the new process could have issued since it started.
    const time = clock();
    const before = make({ now: time.now, nonceLifetime: 3_600_000 });
    const captured = answer(await challenge(before), alice);
    await expect(verifyAsync(before, captured, fakeContext())).resolves.toMatchObject({ ok: true });
    time.advance(60_000);
    const after = make({ now: time.now });
    await expect(verifyAsync(after, captured, fakeContext())).resolves.toMatchObject({
      ok: false,
      code: 'ERR_AUTH_STALE_NONCE',
    });
    // The old process's clock was 10 minutes fast (NTP stepped it back before the restart).
    const fast = make({ now: () => time.now() + 600_000 });
    const early = answer(await challenge(fast), alice);
    await expect(verifyAsync(fast, early, fakeContext())).resolves.toMatchObject({ ok: true });
    const restarted = make({ now: time.now });
    await expect(verifyAsync(restarted, early, fakeContext())).resolves.toMatchObject({
      ok: false,
      code: 'ERR_AUTH_STALE_NONCE',
    });
  });

  it('refuses a replay whose record a full store dropped, though the wall clock stepped back between', async () => {
    // digest() and its store read the same wall clock through clocks of their own, which never go
    // back: after a step back they disagree, so the store must compare issue times only.
    const T0 = 1_700_000_000_000;
    let wall = T0;
    const now = () => wall;
    const store = new MemoryNonceStore({ maxEntries: 2, now });
    const scheme = digest({ users: { alice: 'secret' }, secret: SECRET, store, now });
    expect(store.use('warm-up', 1, T0, T0)).toBe(false); // the store's clock last read at T0
    wall = T0 + 10_000;
    const issued = await challenge(scheme); // digest()'s clock reads T0 + 10 s
    wall = T0 + 10_000 - 3_600_000; // NTP steps back an hour
    const captured = answer(issued, alice);
    await expect(verifyAsync(scheme, captured, fakeContext())).resolves.toMatchObject({ ok: true });
    for (let i = 0; i < 2; i++) {
      const other = answer(await challenge(scheme), alice);
      await expect(verifyAsync(scheme, other, fakeContext())).resolves.toMatchObject({ ok: true });
    }
    expect(store.size).toBe(2); // the captured nonce's record was dropped for room
    await expect(verifyAsync(scheme, captured, fakeContext())).resolves.toMatchObject({
      ok: false,
      code: 'ERR_AUTH_STALE_NONCE',
    });
  });

  it('keeps working when the clock is stepped back (NTP correcting a fast boot clock)', async () => {
    const time = clock();
    const scheme = make({ now: time.now });
    const before = answer(await challenge(scheme), alice);
    await expect(verifyAsync(scheme, before, fakeContext())).resolves.toMatchObject({ ok: true });
    time.advance(-60_000);
    // A fresh nonce issued now is not taken for one from before the process started.
    const after = answer(await challenge(scheme), alice);
    await expect(verifyAsync(scheme, after, fakeContext())).resolves.toMatchObject({ ok: true });
    const next = answer(await challenge(scheme), { ...alice, nc: 2 });
    await expect(verifyAsync(scheme, next, fakeContext())).resolves.toMatchObject({ ok: true });
  });

  it('keeps issuing nonces that pass after a step back, with a full store (time goes on)', async () => {
    // Wall clock and monotonic clock, both in the test's hands: requests 1 s apart.
    const time = clock();
    let monotonic = 0;
    const performanceNow = jest.spyOn(performance, 'now').mockImplementation(() => monotonic);
    try {
      const scheme = make({ now: time.now, maxNonces: 3 });
      const first = answer(await challenge(scheme), alice);
      await expect(verifyAsync(scheme, first, fakeContext())).resolves.toMatchObject({ ok: true });
      time.advance(-2 * 3_600_000); // two hours back: a hardware clock kept in local time
      for (let i = 0; i < 6; i++) {
        time.advance(1000);
        monotonic += 1000;
        const fresh = answer(await challenge(scheme), alice);
        await expect(verifyAsync(scheme, fresh, fakeContext())).resolves.toMatchObject({
          ok: true,
        });
      }
    } finally {
      performanceNow.mockRestore();
    }
  });

  it('keeps accepting them with a shared store, which remembers their counts', async () => {
    const time = clock();
    const seen = new Set<string>();
    const store: NonceStore = {
      shared: true,
      use: (nonce, nc) => !seen.has(`${nonce} ${nc}`) && seen.add(`${nonce} ${nc}`).size > 0,
    };
    const before = make({ now: time.now, store });
    const issued = await challenge(before);
    const first = answer(issued, alice);
    await expect(verifyAsync(before, first, fakeContext())).resolves.toMatchObject({ ok: true });
    time.advance(1);
    const after = make({ now: time.now, store });
    await expect(verifyAsync(after, first, fakeContext())).resolves.toMatchObject({
      ok: false,
      message: 'Digest nonce count already used',
    });
    const second = answer(issued, { ...alice, nc: 2 });
    await expect(verifyAsync(after, second, fakeContext())).resolves.toMatchObject({ ok: true });
  });
});

describe('digest(): nonces', () => {
  it('refuses a forged nonce and a tampered one', async () => {
    const scheme = make();
    const c = await challenge(scheme);
    const nonce = c.params.nonce as string;
    const forged = 'A'.repeat(nonce.length);
    const flipped = nonce[10] === 'A' ? 'B' : 'A';
    const tampered = nonce.slice(0, 10) + flipped + nonce.slice(11);
    for (const bad of [
      forged,
      tampered,
      nonce.slice(1),
      `${nonce}A`,
      nonce.replace(/.$/, '+'),
      '',
    ]) {
      const result = await verifyAsync(
        scheme,
        answer({ ...c, params: { ...c.params, nonce: bad } }, alice),
        fakeContext(),
      );
      expect(result).toMatchObject({ ok: false });
      expect(result.ok === false && result.code).not.toBe('ERR_AUTH_STALE_NONCE');
    }
  });

  it('refuses a nonce signed with another secret, and accepts one of a digest() sharing secret and store', async () => {
    const other = make({ secret: 'o'.repeat(32) });
    const foreign = await challenge(other);
    const scheme = make();
    await expect(
      verifyAsync(
        scheme,
        answer(
          {
            ...foreign,
            params: {
              ...foreign.params,
              opaque: (await challenge(scheme)).params.opaque as string,
            },
          },
          alice,
        ),
        fakeContext(),
      ),
    ).resolves.toMatchObject({ ok: false, message: 'Digest nonce is invalid' });

    // Another digest() with the same secret and store (in one process) is a sibling: accepted.
    const store = new MemoryNonceStore();
    const [one, two] = [make({ store }), make({ store })];
    await expect(
      verifyAsync(two, answer(await challenge(one), alice), fakeContext()),
    ).resolves.toMatchObject({ ok: true });
    // One with a store of its own cannot know what counts the other's nonce used: stale=true.
    await expect(
      verifyAsync(scheme, answer(await challenge(one), alice), fakeContext()),
    ).resolves.toMatchObject({ ok: false, code: 'ERR_AUTH_STALE_NONCE' });
  });

  it('keeps serving fresh nonces of a short-lived digest() when a full shared store holds a long-lived one', async () => {
    // One store for two protected areas with different nonce lifetimes (docs/digest.md).
    const time = clock();
    const store = new MemoryNonceStore({ maxEntries: 3, now: time.now });
    const reports = make({ store, now: time.now, realm: 'reports', nonceLifetime: 86_400_000 });
    const api = make({ store, now: time.now, realm: 'api' });
    const use = async (scheme: Scheme, realm: string) => {
      const [c] = await scheme.challenges(fakeContext({ realm }));
      return verifyAsync(scheme, answer(c as Challenge, alice), fakeContext({ realm }));
    };
    await expect(use(reports, 'reports')).resolves.toMatchObject({ ok: true });
    // A new api client every minute, far more than the store holds over a day.
    for (let i = 0; i < 20; i++) {
      time.advance(60_000);
      await expect(use(api, 'api')).resolves.toMatchObject({ ok: true });
    }
  });

  it('gives stale=true for an expired nonce with a correct response, and the retry succeeds', async () => {
    const time = clock();
    const scheme = make({ now: time.now, nonceLifetime: 60_000 });
    const old = await challenge(scheme);
    time.advance(60_001);
    const result = await verifyAsync(scheme, answer(old, alice), fakeContext());
    expect(result).toEqual({
      ok: false,
      code: 'ERR_AUTH_STALE_NONCE',
      message: 'Digest nonce expired',
      user: 'alice',
    });
    const retry = await challenge(scheme, result as SchemeFailure);
    expect(retry.params.stale).toBe('true');
    await expect(verifyAsync(scheme, answer(retry, alice), fakeContext())).resolves.toMatchObject({
      ok: true,
    });
  });

  it('gives no stale=true for an expired nonce with a wrong password (response checked first)', async () => {
    const time = clock();
    const scheme = make({ now: time.now, nonceLifetime: 60_000 });
    const old = await challenge(scheme);
    time.advance(120_000);
    await expect(
      verifyAsync(scheme, answer(old, { user: 'alice', password: 'guess' }), fakeContext()),
    ).resolves.toMatchObject({ ok: false, code: 'ERR_AUTH_INVALID_CREDENTIALS' });
    await expect(
      verifyAsync(scheme, answer(old, { user: 'nobody', password: 'guess' }), fakeContext()),
    ).resolves.toMatchObject({ ok: false, code: 'ERR_AUTH_INVALID_CREDENTIALS' });
  });

  it('expires nonces with jest fake timers too (the default clock is Date.now)', async () => {
    jest.useFakeTimers({ now: 1_700_000_000_000 });
    try {
      const scheme = make({ nonceLifetime: 1000 });
      const c = await challenge(scheme);
      jest.advanceTimersByTime(999);
      await expect(verifyAsync(scheme, answer(c, alice), fakeContext())).resolves.toMatchObject({
        ok: true,
      });
      jest.advanceTimersByTime(1);
      await expect(
        verifyAsync(scheme, answer(c, { ...alice, nc: 2 }), fakeContext()),
      ).resolves.toMatchObject({
        ok: false,
        code: 'ERR_AUTH_STALE_NONCE',
      });
    } finally {
      jest.useRealTimers();
    }
  });

  it('takes a nonce as expired from the instant it expires, whatever its store answers', async () => {
    // The expiry is digest()'s to check (the nonce carries it, signed): a store only counts, and
    // one that trusts its own TTLs (or answers true) must not stretch a nonce's lifetime.
    const time = clock();
    const used: number[] = [];
    const store: NonceStore = { use: (_nonce, nc) => (used.push(nc), true) };
    const scheme = make({ store, now: time.now, nonceLifetime: 60_000 });
    const c = await challenge(scheme);
    time.advance(60_000);
    await expect(verifyAsync(scheme, answer(c, alice), fakeContext())).resolves.toEqual({
      ok: false,
      code: 'ERR_AUTH_STALE_NONCE',
      message: 'Digest nonce expired',
      user: 'alice',
    });
    expect(used).toEqual([]);
  });

  it('sends nextnonce in Authentication-Info when the nonce is close to expiry, and it works', async () => {
    const time = clock();
    const scheme = make({ now: time.now, nonceLifetime: 60_000, nextNonceBefore: 10_000 });
    const c = await challenge(scheme);
    const early = await verifyAsync(scheme, answer(c, alice), fakeContext());
    expect(
      early.ok && parseInfo(early.headers?.['Authentication-Info'] as string).nextnonce,
    ).toBeUndefined();
    time.advance(50_000);
    const late = await verifyAsync(scheme, answer(c, { ...alice, nc: 2 }), fakeContext());
    if (!late.ok) throw new Error('refused');
    const nextnonce = parseInfo(late.headers?.['Authentication-Info'] as string)
      .nextnonce as string;
    expect(nextnonce).toMatch(/^[A-Za-z0-9_-]{60}$/);
    time.advance(20_000);
    const next = { ...c, params: { ...c.params, nonce: nextnonce } };
    await expect(verifyAsync(scheme, answer(next, alice), fakeContext())).resolves.toMatchObject({
      ok: true,
    });
  });

  it('says only nextnonce after auth-int (no qop without rspauth), and it works', async () => {
    const time = clock();
    const scheme = make({
      now: time.now,
      qop: ['auth-int'],
      nonceLifetime: 60_000,
      nextNonceBefore: 10_000,
    });
    const c = await challenge(scheme);
    const post = { ...alice, qop: 'auth-int', method: 'POST', body: Buffer.from('x=1') };
    const ctx = (): RequestContext => fakeContext({ method: 'POST', rawBody: post.body });
    const early = await verifyAsync(scheme, answer(c, post), ctx());
    expect(early.ok && early.headers).toBeUndefined();
    time.advance(50_000);
    const late = await verifyAsync(scheme, answer(c, { ...post, nc: 2 }), ctx());
    if (!late.ok) throw new Error('refused');
    const info = parseInfo(late.headers?.['Authentication-Info'] as string);
    expect(Object.keys(info)).toEqual(['nextnonce']);
    time.advance(20_000);
    const next = { ...c, params: { ...c.params, nonce: info.nextnonce! } };
    await expect(verifyAsync(scheme, answer(next, post), ctx())).resolves.toMatchObject({
      ok: true,
    });
  });

  it('never sends nextnonce with nextNonceBefore: 0', async () => {
    const time = clock();
    const scheme = make({ now: time.now, nonceLifetime: 60_000, nextNonceBefore: 0 });
    const c = await challenge(scheme);
    time.advance(59_999);
    const result = await verifyAsync(scheme, answer(c, alice), fakeContext());
    expect(result.ok && result.headers?.['Authentication-Info']).not.toContain('nextnonce');
  });
});
