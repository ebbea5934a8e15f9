/**
 * Equal work for an unknown user and a wrong password: the same number of hash computations and
 * constant-time comparisons, on fixed-length values. Counted with spies, not timed (timing on a
 * shared 2-core machine proves nothing).
 */
import { authenticate, basic, digest, type DigestOptions } from 'authscheme';
import * as secret from '../../src/util/secret';
import * as algorithms from '../../src/schemes/digest/algorithms';
import * as response from '../../src/schemes/digest/response';
import {
  basicAuth,
  digestAnswer,
  digestResponse,
  digestHeader,
  send,
  start,
  type Reply,
  type TestServer,
} from './helpers';

// The builtin module object itself (not an import-star copy), which src/ modules call through.

const crypto = require('node:crypto') as typeof import('node:crypto');

const users = { alice: 'wonderland', bob: 'a much longer password than alice has got, by far' };
const servers: TestServer[] = [];
afterAll(() => Promise.all(servers.map((s) => s.close())));
afterEach(() => jest.restoreAllMocks());

type Spied = Record<string, jest.SpyInstance>;

/** Runs `request` with fresh spies and returns how often each was called. */
async function count(spies: () => Spied, request: () => Promise<Reply>, status: number) {
  const installed = spies();
  const reply = await request();
  expect(reply.status).toBe(status);
  const counts: Record<string, number> = {};
  for (const [name, spy] of Object.entries(installed)) counts[name] = spy.mock.calls.length;
  const comparisons = installed.timingSafeEqual?.mock.calls ?? [];
  jest.restoreAllMocks();
  return { counts, comparisons: comparisons as [Buffer, Buffer][] };
}

describe('Basic with a users map', () => {
  let target: TestServer;
  beforeAll(async () => {
    target = await start(authenticate({ realm: 't', schemes: [basic({ users })] }));
    servers.push(target);
  });
  const spies = (): Spied => ({
    hashSecret: jest.spyOn(secret, 'hashSecret'),
    timingSafeEqual: jest.spyOn(crypto, 'timingSafeEqual'),
  });

  it('compares exactly as often, and as many bytes, for an unknown user, a wrong and a right password', async () => {
    const run = (user: string, password: string, status: number) =>
      count(spies, () => send(target, { Authorization: basicAuth(user, password) }), status);
    const unknown = await run('mallory', 'wonderland', 401);
    const wrong = await run('alice', 'wonderland!', 401);
    const wrongLong = await run('bob', 'x', 401);
    const tooLong = await run('alice', 'y'.repeat(500), 401);
    const right = await run('alice', 'wonderland', 200);
    // No hashing per request: one comparison, over buffers as long as the longest password.
    expect(unknown.counts).toEqual({ hashSecret: 0, timingSafeEqual: 1 });
    for (const { counts, comparisons } of [wrong, wrongLong, tooLong, right, unknown]) {
      expect(counts).toEqual(unknown.counts);
      expect(comparisons.map(([a, b]) => [a.length, b.length])).toEqual([
        [Buffer.byteLength(users.bob), Buffer.byteLength(users.bob)],
      ]);
    }
  });
});

