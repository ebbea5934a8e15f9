/**
 * Every piece of state authscheme keeps across requests stays at its bound when a hostile client
 * sends endless distinct keys (user names, nonces, cnonces, tokens, kids, challenges): each test
 * floods a real server with thousands of requests and reads the structure's size (through
 * the store given, or by catching the instance a scheme made), or for the client and the JWKS
 * adapter, whose state is not reachable, the heap after a full collection.
 * Bounds that unit tests show already (MemoryNonceStore's count, SharedChecks' eviction, LruCache,
 * the A2 cache, the client's nonce counts, the hash threads' queue, introspection's slots) are not
 * shown again on their own: here they meet a real server under load.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import {
  authenticate,
  basic,
  bearer,
  digest,
  introspection,
  InvalidTokenError,
  MemoryNonceStore,
  type AuthRequest,
} from 'authscheme';
import { jwtBearer } from 'authscheme/jwt';
import { createAuthFetch } from 'authscheme/client';
import { LruCache } from '../../src/util/lru-cache';
import { MAX_SHARED_CHECKS, SharedChecks } from '../../src/util/shared-checks';
import { Slots } from '../../src/util/slots';
import { settledHeap as settledHeapAfter } from '../helpers/gc';
import { recordingRejections } from '../helpers/rejections';
import { wildcardFetch } from '../helpers/wildcard-fetch';
import { drive, driveDropped, send, type Sent } from './bounds-drive';

/** Heap in use after six full collections, 20 ms apart (the floods here leave more to settle). */
const settledHeap = (): Promise<number> => settledHeapAfter(6, 20);

const MiB = 1024 * 1024;

// Each test's limit. A flood is thousands of requests and a dozen full collections: 3-14 s alone,
// 10-30 s beside another jest on two cores. One that ran past 30 s failed the next test too (its
// requests went on into it, and instancesOf() caught its table). The bounds are asserted as sizes
// and heap, never as time: this only ends a test that hangs.
jest.setTimeout(120_000);

/** A middleware as node:http runs it (`authenticate()`'s is one). */
type Handler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  next: (err?: unknown) => void,
) => void;

/**
 * A node:http server around `middleware`; an error to next() answers its status (else 500), its
 * code in `x-error-code`.
 */
async function serve(middleware: Handler): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    middleware(req, res, (err?: unknown) => {
      const { status, code } = (err ?? {}) as { status?: unknown; code?: unknown };
      if (typeof code === 'string') res.setHeader('x-error-code', code);
      res.statusCode = err === undefined ? 200 : typeof status === 'number' ? status : 500;
      res.end();
    });
  });
  return listen(server);
}

