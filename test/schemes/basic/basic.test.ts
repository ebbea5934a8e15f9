import request from 'supertest';
import express from 'express';
import {
  authenticate,
  basic,
  parseCredentials,
  type BasicOptions,
  type Challenge,
  type RequestContext,
} from 'authscheme';
import crypto from 'node:crypto';
import * as hmacModule from '../../../src/util/hmac';
import { settledHeap } from '../../helpers/gc';

const realTextHmac = hmacModule.textHmac;

const ctx = { realm: 'WallyWorld', proxy: false, method: 'GET', url: '/' } as RequestContext;

function appWith(options: BasicOptions, realm = 'WallyWorld'): express.Express {
  const app = express();
  app.use(authenticate({ realm, schemes: [basic(options)] }));
  app.get('/', (req, res) => res.json(req.auth));
  return app;
}

describe('basic() — RFC 7617', () => {
  // A refusal before any password is checked is no failed guess: lockouts count
  // ERR_AUTH_INVALID_CREDENTIALS only (README, audit; docs/security.md).
  it('refuses credentials that do not decode as ERR_AUTH_INVALID_REQUEST (401), a wrong password as ERR_AUTH_INVALID_CREDENTIALS', async () => {
    const codes: Array<[number | undefined, string | undefined]> = [];
    const app = express();
    app.use(
      authenticate({
        realm: 'r',
        schemes: [basic({ users: { alice: 'secret' } })],
        audit: ({ status, code }) => void codes.push([status, code]),
      }),
    );
    app.get('/', (_req, res) => res.end());
    const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');
    const malformed = [
      'Basic',
      'Basic a=b',
      'Basic YWxpY2U6c2VjcmV0=', // not canonical: padding after a full quantum
      `Basic ${b64('alicesecret')}`,
      `Basic ${b64(':secret')}`,
      `Basic ${b64('alice:sec\nret')}`,
      `Basic ${b64(Buffer.from([0x61, 0x3a, 0xff]))}`,
    ];
    for (const value of malformed) {
      const res = await request(app).get('/').set('Authorization', value);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="r", charset="UTF-8"');
    }
    expect(codes).toEqual(malformed.map(() => [401, 'ERR_AUTH_INVALID_REQUEST']));
    codes.length = 0;
    await request(app)
      .get('/')
      .set('Authorization', `Basic ${b64('alice:wrong')}`);
    await request(app)
      .get('/')
      .set('Authorization', `Basic ${b64('mallory:secret')}`);
    expect(codes).toEqual([
      [401, 'ERR_AUTH_INVALID_CREDENTIALS'],
      [401, 'ERR_AUTH_INVALID_CREDENTIALS'],
    ]);
  });

  it('accepts the RFC 7617 §2 example, Aladdin / open sesame', async () => {
    const app = appWith({ users: { Aladdin: 'open sesame' } });
    const res = await request(app)
      .get('/')
      .set('Authorization', 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ scheme: 'Basic', user: 'Aladdin' });
  });

  // README: `users` is copied at setup (a review found it undocumented; express-basic-auth reads
  // its object on each request).
  it('copies users at setup: later changes to the object are not seen', async () => {
    const users: Record<string, string> = { alice: 'old' };
    const app = appWith({ users });
    users.alice = 'new';
    users.carol = 'added';
    const basicOf = (user: string, password: string) =>
      `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const status = async (user: string, password: string) =>
      (await request(app).get('/').set('Authorization', basicOf(user, password))).status;
    expect(await status('alice', 'old')).toBe(200);
    expect(await status('alice', 'new')).toBe(401);
    expect(await status('carol', 'added')).toBe(401);
  });

  it('reads its realm once, at setup: a realm changed later is neither sent nor a 500', async () => {
    const options: BasicOptions = { users: { alice: 'x' }, realm: 'own' };
    const app = appWith(options);
    options.realm = 'T\u014dky\u014d'; // beyond Latin-1: unsendable, had it been read again
    const res = await request(app).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="own", charset="UTF-8"');
  });

  it('challenges as RFC 7617 §2.1 shows, with charset="UTF-8"', async () => {
    const res = await request(appWith({ users: {} }, 'foo')).get('/');
    expect(res.headers['www-authenticate']).toBe('Basic realm="foo", charset="UTF-8"');
  });

  it('compares user-id and password in NFC (RFC 7617 §2.1), whichever form either side used', async () => {
    const nfc = { user: 'J\u00f6rg', password: 'p\u00e4ss' };
    const nfd = { user: 'Jo\u0308rg', password: 'pa\u0308ss' };
    const header = (c: { user: string; password: string }) =>
      `Basic ${Buffer.from(`${c.user}:${c.password}`, 'utf8').toString('base64')}`;
    for (const [configured, sent] of [
      [nfd, nfc],
      [nfc, nfd],
      [nfc, nfc],
    ]) {
      const app = appWith({ users: { [configured!.user]: configured!.password } });
      const res = await request(app).get('/').set('Authorization', header(sent!));
      expect(res.status).toBe(200);
      expect(res.body.user).toBe(nfc.user);
    }
    expect(() => basic({ users: { [nfc.user]: 'a', [nfd.user]: 'b' } })).toThrow(TypeError);
  });

  it('can leave out the charset parameter', async () => {
    const res = await request(appWith({ users: {}, charset: false })).get('/');
    expect(res.headers['www-authenticate']).toBe('Basic realm="WallyWorld"');
  });

  it('decodes UTF-8 as in the RFC 7617 §2.1 example, test / 123£', async () => {
    const app = appWith({ users: { test: '123\u00a3' } });
    const res = await request(app).get('/').set('Authorization', 'Basic dGVzdDoxMjPCow==');
    expect(res.status).toBe(200);
    expect(res.body.user).toBe('test');
  });

  it('reads credentials that are not UTF-8 as Latin-1 with acceptLatin1 (Python requests)', async () => {
    const latin1 = `Basic ${Buffer.from('J\u00f6rg:p\u00e4ss', 'latin1').toString('base64')}`;
    const utf8 = `Basic ${Buffer.from('J\u00f6rg:p\u00e4ss', 'utf8').toString('base64')}`;
    const users = { 'J\u00f6rg': 'p\u00e4ss', A: '\u00c3\u00a4' };
    const strict = appWith({ users });
    expect((await request(strict).get('/').set('Authorization', latin1)).status).toBe(401);
    const lenient = appWith({ users, acceptLatin1: true });
    for (const header of [latin1, utf8]) {
      const res = await request(lenient).get('/').set('Authorization', header);
      expect([res.status, res.body.user]).toEqual([200, 'J\u00f6rg']);
    }
    // Valid UTF-8 stays UTF-8: "A:ä" in UTF-8 is not A's Latin-1 reading "Ã¤".
    const ambiguous = `Basic ${Buffer.from('A:\u00e4', 'utf8').toString('base64')}`;
    expect((await request(lenient).get('/').set('Authorization', ambiguous)).status).toBe(401);
    // C1 controls (0x80-0x9F in Latin-1) are control characters (RFC 7617 §2).
    const c1 = `Basic ${Buffer.from([0x41, 0x3a, 0x85]).toString('base64')}`;
    // (A users map cannot hold such a password: a verify that takes anything shows the refusal.)
    const withC1 = appWith({ verify: (user) => user, acceptLatin1: true });
    expect((await request(withC1).get('/').set('Authorization', c1)).status).toBe(401);
  });

  it('splits at the first colon: passwords may contain colons', async () => {
    const app = appWith({ users: { u: 'a:b:c' } });
    const token = Buffer.from('u:a:b:c').toString('base64');
    expect((await request(app).get('/').set('Authorization', `Basic ${token}`)).status).toBe(200);
  });

  it('passes user, password and the request to a verify callback', async () => {
    const seen: unknown[] = [];
    const app = appWith({
      verify: async (user, password, req) => {
        seen.push(user, password, req.url);
        await new Promise((resolve) => setTimeout(resolve, 1));
        return { user, scopes: ['read'] };
      },
    });
    const token = Buffer.from('zoë:pässword').toString('base64');
    const res = await request(app).get('/?q=1').set('Authorization', `Basic ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ scheme: 'Basic', user: 'zoë', scopes: ['read'] });
    expect(seen).toEqual(['zoë', 'pässword', '/?q=1']);
  });

  it('tells a verify that echoes an empty user-id that the name must not be empty', async () => {
    const echo = basic({ allowEmptyUser: true, verify: (user) => user });
    const credentials = parseCredentials(`Basic ${Buffer.from(':x').toString('base64')}`);
    await expect(async () => echo.verify(credentials, ctx)).rejects.toMatchObject({
      code: 'ERR_AUTH_VERIFIER_RESULT',
      message: expect.stringContaining('a non-empty user name') as unknown,
    });
  });

  // `{ user: lookup(name) }` with an async lookup not awaited: the message said only what a
  // verifier must return, which `{ user: … }` seemed to be.
  it('tells a verify whose user is a promise to await it', async () => {
    const lookup = async (name: string) => name;
    const pending = basic({ verify: (user) => ({ user: lookup(user) }) as never });
    const credentials = parseCredentials(`Basic ${Buffer.from('a:x').toString('base64')}`);
    await expect(async () => pending.verify(credentials, ctx)).rejects.toMatchObject({
      code: 'ERR_AUTH_VERIFIER_RESULT',
      message: expect.stringMatching(/\(its `user` is a promise: await it first\)$/) as unknown,
    });
  });

  it('lets an empty user-id through to verify only with allowEmptyUser (RFC 7617 §2; a token sent as the password), never to a users map', async () => {
    const seen: string[] = [];
    const app = appWith({
      allowEmptyUser: true,
      verify: (user, password) => {
        seen.push(user);
        return password === 'pat-123' ? { user: 'token-owner' } : false;
      },
    });
    const token = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
    const res = await request(app).get('/').set('Authorization', token(':pat-123'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ scheme: 'Basic', user: 'token-owner' });
    expect((await request(app).get('/').set('Authorization', token(':nope'))).status).toBe(401);
    expect(seen).toEqual(['', '']);
    // By default it is refused before verify, which may not expect it.
    const byDefault = appWith({ verify: (user) => user });
    expect((await request(byDefault).get('/').set('Authorization', token(':x'))).status).toBe(401);
    expect(() => basic({ verify: () => false, allowEmptyUser: 'yes' as never })).toThrow(TypeError);
    const map = appWith({ users: { Aladdin: 'open sesame' }, allowEmptyUser: true });
    expect((await request(map).get('/').set('Authorization', token(':open sesame'))).status).toBe(
      401,
    );
  });

  const bad: [string, string][] = [
    ['characters outside the base64 alphabet', 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ~='],
    ['base64url', `Basic ${Buffer.from('a:\u00fb\u00ff\u00fe').toString('base64url')}`],
    ['missing padding', 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ'],
    ['non-canonical trailing bits', 'Basic YTpiYx==' /* decodes like YTpiYw== */],
    ['a length not a multiple of four', 'Basic YTpiYw='],
    ['no colon', `Basic ${Buffer.from('Aladdin').toString('base64')}`],
    ['an empty user-id', `Basic ${Buffer.from(':open sesame').toString('base64')}`],
    ['invalid UTF-8', `Basic ${Buffer.from([0x41, 0x3a, 0xc3, 0x28]).toString('base64')}`],
    [
      'a control character in the user-id',
      `Basic ${Buffer.from('Ala\u0000ddin:open sesame').toString('base64')}`,
    ],
    [
      'a control character in the password',
      `Basic ${Buffer.from('Aladdin:open\nsesame').toString('base64')}`,
    ],
    ['parameters instead of a token68', 'Basic user="Aladdin"'],
    ['no token at all', 'Basic'],
  ];
  it.each(bad)('refuses %s with 401 and the challenge', async (_label, header) => {
    const app = appWith({ users: { Aladdin: 'open sesame', A: '\u00c3(' } });
    const res = await request(app).get('/').set('Authorization', header);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="WallyWorld", charset="UTF-8"');
  });

  it('never calls verify for credentials that do not decode', async () => {
    const verify = jest.fn(() => 'x');
    const scheme = basic({ verify });
    for (const [, header] of bad) {
      const result = await scheme.verify(parseCredentials(header), ctx);
      expect(result.ok).toBe(false);
    }
    expect(verify).not.toHaveBeenCalled();
  });

  it('does the same work for an unknown user as for a wrong password', async () => {
    const scheme = basic({ users: { alice: 'secret' } });
    const compare = jest.spyOn(crypto, 'timingSafeEqual');
    const token = (user: string, password: string) => ({
      scheme: 'Basic',
      token68: Buffer.from(`${user}:${password}`).toString('base64'),
      params: {},
    });
    /** The sizes of the buffers compared while `user` and `password` are checked. */
    const compared = async (user: string, password: string): Promise<number[]> => {
      compare.mockClear();
      expect(await scheme.verify(token(user, password), ctx)).toMatchObject({ ok: false });
      return compare.mock.calls.flatMap(([a, b]) => [a.byteLength, b.byteLength]);
    };
    try {
      const wrongPassword = await compared('alice', 'wrong');
      expect(wrongPassword).toEqual([6, 6]);
      expect(await compared('mallory', 'wrong')).toEqual(wrongPassword);
    } finally {
      compare.mockRestore();
    }
  });

  it('refuses bad options at setup', () => {
    // @ts-expect-error neither users nor verify (test/types/option-types.test.ts)
    expect(() => basic({})).toThrow(TypeError);
    // @ts-expect-error both
    expect(() => basic({ users: {}, verify: () => false })).toThrow(TypeError);
    expect(() => basic({ users: { 'a:b': 'x' } })).toThrow(/":"/);
    // RFC 7617 §2 allows an empty user-id, but a users map never matches one (allowEmptyUser is
    // for verify): an entry for "" is a mistake, said at setup.
    expect(() => basic({ users: { '': 'x' } })).toThrow('basic(): users[""]: a user name is empty');
    // Names are compared in NFC: two spellings of one name would be one user with two passwords.
    expect(() => basic({ users: { '\u00e9': 'x', 'e\u0301': 'y' } })).toThrow(
      'the user name is given twice (in NFC)',
    );
    // `process.env.PASSWORD ?? ''` with the variable unset: anyone who knows the name got in.
    expect(() => basic({ users: { alice: '' } })).toThrow(
      'basic(): users["alice"] is an empty password (an unset environment variable?)',
    );
    // The entry is named (in a map of hundreds, "a user" says nothing); its password never.
    expect(() => basic({ users: { alice: 'x', bob: 5 as unknown as string } })).toThrow(
      'basic(): users["bob"] must be a string (the password)',
    );
    // Boolean options are booleans: the string "false" is truthy and would advertise a charset.
    for (const name of ['charset', 'allowEmptyUser', 'acceptLatin1']) {
      expect(() => basic({ users: {}, [name]: 'false' })).toThrow(TypeError);
    }
    // A Map reads as no users, an array as users "0", "1"…: neither is taken for a record.
    expect(() => basic({ users: new Map([['a', 'b']]) as never })).toThrow(
      'basic(): `users` must be a plain object (user name → password)',
    );
    expect(() => basic({ users: ['alice'] as never })).toThrow(TypeError);
    expect(() => basic({ users: Object.assign(Object.create(null), { a: 'b' }) })).not.toThrow();
    expect(() => basic({ verify: 'nope' as never })).toThrow(TypeError);
  });

  // Credentials with a control character are refused (RFC 7617 §2), so such an entry could never
  // match: a password read from a file with CRLF line ends ('secret\r') failed every request in
  // silence.
  it.each([
    ['a password with a CR', { alice: 'secret\r' }],
    ['a password with a C1 control', { alice: 'sec\u0085ret' }],
    ['a user name with a tab', { 'ali\tce': 'secret' }],
  ])('refuses at setup %s, which no request could carry', (_label, users) => {
    const [name, password] = Object.entries(users)[0]!;
    expect(() => basic({ users })).toThrow(
      `basic(): users[${JSON.stringify(name)}]: the user name or password contains a control character`,
    );
    expect(() => basic({ users })).not.toThrow(password);
  });

  // A lone surrogate has no UTF-8 form: encoding it gives U+FFFD, so such a password let in a
  // client that sent U+FFFD instead, and such a name (credentials are strict UTF-8) never matched.
  it.each([
    ['a password', { alice: 'secret\ud800' }],
    ['a user name', { 'ali\udc00ce': 'secret' }],
  ])('refuses at setup %s with a lone surrogate', (_label, users) => {
    expect(() => basic({ users })).toThrow(
      /^basic\(\): users\[".*"\]: the user name or password is not well-formed UTF-16 \(a lone surrogate\)/,
    );
  });

  // The middleware checks its own realm at setup; a scheme's realm goes into the same header, and
  // unchecked it made formatChallenge throw on every refusal: a 500 instead of the 401.
  it.each([
    ['a CR LF', 'a\r\nX-Injected: 1'],
    ['a NUL', 'a\u0000b'],
    ['a character above U+00FF', 'caf\u00e9 \u20ac'],
    ['a number', 5 as unknown as string],
  ])('refuses a realm with %s at setup', (_label, realm) => {
    expect(() => basic({ users: {}, realm })).toThrow(TypeError);
  });

  it('sends its own realm, quoted and escaped', async () => {
    const app = express();
    app.use(authenticate({ schemes: [basic({ users: {}, realm: 'say "hi" \\o/' })] }));
    const res = await request(app).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Basic realm="say \\"hi\\" \\\\o/", charset="UTF-8"',
    );
  });
});

