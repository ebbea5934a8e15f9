/**
 * Digest end to end: Express with authenticate() on a real server (127.0.0.1, port 0), driven by
 * supertest and a client that computes its responses itself (./helpers); and a Connect app
 * mounted on another, whose uri check meets the same rewritten req.url.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type RequestListener, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import connect from 'connect';
import express from 'express';
import request from 'supertest';
import {
  authenticate,
  basic,
  digest,
  formatCredentials,
  isToken,
  MemoryNonceStore,
  parseChallenges,
  type AuthRequest,
  type Challenge,
  type DigestOptions,
} from 'authscheme';
import { loadHtdigest } from '../../../src/passwords/htdigest';
import {
  answer,
  expectedRspauth,
  parseInfo,
  serversForThisFile,
  type AnswerOptions,
} from './helpers';

const SECRET = 'e2e-secret-e2e-secret-e2e-secret';
const alice = { user: 'alice', password: 'secret' };

const listen = serversForThisFile();

function protectedApp(options: Partial<DigestOptions> = {}, proxy = false): express.Express {
  const app = express();
  app.use(
    authenticate({
      realm: 'api',
      proxy,
      schemes: [
        digest({ users: { alice: 'secret' }, secret: SECRET, ...options } as DigestOptions),
      ],
    }),
  );
  app.all('/{*rest}', (req, res) => {
    res.json({ auth: req.auth, url: req.originalUrl });
  });
  return app;
}

function challengesOf(res: request.Response, header = 'www-authenticate'): Challenge[] {
  const value = res.headers[header] as string | string[] | undefined;
  if (value === undefined) throw new Error(`no ${header}`);
  return parseChallenges(value);
}

function authorization(challenge: Challenge, options: AnswerOptions): string {
  return formatCredentials(answer(challenge, options));
}

/** Alice's answer with qop=auth-int for POST /upload over `body`. */
function uploadAuthorization(challenge: Challenge, body: Buffer, nc = 1): string {
  return authorization(challenge, {
    ...alice,
    method: 'POST',
    uri: '/upload',
    qop: 'auth-int',
    body,
    nc,
  });
}

/**
 * `refused` must be a 401 with stale=true (RFC 7616 §3.3), and its fresh nonce must get a retry
 * for `uri` through.
 */
async function expectStaleRecovery(
  origin: string,
  refused: request.Response,
  uri: string,
): Promise<void> {
  expect(refused.status).toBe(401);
  const fresh = challengesOf(refused)[0] as Challenge;
  expect(fresh.params.stale).toBe('true');
  const retry = await request(origin)
    .get(uri)
    .set('Authorization', authorization(fresh, { ...alice, uri }));
  expect(retry.status).toBe(200);
}

describe('digest() behind authenticate() on Express', () => {
  let origin: string;
  beforeAll(async () => {
    origin = await listen(protectedApp({ algorithms: ['SHA-256', 'MD5'] }));
  });

  it('answers 401 with one challenge line per algorithm, SHA-256 first, and no-store', async () => {
    const res = await request(origin).get('/dir/index.html');
    expect(res.status).toBe(401);
    expect(res.headers['cache-control']).toBe('no-store');
    const challenges = challengesOf(res);
    expect(challenges.map((c) => [c.scheme, c.params.algorithm, c.params.qop])).toEqual([
      ['Digest', 'SHA-256', 'auth'],
      ['Digest', 'MD5', 'auth'],
    ]);
    // RFC 7616 §3.3: algorithm is never quoted; charset as in the §3.9.2 example.
    expect(String(res.headers['www-authenticate'])).toMatch(/algorithm=SHA-256, .*charset=UTF-8$/);
  });

  it.each([0, 1])('completes the handshake with challenge %i and checks rspauth', async (index) => {
    const first = await request(origin).get('/dir/index.html?x=1');
    const challenge = challengesOf(first)[index] as Challenge;
    const options = { ...alice, uri: '/dir/index.html?x=1' };
    const res = await request(origin)
      .get('/dir/index.html?x=1')
      .set('Authorization', authorization(challenge, options));
    expect(res.status).toBe(200);
    expect(res.body.auth).toEqual({
      scheme: 'Digest',
      user: 'alice',
      realm: 'api',
      algorithm: challenge.params.algorithm,
      qop: 'auth',
    });
    const info = parseInfo(res.headers['authentication-info'] as string);
    expect(info.rspauth).toBe(expectedRspauth(challenge, options));
  });

  it('reuses a nonce with increasing nc, refuses a replayed nc with stale=true, and recovers', async () => {
    const challenge = challengesOf(await request(origin).get('/r'))[0] as Challenge;
    for (const nc of [1, 2, 3]) {
      const res = await request(origin)
        .get('/r')
        .set('Authorization', authorization(challenge, { ...alice, uri: '/r', nc }));
      expect(res.status).toBe(200);
    }
    const replay = await request(origin)
      .get('/r')
      .set('Authorization', authorization(challenge, { ...alice, uri: '/r', nc: 2 }));
    await expectStaleRecovery(origin, replay, '/r');
  });

  it('accepts each directive quoted or bare (RFC 9110 §11.2: recipients take both notations)', async () => {
    const challenge = challengesOf(await request(origin).get('/q'))[1] as Challenge;
    // Everything quoted (python-requests quotes qop), then everything a token can carry bare.
    const notations = [
      (value: string) => `"${value}"`,
      (value: string) => (isToken(value) ? value : `"${value}"`),
    ];
    for (const [i, write] of notations.entries()) {
      const params = answer(challenge, { ...alice, uri: '/q', nc: i + 1 }).params;
      const field = `Digest ${Object.entries(params)
        .map(([name, value]) => `${name}=${write(value)}`)
        .join(', ')}`;
      expect(field).toMatch(i === 0 ? /qop="auth", nc="00000001"/ : /realm=api, .*qop=auth/);
      const res = await request(origin).get('/q').set('Authorization', field);
      expect(res.status).toBe(200);
      // Written back as the RFC 7616 §3.5 sender rules say, whatever the client did.
      expect(res.headers['authentication-info']).toMatch(/^qop=auth, rspauth="[0-9a-f]+", /);
    }
  });

  it('answers 400 when the uri differs in the query alone', async () => {
    const challenge = challengesOf(await request(origin).get('/q?a=1'))[0] as Challenge;
    const res = await request(origin)
      .get('/q?a=1')
      .set('Authorization', authorization(challenge, { ...alice, uri: '/q?a=2' }));
    expect(res.status).toBe(400);
  });

  it('answers 401 with fresh challenges to a wrong password, never 500 to junk', async () => {
    const challenge = challengesOf(await request(origin).get('/'))[0] as Challenge;
    const wrong = await request(origin)
      .get('/')
      .set('Authorization', authorization(challenge, { user: 'alice', password: 'x', uri: '/' }));
    expect(wrong.status).toBe(401);
    expect(challengesOf(wrong)).toHaveLength(2);
    for (const header of [
      'Digest',
      'Digest username="alice"',
      'Digest username="alice", realm="api", nonce="x", uri="/", response="zz"',
      'Digest username="alice", realm="api", nonce="x", uri="/", response="00", qop=auth, nc=zz, cnonce=""',
    ]) {
      const res = await request(origin).get('/').set('Authorization', header);
      expect(res.status).toBe(401);
    }
  });
});