async function listen(server: http.Server): Promise<{ port: number; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function expectStatus(reply: Sent, ...allowed: number[]): void {
  if (!allowed.includes(reply.status)) {
    throw new Error(`status ${reply.status}, expected ${allowed.join(' or ')}`);
  }
}

/**
 * How much the heap of a server running `middleware` grows over 3 000 requests, the `i`th with
 * `authorization(i)` and answered `status`, after 300 to warm up.
 */
async function heapGrowth(
  middleware: Handler,
  authorization: (i: number) => string,
  status: number,
): Promise<number> {
  const server = await serve(middleware);
  const run = (from: number, count: number) =>
    drive(
      server.port,
      count,
      (i) => ({ headers: { authorization: authorization(from + i) } }),
      (_i, reply) => expectStatus(reply, status),
    );
  try {
    return await growthOver(run);
  } finally {
    await server.close();
  }
}

/** How much the heap grows over `run`'s 3 000 requests, after 300 to warm up. */
async function growthOver(run: (from: number, count: number) => Promise<unknown>): Promise<number> {
  await run(0, 300);
  const before = await settledHeap();
  await run(300, 3000);
  return (await settledHeap()) - before;
}

const basicOf = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Catches the instances of `cls` that `run` makes (through the prototype's `method`). */
function instancesOf<T extends object>(
  cls: { prototype: T },
  method: keyof T & string,
): { spy: jest.SpyInstance; seen: () => T[] } {
  const spy = jest.spyOn(cls.prototype as Record<string, never>, method);
  return { spy, seen: () => [...new Set(spy.mock.contexts as T[])] };
}

afterEach(() => jest.restoreAllMocks());

describe('Digest with a MemoryNonceStore', () => {
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');

  it('keeps at most maxEntries nonces through 2 000 fresh nonces, and nothing for 2 000 refused answers', async () => {
    const store = new MemoryNonceStore({ maxEntries: 200 });
    const realm = 'bounds';
    const server = await serve(
      authenticate({
        realm,
        schemes: [digest({ users: { alice: 'secret' }, algorithms: ['SHA-256'], store })],
      }),
    );
    let opaque = '';
    const answer = (nonce: string, user: string, password: string, uri: string, cnonce: string) => {
      const ha1 = sha(`${user}:${realm}:${password}`);
      const response = sha(`${ha1}:${nonce}:00000001:${cnonce}:auth:${sha(`GET:${uri}`)}`);
      return (
        `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", ` +
        `algorithm=SHA-256, qop=auth, nc=00000001, cnonce="${cnonce}", response="${response}", ` +
        `opaque="${opaque}"`
      );
    };
    const nonceOf = (reply: Sent): string => {
      const field = String(reply.headers['www-authenticate']);
      opaque = /opaque="([^"]+)"/.exec(field)![1]!;
      return /nonce="([^"]+)"/.exec(field)![1]!;
    };
    let largest = 0;
    let accepted = 0;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    try {
      // Each client takes a fresh nonce and uses it once: the store's worst case.
      await drive(
        server.port,
        2000,
        () => ({}),
        async (i, challenge) => {
          expectStatus(challenge, 401);
          const reply = await send(agent, server.port, '/', {
            authorization: answer(nonceOf(challenge), 'alice', 'secret', '/', `c${i}`),
          });
          // A nonce issued before one the full store dropped is refused as stale (RFC 7616 §3.3).
          expectStatus(reply, 200, 401);
          if (reply.status === 200) accepted++;
          else expect(reply.headers['www-authenticate']).toMatch(/stale=true/);
          largest = Math.max(largest, store.size);
        },
      );
      expect(accepted).toBeGreaterThan(1000);
      expect(largest).toBe(200);
      // Refused answers on valid nonces, each with a new user name, cnonce and uri: none kept.
      const nonces: string[] = [];
      for (let i = 0; i < 8; i++) nonces.push(nonceOf(await send(agent, server.port, '/', {})));
      const before = store.size;
      await drive(
        server.port,
        2000,
        (i) => ({
          path: `/p/${i}`,
          headers: {
            authorization: answer(nonces[i % 8]!, `mallory${i}`, 'guess', `/p/${i}`, `m${i}`),
          },
        }),
        (_i, reply) => {
          expectStatus(reply, 401);
          expect(store.size).toBe(before);
        },
      );
    } finally {
      agent.destroy();
      await server.close();
    }
  });
});

