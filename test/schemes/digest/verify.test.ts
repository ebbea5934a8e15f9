import { digest, type DigestOptions } from '../../../src/schemes/digest';
import * as algorithms from '../../../src/schemes/digest/algorithms';
import type { Challenge, Credentials } from '../../../src/header/types';
import type { RequestContext, Scheme, SchemeFailure, VerifyResult } from '../../../src/scheme';
import { answer, expectedRspauth, fakeContext, H, parseInfo, type AnswerOptions } from './helpers';

const SECRET = 'x'.repeat(32);
const alice = { user: 'alice', password: 'secret' };
/** A callback's result of the wrong type, per request: as a verifier's (not a setup TypeError). */
const BAD_RESULT = { name: 'AuthschemeError', code: 'ERR_AUTH_VERIFIER_RESULT' };

function make(options: Partial<DigestOptions> = {}): Scheme {
  return digest({ users: { alice: 'secret' }, secret: SECRET, ...options } as DigestOptions);
}

async function challengesOf(
  scheme: Scheme,
  ctx: RequestContext,
  failure?: SchemeFailure,
): Promise<Challenge[]> {
  return scheme.challenges(ctx, failure);
}

async function first(scheme: Scheme, ctx = fakeContext()): Promise<Challenge> {
  const [challenge] = await challengesOf(scheme, ctx);
  if (challenge === undefined) throw new Error('no challenge');
  return challenge;
}

async function verify(
  scheme: Scheme,
  credentials: Credentials,
  ctx = fakeContext(),
): Promise<VerifyResult> {
  return scheme.verify(credentials, ctx);
}

function withParam(credentials: Credentials, name: string, value: string | undefined): Credentials {
  const params: Record<string, string> = Object.assign(Object.create(null), credentials.params);
  if (value === undefined) delete params[name];
  else params[name] = value;
  return { scheme: credentials.scheme, params };
}

describe('digest(): challenges', () => {
  it('offers SHA-256 with qop=auth by default, with realm, nonce, opaque and charset (RFC 7616 §3.3)', async () => {
    const challenges = await challengesOf(make(), fakeContext({ realm: 'api' }));
    // No userhash: RFC 7616 §3.4.4 says a server SHOULD offer it; off by default (docs/digest.md).
    expect(challenges).toHaveLength(1);
    const [challenge] = challenges as [Challenge];
    expect(challenge.scheme).toBe('Digest');
    expect(challenge.params).toEqual({
      realm: 'api',
      qop: 'auth',
      algorithm: 'SHA-256',
      nonce: expect.stringMatching(/^[A-Za-z0-9_-]{60}$/),
      opaque: expect.any(String),
      charset: 'UTF-8',
    });
  });

  it('offers one challenge per algorithm, in the order given, sharing one nonce (RFC 7616 §3.7)', async () => {
    const challenges = await challengesOf(
      make({ algorithms: ['SHA-256', 'MD5', 'SHA-512-256-sess'] }),
      fakeContext(),
    );
    expect(challenges.map((c) => c.params.algorithm)).toEqual([
      'SHA-256',
      'MD5',
      'SHA-512-256-sess',
    ]);
    expect(new Set(challenges.map((c) => c.params.nonce)).size).toBe(1);
  });

  it('offers auth-int, userhash and domain when configured; its own realm overrides the middleware', async () => {
    const challenge = await first(
      make({
        qop: ['auth', 'auth-int'],
        userhash: true,
        domain: ['/api/', '/admin/'],
        realm: 'own',
      }),
      fakeContext({ realm: 'middleware' }),
    );
    expect(challenge.params.qop).toBe('auth,auth-int');
    expect(challenge.params.userhash).toBe('true');
    expect(challenge.params.domain).toBe('/api/ /admin/');
    expect(challenge.params.realm).toBe('own');
  });

  it('issues a new nonce for every challenge', async () => {
    const scheme = make();
    const a = await first(scheme);
    const b = await first(scheme);
    expect(a.params.nonce).not.toBe(b.params.nonce);
  });

  it('marks stale=true only after a stale failure', async () => {
    const scheme = make();
    const stale = await first(scheme, fakeContext());
    expect(stale.params.stale).toBeUndefined();
    const [withStale] = await challengesOf(scheme, fakeContext(), {
      ok: false,
      code: 'ERR_AUTH_STALE_NONCE',
      message: 'stale',
    });
    expect(withStale?.params.stale).toBe('true');
    const [plain] = await challengesOf(scheme, fakeContext(), {
      ok: false,
      code: 'ERR_AUTH_INVALID_CREDENTIALS',
      message: 'no',
    });
    expect(plain?.params.stale).toBeUndefined();
  });

  it('derives the default opaque from the secret, so processes sharing it agree', async () => {
    const a = await first(make());
    const b = await first(make());
    const c = await first(make({ secret: 'y'.repeat(32) }));
    expect(a.params.opaque).toBe(b.params.opaque);
    expect(a.params.opaque).not.toBe(c.params.opaque);
  });
});