/** The guard of the mounted apps below: their sub-app's own authenticate(). */
function apiGuard(): ReturnType<typeof authenticate> {
  return authenticate({
    realm: 'api',
    schemes: [digest({ users: { alice: 'secret' }, secret: SECRET })],
  });
}

/**
 * `app` mounts at /api a sub-app guarded by {@link apiGuard} that answers GET /items with
 * `{ user, url: req.url }`. The client hashes the whole target (RFC 7616 §3.4.6): accepted, while
 * the sub-app sees req.url without /api; a uri of that rewritten req.url is not the target (400).
 */
async function expectUriOfTheWholeTarget(app: RequestListener): Promise<void> {
  const origin = await listen(app);
  const challenge = challengesOf(await request(origin).get('/api/items?page=2'))[0] as Challenge;
  const good = await request(origin)
    .get('/api/items?page=2')
    .set('Authorization', authorization(challenge, { ...alice, uri: '/api/items?page=2' }));
  expect(good.status).toBe(200);
  expect(good.body).toEqual({ user: 'alice', url: '/items?page=2' });
  const relative = await request(origin)
    .get('/api/items?page=2')
    .set('Authorization', authorization(challenge, { ...alice, uri: '/items?page=2', nc: 2 }));
  expect(relative.status).toBe(400);
}

describe('digest() with a domain', () => {
  it('sends the URIs in one quoted list that splits at whitespace into those configured', async () => {
    const domain = ['/api/', 'https://example.com/caf%C3%A9?a=1&b=(2)', 'http://[::1]:8080/x#y'];
    const origin = await listen(protectedApp({ domain }));
    const res = await request(origin).get('/');
    expect(res.status).toBe(401);
    expect(String(res.headers['www-authenticate'])).toContain(`domain="${domain.join(' ')}"`);
    const sent = challengesOf(res)[0]!.params.domain!;
    expect(sent.split(/\s+/)).toEqual(domain);
  });
});

describe('digest() and the request target under an Express router', () => {
  it('compares uri with originalUrl, not the router-relative req.url', async () => {
    const router = express.Router();
    router.use(apiGuard());
    router.get('/items', (req, res) => {
      res.json({ user: req.auth?.user, url: req.url });
    });
    const app = express();
    app.use('/api', router);
    await expectUriOfTheWholeTarget(app);
  });
});

describe('digest() and the request target under a mounted Connect app', () => {
  it('compares uri with originalUrl, not the req.url Connect rewrites for the sub-app', async () => {
    const sub = connect();
    sub.use(apiGuard());
    sub.use((req: AuthRequest, res: ServerResponse) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ user: req.auth?.user, url: req.url }));
    });
    const app = connect();
    app.use('/api', sub);
    await expectUriOfTheWholeTarget(app);
  });
});