describe('Digest under Authorization values padded to 12 kB', () => {
  // A nonce or uri read from the field is a view of the whole value (V8's sliced strings): kept
  // as a key, it kept the 12 kB. 3 000 entries of one are 34 MiB; copies, some 1 MiB.
  const realm = 'padded';
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');
  const padding = 'p'.repeat(12_000);

  /** A user name of 13 characters or more: V8 copies a shorter substring. */
  const LONG_USER = 'alice.longname@example.com';

  async function flood(
    store: MemoryNonceStore | undefined,
    answer: (i: number, nonce: string, opaque: string) => { path: string; authorization: string },
    keep?: (user: string) => void,
  ): Promise<number> {
    const guard = authenticate({
      realm,
      schemes: [
        digest({
          users: { alice: 'secret', [LONG_USER]: 'secret' },
          algorithms: ['SHA-256'],
          ...(store === undefined ? {} : { store }),
        }),
      ],
    });
    // As an application keeps req.auth.user (a session, a lockout table), when asked to.
    const server = await serve((req, res, next) =>
      guard(req, res, (err?: unknown) => {
        const { auth } = req as AuthRequest;
        if (err === undefined && auth !== undefined) keep?.(auth.user);
        next(err);
      }),
    );
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const run = (from: number, count: number) =>
      drive(
        server.port,
        count,
        () => ({}),
        async (i, reply) => {
          const field = String(reply.headers['www-authenticate']);
          const nonce = /nonce="([^"]+)"/.exec(field)![1]!;
          const opaque = /opaque="([^"]+)"/.exec(field)![1]!;
          const { path, authorization } = answer(from + i, nonce, opaque);
          const answered = await send(agent, server.port, path, { authorization });
          expectStatus(answered, 200, 401);
        },
      );
    try {
      return await growthOver(run);
    } finally {
      agent.destroy();
      await server.close();
    }
  }

  /** An SHA-256 answer with the padding as its cnonce; by default mallory's, and wrong. */
  const field = (
    nonce: string,
    opaque: string,
    uri = '/',
    username = 'mallory',
    response = '0'.repeat(64),
  ) =>
    `Digest ${Object.entries({
      username,
      realm,
      nonce,
      uri,
      algorithm: 'SHA-256',
      qop: 'auth',
      nc: '00000001',
      cnonce: padding,
      response,
      opaque,
    })
      .map(([name, value]) => `${name}="${value}"`)
      .join(', ')}`;

  it('keeps no Authorization value with the nonces it verified (3 000 wrong answers)', async () => {
    const growth = await flood(undefined, (_i, nonce, opaque) => ({
      path: '/',
      authorization: field(nonce, opaque),
    }));
    expect(growth).toBeLessThan(8 * MiB);
  });

  it('keeps no Authorization value with the H(A2) it caches (3 000 uris)', async () => {
    // Of 13 characters or more: V8 copies a shorter substring.
    const uri = (i: number) => `/resources/of/user/${i}`;
    const growth = await flood(undefined, (i, nonce, opaque) => ({
      path: uri(i),
      authorization: field(nonce, opaque, uri(i)),
    }));
    expect(growth).toBeLessThan(8 * MiB);
  });

  it('hands over a user name that keeps no Authorization value (3 000 right answers, each name kept)', async () => {
    const kept: string[] = [];
    const growth = await flood(
      undefined,
      (_i, nonce, opaque) => {
        const ha1 = sha(`${LONG_USER}:${realm}:secret`);
        const response = sha(`${ha1}:${nonce}:00000001:${padding}:auth:${sha('GET:/')}`);
        return { path: '/', authorization: field(nonce, opaque, '/', LONG_USER, response) };
      },
      (user) => kept.push(user),
    );
    expect(kept).toHaveLength(3300);
    expect(new Set(kept)).toEqual(new Set([LONG_USER]));
    expect(growth).toBeLessThan(8 * MiB);
  });

  it('keeps no Authorization value with the nonce counts of the store (3 000 right answers)', async () => {
    const store = new MemoryNonceStore();
    const growth = await flood(store, (_i, nonce, opaque) => {
      const ha1 = sha(`alice:${realm}:secret`);
      const response = sha(`${ha1}:${nonce}:00000001:${padding}:auth:${sha('GET:/')}`);
      return { path: '/', authorization: field(nonce, opaque, '/', 'alice', response) };
    });
    expect(store.size).toBe(3300);
    expect(growth).toBeLessThan(8 * MiB);
  });
});

