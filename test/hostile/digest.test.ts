/**
 * Digest (RFC 7616) against a forger: replayed and parallel nonce counts, forged, tampered and
 * expired nonces, a `uri` that is not the request target, directives not as offered, `qop`
 * dropped, and an `auth-int` body swapped after signing. Each refusal is checked against an
 * honest answer that succeeds on the same server.
 */
import { randomBytes } from 'node:crypto';
import express from 'express';
import { authenticate, digest, type DigestOptions } from 'authscheme';
import {
  HIT,
  digestAnswer,
  digestHeader,
  expectRefused,
  send,
  startForThisFile,
  type DigestAnswer,
  type Reply,
  type TestServer,
} from './helpers';

const users = { alice: 'wonderland' };
const secret = 'digest-hostile-secret-of-32-bytes!';
let clock = Date.now();
const start = startForThisFile();

async function make(
  options: Partial<DigestOptions> = {},
  before: express.RequestHandler[] = [],
): Promise<TestServer> {
  return start(
    authenticate({
      realm: 'digest',
      schemes: [digest({ users, secret, now: () => clock, ...options } as DigestOptions)],
    }),
    { before },
  );
}

let target: TestServer;
beforeAll(async () => {
  target = await make();
});
beforeEach(() => {
  clock = Date.now();
});

/** A Digest refusal: 401 (or 400), fresh Digest challenges, no-store, the handler not run. */
function expectDigestRefused(reply: Reply, status: 400 | 401 = 401): void {
  expectRefused(reply, [status]);
  const lines = reply.headers['www-authenticate'] ?? [];
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line.startsWith('Digest ')).toBe(true);
}

const isStale = (reply: Reply): boolean =>
  (reply.headers['www-authenticate'] ?? []).some((line) => line.includes('stale=true'));

async function answer(server = target, path = '/'): Promise<DigestAnswer> {
  return digestAnswer(server, 'alice', 'wonderland', 'GET', path);
}

describe('nonce counts', () => {
  it('accepts an honest answer once and refuses the same nc again', async () => {
    const a = await answer();
    const first = await send(target, { Authorization: digestHeader(a) });
    expect(first.status).toBe(200);
    expect(first.headers[HIT]).toEqual(['yes']);
    const replay = await send(target, { Authorization: digestHeader(a) });
    expectDigestRefused(replay);
  });

  it('refuses a count below one already used, and nc=0', async () => {
    const a = await answer();
    expect(
      (await send(target, { Authorization: digestHeader({ ...a, nc: '00000005' }) })).status,
    ).toBe(200);
    expect(
      (await send(target, { Authorization: digestHeader({ ...a, nc: '00000003' }) })).status,
    ).toBe(200);
    expectDigestRefused(
      await send(target, { Authorization: digestHeader({ ...a, nc: '00000005' }) }),
    );
    expectDigestRefused(
      await send(target, { Authorization: digestHeader({ ...a, nc: '00000000' }) }),
    );
  });

  it('refuses nc spelled differently for a count already used (0000000a as 0000000A, a, …)', async () => {
    const a = await answer();
    expect(
      (await send(target, { Authorization: digestHeader({ ...a, nc: '0000000a' }) })).status,
    ).toBe(200);
    for (const nc of ['0000000A', 'a', '00000000a', '+0000000a']) {
      expectRefused(await send(target, { Authorization: digestHeader({ ...a, nc }) }), [400, 401]);
    }
  });

  it('lets exactly one of 50 identical parallel requests through', async () => {
    const a = await answer();
    const header = digestHeader(a);
    const replies = await Promise.all(
      Array.from({ length: 50 }, () => send(target, { Authorization: header })),
    );
    expect(replies.filter((r) => r.status === 200)).toHaveLength(1);
    expect(replies.filter((r) => r.headers[HIT] !== undefined)).toHaveLength(1);
    for (const reply of replies.filter((r) => r.status !== 200)) expectDigestRefused(reply);
  });
});

describe('nonces', () => {
  it('refuses a made-up nonce of the right shape', async () => {
    const a = await answer();
    const forged = randomBytes(39).toString('base64url');
    const reply = await send(target, { Authorization: digestHeader({ ...a, nonce: forged }) });
    expectDigestRefused(reply);
    expect(isStale(reply)).toBe(false);
  });

  it('refuses a nonce with one character changed (response recomputed over it)', async () => {
    const a = await answer();
    const i = 20;
    const swapped = a.nonce[i] === 'A' ? 'B' : 'A';
    const tampered = a.nonce.slice(0, i) + swapped + a.nonce.slice(i + 1);
    const reply = await send(target, { Authorization: digestHeader({ ...a, nonce: tampered }) });
    expectDigestRefused(reply);
    expect(isStale(reply)).toBe(false);
  });

  it('refuses a nonce whose embedded expiry was pushed forward', async () => {
    const a = await answer();
    const bytes = Buffer.from(a.nonce, 'base64url');
    bytes.writeUIntBE(bytes.readUIntBE(1, 6) + 86_400_000, 1, 6);
    const reply = await send(target, {
      Authorization: digestHeader({ ...a, nonce: bytes.toString('base64url') }),
    });
    expectDigestRefused(reply);
  });

  it('refuses a nonce issued under another secret or another realm', async () => {
    const other = await make({ secret: 'another-secret-of-at-least-32-bytes' });
    const otherRealm = await make({ realm: 'elsewhere' });
    for (const issuer of [other, otherRealm]) {
      const foreign = await digestAnswer(issuer, 'alice', 'wonderland');
      const a = await answer();
      const reply = await send(target, {
        Authorization: digestHeader({ ...a, nonce: foreign.nonce }),
      });
      expectDigestRefused(reply);
    }
  });

  it('refuses an expired nonce: stale=true only when the password was right', async () => {
    const a = await answer();
    clock += 301_000;
    const right = await send(target, { Authorization: digestHeader(a) });
    expectDigestRefused(right);
    expect(isStale(right)).toBe(true);
    const wrong = await send(target, {
      Authorization: digestHeader({ ...a, password: 'nope', nc: '00000002' }),
    });
    expectDigestRefused(wrong);
    expect(isStale(wrong)).toBe(false);
  });

  it('refuses an empty or absurdly long nonce', async () => {
    const a = await answer();
    for (const nonce of ['', 'x'.repeat(4000)]) {
      expectRefused(
        await send(target, { Authorization: digestHeader({ ...a, nonce }) }),
        [400, 401],
      );
    }
  });
});

