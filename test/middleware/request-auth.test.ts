/**
 * How `req.auth` is handed over: an inherited accessor on Express (whose per-request prototype
 * swap makes a new own property expensive), an own property everywhere else, and the same reads
 * and writes either way.
 */
import http from 'node:http';
import request from 'supertest';
import express5 from 'express';
import { authenticate, basic } from 'authscheme';
import { basicAuth } from '../helpers/frameworks';

const express4 = require('express4') as typeof express5;

const guard = authenticate({ realm: 'r', schemes: [basic({ users: { alice: 'wonderland' } })] });
const alice = basicAuth('alice', 'wonderland');

type Req = http.IncomingMessage & { auth?: unknown };

function describeAuth(req: Req): { auth: unknown; own: boolean; keys: boolean } {
  return { auth: req.auth ?? null, own: Object.hasOwn(req, 'auth'), keys: 'auth' in req };
}

/** Another library's `auth` accessor on `target`: reads 'theirs', keeps what is assigned. */
function defineTheirs(target: object): unknown[] {
  const seen: unknown[] = [];
  Object.defineProperty(target, 'auth', {
    configurable: true,
    set(value: unknown) {
      seen.push(value);
    },
    get() {
      return 'theirs';
    },
  });
  return seen;
}

/** Our guard on `app` assigns through that accessor, and the application reads 'theirs'. */
async function expectTheirsUsed(app: express5.Express, seen: unknown[]): Promise<void> {
  app.use(guard);
  app.get('/', (req, res) => {
    res.json({ auth: (req as Req).auth });
  });
  const res = await request(app).get('/').set('Authorization', alice);
  expect(res.body).toEqual({ auth: 'theirs' });
  expect(seen).toEqual([{ scheme: 'Basic', user: 'alice' }]);
}

describe.each([
  ['express5', express5],
  ['express4', express4],
] as const)('req.auth on %s', (_name, express) => {
  it('is inherited from express.request, read like an own property', async () => {
    const app = express();
    app.use(guard);
    app.get('/', (req, res) => {
      res.json(describeAuth(req));
    });
    const res = await request(app).get('/').set('Authorization', alice);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ auth: { scheme: 'Basic', user: 'alice' }, own: false, keys: true });
    const descriptor = Object.getOwnPropertyDescriptor(express.request, 'auth');
    expect(typeof descriptor?.get).toBe('function');
    expect(descriptor?.enumerable).toBe(false);
  });

  it('replaces an own auth that an earlier middleware gave the request', async () => {
    const app = express();
    app.use((req, _res, next) => {
      Object.defineProperty(req, 'auth', { value: 'earlier', writable: true, configurable: true });
      next();
    });
    app.use(guard);
    app.get('/', (req, res) => {
      res.json(describeAuth(req));
    });
    await request(app).get('/').set('Authorization', alice); // the accessor is in place now
    const res = await request(app).get('/').set('Authorization', alice);
    expect(res.body).toEqual({ auth: { scheme: 'Basic', user: 'alice' }, own: true, keys: true });
  });

  it("goes through an app's own auth accessor, defined after ours", async () => {
    const first = express();
    first.use(guard);
    first.get('/', (_req, res) => {
      res.end();
    });
    await request(first).get('/').set('Authorization', alice); // ours is on express.request
    const app = express();
    const seen = defineTheirs(app.request);
    await expectTheirsUsed(app, seen);
    // The first app still reads ours.
    first.get('/who', (req, res) => {
      res.json(describeAuth(req));
    });
    const again = await request(first).get('/who').set('Authorization', alice);
    expect(again.body).toEqual({
      auth: { scheme: 'Basic', user: 'alice' },
      own: false,
      keys: true,
    });
  });

  it('is undefined on a request nobody authenticated', async () => {
    const app = express();
    app.get('/open', (req, res) => {
      res.json(describeAuth(req));
    });
    app.use(guard);
    await request(app).get('/').set('Authorization', alice); // the accessor is in place now
    const res = await request(app).get('/open');
    expect(res.body).toEqual({ auth: null, own: false, keys: true });
  });

  it('survives mounted sub-apps in both directions', async () => {
    const sub = express();
    sub.use('/in', guard);
    sub.use((req, res, next) => {
      res.setHeader('x-sub-saw', JSON.stringify((req as Req).auth ?? null));
      next();
    });
    const app = express();
    app.use('/outer', guard);
    app.use(['/outer', '/inner'], sub);
    app.use((req, res) => {
      res.json(describeAuth(req));
    });

    // Authenticated by the parent app: the sub-app sees it.
    const outer = await request(app).get('/outer').set('Authorization', alice);
    expect(JSON.parse(outer.headers['x-sub-saw'] as string)).toEqual({
      scheme: 'Basic',
      user: 'alice',
    });
    expect(outer.body.auth).toEqual({ scheme: 'Basic', user: 'alice' });

    // Authenticated inside the sub-app: the parent still sees it afterwards.
    const inner = await request(app).get('/inner/in').set('Authorization', alice);
    expect(inner.status).toBe(200);
    expect(inner.body.auth).toEqual({ scheme: 'Basic', user: 'alice' });
  });

  it('takes assignments from the application, per request', async () => {
    const app = express();
    app.use(guard);
    app.use((req, _res, next) => {
      const r = req as Req;
      if (req.query['replace'] === '1') r.auth = { scheme: 'Basic', user: 'replaced' };
      next();
    });
    app.get('/', (req, res) => {
      res.json(describeAuth(req));
    });
    const replaced = await request(app).get('/?replace=1').set('Authorization', alice);
    expect(replaced.body.auth).toEqual({ scheme: 'Basic', user: 'replaced' });
    const kept = await request(app).get('/').set('Authorization', alice);
    expect(kept.body.auth).toEqual({ scheme: 'Basic', user: 'alice' });
  });
});