describe('Digest answers to a realm beyond ASCII, echoed in its other spelling and padded to 12 kB', () => {
  // An app with a realm and its UTF-8 octets as realms of their own (as an htdigest file needs):
  // a nonce of the second, echoed with its realm to the first, is verified under the client's
  // spelling (a foreign answer). That spelling, a view of the whole Authorization value, was kept
  // beside each verified nonce: 3 000 of them held 35 MiB.
  it("keeps no Authorization value with the other spelling's nonces it verified (3 000 answers)", async () => {
    // Of 13 characters or more: V8 copies a shorter substring.
    const realm = 'Z\u00fcrich head office';
    const octets = Buffer.from(realm, 'utf8').toString('latin1');
    const secret = 's'.repeat(32);
    const ours = authenticate({ schemes: [digest({ realm, users: { alice: 'secret' }, secret })] });
    const theirs = authenticate({
      schemes: [digest({ realm: octets, users: { alice: 'secret' }, secret })],
    });
    const server = await serve((req, res, next) =>
      (req.url!.startsWith('/theirs') ? theirs : ours)(req as never, res as never, next),
    );
    const param = (reply: Sent, name: string): string =>
      new RegExp(`${name}="([^"]+)"`).exec(String(reply.headers['www-authenticate']))![1]!;
    const opaque = param(await send(undefined, server.port, '/', {}), 'opaque');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const run = (count: number) =>
      drive(
        server.port,
        count,
        () => ({ path: '/theirs' }),
        async (_i, challenge) => {
          const answered = await send(agent, server.port, '/', {
            authorization:
              `Digest username="alice", realm="${octets}", nonce="${param(challenge, 'nonce')}", ` +
              `uri="/", algorithm=MD5, qop=auth, nc=00000001, cnonce="${'p'.repeat(12_000)}", ` +
              `response="${'0'.repeat(32)}", opaque="${opaque}"`,
          });
          // Another realm's answer: challenged again, nothing accepted.
          expectStatus(answered, 401);
        },
      );
    try {
      await run(300);
      const before = await settledHeap();
      await run(3000);
      const growth = (await settledHeap()) - before;
      expect(growth).toBeLessThan(8 * MiB);
    } finally {
      agent.destroy();
      await server.close();
    }
  });
});