describe('uri must be the request target', () => {
  it.each([
    ['another path', '/a', '/b'],
    ['only the query differing', '/a?x=1', '/a?x=2'],
    ['a query added', '/a', '/a?admin=1'],
    ['a query dropped', '/a?x=1', '/a'],
    ['percent-encoding differing', '/a', '/%61'],
    ['a trailing slash', '/a', '/a/'],
    ['the absolute form', 'http://127.0.0.1/a', '/a'],
  ])('refuses %s with 400', async (_title, signedUri, requested) => {
    const a = await answer(target, requested);
    const reply = await send(
      target,
      { Authorization: digestHeader({ ...a, uri: signedUri }) },
      'GET',
      requested,
    );
    expectDigestRefused(reply, 400);
  });

  it('accepts the same answer on its own target (the control)', async () => {
    const a = await answer(target, '/a?x=1');
    expect((await send(target, { Authorization: digestHeader(a) }, 'GET', '/a?x=1')).status).toBe(
      200,
    );
  });
});

describe('directives not as offered', () => {
  it.each([
    ['another realm', (a: DigestAnswer) => ({ ...a, realm: 'other' })],
    ['a realm differing in case', (a: DigestAnswer) => ({ ...a, realm: 'DIGEST' })],
    ['another opaque', (a: DigestAnswer) => ({ ...a, opaque: 'forged' })],
    ['no opaque', (a: DigestAnswer) => ({ ...a, opaque: undefined })],
    ['an algorithm not offered (MD5)', (a: DigestAnswer) => ({ ...a, algorithm: 'MD5' })],
    ['an algorithm not offered (MD5-sess)', (a: DigestAnswer) => ({ ...a, algorithm: 'MD5-sess' })],
    [
      'an algorithm not offered (SHA-512-256)',
      (a: DigestAnswer) => ({ ...a, algorithm: 'SHA-512-256' }),
    ],
    ['qop dropped (RFC 2069 style)', (a: DigestAnswer) => ({ ...a, qop: undefined })],
    ['qop=auth-int when only auth is offered', (a: DigestAnswer) => ({ ...a, qop: 'auth-int' })],
    ['an unknown user', (a: DigestAnswer) => ({ ...a, username: 'mallory' })],
    ['the wrong password', (a: DigestAnswer) => ({ ...a, password: 'nope' })],
  ])('refuses %s', async (_title, forge) => {
    const a = forge(await answer());
    expectDigestRefused(await send(target, { Authorization: digestHeader(a) }));
  });

  it('refuses an answer without algorithm (MD5 by default) when only SHA-256 is offered', async () => {
    const a = { ...(await answer()), algorithm: 'MD5' };
    const header = digestHeader(a).replace(', algorithm=MD5', '');
    expect(header).not.toContain('algorithm');
    expectDigestRefused(await send(target, { Authorization: header }));
  });

  it('refuses a response of the wrong length or with non-hex digits', async () => {
    const a = await answer();
    const right = digestHeader(a).match(/response="([0-9a-f]+)"/)![1]!;
    for (const response of [right.slice(1), `${right}0`, `${right.slice(0, -1)}g`, '']) {
      expectRefused(
        await send(target, { Authorization: digestHeader(a, { response }) }),
        [400, 401],
      );
    }
  });

  it('refuses an answer with both username and username*', async () => {
    const a = await answer();
    const reply = await send(target, {
      Authorization: digestHeader(a, { extra: "username*=UTF-8''alice" }),
    });
    expectRefused(reply, [400, 401]);
  });
});

describe('qop=auth-int', () => {
  let intServer: TestServer;
  beforeAll(async () => {
    intServer = await make({ qop: ['auth-int'] }, [express.raw({ type: '*/*' })]);
  });

  async function post(a: DigestAnswer, body: string): Promise<Reply> {
    return send(
      intServer,
      { Authorization: digestHeader(a), 'Content-Type': 'text/plain' },
      'POST',
      '/',
      body,
    );
  }

  it('accepts the body that was signed (the control)', async () => {
    const a = await digestAnswer(intServer, 'alice', 'wonderland', 'POST');
    expect(a.qop).toBe('auth-int');
    expect((await post({ ...a, body: Buffer.from('amount=10') }, 'amount=10')).status).toBe(200);
  });

  it.each([
    ['another body', 'amount=10000'],
    ['the body with a byte appended', 'amount=10\n'],
    ['no body', ''],
  ])('refuses %s than the one signed', async (_title, sent) => {
    const a = await digestAnswer(intServer, 'alice', 'wonderland', 'POST');
    expectDigestRefused(await post({ ...a, body: Buffer.from('amount=10') }, sent));
  });

  it('refuses qop=auth (not offered) and a dropped qop', async () => {
    for (const qop of ['auth', undefined]) {
      const a = await digestAnswer(intServer, 'alice', 'wonderland', 'POST');
      expectDigestRefused(await post({ ...a, qop, body: Buffer.from('x') }, 'x'));
    }
  });
});