describe.each([
  ['a users map', { users }],
  ['getPassword', { getPassword: (user: string) => users[user as keyof typeof users] ?? null }],
  [
    'getPassword (async)',
    { getPassword: async (user: string) => users[user as keyof typeof users] },
  ],
] as [string, Partial<DigestOptions>][])('Digest with %s', (_title, source) => {
  let target: TestServer;
  beforeAll(async () => {
    target = await start(
      authenticate({
        realm: 't',
        schemes: [
          digest({
            ...source,
            secret: 't'.repeat(32),
            algorithms: ['SHA-256', 'MD5'],
          } as DigestOptions),
        ],
      }),
    );
    servers.push(target);
  });
  const spies = (): Spied => ({
    hashWire: jest.spyOn(algorithms, 'hashWire'),
    hashCredentials: jest.spyOn(algorithms, 'hashCredentials'),
    digestsEqual: jest.spyOn(response, 'digestsEqual'),
    timingSafeEqual: jest.spyOn(crypto, 'timingSafeEqual'),
  });

  it('does the same work for an unknown user as for a wrong password', async () => {
    const run = async (user: string, password: string, status: number) => {
      const a = await digestAnswer(target, user, password);
      return count(spies, () => send(target, { Authorization: digestHeader(a) }), status);
    };
    // Warm the per-realm caches (HA1 of known users, the dummy HA1) so that both paths are steady.
    // (A known user's first request computes and caches its HA1: see the report on lookup.ts.)
    await run('mallory', 'x', 401);
    await run('alice', 'x', 401);
    await run('bob', 'y', 401);
    const unknown = await run('mallory', 'wonderland', 401);
    const wrong = await run('alice', 'wonderland!', 401);
    const wrongOther = await run('bob', 'x', 401);
    expect(unknown.counts.digestsEqual).toBe(1);
    expect(wrong.counts).toEqual(unknown.counts);
    expect(wrongOther.counts).toEqual(unknown.counts);
    // Every constant-time comparison is between equal-length values (digests or nonce MACs).
    for (const { comparisons } of [unknown, wrong, wrongOther]) {
      for (const [a, b] of comparisons) expect(a.length).toBe(b.length);
    }
  });
});

// A realm beyond ASCII has three spellings a client may have hashed (src/schemes/digest/realm.ts):
// every user, known or not, whatever the source of the HA1, costs three response digests; an ASCII
// realm one, and a getHA1 (a database query) is asked once either way.
describe.each(['t', 'Z\u00fcrich'])('Digest in the realm %j', (realm) => {
  const spellings = realm === 't' ? 1 : 3;
  const ha1Of = (user: string, password: string): string =>
    crypto
      .createHash('sha256')
      .update(Buffer.from(`${user}:`))
      .update(Buffer.from(realm, 'latin1'))
      .update(Buffer.from(`:${password}`))
      .digest('hex');
  const stored: Record<string, string> = { alice: ha1Of('alice', 'wonderland') };
  const getHA1 = jest.fn((user: string) => stored[user] ?? null);
  it.each([
    [
      'a users map, passwords and an HA1',
      { users: { ...users, carol: { ha1: { 'SHA-256': stored.alice! } } } },
    ],
    ['getPassword', { getPassword: (user: string) => users[user as keyof typeof users] ?? null }],
    ['getHA1 (async)', { getHA1: async (user: string) => getHA1(user) }],
  ] as [string, Partial<DigestOptions>][])(
    'does the same work for every user with %s',
    async (_title, source) => {
      const target = await start(
        authenticate({
          realm,
          schemes: [
            digest({ ...source, secret: 't'.repeat(32), algorithms: ['SHA-256'] } as DigestOptions),
          ],
        }),
      );
      servers.push(target);
      const spies = (): Spied => ({
        hashCredentials: jest.spyOn(algorithms, 'hashCredentials'),
        digestsEqual: jest.spyOn(response, 'digestsEqual'),
      });
      const run = async (user: string, password: string) => {
        const a = await digestAnswer(target, user, password);
        getHA1.mockClear();
        const result = await count(
          spies,
          () => send(target, { Authorization: digestHeader(a) }),
          401,
        );
        if ('getHA1' in source) expect(getHA1).toHaveBeenCalledTimes(1);
        return result.counts;
      };
      // Warm the per-realm caches, as above.
      for (const user of ['mallory', 'alice', 'bob', 'carol']) await run(user, 'x');
      const unknown = await run('mallory', 'wonderland');
      expect(unknown.digestsEqual).toBe(spellings);
      for (const user of ['alice', 'bob', 'carol'])
        expect(await run(user, 'nope')).toEqual(unknown);
    },
  );
});

