/**
 * docs/migrating.md, checked: each peer package's setup ("before") and the authscheme setup the
 * guide gives for it ("after") run side by side on Express 5 and answer the same requests. Where
 * the guide says they differ, the difference is asserted too.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import request from 'supertest';
import {
  authenticate,
  basic,
  bearer,
  digest,
  MemoryNonceStore,
  requireScopes,
  safeCompare,
} from 'authscheme';
import { jwtBearer } from 'authscheme/jwt';
import { basicAuth as basicHeader } from './helpers/frameworks';
import { challengeParams, digestHeader, type DigestAnswer } from './hostile/helpers';

const runFile = promisify(execFile);

/** An app with `guards` in front of a handler that names who came in (`who` reads it off `req`). */
function appWith(guards: RequestHandler[], who: (req: Request) => unknown): express.Express {
  const app = express();
  app.get('/', ...guards, (req, res) => {
    res.json({ who: who(req) });
  });
  // Errors that carry a status (express-oauth2-jwt-bearer's, ours with onFailure: 'next').
  app.use(
    (
      err: { status?: number; headers?: Record<string, string> },
      _req: Request,
      res: Response,
      _next: NextFunction,
    ) => {
      res
        .status(err.status ?? 500)
        .set(err.headers ?? {})
        .end();
    },
  );
  return app;
}

/**
 * http-auth's Digest for alice (password "wonderland", realm "app"), put in a middleware stack the
 * way its README integrates it with other frameworks; the user lands on `req.user`.
 */
function httpAuthDigest(): RequestHandler & { issuedNonces(): number } {
  const httpAuth = require('http-auth') as typeof import('http-auth');
  const ha1 = createHash('md5').update('alice:app:wonderland').digest('hex');
  const checker = httpAuth.digest({ realm: 'app' }, (user, callback) =>
    callback(user === 'alice' ? ha1 : ''),
  );
  const handler: RequestHandler = (req, res, next) => {
    checker.isAuthenticated(req, (result) => {
      if (result instanceof Error) next(result);
      else if (!result.pass) checker.ask(res, result);
      else {
        (req as unknown as { user?: string }).user = result.user;
        next();
      }
    });
  };
  // http-auth's own list of the nonces it has issued (an array it scans on every response).
  const issuedNonces = (): number => (checker as unknown as { nonces: unknown[] }).nonces.length;
  return Object.assign(handler, { issuedNonces });
}

