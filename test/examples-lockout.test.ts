/**
 * examples/basic/lockout.ts: per-account lockout and per-address limits built on `audit`, attacked
 * as a guesser would.
 */
import { createHash } from 'node:crypto';
import request from 'supertest';
import { basic, authenticate } from 'authscheme';
import express from 'express';
import { lockoutApp, withLockout, FailureCounter } from '../examples/basic/lockout';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Digest's challenge fields from a 401. */
function challengeOf(header: string | undefined): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [, name, quoted, plain] of (header ?? '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)) {
    fields[name!] = quoted ?? plain!;
  }
  return fields;
}

/** A SHA-256 Digest answer to `c` (qop=auth). */
function digestAnswer(
  c: Record<string, string>,
  uri: string,
  user: string,
  password: string,
  nc: number,
): string {
  const count = nc.toString(16).padStart(8, '0');
  const ha1 = sha256(`${user}:${c.realm}:${password}`);
  const response = sha256(`${ha1}:${c.nonce}:${count}:cn0nce:auth:${sha256(`GET:${uri}`)}`);
  return (
    `Digest username="${user}", realm="${c.realm}", nonce="${c.nonce}", uri="${uri}", ` +
    `algorithm=SHA-256, qop=auth, nc=${count}, cnonce="cn0nce", response="${response}", ` +
    `opaque="${c.opaque}"`
  );
}

describe('examples/basic/lockout', () => {
  it('refuses a locked account with the right password as it refuses a wrong one, cache and all', async () => {
    const { app, alerts } = lockoutApp();
    expect((await request(app).get('/').auth('alice', 'secret')).status).toBe(200); // cached now
    for (let i = 0; i < 5; i++) {
      expect((await request(app).get('/').auth('alice', `guess${i}`)).status).toBe(401);
    }
    const right = await request(app).get('/').auth('alice', 'secret');
    const wrong = await request(app).get('/').auth('alice', 'guess9');
    expect(right.status).toBe(401);
    const same = (res: request.Response) => {
      const headers: Record<string, unknown> = { ...res.headers };
      delete headers.date;
      return { status: res.status, headers, body: res.text };
    };
    expect(same(right)).toEqual(same(wrong));
    expect(alerts).toEqual([
      expect.stringMatching(/^right password for locked account "alice" from /),
    ]);
    // Another account is not touched.
    expect((await request(app).get('/').auth('bob', 'builder')).status).toBe(200);
  });

  it('a check inside a cached verify lets a locked account in: what the wrapper is for', async () => {
    const fails = new Map<string, number>();
    const locked = (user: string) => (fails.get(user) ?? 0) >= 5;
    const app = express();
    app.use(
      authenticate({
        audit: ({ code, user }) => {
          if (code === 'ERR_AUTH_INVALID_CREDENTIALS')
            fails.set(user!, (fails.get(user!) ?? 0) + 1);
        },
        schemes: [
          basic({
            cache: true,
            verify: (user, password) => (password === 'secret' && !locked(user) ? user : false),
          }),
        ],
      }),
    );
    app.get('/', (_req, res) => res.end('in'));
    expect((await request(app).get('/').auth('alice', 'secret')).status).toBe(200);
    for (let i = 0; i < 5; i++) await request(app).get('/').auth('alice', `guess${i}`);
    expect(locked('alice')).toBe(true);
    // The cache answers without calling verify: the guesser sees a 200.
    expect((await request(app).get('/').auth('alice', 'secret')).status).toBe(200);
  });

  it('counts no credential-less request, malformed header, stale or replayed nonce', async () => {
    const { app, accounts } = lockoutApp();
    for (let i = 0; i < 30; i++) {
      expect((await request(app).get('/')).status).toBe(401);
      expect((await request(app).get('/').set('Authorization', 'Basic !!')).status).toBe(400);
    }
    const first = await request(app).get('/digest/');
    const c = challengeOf(first.headers['www-authenticate']);
    const good = digestAnswer(c, '/digest/', 'carol', 'hunter2', 1);
    expect((await request(app).get('/digest/').set('Authorization', good)).status).toBe(200);
    for (let i = 0; i < 10; i++) {
      const replay = await request(app).get('/digest/').set('Authorization', good);
      expect(replay.status).toBe(401);
      expect(replay.headers['www-authenticate']).toContain('stale=true');
      const forged = digestAnswer(
        { ...c, nonce: `${c.nonce!.slice(0, -4)}AAAA` },
        '/digest/',
        'carol',
        'x',
        2,
      );
      expect((await request(app).get('/digest/').set('Authorization', forged)).status).toBe(401);
    }
    expect(accounts.blocked('carol')).toBe(false);
    const again = digestAnswer(c, '/digest/', 'carol', 'hunter2', 2);
    expect((await request(app).get('/digest/').set('Authorization', again)).status).toBe(200);
  });

  it('locks a Digest account, and the same account over Basic', async () => {
    const { app } = lockoutApp();
    const c = challengeOf((await request(app).get('/digest/')).headers['www-authenticate']);
    for (let i = 0; i < 5; i++) {
      const guess = digestAnswer(c, '/digest/', 'carol', `guess${i}`, i + 1);
      expect((await request(app).get('/digest/').set('Authorization', guess)).status).toBe(401);
    }
    const right = digestAnswer(c, '/digest/', 'carol', 'hunter2', 9);
    expect((await request(app).get('/digest/').set('Authorization', right)).status).toBe(401);
    // Basic shares the count: one account, whichever scheme.
    expect((await request(app).get('/').auth('carol', 'hunter2')).status).toBe(401);
  });

  it('counts a name sent in NFD under its NFC form, as the password check compares it', async () => {
    const { app, accounts } = lockoutApp();
    for (let i = 0; i < 5; i++) await request(app).get('/').auth('Jose\u0301', `guess${i}`);
    expect(accounts.blocked('Jos\u00e9')).toBe(true);
  });

  it('refuses an address after 20 wrong guesses over many names, never for challenges', async () => {
    const { app } = lockoutApp();
    for (let i = 0; i < 50; i++) expect((await request(app).get('/')).status).toBe(401);
    for (let i = 0; i < 20; i++) {
      expect((await request(app).get('/').auth(`user${i}`, 'guess')).status).toBe(401);
    }
    const limited = await request(app).get('/').auth('bob', 'builder');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('900');
  });

  it('bounds the counter: a flood of names keeps it at its size', () => {
    let now = 0;
    const counter = new FailureCounter(3, 1000, 100, () => now);
    for (let i = 0; i < 3; i++) counter.fail('victim');
    expect(counter.blocked('victim')).toBe(true);
    for (let i = 0; i < 1000; i++) counter.fail(`n${i}`);
    expect((counter as unknown as { entries: Map<string, unknown> }).entries.size).toBe(100);
    now = 2000;
    expect(counter.blocked(`n999`)).toBe(false);
  });

  it('wraps any scheme without changing what it accepts', async () => {
    const app = express();
    app.use(authenticate({ schemes: [withLockout(basic({ users: { u: 'p' } }), () => false)] }));
    app.get('/', (req, res) => res.end(req.auth!.user));
    expect((await request(app).get('/').auth('u', 'p')).text).toBe('u');
    expect((await request(app).get('/').auth('u', 'x')).status).toBe(401);
  });
});