describe('digest(): verify', () => {
  it.each([
    'MD5',
    'MD5-sess',
    'SHA-256',
    'SHA-256-sess',
    'SHA-512-256',
    'SHA-512-256-sess',
  ] as const)(
    'accepts a correct %s response and sends Authentication-Info with rspauth (RFC 7616 §3.5)',
    async (algorithm) => {
      const scheme = make({ algorithms: [algorithm] });
      const challenge = await first(scheme);
      const options: AnswerOptions = { ...alice, cnonce: 'abc123' };
      const result = await verify(scheme, answer(challenge, options));
      expect(result).toMatchObject({
        ok: true,
        user: 'alice',
        details: { realm: 'api', algorithm, qop: 'auth' },
      });
      if (!result.ok) throw new Error('refused');
      const info = parseInfo(result.headers?.['Authentication-Info'] as string);
      expect(info).toEqual({
        qop: 'auth',
        rspauth: expectedRspauth(challenge, options),
        cnonce: 'abc123',
        nc: '00000001',
      });
      expect(result.headers?.['Authentication-Info']).toMatch(
        /^qop=auth, rspauth="[0-9a-f]+", cnonce="abc123", nc=00000001$/,
      );
    },
  );

  it('accepts curl --digest style credentials: algorithm=MD5 unquoted, qop=auth, upper-case hex', async () => {
    const scheme = make({ algorithms: ['SHA-256', 'MD5'] });
    const [, md5] = await challengesOf(scheme, fakeContext());
    const credentials = answer(md5 as Challenge, alice);
    const upper = withParam(credentials, 'response', credentials.params.response?.toUpperCase());
    await expect(verify(scheme, upper)).resolves.toMatchObject({ ok: true, user: 'alice' });
  });

  it('reads algorithm and qop in any case, as the tokens they are, and hashes qop as sent', async () => {
    const scheme = make({ algorithms: ['SHA-256', 'MD5-sess'] });
    const [sha256, md5sess] = (await challengesOf(scheme, fakeContext())) as [Challenge, Challenge];
    const spelled = (c: Challenge, algorithm: string): Challenge => ({
      ...c,
      params: { ...c.params, algorithm },
    });
    for (const [nc, challenge, qop] of [
      [1, spelled(sha256, 'Sha-256'), 'Auth'],
      [2, spelled(md5sess, 'md5-SESS'), 'AUTH'],
    ] as const) {
      await expect(verify(scheme, answer(challenge, { ...alice, qop, nc }))).resolves.toMatchObject(
        { ok: true, details: { qop: 'auth' } },
      );
    }
  });

  it('uses Proxy-Authentication-Info in proxy mode (RFC 7615 §4)', async () => {
    const scheme = make();
    const ctx = fakeContext({ proxy: true });
    const result = await verify(scheme, answer(await first(scheme, ctx), alice), ctx);
    expect(result.ok && Object.keys(result.headers ?? {})).toEqual(['Proxy-Authentication-Info']);
  });

  it('refuses a wrong password, and an unknown user, alike', async () => {
    const scheme = make();
    const challenge = await first(scheme);
    const wrong = await verify(scheme, answer(challenge, { user: 'alice', password: 'nope' }));
    const unknown = await verify(
      scheme,
      answer(challenge, { user: 'mallory', password: 'secret' }),
    );
    expect(wrong).toEqual({
      ok: false,
      code: 'ERR_AUTH_INVALID_CREDENTIALS',
      message: 'Invalid credentials',
      // The name the client sent, for audit: nothing it did not know.
      user: 'alice',
    });
    expect(unknown).toEqual({ ...wrong, user: 'mallory' });
  });

  it('refuses an algorithm that was not offered (no downgrade), even with a correct response', async () => {
    const scheme = make({ algorithms: ['SHA-256'] });
    const challenge = await first(scheme);
    const downgraded = answer(
      { ...challenge, params: { ...challenge.params, algorithm: 'MD5' } },
      alice,
    );
    await expect(verify(scheme, downgraded)).resolves.toMatchObject({
      ok: false,
      message: 'Digest algorithm was not offered',
    });
    // No algorithm directive means MD5 (RFC 7616 §3.4): refused too when MD5 was not offered.
    const implicit = answer(
      { ...challenge, params: { ...challenge.params, algorithm: 'MD5' } },
      { ...alice, omitAlgorithm: true },
    );
    await expect(verify(scheme, implicit)).resolves.toMatchObject({ ok: false });
  });

  it('ignores parameters RFC 7616 does not define, plain or extended (RFC 8187)', async () => {
    const scheme = make();
    const challenge = await first(scheme);
    const credentials = withParam(
      withParam(answer(challenge, alice), 'foo', 'bar'),
      'x*',
      "UTF-8''%C3%A4",
    );
    await expect(verify(scheme, credentials)).resolves.toMatchObject({ ok: true, user: 'alice' });
  });

  it('keys a -sess response on its own cnonce, not the first one after the challenge (docs/digest.md)', async () => {
    const scheme = make({ algorithms: ['SHA-256-sess'] });
    const challenge = await first(scheme);
    const nonce = challenge.params.nonce as string;
    for (const [nc, cnonce] of [
      [1, 'first'],
      [2, 'second'],
    ] as const) {
      await expect(
        verify(scheme, answer(challenge, { ...alice, nc, cnonce })),
      ).resolves.toMatchObject({ ok: true });
    }
    // RFC 2617 §3.2.2.2's reading: the session key made once, with the first cnonce.
    const ha1 = H('SHA-256', 'alice:api:secret');
    const ha2 = H('SHA-256', 'GET:/dir/index.html');
    const keyedOn = (keyCnonce: string, nc: string): string =>
      H(
        'SHA-256',
        `${H('SHA-256', `${ha1}:${nonce}:${keyCnonce}`)}:${nonce}:${nc}:third:auth:${ha2}`,
      );
    // The same computation over the request's own cnonce passes: only the key's cnonce differs.
    const own = withParam(
      answer(challenge, { ...alice, nc: 4, cnonce: 'third' }),
      'response',
      keyedOn('third', '00000004'),
    );
    await expect(verify(scheme, own)).resolves.toMatchObject({ ok: true });
    const response = keyedOn('first', '00000003');
    const once = withParam(
      answer(challenge, { ...alice, nc: 3, cnonce: 'third' }),
      'response',
      response,
    );
    const result = await verify(scheme, once);
    expect(result).toMatchObject({ ok: false, code: 'ERR_AUTH_INVALID_CREDENTIALS' });
  });

  it('accepts a response without an algorithm directive as MD5 when MD5 is offered', async () => {
    const scheme = make({ algorithms: ['MD5'] });
    const challenge = await first(scheme);
    await expect(
      verify(scheme, answer(challenge, { ...alice, omitAlgorithm: true })),
    ).resolves.toMatchObject({
      ok: true,
    });
  });

  it('refuses a response without qop, and qop=auth-int when only auth was offered', async () => {
    const scheme = make();
    const challenge = await first(scheme);
    const good = answer(challenge, alice);
    await expect(verify(scheme, withParam(good, 'qop', undefined))).resolves.toMatchObject({
      ok: false,
      message: 'Digest credentials lack qop',
    });
    const authInt = answer(challenge, { ...alice, qop: 'auth-int' });
    await expect(verify(scheme, authInt)).resolves.toMatchObject({
      ok: false,
      message: 'Digest qop was not offered',
    });
  });

  it.each([
    ['username', undefined, 'Digest credentials lack username'],
    ['realm', undefined, 'Digest credentials lack realm'],
    ['username', '', 'Digest credentials have an invalid username'],
    ['nonce', undefined, 'Digest credentials lack nonce'],
    ['nonce', '', 'Digest credentials lack nonce'],
    ['uri', undefined, 'Digest credentials lack uri'],
    ['uri', '', 'Digest credentials lack uri'],
    ['response', undefined, 'Digest credentials lack response'],
    ['cnonce', undefined, 'Digest credentials lack cnonce'],
    ['cnonce', '', 'Digest credentials lack cnonce'],
    ['nc', undefined, 'Digest credentials lack nc'],
    ['nc', '1', 'Digest credentials have an invalid nc'],
    ['nc', '0000000g', 'Digest credentials have an invalid nc'],
    ['nc', '00000000', 'Digest credentials have an invalid nc'],
    ['response', 'abc', 'Digest credentials have an invalid response'],
    ['response', 'z'.repeat(64), 'Digest credentials have an invalid response'],
    ['algorithm', 'SHA-1', 'Digest credentials have an invalid algorithm'],
    ['qop', 'auth-conf', 'Digest credentials have an invalid qop'],
    ['userhash', 'yes', 'Digest credentials have an invalid userhash'],
    [
      'username*',
      "UTF-8''alice",
      'Digest credentials have an invalid username (both username and username*)',
    ],
  ])('refuses credentials with %s=%p (401, fresh challenge): %s', async (name, value, message) => {
    const scheme = make();
    const good = answer(await first(scheme), alice);
    const result = await verify(scheme, withParam(good, name, value));
    // The name the credentials claim goes with the refusal once it has been read (audit).
    const read = name !== 'username' && name !== 'userhash' && name !== 'username*';
    expect(result).toEqual({
      ok: false,
      code: 'ERR_AUTH_INVALID_REQUEST',
      message,
      ...(read ? { user: 'alice' } : {}),
    });
  });

  // The characters just outside the hex digits' ranges: "/" and ":" around 0-9, "@" and "`" below
  // A and a (one bit apart, as the case-folding check sees them), "G" and "g" above F and f.
  it.each(['/', ':', '@', '`', 'G', 'g'])(
    'refuses a response and an nc holding %p, which is no hex digit (RFC 7616 §3.4: LHEX)',
    async (char) => {
      const scheme = make();
      const good = answer(await first(scheme), alice);
      const response = `${good.params.response!.slice(0, -1)}${char}`;
      await expect(verify(scheme, withParam(good, 'response', response))).resolves.toEqual({
        ok: false,
        code: 'ERR_AUTH_INVALID_REQUEST',
        message: 'Digest credentials have an invalid response',
        user: 'alice',
      });
      await expect(verify(scheme, withParam(good, 'nc', `0000000${char}`))).resolves.toEqual({
        ok: false,
        code: 'ERR_AUTH_INVALID_REQUEST',
        message: 'Digest credentials have an invalid nc',
        user: 'alice',
      });
    },
  );

  it.each([
    ['a CR LF', "UTF-8''al%0D%0Aice"],
    ['a NUL', "UTF-8''alice%00"],
    ['a C1 control', "UTF-8''alice%C2%85"],
  ])('refuses a username* that decodes to %s (401, fresh challenge)', async (_title, value) => {
    const scheme = make();
    const good = answer(await first(scheme), { ...alice, extended: true });
    const result = await verify(scheme, withParam(good, 'username*', value));
    expect(result).toEqual({
      ok: false,
      code: 'ERR_AUTH_INVALID_REQUEST',
      message: 'Digest credentials have an invalid username*',
    });
  });

  it('refuses a token68 instead of directives', async () => {
    await expect(
      verify(make(), { scheme: 'Digest', token68: 'abc', params: Object.create(null) }),
    ).resolves.toMatchObject({
      ok: false,
      code: 'ERR_AUTH_INVALID_REQUEST',
    });
  });

  it('refuses a realm or opaque that does not match', async () => {
    const scheme = make();
    const good = answer(await first(scheme), alice);
    await expect(verify(scheme, withParam(good, 'realm', 'other'))).resolves.toMatchObject({
      ok: false,
      message: 'Digest realm does not match',
    });
    await expect(verify(scheme, withParam(good, 'opaque', 'other'))).resolves.toMatchObject({
      ok: false,
      message: 'Digest opaque does not match',
    });
    await expect(verify(scheme, withParam(good, 'opaque', undefined))).resolves.toMatchObject({
      ok: false,
      message: 'Digest opaque does not match',
    });
  });

  it('answers 400 when uri differs from the request target, even in the query alone (RFC 7616 §3.4.6)', async () => {
    const scheme = make();
    const challenge = await first(scheme);
    const ctx = fakeContext({ url: '/dir/index.html?a=1' });
    for (const uri of ['/dir/index.html', '/dir/index.html?a=2', '/other?a=1']) {
      const result = await verify(scheme, answer(challenge, { ...alice, uri }), ctx);
      expect(result).toEqual({
        ok: false,
        code: 'ERR_AUTH_INVALID_REQUEST',
        message: 'Digest uri does not match the request target',
        status: 400,
        user: 'alice',
      });
    }
    await expect(
      verify(scheme, answer(challenge, { ...alice, uri: '/dir/index.html?a=1' }), ctx),
    ).resolves.toMatchObject({ ok: true });
  });

  it('checks the method: a response computed for GET does not pass for POST', async () => {
    const scheme = make();
    const challenge = await first(scheme);
    const result = await verify(scheme, answer(challenge, alice), fakeContext({ method: 'POST' }));
    expect(result).toMatchObject({ ok: false, code: 'ERR_AUTH_INVALID_CREDENTIALS' });
  });

  it('refuses a nonce issued for another realm', async () => {
    const scheme = make();
    const challenge = await first(scheme, fakeContext({ realm: 'one' }));
    const credentials = withParam(answer(challenge, alice), 'realm', 'two');
    const result = await verify(scheme, credentials, fakeContext({ realm: 'two' }));
    expect(result).toMatchObject({ ok: false, message: 'Digest nonce is invalid' });
  });
});