describe('basic() challenges', () => {
  // From a review of long runs: one basic() shared by authenticate()s of a realm each (a tenant's
  // name from the Host header) kept every realm's challenge for good, some 560 bytes each.
  it('keeps the challenges of 64 realms at most, made once each while kept', () => {
    const scheme = basic({ users: { alice: 'secret' } });
    // Basic makes its challenges synchronously.
    const challengesOf = (realm: string) =>
      scheme.challenges({ ...ctx, realm }) as readonly Challenge[];
    const first = challengesOf('tenant-0.example.com');
    expect(first).toEqual([
      { scheme: 'Basic', params: { realm: 'tenant-0.example.com', charset: 'UTF-8' } },
    ]);
    for (let i = 1; i < 64; i++) challengesOf(`tenant-${i}.example.com`);
    expect(challengesOf('tenant-0.example.com')).toBe(first);
    // A 65th makes room (at 65 kept, the first would still be): the first is made again.
    challengesOf('tenant-64.example.com');
    expect(challengesOf('tenant-0.example.com')).not.toBe(first);
    for (let i = 65; i < 10_000; i++) challengesOf(`tenant-${i}.example.com`);
    const again = challengesOf('tenant-0.example.com');
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });

  // From hand-made mutants: the tests passed with the realm kept as given, in the challenge or as
  // the key: a realm read from a longer text (a Host header) is a view of all of it (V8's sliced
  // strings), and 64 of them kept that much.
  it('keeps a copy of the realm, not the longer text it was read from', async () => {
    const scheme = basic({ users: { alice: 'secret' } });
    // Basic makes its challenges synchronously.
    const challengesOf = (realm: string) =>
      scheme.challenges({ ...ctx, realm }) as readonly Challenge[];
    const before = await settledHeap();
    for (let i = 0; i < 64; i++) {
      const text = `tenant-${String(i).padStart(2, '0')}.example.com ${'x'.repeat(100_000)}`;
      challengesOf(text.slice(0, 21));
    }
    // As views, the 64 would hold 6.4 MB.
    expect((await settledHeap()) - before).toBeLessThan(2 * 1024 * 1024);
    expect(challengesOf('tenant-07.example.com')).toEqual([
      { scheme: 'Basic', params: { realm: 'tenant-07.example.com', charset: 'UTF-8' } },
    ]);
  });
});