describe('digest() nonces across processes and time', () => {
  it('accepts a nonce issued by another process that shares the secret (and the store)', async () => {
    const store = new MemoryNonceStore();
    const one = await listen(protectedApp({ store }));
    const two = await listen(protectedApp({ store }));
    const challenge = challengesOf(await request(one).get('/'))[0] as Challenge;
    const res = await request(two)
      .get('/')
      .set('Authorization', authorization(challenge, { ...alice, uri: '/' }));
    expect(res.status).toBe(200);
    const replay = await request(one)
      .get('/')
      .set('Authorization', authorization(challenge, { ...alice, uri: '/' }));
    expect(replay.status).toBe(401);
  });

  it('refuses a nonce from a process with another secret', async () => {
    const foreign = await listen(protectedApp({ secret: 'f'.repeat(32), opaque: 'same' }));
    const local = await listen(protectedApp({ opaque: 'same' }));
    const challenge = challengesOf(await request(foreign).get('/'))[0] as Challenge;
    const res = await request(local)
      .get('/')
      .set('Authorization', authorization(challenge, { ...alice, uri: '/' }));
    expect(res.status).toBe(401);
    expect(challengesOf(res)[0]?.params.stale).toBeUndefined();
  });

  it('answers an expired nonce with stale=true; the retry with the fresh nonce succeeds', async () => {
    let now = 1_700_000_000_000;
    const origin = await listen(protectedApp({ now: () => now, nonceLifetime: 10_000 }));
    const challenge = challengesOf(await request(origin).get('/'))[0] as Challenge;
    now += 10_001;
    const stale = await request(origin)
      .get('/')
      .set('Authorization', authorization(challenge, { ...alice, uri: '/' }));
    await expectStaleRecovery(origin, stale, '/');
  });

  it('answers a store failure with next(err) (500 from Express), never a success', async () => {
    const origin = await listen(
      protectedApp({ store: { use: () => Promise.reject(new Error('store down')) } }),
    );
    const challenge = challengesOf(await request(origin).get('/'))[0] as Challenge;
    const res = await request(origin)
      .get('/')
      .set('Authorization', authorization(challenge, { ...alice, uri: '/' }));
    expect(res.status).toBe(500);
    expect(res.body.auth).toBeUndefined();
  });
});