describe('digest(): user names and password sources', () => {
  it('accepts userhash=true when offered and refuses it when not (RFC 7616 §3.4.4)', async () => {
    const withUserhash = make({ userhash: true });
    const challenge = await first(withUserhash);
    await expect(
      verify(withUserhash, answer(challenge, { ...alice, userhash: true })),
    ).resolves.toMatchObject({ ok: true, user: 'alice' });

    const without = make();
    const plain = await first(without);
    await expect(
      verify(without, answer(plain, { ...alice, userhash: true })),
    ).resolves.toMatchObject({
      ok: false,
      message: 'Digest userhash was not offered',
    });
  });

  it('takes userhash=false (any case) as its default, and a plain name when userhash is offered (RFC 7616 §3.4)', async () => {
    const without = make();
    const challenge = await first(without);
    for (const [nc, value] of [
      [1, 'false'],
      [2, 'FALSE'],
    ] as const) {
      const plain = answer(challenge, { ...alice, nc });
      await expect(verify(without, withParam(plain, 'userhash', value))).resolves.toMatchObject({
        ok: true,
        user: 'alice',
      });
    }
    // §3.4.4 lets a server refuse a plain name once it offers userhash; this one takes it.
    const withUserhash = make({ userhash: true });
    await expect(
      verify(withUserhash, answer(await first(withUserhash), alice)),
    ).resolves.toMatchObject({ ok: true, user: 'alice' });
  });

  it('resolves userhash through findUserByHash with a password callback', async () => {
    const findUserByHash = jest.fn((hash: string, realm: string) =>
      hash === H('SHA-256', `alice:${realm}`) ? 'alice' : undefined,
    );
    const scheme = digest({
      getPassword: (user) => (user === 'alice' ? 'secret' : undefined),
      findUserByHash,
      userhash: true,
      secret: SECRET,
    });
    const challenge = await first(scheme);
    await expect(
      verify(scheme, answer(challenge, { ...alice, userhash: true })),
    ).resolves.toMatchObject({
      ok: true,
      user: 'alice',
    });
    await expect(
      verify(scheme, answer(challenge, { user: 'bob', password: 'secret', userhash: true })),
    ).resolves.toMatchObject({ ok: false });
    expect(findUserByHash).toHaveBeenCalledWith(
      H('SHA-256', 'alice:api'),
      'api',
      'SHA-256',
      expect.anything(),
    );
  });

  it('hands the name findUserByHash returns on in NFC (RFC 7616 §4), as the client hashed it', async () => {
    const nfd = 'Ame\u0301lie';
    const getPassword = jest.fn(() => 'pw');
    const scheme = digest({
      getPassword,
      findUserByHash: () => nfd,
      userhash: true,
      secret: SECRET,
    });
    const challenge = await first(scheme);
    const nfc = nfd.normalize('NFC');
    await expect(
      verify(scheme, answer(challenge, { user: nfc, password: 'pw', userhash: true })),
    ).resolves.toMatchObject({ ok: true, user: nfc });
    expect(getPassword).toHaveBeenCalledWith(nfc, 'api', expect.anything());
  });

  /** `sent` is accepted as `username*` (nc 1) and as a plain UTF-8 username (nc 2). */
  async function expectAcceptedBothWays(
    users: Record<string, string>,
    sent: { user: string; password: string },
  ): Promise<void> {
    const scheme = digest({ users, secret: SECRET });
    const challenge = await first(scheme);
    for (const [nc, extended] of [
      [1, true],
      [2, false],
    ] as const) {
      const result = await verify(scheme, answer(challenge, { ...sent, extended, nc }));
      expect(result).toMatchObject({ ok: true, user: sent.user });
    }
  }

  it('accepts username* (RFC 8187) and a UTF-8 plain username for a non-ASCII user', async () => {
    const user = 'J\u00e4s\u00f8n Doe';
    await expectAcceptedBothWays(
      { [user]: 'Secret, or not?' },
      { user, password: 'Secret, or not?' },
    );
  });

  it('keeps configured users in NFC (RFC 7616 §4), so an NFC client matches an NFD entry', async () => {
    const nfd = 'Jo\u0308rg';
    const nfc = 'J\u00f6rg';
    await expectAcceptedBothWays({ [nfd]: 'pa\u0308ss' }, { user: nfc, password: 'p\u00e4ss' });
    expect(() => digest({ users: { [nfd]: 'a', [nfc]: 'b' }, secret: SECRET })).toThrow(TypeError);
  });

  it('refuses username* together with userhash=true', async () => {
    const scheme = make({ userhash: true });
    const credentials = answer(await first(scheme), { ...alice, userhash: true });
    const both = withParam(
      withParam(credentials, 'username', undefined),
      'username*',
      "UTF-8''alice",
    );
    await expect(verify(scheme, both)).resolves.toMatchObject({
      ok: false,
      message: 'Digest credentials have an invalid username* (with userhash=true)',
    });
  });

  it('accepts precomputed HA1 values per hash, so the server keeps no plain password', async () => {
    const realm = 'api';
    const scheme = digest({
      users: { alice: { ha1: { 'SHA-256': H('SHA-256', `alice:${realm}:secret`) } } },
      algorithms: ['SHA-256', 'MD5'],
      secret: SECRET,
    });
    const [sha256, md5] = await challengesOf(scheme, fakeContext());
    await expect(verify(scheme, answer(sha256 as Challenge, alice))).resolves.toMatchObject({
      ok: true,
    });
    // No MD5 HA1 for alice: refused like an unknown user.
    await expect(verify(scheme, answer(md5 as Challenge, alice))).resolves.toMatchObject({
      ok: false,
    });
  });

  it('refuses a user without an HA1 for the hash, whatever HA1 the client hashed (even none)', async () => {
    const scheme = digest({
      users: { alice: { ha1: { 'SHA-256': H('SHA-256', 'alice:api:secret') } } },
      algorithms: ['SHA-256', 'MD5'],
      secret: SECRET,
    });
    const [, md5] = await challengesOf(scheme, fakeContext());
    const credentials = answer(md5 as Challenge, alice);
    const p = credentials.params;
    const ha2 = H('MD5', `GET:${p.uri}`);
    for (const ha1 of ['', 'undefined', 'null']) {
      p.response = H('MD5', `${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
      await expect(verify(scheme, credentials)).resolves.toMatchObject({ ok: false });
    }
  });

  it('accepts getHA1 (sync or async) and getPassword (async)', async () => {
    const viaHA1 = digest({
      getHA1: async (user, realm, hash) =>
        user === 'alice' ? H(hash, `alice:${realm}:secret`).toUpperCase() : null,
      algorithms: ['SHA-256-sess'],
      secret: SECRET,
    });
    await expect(verify(viaHA1, answer(await first(viaHA1), alice))).resolves.toMatchObject({
      ok: true,
    });
    const viaPassword = digest({
      getPassword: async (user) => (user === 'alice' ? 'secret' : false),
      secret: SECRET,
    });
    await expect(
      verify(viaPassword, answer(await first(viaPassword), alice)),
    ).resolves.toMatchObject({
      ok: true,
    });
    await expect(
      verify(viaPassword, answer(await first(viaPassword), { user: 'bob', password: 'secret' })),
    ).resolves.toMatchObject({ ok: false });
  });

  it('throws (next(err), never a success) when a callback returns something that is not a password', async () => {
    const scheme = digest({ getPassword: () => 42 as unknown as string, secret: SECRET });
    await expect(verify(scheme, answer(await first(scheme), alice))).rejects.toMatchObject(
      BAD_RESULT,
    );
    const ha1 = digest({ getHA1: () => 'not-hex', secret: SECRET });
    await expect(verify(ha1, answer(await first(ha1), alice))).rejects.toMatchObject(BAD_RESULT);
  });

  it('throws for a password with a lone surrogate, which has no UTF-8 form', async () => {
    // Hashed as U+FFFD, it let in a client that sent U+FFFD.
    const scheme = digest({ getPassword: () => 'secret\ud800', secret: SECRET });
    const sent = { user: 'alice', password: 'secret\ufffd' };
    await expect(verify(scheme, answer(await first(scheme), sent))).rejects.toMatchObject({
      ...BAD_RESULT,
      message: expect.stringMatching(/lone surrogate/),
    });
  });

  it('gives the user name to the callbacks as decoded text', async () => {
    const getPassword = jest.fn(() => 'pw');
    const scheme = digest({ getPassword, secret: SECRET });
    const user = 'Zo\u00eb';
    await expect(
      verify(scheme, answer(await first(scheme), { user, password: 'pw' })),
    ).resolves.toMatchObject({
      ok: true,
      user,
    });
    expect(getPassword).toHaveBeenCalledWith(user, 'api', expect.anything());
  });

  it('refuses a plain username whose bytes are not UTF-8 without asking the callback', async () => {
    const getPassword = jest.fn(() => 'pw');
    const scheme = digest({ getPassword, secret: SECRET });
    const credentials = withParam(
      answer(await first(scheme), { user: 'x', password: 'pw' }),
      'username',
      '\u00e4',
    );
    await expect(verify(scheme, credentials)).resolves.toMatchObject({ ok: false });
    expect(getPassword).not.toHaveBeenCalled();
  });

  it('refuses a plain username holding a control character, as it does username*', async () => {
    const getPassword = jest.fn(() => 'pw');
    const scheme = digest({ getPassword, secret: SECRET });
    const challenge = await first(scheme);
    // A quoted-string may carry HTAB; UTF-8 may carry C1 controls (U+0085 is C2 85).
    for (const user of ['ev\til', Buffer.from('ev\u0085il', 'utf8').toString('latin1')]) {
      const credentials = withParam(
        answer(challenge, { user: 'x', password: 'pw' }),
        'username',
        user,
      );
      await expect(verify(scheme, credentials)).resolves.toMatchObject({ ok: false });
    }
    expect(getPassword).not.toHaveBeenCalled();
  });

  it('refuses a plain username holding a character above U+00FF, acceptLatin1 or not, never reading its low byte', async () => {
    // Header bytes come as latin1 characters, so such a name came from no wire (the header parser
    // refuses it, 400): a scheme called with credentials built in code. Read by the low byte,
    // U+0161 would be an "a", and "\u0161lice" alice.
    for (const acceptLatin1 of [false, true]) {
      const scheme = make({ acceptLatin1 });
      const credentials = withParam(answer(await first(scheme), alice), 'username', '\u0161lice');
      await expect(verify(scheme, credentials)).resolves.toMatchObject({ ok: false });
    }
  });

  it('keeps a leading U+FEFF of a plain username as part of the name, as username* does', async () => {
    // The bytes EF BB BF are a character of the name, not a byte order mark to drop: dropped,
    // they made a second spelling of "alice" that the password check took for her.
    const bom = '\ufeff';
    const scheme = make();
    const wire = Buffer.from(`${bom}alice`, 'utf8').toString('latin1');
    const forAlice = withParam(answer(await first(scheme), alice), 'username', wire);
    await expect(verify(scheme, forAlice)).resolves.toMatchObject({ ok: false });
    const getPassword = jest.fn(() => 'pw');
    const lookup = digest({ getPassword, secret: SECRET });
    for (const extended of [false, true]) {
      const credentials = answer(await first(lookup), {
        user: `${bom}x`,
        password: 'pw',
        extended,
      });
      await expect(verify(lookup, credentials)).resolves.toMatchObject({
        ok: true,
        user: `${bom}x`,
      });
    }
    expect(getPassword.mock.calls.map((call: unknown[]) => call[0])).toEqual([
      `${bom}x`,
      `${bom}x`,
    ]);
  });
});

describe('digest(): more edge cases', () => {
  it('refuses a malformed username* ext-value', async () => {
    const scheme = make();
    const credentials = answer(await first(scheme), { ...alice, extended: true });
    for (const bad of ["ISO-8859-1''alice", "UTF-8''%ZZ", 'alice']) {
      await expect(verify(scheme, withParam(credentials, 'username*', bad))).resolves.toMatchObject(
        {
          ok: false,
          message: 'Digest credentials have an invalid username*',
        },
      );
    }
  });

  it('throws when findUserByHash returns something that is not a user name', async () => {
    const scheme = digest({
      getPassword: () => 'secret',
      findUserByHash: () => 42 as unknown as string,
      userhash: true,
      secret: SECRET,
    });
    const credentials = answer(await first(scheme), { ...alice, userhash: true });
    await expect(verify(scheme, credentials)).rejects.toMatchObject(BAD_RESULT);
  });

  it('refuses a userhash that is not hex of the right length without a lookup', async () => {
    const findUserByHash = jest.fn(() => 'alice');
    const scheme = digest({
      getPassword: () => 'secret',
      findUserByHash,
      userhash: true,
      secret: SECRET,
    });
    const credentials = answer(await first(scheme), { ...alice, userhash: true });
    await expect(
      verify(scheme, withParam(credentials, 'username', 'alice')),
    ).resolves.toMatchObject({
      ok: false,
    });
    expect(findUserByHash).not.toHaveBeenCalled();
  });

  it('hashes a realm with a latin1 character as the byte it goes out as', async () => {
    const realm = 'caf\u00e9';
    const scheme = make({ realm });
    const challenge = await first(scheme);
    const credentials = answer(challenge, alice);
    // The client got the byte 0xE9 on the wire and hashes it as such.
    const ha1 = H(
      'SHA-256',
      Buffer.concat([Buffer.from('alice:caf'), Buffer.from([0xe9]), Buffer.from(':secret')]),
    );
    const p = credentials.params;
    const ha2 = H('SHA-256', `GET:${p.uri}`);
    const response = H('SHA-256', `${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
    const result = await verify(scheme, withParam(credentials, 'response', response));
    expect(result).toMatchObject({ ok: true, details: { realm } });
  });

  describe('a realm beyond ASCII, hashed or echoed in another spelling', () => {
    // answer() hashes the realm as UTF-8 (a JS string), as python-requests does with the realm it
    // decoded from the ISO-8859-1 octets it got; curl, wget and browsers hash the octets instead.
    const realm = 'Z\u00fcrich';
    const utf8Octets = Buffer.from(realm, 'utf8').toString('latin1');
    const ha1Over = (hash: string, encoding: 'utf8' | 'latin1'): string =>
      H(hash, Buffer.from(`alice:${realm}:secret`, encoding));
    const sources: Array<[string, Partial<DigestOptions>]> = [
      ['users', {}],
      ['getPassword', { getPassword: (user) => (user === 'alice' ? 'secret' : null) }],
      ['users with MD5-sess', { algorithms: ['MD5-sess'] }],
    ];

    it.each(sources)(
      'accepts the UTF-8 hashing from %s, with its rspauth',
      async (_label, opts) => {
        const scheme = make({ realm, ...opts, ...(opts.getPassword ? { users: undefined } : {}) });
        const challenge = await first(scheme);
        const result = await verify(scheme, answer(challenge, alice));
        expect(result).toMatchObject({ ok: true, user: 'alice', details: { realm } });
        const info = parseInfo(
          (result as { headers: Record<string, string> }).headers['Authentication-Info']!,
        );
        expect(info.rspauth).toBe(expectedRspauth(challenge, alice));
        const wrong = await verify(scheme, answer(challenge, { ...alice, password: 'Secret' }));
        expect(wrong).toMatchObject({ ok: false, code: 'ERR_AUTH_INVALID_CREDENTIALS' });
      },
    );

    const latin1 = Buffer.from(realm, 'latin1');
    const utf8 = Buffer.from(realm, 'utf8');
    const utf8Twice = Buffer.from(utf8Octets, 'utf8');
    it.each([
      ['curl, browsers (as sent)', realm, latin1],
      ['python-requests', realm, utf8],
      ['Java (echoes UTF-8, hashes as sent)', utf8Octets, latin1],
      ['curl after a 401 head written as UTF-8', utf8Octets, utf8],
      ['python-requests after a 401 head written as UTF-8', utf8Octets, utf8Twice],
    ])('takes the realm echoed and hashed as %s', async (_label, echoed, hashed) => {
      const scheme = make({ realm });
      const credentials = withParam(answer(await first(scheme), alice), 'realm', echoed);
      const p = credentials.params;
      const ha1 = H(
        'SHA-256',
        Buffer.concat([Buffer.from('alice:'), hashed, Buffer.from(':secret')]),
      );
      const ha2 = H('SHA-256', `GET:${p.uri}`);
      const response = H('SHA-256', `${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
      const result = await verify(scheme, withParam(credentials, 'response', response));
      // req.auth names the realm in force, not the client's spelling of it.
      expect(result).toMatchObject({ ok: true, details: { realm } });
      // Any other spelling is another realm's: passed on as foreign.
      const other = await verify(scheme, withParam(credentials, 'realm', 'Zurich'));
      expect(other).toMatchObject({ ok: false, foreign: true });
    });

    it("tells another realm's nonce in its spelling (foreign) from a forged one (refused)", async () => {
      const scheme = make({ realm });
      // This scheme's nonce for the realm spelt as its UTF-8 octets: a route of that realm's.
      const theirs = await first(make({ realm: utf8Octets }));
      const forOther = withParam(
        answer(theirs, alice),
        'opaque',
        (await first(scheme)).params.opaque,
      );
      expect(await verify(scheme, forOther)).toMatchObject({ ok: false, foreign: true });
      // A nonce no one here signed (from before a restart), echoed as Java does: refused.
      const forged = withParam(
        forOther,
        'nonce',
        (await first(make({ realm, secret: 'y'.repeat(32) }))).params.nonce,
      );
      const refused = await verify(scheme, forged);
      expect(refused).toMatchObject({ ok: false, code: 'ERR_AUTH_INVALID_REQUEST' });
      expect(refused).not.toHaveProperty('foreign');
    });

    it('checks an HA1 from getHA1 as given: over the octets it was made from', async () => {
      for (const encoding of ['latin1', 'utf8'] as const) {
        const scheme = make({
          realm,
          users: undefined,
          getHA1: (user, _realm, hash) => (user === 'alice' ? ha1Over(hash, encoding) : null),
        });
        const challenge = await first(scheme);
        const overUtf8 = answer(challenge, alice);
        const p = overUtf8.params;
        const ha2 = H('SHA-256', `GET:${p.uri}`);
        const overLatin1 = withParam(
          overUtf8,
          'response',
          H(
            'SHA-256',
            `${ha1Over('SHA-256', 'latin1')}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`,
          ),
        );
        const results = [await verify(scheme, overLatin1), await verify(scheme, overUtf8)];
        expect(results.map((r) => r.ok)).toEqual(
          encoding === 'latin1' ? [true, false] : [false, true],
        );
      }
    });

    it('resolves a userhash made over either spelling of the realm', async () => {
      const scheme = make({ realm, userhash: true });
      const challenge = await first(scheme);
      for (const [nc, encoding] of [[1, 'latin1'] as const, [2, 'utf8'] as const]) {
        const credentials = answer(challenge, { ...alice, userhash: true, nc });
        const hashed = H('SHA-256', Buffer.from(`alice:${realm}`, encoding));
        const result = await verify(scheme, withParam(credentials, 'username', hashed));
        expect(result).toMatchObject({ ok: true, user: 'alice' });
      }
    });
  });

  it('keeps no long uri or method in its H(A2) cache: unauthenticated requests cannot fill memory', async () => {
    // Every request computes H(method ":" uri) before the password is known. Each cached uri was
    // kept (1024 per method and algorithm, up to the header size each): 35 methods x 1024 uris of
    // 7 KB held 268 MB per algorithm offered, from requests with a wrong password.
    const scheme = make();
    const a2Calls = async (uri: string, method = 'GET'): Promise<number> => {
      const spy = jest.spyOn(algorithms, 'hashJoined');
      try {
        for (let i = 0; i < 2; i++) {
          const ctx = fakeContext({ url: uri, method });
          const credentials = answer(await first(scheme, ctx), {
            ...alice,
            password: 'x',
            uri,
            method,
          });
          await expect(verify(scheme, credentials, ctx)).resolves.toMatchObject({ ok: false });
        }
        return spy.mock.calls.filter(([, text]) => text === `${method}:${uri}`).length;
      } finally {
        spy.mockRestore();
      }
    };
    // The control: a short uri is hashed once and then served from the cache.
    expect(await a2Calls('/short')).toBe(1);
    // A long one is hashed on every request, never kept.
    expect(await a2Calls(`/long?${'q'.repeat(8000)}`)).toBe(2);
    // So is a long method (HTTP/2 takes any token as one).
    expect(await a2Calls('/short', 'M'.repeat(8000))).toBe(2);
  });

  it('refuses at setup a nonceLifetime the nonce cannot carry, and accepts the largest it can', async () => {
    // The expiry travels in 6 bytes (below 2^48 ms): a longer lifetime was accepted by digest()
    // and then made every challenge throw a RangeError (a 500 instead of each 401).
    expect(() => make({ nonceLifetime: Number.MAX_SAFE_INTEGER })).toThrow(TypeError);
    expect(() => make({ nonceLifetime: 2 ** 48 })).toThrow(/nonceLifetime/);
    const scheme = make({ nonceLifetime: 2 ** 47 });
    const challenge = await first(scheme);
    await expect(verify(scheme, answer(challenge, alice))).resolves.toMatchObject({
      ok: true,
      user: 'alice',
    });
  });
});

describe('digest(): qop=auth-int (RFC 7616 §3.4.3)', () => {
  const scheme = make({ qop: ['auth', 'auth-int'] });
  const body = Buffer.from('{"amount":100}');

  it('accepts auth-int over req.rawBody, and over req.body when it is a Buffer or a string', async () => {
    const challenge = await first(scheme);
    let nc = 0;
    for (const ctx of [
      fakeContext({ method: 'POST', rawBody: body, headers: { 'content-length': '14' } }),
      fakeContext({ method: 'POST', body, headers: { 'content-length': '14' } }),
      fakeContext({ method: 'POST', body: body.toString(), headers: { 'content-length': '14' } }),
    ]) {
      nc++;
      const credentials = answer(challenge, {
        ...alice,
        qop: 'auth-int',
        method: 'POST',
        body,
        nc,
      });
      const result = await verify(scheme, credentials, ctx);
      expect(result).toMatchObject({ ok: true, details: { qop: 'auth-int' } });
      // rspauth would cover the response body, unknown when the headers go out; and a field that
      // states a qop must carry rspauth, cnonce and nc (RFC 2617 §3.2.3): no field at all.
      if (result.ok) expect(result.headers).toBeUndefined();
    }
  });

  it('refuses auth-int over a body that differs', async () => {
    const credentials = answer(await first(scheme), {
      ...alice,
      qop: 'auth-int',
      method: 'POST',
      body,
    });
    const ctx = fakeContext({ method: 'POST', rawBody: Buffer.from('{"amount":999}') });
    await expect(verify(scheme, credentials, ctx)).resolves.toMatchObject({ ok: false });
  });

  it('hashes the empty body of a request without one', async () => {
    const credentials = answer(await first(scheme), { ...alice, qop: 'auth-int' });
    await expect(verify(scheme, credentials, fakeContext())).resolves.toMatchObject({ ok: true });
  });

  it('refuses cleanly (401 with fresh challenges, not a throw) when the body was not kept', async () => {
    const credentials = answer(await first(scheme), {
      ...alice,
      qop: 'auth-int',
      method: 'POST',
      body,
    });
    const ctx = fakeContext({
      method: 'POST',
      body: { amount: 100 },
      headers: { 'content-length': '14' },
    });
    await expect(verify(scheme, credentials, ctx)).resolves.toEqual({
      ok: false,
      code: 'ERR_AUTH_INVALID_REQUEST',
      // What to do, for the developer who forgot the raw body parser and sees only a 401.
      message:
        'qop=auth-int needs the raw request body, and req.rawBody or req.body is no Buffer ' +
        'or string (put express.raw({ type: () => true }) before authenticate(), or give ' +
        'digest() a body option)',
      user: 'alice',
    });
  });

  it('refuses auth-int when the body option returns nothing, and hashes a string it returns', async () => {
    const none = make({ qop: ['auth-int'], body: () => undefined });
    const c1 = answer(await first(none), { ...alice, qop: 'auth-int', method: 'POST', body });
    await expect(verify(none, c1, fakeContext({ method: 'POST' }))).resolves.toMatchObject({
      ok: false,
      message: 'qop=auth-int needs the raw request body, and the body option gave none',
    });
    const text = make({ qop: ['auth-int'], body: () => body.toString() });
    const c2 = answer(await first(text), { ...alice, qop: 'auth-int', method: 'POST', body });
    await expect(verify(text, c2, fakeContext({ method: 'POST' }))).resolves.toMatchObject({
      ok: true,
    });
  });

  it('reads the body through the body option when given', async () => {
    const custom = make({ qop: ['auth-int'], body: async () => body });
    const credentials = answer(await first(custom), {
      ...alice,
      qop: 'auth-int',
      method: 'POST',
      body,
    });
    await expect(
      verify(custom, credentials, fakeContext({ method: 'POST' })),
    ).resolves.toMatchObject({ ok: true });
  });
});

// RFC 7616 §3.3: domain is a quoted, space-separated list of URIs (RFC 3986). A tab, a quote or
// a backslash was taken, and the challenge then carried a list clients split otherwise.
describe('digest(): the domain option', () => {
  it.each([
    ['/api/'],
    ['https://example.com/api/'],
    ['http://[::1]:8080/a?b=c#d'],
    ["/a;v=1/!$&'()*+,=:@~._-"],
    ['/caf%C3%A9/%e2%82%ac%20'],
    // A percent-encoded octet whose first digit is 0 is as good as any other.
    ['/a%0Ab%09'],
  ])('takes an absolute path or absolute URI written as RFC 3986 allows: %s', (uri) => {
    expect(() => make({ domain: ['/first/', uri] })).not.toThrow();
  });

  const WHITESPACE =
    'the domain goes out as one space-separated list (RFC 7616 §3.3), which clients split at ' +
    'whitespace. Give each URI as an element of its own';
  const NO_URI = 'which no URI holds (RFC 3986 §2)';
  it.each([
    [[], 'digest(): domain must be a non-empty array of URIs'],
    ['/api/', 'digest(): domain must be a non-empty array of URIs'],
    [['/api/', 5], 'digest(): a domain URI must be a string, not a number'],
    [
      ['/api/', ''],
      'digest(): a domain URI is empty: give an absolute path (/api/) or an absolute URI',
    ],
    [
      ['/a b'],
      `digest(): the domain URI "/a b" holds U+0020 (a space): ${WHITESPACE}, or percent-encode it: %20`,
    ],
    [
      ['/a\tb'],
      `digest(): the domain URI "/a\\tb" holds U+0009 (a tab): ${WHITESPACE}, or percent-encode it: %09`,
    ],
    [
      ['/a\nb'],
      `digest(): the domain URI "/a\\nb" holds U+000A (a line break): ${WHITESPACE}, or percent-encode it: %0A`,
    ],
    [
      ['/a\u00a0b'],
      `digest(): the domain URI "/a\\u00a0b" holds U+00A0 (whitespace): ${WHITESPACE}, or percent-encode it: %C2%A0`,
    ],
    [
      ['/a\u3000b'],
      `digest(): the domain URI "/a\\u3000b" holds U+3000 (whitespace): ${WHITESPACE}, or percent-encode it: %E3%80%80`,
    ],
    [['/a"b'], `digest(): the domain URI "/a\\"b" holds U+0022, ${NO_URI}: percent-encode it, %22`],
    [
      ['/a\\b'],
      `digest(): the domain URI "/a\\\\b" holds U+005C, ${NO_URI}: percent-encode it, %5C`,
    ],
    [['/a<b>'], `digest(): the domain URI "/a<b>" holds U+003C, ${NO_URI}: percent-encode it, %3C`],
    [
      ['/{a}|^`'],
      `digest(): the domain URI "/{a}|^\`" holds U+007B, ${NO_URI}: percent-encode it, %7B`,
    ],
    [
      ['/a\u007fb'],
      `digest(): the domain URI "/a\\u007fb" holds U+007F, ${NO_URI}: percent-encode it, %7F`,
    ],
    [
      ['/café'],
      `digest(): the domain URI "/caf\\u00e9" holds U+00E9, ${NO_URI}: percent-encode it, %C3%A9`,
    ],
    [
      ['/\u{1f600}'],
      `digest(): the domain URI "/\\ud83d\\ude00" holds U+1F600, ${NO_URI}: percent-encode it, %F0%9F%98%80`,
    ],
    [['/\ud800'], `digest(): the domain URI "/\\ud800" holds U+D800, ${NO_URI}`],
    [['/\udfff'], `digest(): the domain URI "/\\udfff" holds U+DFFF, ${NO_URI}`],
    // Either digit not hex (RFC 3986 §2.1), wherever the "%" stands.
    ...['/a%zz', '/a%z4', '/a%4z', '/a%4', '/cafe%4', '/a%'].map((uri): [string[], string] => [
      [uri],
      `digest(): the domain URI ${JSON.stringify(uri)} holds a "%" that begins no percent-encoded octet ("%" and two hex digits, RFC 3986 §2.1): write a "%" itself as %25`,
    ]),
  ])('refuses %j at setup, naming the URI and the character', (domain, message) => {
    expect(() => make({ domain: domain as string[] })).toThrow(TypeError);
    expect(() => make({ domain: domain as string[] })).toThrow(new TypeError(message));
  });

  // RFC 7616 §3.3 takes an absolute path (relative to the server's root) or an absolute URI. A
  // relative reference was taken, and a client resolves it against the URL it asked for (ours
  // does: /x/y then covers /x/api/), so the space it meant is not the one configured. `1a:b` is
  // no URI reference at all (a first segment with ":" needs a scheme, RFC 3986 §4.2).
  it.each(['api/', './api/', '../', '//files.example.com/', '?a=1', '#top', '1a:b', '-a:b'])(
    'refuses the relative reference %j at setup',
    (uri) => {
      const message =
        `digest(): the domain URI ${JSON.stringify(uri)} is neither an absolute path (/api/) ` +
        'nor an absolute URI (https://example.com/api/), the two RFC 7616 §3.3 takes: a ' +
        'client would resolve it against the URL it requested';
      expect(() => make({ domain: ['/api/', uri] })).toThrow(new TypeError(message));
    },
  );

  it.each(['urn:example:files', 'HTTPS://example.com/', 'z+.-9:x'])(
    'takes an absolute URI of any scheme: %s',
    (uri) => {
      expect(() => make({ domain: [uri] })).not.toThrow();
    },
  );
});

describe('digest(): options are checked at setup', () => {
  it.each([
    ['no password source', { secret: SECRET }],
    ['two password sources', { users: {}, getPassword: (): string => 'x', secret: SECRET }],
    ['a short secret', { users: {}, secret: 'short' }],
    ['a 31-byte Buffer secret', { users: {}, secret: Buffer.alloc(31) }],
    ['an unknown algorithm', { users: {}, algorithms: ['SHA-1'] }],
    ['a mis-cased algorithm', { users: {}, algorithms: ['sha-256'] }],
    ['no algorithms', { users: {}, algorithms: [] }],
    ['a repeated algorithm', { users: {}, algorithms: ['MD5', 'MD5'] }],
    ['an unknown qop', { users: {}, qop: ['auth-conf'] }],
    ['a realm with CR LF', { users: {}, realm: 'a\r\nb' }],
    ['a realm above U+00FF', { users: {}, realm: '\u2603' }],
    ['an empty opaque', { users: {}, opaque: '' }],
    // Escaped, they are still misread: python-requests answers 400, wget gives up.
    ['an opaque with a double quote', { users: {}, opaque: 'a"b' }],
    ['an opaque with a backslash', { users: {}, opaque: 'a\\b' }],
    ['userhash without a way to resolve it', { getPassword: (): string => 'x', userhash: true }],
    ['a bad HA1', { users: { alice: { ha1: { MD5: 'xyz' } } } }],
    ['an HA1 for an unknown hash', { users: { alice: { ha1: { 'SHA-1': 'a'.repeat(40) } } } }],
    ['a zero nonce lifetime', { users: {}, nonceLifetime: 0 }],
    [
      'nextNonceBefore not below the lifetime',
      { users: {}, nonceLifetime: 1000, nextNonceBefore: 1000 },
    ],
    ['a negative nextNonceBefore', { users: {}, nextNonceBefore: -1 }],
    ['a store without use()', { users: {}, store: {} }],
    ['window with a custom store', { users: {}, store: { use: async () => true }, window: 8 }],
    ['options that are not an object', null],
    ['a body that is not a function', { users: {}, body: 'raw' }],
    ['a clock that is not a function', { users: {}, now: 5 }],
    ['a getPassword that is not a function', { getPassword: 'pw' }],
    ['a getHA1 that is not a function', { getHA1: 'ha1' }],
    ['a findUserByHash that is not a function', { getHA1: () => null, findUserByHash: 'x' }],
    ['a findUserByHash beside users, never asked', { users: {}, findUserByHash: () => null }],
    ['users that are not an object', { users: 'alice:secret' }],
    ['a user entry that is neither a password nor { ha1 }', { users: { alice: 42 } }],
    ['an empty user name', { users: { '': 'x' } }],
    ['a user name given twice in NFC', { users: { '\u00e9': 'x', 'e\u0301': 'y' } }],
    ['an empty password (an unset environment variable?)', { users: { alice: '' } }],
    ['a user name with a tab', { users: { 'al\tice': 'x' } }],
    ['a user name with a C1 control', { users: { 'al\u0085ice': 'x' } }],
    // No UTF-8 form: hashed as U+FFFD, the password let in a client that sent U+FFFD instead.
    ['a user name with a lone surrogate', { users: { 'al\ud800ice': 'x' } }],
    ['a password with a lone surrogate', { users: { alice: 'secret\udc00' } }],
    // A line end left from a file or variable: no login box types one, and basic() refuses it.
    ['a password with a CR left from a CRLF file', { users: { alice: 'secret\r' } }],
    ['a password with a line feed', { users: { alice: 'secret\n' } }],
    ['a password with a C1 control', { users: { alice: 'sec\u0085ret' } }],
    ['a qop that is not an array', { users: {}, qop: 'auth' }],
    ['a repeated qop', { users: {}, qop: ['auth', 'auth'] }],
    ['a secret that is neither a string nor a Buffer', { users: {}, secret: 42 }],
    ['a non-boolean userhash', { users: {}, userhash: 'yes' }],
  ])('throws TypeError for %s', (_title, options) => {
    expect(() => digest(options as unknown as DigestOptions)).toThrow(TypeError);
  });

  // Read at setup (as the first version of the check did), a test's clock set back afterwards
  // stood still behind that reading, and a nonce answered past its life was taken.
  it('reads no clock at setup: a test clock set after it counts from its first reading', async () => {
    let clock = Date.now();
    const scheme = make({ now: () => clock, nonceLifetime: 60_000 });
    clock = 1000;
    const credentials = answer(await first(scheme), { user: 'alice', password: 'secret' });
    clock = 121_000;
    expect(await verify(scheme, credentials)).toMatchObject({
      ok: false,
      code: 'ERR_AUTH_STALE_NONCE',
    });
  });

  // A clock of NaN made every nonce live for ever: now no nonce is made on it, nor one checked.
  it.each([
    ['NaN', () => NaN],
    ['a promise', async () => Date.now()],
  ])('fails closed on a clock that reads %s', async (_title, now) => {
    const challenge = await first(make());
    const credentials = answer(challenge, { user: 'alice', password: 'secret' });
    const broken = make({ now: now as () => number });
    await expect(first(broken)).rejects.toThrow('digest(): now() must return a finite number');
    await expect(verify(broken, credentials)).rejects.toThrow('must return a finite number');
  });

  it('accepts the bounds of the lifetimes: 1 ms, and nextNonceBefore from 0 to just below it', () => {
    expect(() => make({ nonceLifetime: 1 })).not.toThrow();
    expect(() => make({ nonceLifetime: 1000, nextNonceBefore: 0 })).not.toThrow();
    expect(() => make({ nonceLifetime: 1000, nextNonceBefore: 999 })).not.toThrow();
  });

  it('accepts a 32-byte secret given as a string or a Buffer', () => {
    expect(() => digest({ users: {}, secret: 'a'.repeat(32) })).not.toThrow();
    expect(() => digest({ users: {}, secret: Buffer.alloc(32, 1) })).not.toThrow();
  });
});

// docs/digest.md: `users` is copied at setup.
describe('digest({ users })', () => {
  it('copies users at setup: later changes to the object are not seen', async () => {
    const users: Record<string, string> = { alice: 'secret' };
    const scheme = digest({ users, secret: SECRET });
    users.alice = 'changed';
    users.carol = 'added';
    const challenge = await first(scheme);
    await expect(verify(scheme, answer(challenge, alice))).resolves.toMatchObject({ ok: true });
    for (const who of [
      { user: 'alice', password: 'changed' },
      { user: 'carol', password: 'added' },
    ]) {
      await expect(verify(scheme, answer(challenge, who))).resolves.toMatchObject({ ok: false });
    }
  });
});