describe('basic({ cache })', () => {
  const header = (user: string, password: string): string =>
    `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

  afterEach(() => {
    jest.useRealTimers();
  });

  it('calls verify once per name and password within maxAge, again after it, and never keeps failures', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const verify = jest.fn(async (user: string, password: string) =>
      password === 'right' ? { user, role: 'admin' } : false,
    );
    const app = appWith({ verify, cache: { maxAge: 1000 } });
    const get = (user: string, password: string) =>
      request(app).get('/').set('Authorization', header(user, password));

    for (let i = 0; i < 3; i++) {
      const res = await get('alice', 'right');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ scheme: 'Basic', user: 'alice', role: 'admin' });
    }
    expect(verify).toHaveBeenCalledTimes(1);
    // Another password, even a right one for another user, is another entry.
    expect((await get('alice', 'wrong')).status).toBe(401);
    expect((await get('alice', 'wrong')).status).toBe(401);
    expect((await get('bob', 'right')).status).toBe(200);
    expect(verify).toHaveBeenCalledTimes(4);
    // The user's password changed: the entry still passes until maxAge, then verify decides.
    verify.mockImplementation(async () => false);
    expect((await get('alice', 'right')).status).toBe(200);
    jest.advanceTimersByTime(1001);
    expect((await get('alice', 'right')).status).toBe(401);
    expect(verify).toHaveBeenCalledTimes(5);
  });

  it('keeps at most max entries, keyed by an HMAC of name and password', async () => {
    const seen: string[] = [];
    const verify = jest.fn((user: string) => user);
    // The keyer basic() makes: a random key, and each key an HMAC of what names the entry.
    const keyers: jest.Mock[] = [];
    const made = jest.spyOn(hmacModule, 'textHmac').mockImplementation((key) => {
      const keyer = jest.fn(realTextHmac(key));
      keyers.push(keyer);
      return keyer;
    });
    const scheme = basic({ verify, cache: { max: 2 } });
    expect(made).toHaveBeenCalledTimes(1);
    expect(made.mock.calls[0]![0]).toHaveLength(32);
    made.mockRestore();
    const check = async (user: string) => {
      const result = await scheme.verify(parseCredentials(header(user, 'pw-secret')), ctx);
      seen.push(result.ok ? result.user : 'refused');
    };
    await check('a');
    await check('b');
    await check('c'); // evicts a
    await check('a');
    await check('c');
    expect(seen).toEqual(['a', 'b', 'c', 'a', 'c']);
    expect(verify.mock.calls.map((call) => call[0])).toEqual(['a', 'b', 'c', 'a']);
    await check('d');
    expect(keyers).toHaveLength(1);
    const texts = keyers[0]!.mock.calls.map((call) => String(call[0]));
    expect(texts.at(-1)).toContain('"d","pw-secret"');
  });

  it('keeps the successes of one basic() in two authenticate()s (realms, proxy) apart', async () => {
    const verify = jest.fn((user: string, _password: string, req: { originalUrl?: string }) =>
      req.originalUrl?.startsWith('/admin') ? false : user,
    );
    const scheme = basic({ verify, cache: true });
    const app = express();
    app.use('/admin', authenticate({ realm: 'admin', schemes: [scheme] }));
    app.use(authenticate({ realm: 'site', schemes: [scheme] }));
    app.get('/{*path}', (req, res) => res.json(req.auth));
    const auth = header('bob', 'pw');
    expect((await request(app).get('/admin/x').set('Authorization', auth)).status).toBe(401);
    expect((await request(app).get('/public').set('Authorization', auth)).status).toBe(200);
    // The site realm's success does not open the admin realm.
    expect((await request(app).get('/admin/x').set('Authorization', auth)).status).toBe(401);
    // Nor does the origin side's open the proxy side.
    const sides = jest.fn(() => 'bob');
    const proxy = basic({ verify: sides, cache: true });
    for (const side of [false, true, false, true]) {
      await proxy.verify(parseCredentials(auth), { ...ctx, proxy: side });
    }
    expect(sides).toHaveBeenCalledTimes(2);
  });

  it('simultaneous first requests with the same credentials share one call of verify', async () => {
    let calls = 0;
    const verify = async (user: string) => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return user;
    };
    const scheme = basic({ verify, cache: true });
    const credentials = parseCredentials(header('alice', 'pw'));
    const results = await Promise.all(
      Array.from({ length: 5 }, async () => scheme.verify(credentials, ctx)),
    );
    expect(results.every((result) => result.ok)).toBe(true);
    expect(calls).toBe(1);
  });

  it('does not cache a late success once a newer call has answered (a password revoked in between), and counts maxAge from the call', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const answers: Array<(identity: string | false) => void> = [];
    const verify = jest.fn(() => new Promise<string | false>((resolve) => answers.push(resolve)));
    const scheme = basic({ verify, cache: { maxAge: 5000 } });
    const credentials = parseCredentials(header('alice', 'old'));
    const first = scheme.verify(credentials, ctx);
    jest.advanceTimersByTime(2001); // past the sharing: the next request calls verify again
    const second = scheme.verify(credentials, ctx);
    answers[1]!(false); // revoked
    expect((await second).ok).toBe(false);
    answers[0]!('alice'); // the first call, started before the revocation, answers late
    expect((await first).ok).toBe(true);
    const third = scheme.verify(credentials, ctx);
    expect(verify).toHaveBeenCalledTimes(3);
    // This one is cached, for maxAge from when verify was asked, not from its answer.
    jest.advanceTimersByTime(4000);
    answers[2]!('alice');
    expect((await third).ok).toBe(true);
    expect((await scheme.verify(credentials, ctx)).ok).toBe(true);
    expect(verify).toHaveBeenCalledTimes(3);
    jest.advanceTimersByTime(1001);
    void scheme.verify(credentials, ctx);
    expect(verify).toHaveBeenCalledTimes(4);
  });

  it('takes cache: false as no cache, and a max and maxAge as small as 1', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const verify = jest.fn((user: string) => user);
    const alice = parseCredentials(header('alice', 'pw'));
    const off = basic({ verify, cache: false });
    await off.verify(alice, ctx);
    await off.verify(alice, ctx);
    expect(verify).toHaveBeenCalledTimes(2);
    verify.mockClear();
    // Positive integers (README: `cache`), 1 included.
    const smallest = basic({ verify, cache: { max: 1, maxAge: 1 } });
    await smallest.verify(alice, ctx);
    await smallest.verify(alice, ctx);
    expect(verify).toHaveBeenCalledTimes(1);
    // maxAge ms after the call the success is gone: a cached success never outlives maxAge.
    jest.advanceTimersByTime(1);
    await smallest.verify(alice, ctx);
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('refuses bad cache options at setup', () => {
    expect(() => basic({ verify: () => false, cache: 'yes' as never })).toThrow(
      'basic(): cache must be a boolean or { max, maxAge }',
    );
    expect(() => basic({ verify: () => false, cache: { max: 0 } })).toThrow(
      'basic(): cache.max must be a positive integer',
    );
    expect(() => basic({ verify: () => false, cache: { ttl: 5 } as never })).toThrow(TypeError);
    // A Map would be read as empty: the defaults, in silence.
    expect(() => basic({ verify: () => false, cache: new Map([['maxAge', 5]]) as never })).toThrow(
      'basic(): cache must be a boolean or { max, maxAge }',
    );
    expect(() => basic({ verify: () => false, cache: true })).not.toThrow();
  });
});

describe('a Basic value that is not a token68 but parses as an auth-param', () => {
  // README said: "a value that is not even a token68 (a space or `!` inside, padding in the
  // middle) is a field that does not parse: 400, as for any scheme". With one "=" in the middle
  // and a token after it the field parses, as an auth-param (RFC 9110 §11.4), and Basic answers
  // 401 (as for any Basic credentials with auth-params); the README now says so.
  it.each([
    [
      'padding in the middle',
      `Basic ${Buffer.from('ab').toString('base64')}${Buffer.from('abc').toString('base64')}`,
    ], // YWI=YWJj
    ['"!" inside, after padding', 'Basic YWI=!'],
  ])('answers %s with 401 when it parses as an auth-param', async (_label, header) => {
    const res = await request(appWith({ users: { ab: 'abc' } }))
      .get('/')
      .set('Authorization', header);
    expect(res.status).toBe(401);
  });
});