describe('an optional authenticate() for the site and a required one on a route', () => {
  /** `app` behind the site's optional authenticate() (realm api) with one digest() over `site`. */
  const withSite = (site: Partial<DigestOptions>, app = express()): express.Express => {
    app.use(
      authenticate({
        realm: 'api',
        credentialsRequired: false,
        schemes: [digest({ users: { alice: 'secret' }, secret: SECRET, ...site } as DigestOptions)],
      }),
    );
    return app;
  };
  /** The route's handler: who authenticated. */
  const whoIs = (req: express.Request, res: express.Response): void => {
    res.json({ user: (req as AuthRequest).auth?.user });
  };
  /** `user`'s answer to the first challenge of GET /admin: its status and body, and the challenge. */
  const logIn = async (origin: string, user: { user: string; password: string }) => {
    const challenge = challengesOf(await request(origin).get('/admin'))[0] as Challenge;
    const res = await request(origin)
      .get('/admin')
      .set('Authorization', authorization(challenge, { ...user, uri: '/admin' }));
    return { challenge, status: res.status, body: res.body as unknown };
  };
  const carol = { user: 'carol', password: 'x' };
  /** `app` with GET /admin guarded by the route's own digest() (realm api), for alice and carol. */
  const withRoute = (app: express.Express): express.Express =>
    app.get(
      '/admin',
      authenticate({
        realm: 'api',
        schemes: [digest({ users: { alice: 'secret', carol: 'x' }, secret: SECRET })],
      }),
      whoIs,
    );

  it('leaves credentials made for the route to the route: another scheme, another realm', async () => {
    const app = express();
    app.use(
      authenticate({
        realm: 'site',
        credentialsRequired: false,
        schemes: [digest({ users: { carol: 'x' }, secret: SECRET })],
      }),
    );
    app.get(
      '/admin',
      authenticate({
        realm: 'admin',
        schemes: [
          digest({ users: { alice: 'secret' }, secret: SECRET }),
          basic({ users: { alice: 'secret' } }),
        ],
      }),
      (req, res) => {
        res.json({ user: req.auth?.user, realm: req.auth?.['realm'] });
      },
    );
    const origin = await listen(app);
    const challenge = challengesOf(await request(origin).get('/admin'))[0] as Challenge;
    expect(challenge.params.realm).toBe('admin');
    const digestRes = await request(origin)
      .get('/admin')
      .set('Authorization', authorization(challenge, { ...alice, uri: '/admin' }));
    expect(digestRes.status).toBe(200);
    expect(digestRes.body).toEqual({ user: 'alice', realm: 'admin' });
    const basicRes = await request(origin)
      .get('/admin')
      .set('Authorization', `Basic ${Buffer.from('alice:secret').toString('base64')}`);
    expect(basicRes.status).toBe(200);
    // Credentials for the site's own realm are still checked by the site's middleware.
    const siteChallenge = challengesOf(await request(origin).get('/admin'))[0] as Challenge;
    const wrongForSite = { ...siteChallenge, params: { ...siteChallenge.params, realm: 'site' } };
    const refused = await request(origin)
      .get('/admin')
      .set(
        'Authorization',
        authorization(wrongForSite, { user: 'carol', password: 'wrong', uri: '/admin' }),
      );
    expect(refused.status).toBe(401);
    expect(challengesOf(refused)[0]?.params.realm).toBe('site');
  });
  // A route's realm may be the site's in another spelling: 'Zürich' and its UTF-8 octets (as an
  // htdigest file needs, docs/digest.md). The site's digest() takes that spelling as its own realm's
  // (as Java echoes it), but with the shared secret the nonce is the route's: it answers the route's
  // challenge, not the site's, and the site refused it (401 with its own challenge) for ever.
  // From a review: the route's realm echoed in its second or third spelling (a 401 an error
  // handler wrote as UTF-8, onFailure: 'next'; Java; python-requests) was taken for the site's
  // own, and the nonce, checked against the echo only, refused: 401 from the site for ever.
  const zurich = 'Z\u00fcrich';
  const octets = (text: string) => Buffer.from(text, 'utf8').toString('latin1');
  it.each([
    ['the text', zurich, octets(zurich)],
    ['its UTF-8 octets', octets(zurich), zurich],
  ])(
    "leaves to the route a response to its realm that is the site's in another spelling (site: %s)",
    async (_site, site, route) => {
      const app = express();
      app.use(
        authenticate({
          realm: site,
          credentialsRequired: false,
          schemes: [digest({ users: { carol: 'x' }, secret: SECRET })],
        }),
      );
      app.get(
        '/admin',
        authenticate({
          realm: route,
          schemes: [digest({ users: { alice: 'secret' }, secret: SECRET })],
        }),
        (req, res) => {
          res.json({ user: req.auth?.user });
        },
      );
      const origin = await listen(app);
      const challenge = challengesOf(await request(origin).get('/admin'))[0] as Challenge;
      expect(challenge.params.realm).toBe(route);
      // Hashed and echoed as sent, and as its UTF-8 octets: what curl does after a 401 head
      // that an error handler wrote as UTF-8 (onFailure: 'next').
      for (const [nc, echoed] of [route, octets(route)].entries()) {
        const asEchoed = { ...challenge, params: { ...challenge.params, realm: echoed } };
        const res = await request(origin)
          .get('/admin')
          .set('Authorization', authorization(asEchoed, { ...alice, uri: '/admin', nc: nc + 1 }));
        expect([echoed, res.status, res.body]).toEqual([echoed, 200, { user: 'alice' }]);
      }
    },
  );
  // The same realm and `secret` (one environment variable), but a digest() and a nonce store
  // each: the nonce names the route's store. The site's digest() answered a user it does not know
  // with 401, and one it knows with stale=true and its own nonce, which the route then answered
  // with stale=true and its own: neither ever got through.
  it("leaves to the route a response to the route's nonce in the same realm", async () => {
    const origin = await listen(withRoute(withSite({})));
    for (const user of [alice, carol]) {
      const { challenge, ...answer } = await logIn(origin, user);
      expect(answer).toEqual({ status: 200, body: { user: user.user } });
      // The route still checks the password: a wrong one is refused, without stale=true.
      const wrong = await request(origin)
        .get('/admin')
        .set(
          'Authorization',
          authorization(challenge, { ...user, password: 'wrong', uri: '/admin', nc: 2 }),
        );
      expect(wrong.status).toBe(401);
      expect(challengesOf(wrong)[0]?.params.stale).toBeUndefined();
    }
    // A nonce of the site's own digest() (from its refusal of junk on a route only it guards) is
    // still the site's to check: a wrong password is refused there, not let through.
    const junk = await request(origin).get('/').set('Authorization', 'Digest nonce="x"');
    expect(junk.status).toBe(401);
    const site = challengesOf(junk)[0] as Challenge;
    const refused = await request(origin)
      .get('/')
      .set('Authorization', authorization(site, { ...alice, password: 'wrong', uri: '/' }));
    expect(refused.status).toBe(401);
  });
  // What makes a refusal foreign lets nothing through a required authenticate(): a nonce of a
  // third digest() (another route's, same realm and secret) is refused on this route as one of
  // another process, stale=true only after a right password, with a sync or an async lookup.
  it("refuses on a required route another route's nonce, stale=true only after a right password", async () => {
    for (const lookup of ['sync', 'async'] as const) {
      const getPassword = (user: string) => (user === 'alice' ? 'secret' : undefined);
      const app = express();
      app.use(
        authenticate({
          realm: 'api',
          credentialsRequired: false,
          schemes: [digest({ users: { bob: 'b' }, secret: SECRET })],
        }),
      );
      const route = (options: DigestOptions) =>
        authenticate({
          realm: 'api',
          schemes: [digest({ secret: SECRET, ...options })],
        });
      app.get('/other', route({ users: { alice: 'secret' } }), (_req, res) => res.send('other'));
      app.get(
        '/admin',
        route(
          lookup === 'sync'
            ? { getPassword }
            : { getPassword: async (user: string) => Promise.resolve(getPassword(user)) },
        ),
        (req, res) => {
          res.json({ user: req.auth?.user });
        },
      );
      const origin = await listen(app);
      const other = challengesOf(await request(origin).get('/other'))[0] as Challenge;
      const wrong = await request(origin)
        .get('/admin')
        .set('Authorization', authorization(other, { ...alice, password: 'wrong', uri: '/admin' }));
      expect({ lookup, status: wrong.status, stale: challengesOf(wrong)[0]?.params.stale }).toEqual(
        { lookup, status: 401, stale: undefined },
      );
      const right = await request(origin)
        .get('/admin')
        .set('Authorization', authorization(other, { ...alice, uri: '/admin', nc: 2 }));
      expect({ lookup, status: right.status, stale: challengesOf(right)[0]?.params.stale }).toEqual(
        { lookup, status: 401, stale: 'true' },
      );
    }
  });
  // A site over a shared store (Redis: any process's nonce is its to count) took the route's
  // nonce for another process's and refused a user it does not know with 401, where the README
  // says the site lets it through to the route; a site over its own memory store did the same
  // with the nonce of a route over a shared store.
  it.each(['site', 'route'])(
    "leaves to the route a response to the route's nonce when the %s's store is shared",
    async (whose) => {
      const used = new Set<string>();
      const store = {
        shared: true,
        use: (nonce: string, nc: number) =>
          !used.has(`${nonce} ${nc}`) && !!used.add(`${nonce} ${nc}`),
      };
      const app = withSite(whose === 'site' ? { store } : {});
      app.get(
        '/admin',
        authenticate({
          realm: 'api',
          schemes: [
            digest({
              users: { alice: 'secret', carol: 'x' },
              secret: SECRET,
              ...(whose === 'route' ? { store } : {}),
            }),
          ],
        }),
        whoIs,
      );
      const origin = await listen(app);
      for (const user of [carol, alice]) {
        const { challenge, ...answer } = await logIn(origin, user);
        expect(answer).toEqual({ status: 200, body: { user: user.user } });
        // A replay is still refused, by the site or the route.
        const replay = await request(origin)
          .get('/admin')
          .set('Authorization', authorization(challenge, { ...user, uri: '/admin' }));
        expect(replay.status).toBe(401);
      }
    },
  );
  // Accepted by the site over its shared store, the route's nonce told a right password from a
  // wrong one on the site's own pages (req.auth set, or the request passed on anonymous), and
  // the wrong guesses, foreign, reached no audit hook: a guessing channel without lockouts.
  it("never accepts the route's nonce on the site's own pages, a right password or a wrong one", async () => {
    const audited: string[] = [];
    const store = { shared: true, use: () => true };
    const app = express();
    app.use(
      authenticate({
        realm: 'api',
        credentialsRequired: false,
        schemes: [digest({ users: { alice: 'secret' }, secret: SECRET, store })],
        audit: ({ outcome, code }) => void audited.push(`${outcome} ${code ?? ''}`),
      }),
    );
    app.get('/home', whoIs);
    const origin = await listen(withRoute(app));
    const challenge = challengesOf(await request(origin).get('/admin'))[0] as Challenge;
    const answers = [];
    for (const password of ['secret', 'wrong']) {
      const res = await request(origin)
        .get('/home')
        .set('Authorization', authorization(challenge, { ...alice, password, uri: '/home' }));
      answers.push({ status: res.status, body: res.body as unknown });
    }
    expect(answers).toEqual([
      { status: 200, body: {} },
      { status: 200, body: {} },
    ]);
    expect(audited).toEqual([]);
  });
  // Two copies of the package in one process (a dependency's own copy in its node_modules, a
  // bundle): the site's authenticate() from one, the route's from the other. Each kept its own
  // record of the live nonce stores, of each store's issuer and of what a success accepted: the
  // site took the route's nonce for another process's (401 for a user it does not know,
  // stale=true for one it knows); over one store, the site's digest() took the route's nonce for
  // another store's, and the route's second check of a request for a replay (stale=true).
  it('does so when the route is guarded by another copy of the package in the process', async () => {
    let other!: typeof import('authscheme');
    jest.isolateModules(() => {
      other = jest.requireActual<typeof import('authscheme')>('../../../src/index');
    });
    const shared = new MemoryNonceStore();
    for (const store of [undefined, shared]) {
      const app = withSite({ store });
      app.get(
        '/admin',
        other.authenticate({
          realm: 'api',
          schemes: [
            other.digest({ users: { alice: 'secret', carol: 'x' }, secret: SECRET, store }),
          ],
        }),
        whoIs,
      );
      const origin = await listen(app);
      // With one store the site knows carol as no user of its own: only alice can pass it.
      for (const user of store === undefined ? [alice, carol] : [alice]) {
        const { status, body } = await logIn(origin, user);
        expect({ store: store !== undefined, status, body }).toEqual({
          store: store !== undefined,
          status: 200,
          body: { user: user.user },
        });
      }
    }
  });
  // The route offers what the site does not (MD5, auth-int, userhash): the site refused the
  // route's answer as "not offered" before it looked at whose challenge it answered.
  it("leaves to the route an answer with an algorithm, qop or userhash only the route's offers", async () => {
    for (const routeSecret of [SECRET, 'another-secret-another-secret-ab']) {
      const app = withSite({}, express().use(express.raw({ type: '*/*' })));
      app.post(
        '/admin',
        authenticate({
          realm: 'api',
          schemes: [
            digest({
              users: { alice: 'secret' },
              secret: routeSecret,
              algorithms: ['MD5'],
              qop: ['auth-int'],
              userhash: true,
            }),
          ],
        }),
        (req, res) => {
          res.json({ user: req.auth?.user, algorithm: req.auth?.['algorithm'] });
        },
      );
      const origin = await listen(app);
      const challenge = challengesOf(await request(origin).post('/admin'))[0] as Challenge;
      expect(challenge.params.algorithm).toBe('MD5');
      const body = Buffer.from('{"a":1}');
      const res = await request(origin)
        .post('/admin')
        .set('Content-Type', 'application/octet-stream')
        .set(
          'Authorization',
          authorization(challenge, {
            ...alice,
            method: 'POST',
            uri: '/admin',
            qop: 'auth-int',
            body,
            userhash: true,
          }),
        )
        .send(body);
      expect({ status: res.status, body: res.body as unknown }).toEqual({
        status: 200,
        body: { user: 'alice', algorithm: 'MD5' },
      });
    }
  });
});