// With userhash=true a client sends H(user ":" realm): one that names no one must cost the lookup a
// found one costs (a database query is milliseconds), and a `users` map's first probe the same.
describe('Digest with userhash=true', () => {
  const realm = 't';
  const userhashOf = (user: string): string =>
    crypto.createHash('sha256').update(`${user}:${realm}`).digest('hex');
  const byHash = new Map(Object.keys(users).map((user) => [userhashOf(user), user]));
  const getPassword = jest.fn(
    (user: string, _realm: string, _req: unknown) => users[user as keyof typeof users] ?? null,
  );
  const findUserByHash = jest.fn((userhash: string) => byHash.get(userhash) ?? null);

  /** A request from `user` with `password`, its name sent hashed. */
  const hashedAnswer = async (target: TestServer, user: string, password: string) => {
    const a = await digestAnswer(target, user, password);
    return digestHeader(
      { ...a, username: userhashOf(user) },
      { response: digestResponse(a), extra: 'userhash=true' },
    );
  };

  it.each([
    ['a users map', { users }],
    ['getPassword and findUserByHash', { getPassword, findUserByHash }],
    [
      'an async getPassword and findUserByHash',
      {
        getPassword: async (user: string, r: string, req: unknown) => getPassword(user, r, req),
        findUserByHash: async (userhash: string) => findUserByHash(userhash),
      },
    ],
  ] as [string, Partial<DigestOptions>][])(
    'asks the lookup and hashes as often for a hash that names no one, from %s',
    async (_title, source) => {
      const target = await start(
        authenticate({
          realm,
          schemes: [
            digest({
              ...(source as DigestOptions),
              userhash: true,
              secret: 't'.repeat(32),
              algorithms: ['SHA-256'],
            }),
          ],
        }),
      );
      servers.push(target);
      const run = async (user: string, password: string, status = 401) => {
        const header = await hashedAnswer(target, user, password);
        getPassword.mockClear();
        findUserByHash.mockClear();
        const { counts } = await count(
          () => ({ hashCredentials: jest.spyOn(algorithms, 'hashCredentials') }),
          () => send(target, { Authorization: header }),
          status,
        );
        return {
          hashCredentials: counts.hashCredentials,
          getPassword: getPassword.mock.calls,
          found: findUserByHash.mock.calls,
        };
      };
      // Before any other request of the realm: a `users` map builds its HA1 table either way.
      const first = await run('mallory', 'x');
      await run('alice', 'wonderland', 200);
      const unknown = await run('mallory', 'wonderland');
      const wrong = await run('alice', 'wonderland!');
      if ('users' in source) {
        expect(first.hashCredentials).toBe(Object.keys(users).length + 1);
      } else {
        // The unknown hash is the name asked for: the application's store sees a query either way.
        expect(unknown.getPassword).toEqual([[userhashOf('mallory'), realm, expect.anything()]]);
        expect(wrong.getPassword).toEqual([['alice', realm, expect.anything()]]);
        expect(unknown.found).toHaveLength(1);
        expect(wrong.found).toHaveLength(1);
      }
      expect(unknown.hashCredentials).toBe(wrong.hashCredentials);
    },
  );

  it('asks no lookup for a userhash that is no hash: its form says it names no one', async () => {
    const target = await start(
      authenticate({
        realm,
        schemes: [
          digest({
            getPassword,
            findUserByHash,
            userhash: true,
            secret: 't'.repeat(32),
            algorithms: ['SHA-256'],
          }),
        ],
      }),
    );
    servers.push(target);
    const a = await digestAnswer(target, 'Alice', 'wonderland');
    getPassword.mockClear();
    findUserByHash.mockClear();
    const header = digestHeader(a, { extra: 'userhash=true' });
    expect((await send(target, { Authorization: header })).status).toBe(401);
    expect(getPassword).not.toHaveBeenCalled();
    expect(findUserByHash).not.toHaveBeenCalled();
  });

  it('takes nobody in when the lookup finds an account named by the hash', async () => {
    // An account whose name is another's userhash: its password must not log in the hash.
    const odd = { [userhashOf('mallory')]: 'known to mallory' };
    const target = await start(
      authenticate({
        realm,
        schemes: [
          digest({
            getPassword: (user) => odd[user] ?? null,
            findUserByHash: () => null,
            userhash: true,
            secret: 't'.repeat(32),
            algorithms: ['SHA-256'],
          }),
        ],
      }),
    );
    servers.push(target);
    const a = await digestAnswer(target, userhashOf('mallory'), 'known to mallory');
    const header = digestHeader(a, { extra: 'userhash=true' });
    expect((await send(target, { Authorization: header })).status).toBe(401);
  });
});