describe('Basic with an asynchronous verifier and a cache', () => {
  it('keeps nothing for 5 000 distinct refused credentials, and at most cache.max successes', async () => {
    const caches = instancesOf(LruCache, 'get');
    const tables = instancesOf(SharedChecks, 'join');
    const verify = (user: string, password: string) =>
      new Promise<string | false>((resolve) =>
        setImmediate(() => resolve(password === 'right' ? user : false)),
      );
    const server = await serve(authenticate({ schemes: [basic({ verify, cache: { max: 100 } })] }));
    try {
      // Refused first: the cache must still be empty after them (mixed with successes, a full
      // cache of 100 said nothing of what it held).
      await drive(
        server.port,
        5000,
        (i) => ({ headers: { authorization: basicOf(`user${i}`, 'x') } }),
        (_i, reply) => expectStatus(reply, 401),
      );
      const [cache] = caches.seen();
      const [table] = tables.seen();
      expect(caches.seen()).toHaveLength(1);
      expect(cache!.size).toBe(0);
      // Every check settled and left the table.
      expect(table!.size).toBe(0);
      await drive(
        server.port,
        1000,
        (i) => ({ headers: { authorization: basicOf(`user${i}`, 'right') } }),
        (_i, reply) => expectStatus(reply, 200),
      );
      expect(cache!.size).toBe(100);
      expect(table!.size).toBe(0);
    } finally {
      await server.close();
    }
  });

  // From a review of long runs: the user-id, a view of the decoded "user:password" (V8's sliced
  // strings), held the password in the cache for maxAge, and wherever the app kept req.auth.user.
  it('keeps no password with the user-ids it caches (3 000 successes with 9 kB passwords)', async () => {
    const verify = (user: string) => Promise.resolve(user);
    // Of 13 characters or more: V8 copies a shorter substring.
    const password = 'p'.repeat(9000);
    const growth = await heapGrowth(
      authenticate({ schemes: [basic({ verify, cache: { max: 5000, maxAge: 60_000 } })] }),
      (i) => basicOf(`user-number-${i}`, password),
      200,
    );
    expect(growth).toBeLessThan(8 * MiB);
  });

  it('holds at most MAX_SHARED_CHECKS checks of a verifier that never answers, each request answered 503', async () => {
    const tables = instancesOf(SharedChecks, 'join');
    const server = await serve(
      authenticate({
        timeout: 20,
        schemes: [basic({ verify: () => new Promise<false>(() => undefined), cache: true })],
      }),
    );
    let largest = 0;
    // Found once: seen() goes over every call the spy recorded (12 000), and after each reply it
    // made the test quadratic.
    let table: SharedChecks<unknown> | undefined;
    try {
      await drive(
        server.port,
        MAX_SHARED_CHECKS + 2000,
        (i) => ({ headers: { authorization: basicOf(`user${i}`, `p${i}`) } }),
        (_i, reply) => {
          expectStatus(reply, 503);
          table ??= tables.seen()[0]!;
          largest = Math.max(largest, table.size);
        },
        128,
      );
      // Checks are shared for SHARE_MS, then remembered without their requests in a second
      // table, as bounded: every hung check is in one or the other until that one is full.
      expect(largest).toBeLessThanOrEqual(MAX_SHARED_CHECKS);
      expect(table!.pastSharing).toBeLessThanOrEqual(MAX_SHARED_CHECKS);
      expect(table!.size + table!.pastSharing).toBeGreaterThanOrEqual(MAX_SHARED_CHECKS);
      expect(tables.seen()).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe('requests whose client hangs up mid-verify', () => {
  it('leave no check behind once their verifiers settle, whether the deadline passed or not', async () => {
    await recordingRejections(async (rejections) => {
      const tables = instancesOf(SharedChecks, 'join');
      let called = 0;
      let settled = 0;
      // The connection goes while the verifier works; half settle before the middleware's
      // deadline (20 ms), half after it.
      const verify = (user: string, password: string, req: http.IncomingMessage) =>
        new Promise<string | false>((resolve) => {
          called++;
          if (user.startsWith('u')) req.socket.destroy();
          setTimeout(
            () => {
              settled++;
              resolve(password === 'right' ? user : false);
            },
            Number(user.slice(1)) % 2 === 0 ? 5 : 40,
          );
        });
      const errors: unknown[] = [];
      const middleware = authenticate({
        timeout: 20,
        schemes: [basic({ verify, cache: { max: 50 } })],
      });
      const server = await serve((req, res, next) =>
        middleware(req as never, res as never, (err?: unknown) => {
          if (err !== undefined && (err as { status?: unknown }).status !== 503) errors.push(err);
          next(err);
        }),
      );
      try {
        await driveDropped(server.port, 3000, (i) => ({
          authorization: basicOf(`u${i}`, i % 3 === 0 ? 'right' : 'wrong'),
        }));
        // Each verifier settles 5 or 40 ms after its call. Waited for up to 60 s (not 2 s, which
        // a busy machine's timers could outlast): only a check that never settles takes that long.
        for (let wait = 0; wait < 6000 && settled < 3000; wait++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect(called).toBe(3000);
        expect(settled).toBe(3000);
        // Each settled check left the table (the successes among them went to the cache).
        expect(tables.seen()).toHaveLength(1);
        expect(tables.seen()[0]!.size).toBe(0);
        expect(errors).toEqual([]);
        const reply = await send(undefined, server.port, '/', {
          authorization: basicOf('v2', 'right'),
        });
        expectStatus(reply, 200);
      } finally {
        await server.close();
      }
      expect(rejections).toEqual([]);
    });
  });
});

describe('a middleware made for each request and dropped after it', () => {
  /** The ids of the nonce stores alive in the process (see digest's liveIssuers). */
  const liveIssuers = () =>
    (globalThis as unknown as Record<symbol, Set<string>>)[
      Symbol.for('authscheme.digest.liveIssuers')
    ]!;

  it('is collected with its stores, caches and checks: the process keeps nothing of 6 000 of them', async () => {
    const server = await serve((req, res, next) =>
      authenticate({
        schemes: [
          digest({ users: { alice: 'secret' } }),
          basic({ verify: async () => false as const, cache: true }),
          bearer({ verify: async () => false as const, cache: true }),
        ],
      })(req as never, res as never, next),
    );
    const flood = (from: number) =>
      drive(
        server.port,
        3000,
        (i) => ({
          headers: {
            authorization: i % 2 === 0 ? basicOf(`u${from + i}`, 'p') : `Bearer t${from + i}`,
          },
        }),
        (_i, reply) => expectStatus(reply, 401),
      );
    try {
      await flood(0);
      const before = await settledHeap();
      const stores = liveIssuers().size;
      await flood(3000);
      const after = await settledHeap();
      expect(liveIssuers().size).toBe(stores);
      // Each digest() holds a nonce store, a signer and its random pool: kept, 3 000 would
      // be over 10 MiB.
      expect(after - before).toBeLessThan(4 * MiB);
    } finally {
      await server.close();
    }
  });
});

describe('Bearer with a cache', () => {
  it('caches at most cache.max of 6 000 distinct tokens, and none of the refused ones', async () => {
    const caches = instancesOf(LruCache, 'get');
    const tables = instancesOf(SharedChecks, 'join');
    const verify = (token: string) =>
      new Promise<string | false>((resolve) =>
        setImmediate(() => resolve(token.startsWith('ok') ? 'alice' : false)),
      );
    const server = await serve(
      authenticate({ schemes: [bearer({ verify, cache: { max: 100 } })] }),
    );
    try {
      // Refused first: the cache must still be empty after them.
      await drive(
        server.port,
        5000,
        (i) => ({ headers: { authorization: `Bearer no${i}` } }),
        (_i, reply) => expectStatus(reply, 401),
      );
      expect(caches.seen()[0]!.size).toBe(0);
      await drive(
        server.port,
        1000,
        (i) => ({ headers: { authorization: `Bearer ok${i}` } }),
        (_i, reply) => expectStatus(reply, 200),
      );
      expect(caches.seen()[0]!.size).toBe(100);
      expect(tables.seen()[0]!.size).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe('Bearer with cache.refusedMaxAge', () => {
  it('keeps no token with the refusals it keeps (3 000 tokens of 12 kB)', async () => {
    // The verifier's message, a slice of the token, kept all of it (V8's sliced strings): 37 MB.
    const verify = (token: string) => {
      throw new InvalidTokenError(token.slice(0, 40));
    };
    const padding = 'p'.repeat(12_000);
    const growth = await heapGrowth(
      authenticate({ schemes: [bearer({ verify, cache: { max: 5000, refusedMaxAge: 60_000 } })] }),
      (i) => `Bearer ${i}-${padding}`,
      401,
    );
    expect(growth).toBeLessThan(8 * MiB);
  });
});

describe('jwtBearer with a JWKS endpoint', () => {
  it('fetches the set at most once per cool-down and grows no state for 10 000 distinct kids', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'real', alg: 'ES256', use: 'sig' };
    let hits = 0;
    const keys = await listen(
      http.createServer((_req, res) => {
        hits++;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ keys: [jwk] }));
      }),
    );
    const issuer = 'https://issuer.test/';
    const audience = 'https://api.test';
    const server = await serve(
      authenticate({
        schemes: [
          jwtBearer({
            jwksUri: `http://127.0.0.1:${keys.port}/jwks.json`,
            issuer,
            audience,
            jwks: { cooldownDuration: 600_000 },
          }),
        ],
      }),
    );
    const good = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'ES256', kid: 'real' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime('5m')
      .sign(privateKey);
    const [, payload, signature] = good.split('.');
    // The signature is not checked before the key is found: a made-up kid needs no signing.
    const forged = (i: number) =>
      `${Buffer.from(JSON.stringify({ alg: 'ES256', kid: `k${i}-${'x'.repeat(1000)}` })).toString('base64url')}.${payload}.${signature}`;
    const flood = (from: number, count: number) =>
      drive(
        server.port,
        count,
        (i) => ({ headers: { authorization: `Bearer ${forged(from + i)}` } }),
        (_i, reply) => expectStatus(reply, 401),
      );
    try {
      expectStatus(
        await send(undefined, server.port, '/', { authorization: `Bearer ${good}` }),
        200,
      );
      await flood(0, 2000);
      // One fetch to start; the unknown kids all come within its cool-down: no other.
      expect(hits).toBe(1);
      const before = await settledHeap();
      await flood(2000, 8000);
      const after = await settledHeap();
      expect(hits).toBe(1);
      // Kept per kid, 8 000 kids of 1 kB would be 7.6 MiB at least.
      expect(after - before).toBeLessThan(4 * MiB);
      expectStatus(
        await send(undefined, server.port, '/', { authorization: `Bearer ${good}` }),
        200,
      );
    } finally {
      await server.close();
      await keys.close();
    }
  });
});

describe('introspection with a local endpoint', () => {
  it('keeps at most maxConcurrent calls at the endpoint through 3 000 distinct tokens, and none waiting after', async () => {
    const slots = instancesOf(Slots, 'run');
    let open = 0;
    let most = 0;
    const endpoint = await listen(
      http.createServer((req, res) => {
        open++;
        most = Math.max(most, open);
        req.resume();
        // Answered a little later, and counted until then: answered at once, each call ended
        // before the next arrived, and no number of calls at once ever counted more than 1.
        req.on('end', () =>
          setTimeout(() => {
            open--;
            res.setHeader('Content-Type', 'application/json');
            res.end('{"active":false}');
          }, 2),
        );
      }),
    );
    const server = await serve(
      authenticate({
        schemes: [
          bearer({
            verify: introspection({
              endpoint: `http://127.0.0.1:${endpoint.port}/introspect`,
              clientId: 'rs',
              clientSecret: 'secret',
              maxConcurrent: 4,
            }),
            cache: true,
          }),
        ],
      }),
    );
    const caches = instancesOf(LruCache, 'get');
    let waitingMost = 0;
    let refusedAtOnce = 0;
    try {
      await drive(
        server.port,
        3000,
        (i) => ({ headers: { authorization: `Bearer t${i}` } }),
        (_i, reply) => {
          // Inactive: 401; past the queue's bound, ERR_AUTH_STORE_FAILURE to next(err) at once,
          // with status 503 (overloaded).
          expectStatus(reply, 401, 503);
          if (reply.status === 503) refusedAtOnce++;
          if (reply.status === 503)
            expect(reply.headers['x-error-code']).toBe('ERR_AUTH_STORE_FAILURE');
          const [turns] = slots.seen();
          waitingMost = Math.max(waitingMost, turns!.waiting);
        },
        100,
      );
      const [turns] = slots.seen();
      // The endpoint saw calls at once (so that more would show), never more than maxConcurrent.
      expect(most).toBeGreaterThan(1);
      expect(most).toBeLessThanOrEqual(4);
      // 4 calls under way, 4 × 16 waiting: the 100 requests in flight overflow the queue.
      expect(waitingMost).toBeLessThanOrEqual(64);
      expect(refusedAtOnce).toBeGreaterThan(0);
      expect(turns!.running).toBe(0);
      expect(turns!.waiting).toBe(0);
      expect(caches.seen()[0]!.size).toBe(0);
    } finally {
      await server.close();
      await endpoint.close();
    }
  });
});

describe('the client (createAuthFetch)', () => {
  // A server behind every name of a wildcard domain opens as many origins as it likes, 16 realms
  // each: remembered, every protection space kept its challenge's header (some 15 kB) and 64 long
  // `domain` URIs, 30 kB a space, 126 MiB for 256 origins.
  it('remembers a bounded number of protection spaces over 64 origins of 16 realms each', async () => {
    const long = (c: string) => c.repeat(1000);
    const server = await listen(
      http.createServer((req, res) => {
        if (req.headers.authorization === undefined) {
          // /<origin>/<realm>/…: each realm's domain covers its own directory only.
          const [, origin, realm] = req.url!.split('/');
          const dir = `/${origin}/${realm}`;
          const domain = Array.from(
            { length: 64 },
            (_, k) => `${dir}/${k}${long('d').slice(0, 180)}`,
          );
          res.statusCode = 401;
          res.setHeader(
            'WWW-Authenticate',
            `Digest realm="${dir}${long('r')}", nonce="${dir}${long('n')}", opaque="${long('o')}", ` +
              `domain="${dir}/ ${domain.join(' ')}", qop="auth", algorithm=SHA-256`,
          );
        }
        res.end();
      }),
    );
    // Every origin is this one server, as a wildcard DNS name would make it.
    const authFetch = createAuthFetch(
      { username: 'alice', password: 'secret' },
      {
        insecureHttp: true,
        fetch: wildcardFetch(
          `http://127.0.0.1:${server.port}`,
          ({ hostname, pathname }) => `/${hostname}${pathname}`,
        ),
      },
    );
    const open = async (from: number, count: number) => {
      let next = from;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < from + count) {
            const k = next++;
            const response = await authFetch(`http://o${k % 64}.test/r${Math.floor(k / 64)}/x`);
            expect(response.status).toBe(200);
            await response.arrayBuffer();
          }
        }),
      );
    };
    try {
      await open(0, 64);
      const before = await settledHeap();
      await open(64, 64 * 15);
      const after = await settledHeap();
      // 1024 spaces would hold 30 MiB; the bound, 256 of them, some 8.
      expect(after - before).toBeLessThan(14 * MiB);
    } finally {
      await server.close();
    }
  });

  it('keeps no nonce, realm or opaque of 3 000 distinct Digest challenges', async () => {
    let n = 0;
    const filler = 'x'.repeat(990);
    const server = await listen(
      http.createServer((_req, res) => {
        const i = n++;
        res.statusCode = 401;
        res.setHeader(
          'WWW-Authenticate',
          `Digest realm="r${i}${filler}", nonce="n${i}${filler}", opaque="o${i}${filler}", qop="auth", algorithm=SHA-256`,
        );
        res.end();
      }),
    );
    const authFetch = createAuthFetch({ username: 'alice', password: 'secret' });
    const url = `http://127.0.0.1:${server.port}`;
    const flood = async (count: number) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < count) {
            next++;
            const response = await authFetch(`${url}/r/${next}`);
            expect(response.status).toBe(401);
            await response.arrayBuffer();
          }
        }),
      );
    };
    try {
      await flood(300);
      const before = await settledHeap();
      await flood(1200);
      const after = await settledHeap();
      // Three requests per call: two challenges (each of another realm, so answered) and the
      // answer refused. Each challenge carries 3 kB of its own, its nonce 1 kB: the counts kept
      // by nonce (bounded: 1024, and 16 384 let go) take some 1 MiB for 2 400 nonces; kept whole,
      // the nonces alone add 2.3 MiB (measured 3.8 MiB in all, which passed a limit of 4 MiB).
      expect(n).toBe(3 * 1500);
      expect(after - before).toBeLessThan(2.5 * MiB);
    } finally {
      await server.close();
    }
  });
});