describe('digest() checked twice on one request', () => {
  it('authenticates through a site-wide optional authenticate() and a required one on the route', async () => {
    // The same scheme, so the same nonce store: the second check must not take the count the
    // first one used for a replay (it answered 401 stale=true, for ever).
    const scheme = digest({ users: { alice: 'secret' }, secret: SECRET });
    const app = express();
    app.use(authenticate({ realm: 'api', schemes: [scheme], credentialsRequired: false }));
    app.get('/account', authenticate({ realm: 'api', schemes: [scheme] }), (req, res) => {
      res.json({ user: req.auth?.user });
    });
    const origin = await listen(app);
    const challenge = challengesOf(await request(origin).get('/account'))[0] as Challenge;
    for (const nc of [1, 2]) {
      const res = await request(origin)
        .get('/account')
        .set('Authorization', authorization(challenge, { ...alice, uri: '/account', nc }));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: 'alice' });
    }
    // Another request with a used count is still a replay.
    const replay = await request(origin)
      .get('/account')
      .set('Authorization', authorization(challenge, { ...alice, uri: '/account', nc: 2 }));
    expect(replay.status).toBe(401);
    expect(challengesOf(replay)[0]?.params.stale).toBe('true');
  });
});

describe('digest() with qop=auth-int on Express', () => {
  const body = Buffer.from('{"amount":100}');
  /** An answer for POST /upload with qop=auth-int, whose hash covers `body` (RFC 7616 §3.4.3). */
  it('hashes the raw body kept by express.raw() before the middleware', async () => {
    const app = express();
    app.use(express.raw({ type: '*/*' }));
    app.use(
      authenticate({
        realm: 'api',
        schemes: [
          digest({ users: { alice: 'secret' }, secret: SECRET, qop: ['auth-int', 'auth'] }),
        ],
      }),
    );
    app.post('/upload', (req, res) => {
      res.json({ user: req.auth?.user, qop: req.auth?.qop });
    });
    const origin = await listen(app);
    const challenge = challengesOf(await request(origin).post('/upload'))[0] as Challenge;
    expect(challenge.params.qop).toBe('auth-int,auth');
    const good = await request(origin)
      .post('/upload')
      .set('Authorization', uploadAuthorization(challenge, body))
      .set('Content-Type', 'application/json')
      .send(body.toString());
    expect(good.status).toBe(200);
    expect(good.body).toEqual({ user: 'alice', qop: 'auth-int' });

    const tampered = await request(origin)
      .post('/upload')
      .set('Authorization', uploadAuthorization(challenge, body, 2))
      .set('Content-Type', 'application/json')
      .send('{"amount":999}');
    expect(tampered.status).toBe(401);
  });

  // From a review: docs/digest.md's recipe read express.raw({ type: '*/*' }), which body-parser
  // matches only against a Content-Type that was sent: a body without one (RFC 9110 §8.3) was left
  // unread, and its honest auth-int answer refused.
  it.each([
    ['Express 5', express],
    ['Express 4', require('express4') as typeof express],
  ])(
    'takes a body sent without Content-Type through the documented recipe (%s)',
    async (_name, lib) => {
      const app = lib();
      app.use(lib.raw({ type: () => true, limit: '1mb' }));
      app.use(
        authenticate({
          realm: 'api',
          schemes: [digest({ users: { alice: 'secret' }, secret: SECRET, qop: ['auth-int'] })],
        }),
      );
      app.post('/upload', (req, res) => {
        res.json({ user: req.auth?.user });
      });
      const origin = await listen(app);
      const challenge = challengesOf(await request(origin).post('/upload'))[0] as Challenge;
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        // supertest (superagent) adds a Content-Type to a body it sends: a raw request has none.
        const url = new URL(`${origin}/upload`);
        const req = httpRequest(
          {
            host: url.hostname,
            port: url.port,
            method: 'POST',
            path: '/upload',
            headers: {
              Authorization: uploadAuthorization(challenge, body),
              'Content-Length': body.length,
            },
          },
          (answer) => {
            let text = '';
            answer.on('data', (chunk: Buffer) => (text += chunk.toString()));
            answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      expect(res).toEqual({ status: 200, body: JSON.stringify({ user: 'alice' }) });
    },
  );

  it('refuses auth-int with 401 (not 500) when a JSON parser consumed the body', async () => {
    const origin = await listen(authIntBehindJson(express));
    const challenge = challengesOf(await request(origin).post('/upload'))[0] as Challenge;
    const res = await request(origin)
      .post('/upload')
      .set('Authorization', uploadAuthorization(challenge, body))
      .set('Content-Type', 'application/json')
      .send(body.toString());
    expect(res.status).toBe(401);
    expect(challengesOf(res)).toHaveLength(1);
  });
});

/** An app with a JSON parser before auth-int Digest; /upload answers the user and `req.body`. */
function authIntBehindJson(lib: typeof express): express.Express {
  const app = lib();
  app.use(lib.json());
  app.use(
    authenticate({
      realm: 'api',
      schemes: [digest({ users: { alice: 'secret' }, secret: SECRET, qop: ['auth-int'] })],
    }),
  );
  app.post('/upload', (req, res) => {
    res.json({ user: req.auth?.user, body: req.body as unknown });
  });
  return app;
}

describe('digest() with qop=auth-int behind an Express 4 body parser for another type', () => {
  // Express 4's parsers set req.body = {} on every request they do not parse (no body, or another
  // type): that object is no body's bytes. Only a request that HTTP/1.1 says has no body has the
  // empty one (RFC 9112 §6.3); a body left unread is unknown, and refused rather than guessed.
  it('takes {} as the empty body only when there is none, and refuses (401, not 500) an unread body', async () => {
    const origin = await listen(authIntBehindJson(require('express4') as typeof express));
    const challenge = challengesOf(await request(origin).post('/upload'))[0] as Challenge;
    const overEmpty = (nc: number): string => uploadAuthorization(challenge, Buffer.alloc(0), nc);
    const none = await request(origin).post('/upload').set('Authorization', overEmpty(1));
    expect([none.status, none.body]).toEqual([200, { user: 'alice', body: {} }]);
    // A form body json() skipped: req.body is {} too, and the answer over no body must not pass.
    const form = await request(origin)
      .post('/upload')
      .set('Authorization', overEmpty(2))
      .type('form')
      .send('amount=999');
    expect(form.status).toBe(401);
  });
});

describe('digest() with qop=auth-int and no body parser', () => {
  /** POST /upload with `headers` and `body` as written, on a plain node:http client. */
  const post = (origin: string, headers: Record<string, string>, body: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = httpRequest(`${origin}/upload`, { method: 'POST', headers }, (res) => {
        res.resume();
        resolve(res.statusCode as number);
      });
      req.on('error', reject);
      req.end(body);
    });

  it('takes the body as empty only when HTTP/1.1 says there is none (RFC 9112 §6.3)', async () => {
    const origin = await listen(protectedApp({ qop: ['auth-int'] }));
    const challenge = challengesOf(await request(origin).post('/upload'))[0] as Challenge;
    // Every answer below hashes the empty body.
    const emptyBody = (nc: number): string => uploadAuthorization(challenge, Buffer.alloc(0), nc);
    expect(await post(origin, { Authorization: emptyBody(1), 'Content-Length': '0' }, '')).toBe(
      200,
    );
    // A chunked body is unknown to the middleware: it must not ride on a digest of no body.
    expect(
      await post(
        origin,
        { Authorization: emptyBody(2), 'Transfer-Encoding': 'chunked' },
        '{"amount":999}',
      ),
    ).toBe(401);
  });
});

describe('digest() in proxy mode', () => {
  it('reads Proxy-Authorization, answers 407 and sends Proxy-Authentication-Info', async () => {
    const origin = await listen(protectedApp({}, true));
    const first = await request(origin).get('/p');
    expect(first.status).toBe(407);
    const challenge = challengesOf(first, 'proxy-authenticate')[0] as Challenge;
    const res = await request(origin)
      .get('/p')
      .set('Proxy-Authorization', authorization(challenge, { ...alice, uri: '/p' }));
    expect(res.status).toBe(200);
    expect(res.headers['proxy-authentication-info']).toMatch(/rspauth=/);
    expect(res.headers['authentication-info']).toBeUndefined();
  });
});

describe('digest() with an htdigest file', () => {
  it('authenticates users of an htdigest file written by Apache htdigest (MD5)', async () => {
    const file = await loadHtdigest(path.join(__dirname, '../../passwords/htdigest-fixture.txt'));
    const app = express();
    app.use(
      authenticate({
        realm: 'api',
        schemes: [digest({ getHA1: file.getHA1, algorithms: ['MD5', 'MD5-sess'], secret: SECRET })],
      }),
    );
    app.get('/', (req, res) => {
      res.json({ user: req.auth?.user });
    });
    const origin = await listen(app);
    for (const [index, user, password, status] of [
      [0, 'alice', 'secret', 200],
      [1, 'J\u00e4s\u00f8n Doe', 'Secret, or not?', 200],
      [0, 'alice', 'other', 401], // alice's password in the "admin" realm
      [0, 'Mufasa', 'Circle Of Life', 401], // another realm
    ] as const) {
      // MD5 and MD5-sess share one nonce: a fresh challenge each time keeps nc=1 unused.
      const challenge = challengesOf(await request(origin).get('/'))[index] as Challenge;
      const res = await request(origin)
        .get('/')
        .set('Authorization', authorization(challenge, { user, password, uri: '/' }));
      expect(res.status).toBe(status);
      if (status === 200) expect(res.body.user).toBe(user);
    }
  });
});

describe('digest() with an htdigest file the htdigest tool wrote, answered by curl', () => {
  const curl = async (origin: string, credentials: string): Promise<string> => {
    const { stdout } = await promisify(execFile)('curl', [
      '-s',
      '--digest',
      '-u',
      credentials,
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      `${origin}/`,
    ]);
    return stdout;
  };

  it('a realm and user beyond ASCII; with reload, a deleted user gets 401 and a missing file 500', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'htdigest-'));
    try {
      const file = path.join(dir, 'htdigest');
      // htdigest reads the password twice from stdin when it is not a terminal.
      const add = (user: string, password: string, create = false): void => {
        execFileSync('htdigest', [...(create ? ['-c'] : []), file, 'r\u00e9alm', user], {
          input: `${password}\n${password}\n`,
          stdio: ['pipe', 'ignore', 'ignore'],
        });
      };
      add('j\u00f6rg', 'p\u00e4ss', true);
      add('alice', 'secret');
      const loaded = await loadHtdigest(file, { reload: { interval: 0, onError: () => {} } });
      const app = express();
      app.use(
        authenticate({
          // The realm's UTF-8 bytes, as latin1: what Node sends, and what htdigest hashed.
          realm: Buffer.from('r\u00e9alm').toString('latin1'),
          schemes: [digest({ getHA1: loaded.getHA1, algorithms: ['MD5'], secret: SECRET })],
        }),
      );
      app.get('/', (_req, res) => res.send('ok'));
      const origin = await listen(app);
      expect(await curl(origin, 'j\u00f6rg:p\u00e4ss')).toBe('200');
      expect(await curl(origin, 'alice:secret')).toBe('200');
      expect(await curl(origin, 'alice:wrong')).toBe('401');
      // htdigest has no delete: the file rewritten without alice.
      writeFileSync(
        file,
        readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => !line.startsWith('alice:'))
          .join('\n'),
      );
      expect(await curl(origin, 'alice:secret')).toBe('401');
      expect(await curl(origin, 'j\u00f6rg:p\u00e4ss')).toBe('200');
      // Gone: nobody gets in, and the failure is the server's (fail closed), not a 401.
      rmSync(file);
      expect(await curl(origin, 'j\u00f6rg:p\u00e4ss')).toBe('500');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  // The realm as typed goes out as ISO-8859-1 octets, which curl hashes, while the file's HA1s
  // are over its UTF-8 octets: every user was refused with a 401, and nothing said why.
  it('the realm as typed, which the file cannot answer: a 500 whose error says how to configure it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'htdigest-'));
    try {
      const file = path.join(dir, 'htdigest');
      execFileSync('htdigest', ['-c', file, 'r\u00e9alm', 'alice'], {
        input: 'secret\nsecret\n',
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      const loaded = await loadHtdigest(file);
      const errors: unknown[] = [];
      const app = express();
      app.use(
        authenticate({
          realm: 'r\u00e9alm',
          schemes: [digest({ getHA1: loaded.getHA1, algorithms: ['MD5'], secret: SECRET })],
        }),
      );
      app.get('/', (_req, res) => res.send('ok'));
      app.use((err: unknown, _req: unknown, res: ServerResponse, _next: unknown) => {
        errors.push(err);
        res.statusCode = 500;
        res.end();
      });
      const origin = await listen(app);
      expect(await curl(origin, 'alice:secret')).toBe('500');
      expect(errors).toHaveLength(1);
      expect(String((errors[0] as Error).message)).toContain(
        "configure the realm as Buffer.from(\"r\u00e9alm\", 'utf8').toString('latin1')",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('digest() lookups that hand fields to req.auth (as passport-http DigestStrategy does)', () => {
  const accounts: Record<string, { password: string; name: string; role: string }> = {
    alice: { password: 'secret', name: 'Alice Liddell', role: 'admin' },
  };

  it('puts what getPassword returns beside the password on req.auth; Digest fields stay', async () => {
    const origin = await listen(
      protectedApp({
        users: undefined,
        getPassword: async (user) => {
          const account = accounts[user];
          return (
            account !== undefined && {
              password: account.password,
              details: { role: account.role, realm: 'not this', scheme: 'Basic' },
            }
          );
        },
      }),
    );
    const challenge = challengesOf(await request(origin).get('/r'))[0] as Challenge;
    const res = await request(origin)
      .get('/r')
      .set('Authorization', authorization(challenge, { ...alice, uri: '/r' }));
    expect(res.status).toBe(200);
    expect(res.body.auth).toEqual({
      scheme: 'Digest',
      user: 'alice',
      role: 'admin',
      realm: 'api',
      algorithm: 'SHA-256',
      qop: 'auth',
    });
    // A wrong password gets nothing of it.
    const wrong = await request(origin)
      .get('/r')
      .set(
        'Authorization',
        authorization(challenge, { ...alice, password: 'nope', uri: '/r', nc: 2 }),
      );
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({});
  });

  it('maps the name with details.user, from getHA1 too', async () => {
    const origin = await listen(
      protectedApp({
        users: undefined,
        getHA1: (user, realm, hash) =>
          user === 'alice'
            ? {
                ha1: createHash(hash === 'SHA-256' ? 'sha256' : 'md5')
                  .update(`alice:${realm}:secret`)
                  .digest('hex'),
                details: { user: accounts.alice!.name, id: 7 },
              }
            : null,
      }),
    );
    const challenge = challengesOf(await request(origin).get('/r'))[0] as Challenge;
    const res = await request(origin)
      .get('/r')
      .set('Authorization', authorization(challenge, { ...alice, uri: '/r' }));
    expect(res.status).toBe(200);
    expect(res.body.auth).toMatchObject({ scheme: 'Digest', user: 'Alice Liddell', id: 7 });
  });

  it('answers 500 (never a success) for details that are not an object, or an empty user', async () => {
    // The same app with details that are right gets through: only the checks make these 500s.
    for (const [details, status] of [
      [{ role: 'admin' }, 200],
      ['admin', 500],
      [{ user: '' }, 500],
    ] as const) {
      const app = protectedApp({
        users: undefined,
        getPassword: () => ({ password: 'secret', details: details as object }),
      });
      app.use((_err: unknown, _req: express.Request, res: express.Response, _next: unknown) => {
        res.status(500).end();
      });
      const origin = await listen(app);
      const challenge = challengesOf(await request(origin).get('/r'))[0] as Challenge;
      const res = await request(origin)
        .get('/r')
        .set('Authorization', authorization(challenge, { ...alice, uri: '/r' }));
      expect(res.status).toBe(status);
    }
  });
});