describe.each(['express', 'express4'])('req.auth on a fresh %s', (moduleName) => {
  it('reaches the top app when the first request authenticated is one in a sub-app two levels down', async () => {
    // Fresh modules: the accessor is defined on the first authenticated request, and that one must
    // be the nested one. It went on the middle app's request prototype, out of the top app's sight.
    let fresh: { express: typeof express5; scheme: typeof import('authscheme') } | undefined;
    jest.isolateModules(() => {
      fresh = {
        express: require(moduleName) as typeof express5,
        scheme: require('authscheme') as typeof import('authscheme'),
      };
    });
    const { express, scheme } = fresh!;
    const mw = scheme.authenticate({ schemes: [scheme.basic({ users: { alice: 'wonderland' } })] });
    const top = express();
    const mid = express();
    const inner = express();
    inner.use(mw);
    mid.use('/inner', inner);
    top.use('/mid', mid);
    top.get('/mid/inner/top', (req, res) => {
      res.json(describeAuth(req));
    });
    const res = await request(top).get('/mid/inner/top').set('Authorization', alice);
    // Inherited, as the README says of every Express request, though a sub-app authenticated it.
    expect(res.body).toEqual({ auth: { scheme: 'Basic', user: 'alice' }, own: false, keys: true });
  });
});

describe.each(['express', 'express4'])(
  'req.auth on %s with express.request not extensible',
  (moduleName) => {
    it('is an own property, and the request goes on as authenticated', async () => {
      // A hardened process (prototypes locked down) refuses a new property on express.request:
      // req.auth is then set on the request itself, not a TypeError and a 500.
      let fresh!: typeof express5;
      jest.isolateModules(() => {
        fresh = require(moduleName) as typeof express5;
      });
      Object.preventExtensions(fresh.request);
      const app = fresh();
      app.use(guard);
      app.get('/', (req, res) => {
        res.json(describeAuth(req));
      });
      const res = await request(app).get('/').set('Authorization', alice);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ auth: { scheme: 'Basic', user: 'alice' }, own: true, keys: true });
    });
  },
);

describe('req.auth elsewhere', () => {
  it('is an own property on node:http', async () => {
    const server = http.createServer((req, res) => {
      guard(req, res, () => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(describeAuth(req)));
      });
    });
    const res = await request(server).get('/').set('Authorization', alice);
    expect(res.body).toEqual({ auth: { scheme: 'Basic', user: 'alice' }, own: true, keys: true });
    expect(Object.hasOwn(http.IncomingMessage.prototype, 'auth')).toBe(false);
  });

  it('leaves an auth the Express application defined itself alone', async () => {
    let fresh!: typeof express5;
    jest.isolateModules(() => {
      fresh = require('express') as typeof express5;
    });
    const seen = defineTheirs(fresh.request);
    const app = fresh();
    await expectTheirsUsed(app, seen);
  });
});