describe('from express-basic-auth', () => {
  const basicAuth = require('express-basic-auth') as typeof import('express-basic-auth');
  const users = { admin: 'supersecret' };
  const before = appWith(
    [basicAuth({ users, challenge: true, realm: 'app' })],
    (req) => (req as unknown as { auth: { user: string } }).auth.user,
  );
  const after = appWith(
    [authenticate({ realm: 'app', schemes: [basic({ users })] })],
    (req) => req.auth!.user,
  );

  it('answers the same: 401 with a Basic challenge, then 200 with req.auth.user', async () => {
    for (const app of [before, after]) {
      const none = await request(app).get('/');
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toMatch(/^Basic realm="app"/);
      const wrong = await request(app).get('/').set('Authorization', basicHeader('admin', 'nope'));
      expect(wrong.status).toBe(401);
      const ok = await request(app)
        .get('/')
        .set('Authorization', basicHeader('admin', 'supersecret'));
      expect(ok.body).toEqual({ who: 'admin' });
    }
  });

  it('differs: without challenge: true express-basic-auth sends no challenge; authscheme always does', async () => {
    const quiet = appWith([basicAuth({ users })], () => undefined);
    const res = await request(quiet).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('an authorizer becomes verify, and the password stays off req.auth', async () => {
    const check = (user: string, password: string): boolean =>
      user === 'admin' && password === 'supersecret';
    const app = appWith(
      [
        authenticate({
          realm: 'app',
          schemes: [basic({ verify: (user, password) => (check(user, password) ? user : false) })],
        }),
      ],
      (req) => req.auth,
    );
    const ok = await request(app)
      .get('/')
      .set('Authorization', basicHeader('admin', 'supersecret'));
    expect(ok.body).toEqual({ who: { scheme: 'Basic', user: 'admin' } });
  });
});

describe('from passport-http and passport-http-bearer', () => {
  const passport = require('passport') as typeof import('passport');
  const { BasicStrategy, DigestStrategy } =
    require('passport-http') as typeof import('passport-http');
  const { Strategy: BearerStrategy } =
    require('passport-http-bearer') as typeof import('passport-http-bearer');
  const accounts: Record<string, { name: string; password: string; role: string }> = {
    alice: { name: 'alice', password: 'wonderland', role: 'admin' },
  };
  passport.use(
    new BasicStrategy((username, password, done) => {
      const account = accounts[username];
      done(null, account !== undefined && account.password === password ? account : false);
    }),
  );
  passport.use(
    new DigestStrategy({ qop: 'auth', realm: 'app' }, (username, done) => {
      const account = accounts[username];
      if (account === undefined) done(null, false);
      else done(null, account, account.password);
    }),
  );
  passport.use(
    new BearerStrategy((token, done) =>
      done(null, token === 'good-token' ? accounts.alice! : false),
    ),
  );
  const passportUser = (req: Request): unknown =>
    (req as unknown as { user?: { role: string } }).user?.role;

  it('Basic: a verify callback returns an object whose fields land on req.auth', async () => {
    const before = appWith([passport.authenticate('basic', { session: false })], passportUser);
    const after = appWith(
      [
        authenticate({
          realm: 'app',
          schemes: [
            basic({
              verify: (username, password) => {
                // Own entries only: a name like `constructor` finds Object.prototype's.
                const account = Object.hasOwn(accounts, username) ? accounts[username] : undefined;
                // Compared for an unknown name too, so that it takes the time a wrong password takes.
                const matches = safeCompare(account?.password ?? '', password);
                return account !== undefined && matches
                  ? { user: account.name, role: account.role }
                  : false;
              },
            }),
          ],
        }),
      ],
      (req) => req.auth!['role'],
    );
    for (const app of [before, after]) {
      expect((await request(app).get('/')).status).toBe(401);
      const ok = await request(app)
        .get('/')
        .set('Authorization', basicHeader('alice', 'wonderland'));
      expect(ok.body).toEqual({ who: 'admin' });
    }
    // A name that is a property of every object is an unknown user, not a 500.
    const odd = await request(after).get('/').set('Authorization', basicHeader('constructor', 'x'));
    expect(odd.status).toBe(401);
  });

  it('Bearer: the same verify, and 401 with error="invalid_token" for a bad token', async () => {
    const before = appWith([passport.authenticate('bearer', { session: false })], passportUser);
    const after = appWith(
      [
        authenticate({
          realm: 'app',
          schemes: [
            bearer({
              verify: (token) =>
                token === 'good-token' ? { user: 'alice', role: 'admin' } : false,
            }),
          ],
        }),
      ],
      (req) => req.auth!['role'],
    );
    for (const app of [before, after]) {
      const ok = await request(app).get('/').set('Authorization', 'Bearer good-token');
      expect(ok.body).toEqual({ who: 'admin' });
      const bad = await request(app).get('/').set('Authorization', 'Bearer bad-token');
      expect(bad.status).toBe(401);
      expect(bad.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    }
  });

  describe('Digest, with curl --digest against both', () => {
    const servers: http.Server[] = [];
    afterAll(() => servers.forEach((server) => server.close()));

    async function curlDigest(app: express.Express, password: string): Promise<string> {
      const server = http.createServer(app);
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const { stdout } = await runFile('curl', [
        '-sS',
        '--digest',
        '-u',
        `alice:${password}`,
        '-w',
        ' %{http_code}',
        url,
      ]);
      return stdout;
    }

    it('getPassword takes the place of the strategy callback; SHA-256 comes first, MD5 if you offer it', async () => {
      const before = appWith([passport.authenticate('digest', { session: false })], passportUser);
      const after = appWith(
        [
          authenticate({
            realm: 'app',
            schemes: [
              digest({
                algorithms: ['SHA-256', 'MD5'],
                getPassword: (username) => {
                  // Own entries only: a name like `constructor` finds Object.prototype's.
                  const account = Object.hasOwn(accounts, username)
                    ? accounts[username]
                    : undefined;
                  return account && { password: account.password, details: { role: account.role } };
                },
              }),
            ],
          }),
        ],
        (req) => req.auth!.role,
      );
      expect(await curlDigest(before, 'wonderland')).toBe('{"who":"admin"} 200');
      expect(await curlDigest(after, 'wonderland')).toBe('{"who":"admin"} 200');
      expect(await curlDigest(after, 'wrong')).toMatch(/ 401$/);
    });
  });
});

describe('from http-auth', () => {
  const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

  it('a Digest checker that returns HA1 becomes users with a precomputed HA1', async () => {
    const ha1 = md5('alice:app:wonderland');
    const before = appWith([httpAuthDigest()], (req) => (req as unknown as { user: string }).user);
    const after = appWith(
      [
        authenticate({
          realm: 'app',
          schemes: [digest({ algorithms: ['MD5'], users: { alice: { ha1: { MD5: ha1 } } } })],
        }),
      ],
      (req) => req.auth!.user,
    );
    for (const app of [before, after]) {
      const server = http.createServer(app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
        const { stdout } = await runFile('curl', [
          '-sS',
          '--digest',
          '-u',
          'alice:wonderland',
          '-w',
          ' %{http_code}',
          url,
        ]);
        expect(stdout).toBe('{"who":"alice"} 200');
      } finally {
        server.close();
      }
    }
  });
});

describe('the Digest differences the guide names', () => {
  /** Asks `app` for a challenge at `path` and answers it for alice, MD5, qop=auth. */
  async function answerFor(app: express.Express, path: string): Promise<DigestAnswer> {
    const first = await request(app).get(path);
    const line = ([] as string[])
      .concat(first.headers['www-authenticate'] ?? [])
      // MD5 named, or no algorithm at all (MD5 by default, RFC 7616 §3.3).
      .find((l) => l.startsWith('Digest ') && !/algorithm="?SHA/.test(l))!;
    const p = challengeParams(line);
    return {
      username: 'alice',
      password: 'wonderland',
      method: 'GET',
      uri: path,
      realm: p.realm!,
      nonce: p.nonce!,
      opaque: p.opaque,
      algorithm: 'MD5',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'c0ffee00c0ffee00',
    };
  }

  const ours = appWith(
    [
      authenticate({
        realm: 'app',
        schemes: [digest({ algorithms: ['MD5'], users: { alice: 'wonderland' } })],
      }),
    ],
    (req) => req.auth!.user,
  );

  it('http-auth takes a response computed for another uri; authscheme answers 400', async () => {
    const peer = appWith([httpAuthDigest()], () => 'in');
    // Computed for /other, sent to /.
    const forPeer = await answerFor(peer, '/');
    const moved = digestHeader({ ...forPeer, uri: '/other' });
    expect((await request(peer).get('/').set('Authorization', moved)).status).toBe(200);
    const forUs = await answerFor(ours, '/');
    const movedToUs = digestHeader({ ...forUs, uri: '/other' });
    expect((await request(ours).get('/').set('Authorization', movedToUs)).status).toBe(400);
  });

  it('http-auth keeps every nonce it issues, for anyone who asks; authscheme keeps none', async () => {
    const guard = httpAuthDigest();
    const peer = appWith([guard], () => 'in');
    const store = new MemoryNonceStore();
    const counted = appWith(
      [
        authenticate({
          realm: 'app',
          schemes: [digest({ algorithms: ['MD5'], users: { alice: 'wonderland' }, store })],
        }),
      ],
      (req) => req.auth!.user,
    );
    for (let i = 0; i < 50; i++) {
      expect((await request(peer).get('/')).status).toBe(401);
      expect((await request(counted).get('/')).status).toBe(401);
    }
    expect(guard.issuedNonces()).toBe(50);
    expect(store.size).toBe(0);
    // Ours keeps a count once a response proves the password (RFC 7616 §3.4: nc per nonce).
    const header = digestHeader(await answerFor(counted, '/'));
    expect((await request(counted).get('/').set('Authorization', header)).status).toBe(200);
    expect(store.size).toBe(1);
  });

  it('passport-http takes the same nc twice; authscheme refuses the repeat', async () => {
    const passport = require('passport') as typeof import('passport');
    const { DigestStrategy } = require('passport-http') as typeof import('passport-http');
    const strategies = new passport.Passport();
    strategies.use(
      new DigestStrategy({ qop: 'auth', realm: 'app' }, (username, done) =>
        username === 'alice' ? done(null, { name: 'alice' }, 'wonderland') : done(null, false),
      ),
    );
    const peer = appWith([strategies.authenticate('digest', { session: false })], () => 'in');
    for (const [app, second] of [
      [peer, 200],
      [ours, 401],
    ] as const) {
      const header = digestHeader(await answerFor(app, '/'));
      expect((await request(app).get('/').set('Authorization', header)).status).toBe(200);
      expect((await request(app).get('/').set('Authorization', header)).status).toBe(second);
    }
  });
});

describe('from express-oauth2-jwt-bearer', () => {
  // Loaded loosely typed: its Express.Request augmentation (`auth`) clashes with ours.
  const oauth2 = require('express-oauth2-jwt-bearer') as {
    auth(options: Record<string, unknown>): RequestHandler;
    requiredScopes(scopes: string): RequestHandler;
  };
  const issuer = 'https://issuer.example/';
  const audience = 'https://api.example';

  it('auth() becomes jwtBearer(), requiredScopes() requireScopes(), req.auth.payload req.auth.claims', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), alg: 'ES256', kid: 'k1' };
    const sign = (scope: string, aud = audience): Promise<string> =>
      new SignJWT({ scope })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(issuer)
        .setAudience(aud)
        .setSubject('alice')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
    const before = appWith(
      [
        oauth2.auth({ issuer, audience, publicKey: jwk, tokenSigningAlg: 'ES256' }),
        oauth2.requiredScopes('read'),
      ],
      (req) => (req as unknown as { auth: { payload: { sub: string } } }).auth.payload.sub,
    );
    const after = appWith(
      [
        authenticate({
          realm: 'api',
          schemes: [jwtBearer({ key: jwk, algorithms: ['ES256'], issuer, audience })],
        }),
        requireScopes({ allOf: ['read'], realm: 'api' }),
      ],
      (req) => (req.auth!['claims'] as { sub: string }).sub,
    );
    const reader = await sign('read');
    const writer = await sign('write');
    const elsewhere = await sign('read', 'https://other.example');
    for (const app of [before, after]) {
      const ok = await request(app).get('/').set('Authorization', `Bearer ${reader}`);
      expect(ok.body).toEqual({ who: 'alice' });
      const forbidden = await request(app).get('/').set('Authorization', `Bearer ${writer}`);
      expect(forbidden.status).toBe(403);
      expect(forbidden.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
      if (app === after) {
        // The 403 names the realm of the 401s, as docs/migrating.md's setup passes it to both.
        expect(forbidden.headers['www-authenticate']).toMatch(/^Bearer realm="api", /);
      }
      const wrongAudience = await request(app).get('/').set('Authorization', `Bearer ${elsewhere}`);
      expect(wrongAudience.status).toBe(401);
      expect(wrongAudience.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    }
  });

  it('authRequired: false becomes credentialsRequired: false; a bad token goes on there, here it gets 401', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), alg: 'ES256', kid: 'k1' };
    const before = appWith(
      [
        oauth2.auth({
          issuer,
          audience,
          publicKey: jwk,
          tokenSigningAlg: 'ES256',
          authRequired: false,
        }),
      ],
      (req) =>
        (req as unknown as { auth?: { payload: { sub: string } } }).auth?.payload.sub ?? null,
    );
    const after = appWith(
      [
        authenticate({
          realm: 'api',
          credentialsRequired: false,
          schemes: [jwtBearer({ key: jwk, algorithms: ['ES256'], issuer, audience })],
        }),
      ],
      (req) => (req.auth?.['claims'] as { sub: string } | undefined)?.sub ?? null,
    );
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject('alice')
      .setExpirationTime('5m')
      .sign(privateKey);
    for (const app of [before, after]) {
      expect((await request(app).get('/')).body).toEqual({ who: null });
      const ok = await request(app).get('/').set('Authorization', `Bearer ${token}`);
      expect(ok.body).toEqual({ who: 'alice' });
    }
    // express-oauth2-jwt-bearer lets any failure through unauthenticated; we refuse what was sent.
    const bad = `Bearer ${token}x`;
    const passed = await request(before).get('/').set('Authorization', bad);
    expect(passed.status).toBe(200);
    expect(passed.body).toEqual({ who: null });
    const refused = await request(after).get('/').set('Authorization', bad);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });
});
