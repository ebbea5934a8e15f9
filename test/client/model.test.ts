/**
 * Model-based test of authscheme/client against our own middleware: random sequences of requests
 * (single and concurrent), redirects and server-side events, with invariants checked on what the
 * servers saw.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import fc from 'fast-check';
import {
  authenticate,
  basic,
  digest,
  MemoryNonceStore,
  type DigestAlgorithm,
  type DigestQop,
} from 'authscheme';
import { createAuthFetch } from 'authscheme/client';
import { closedAfterEach } from '../helpers/logging-server';

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const LIFETIME = 60_000;

interface Seen {
  origin: 'A' | 'B' | 'F';
  rid: string | undefined;
  op: number;
  method: string;
  url: string;
  authorization: string | undefined;
  status: number;
  challenge: string;
}

interface DigestConf {
  algorithm: DigestAlgorithm;
  qop: DigestQop[];
  domain: boolean;
  nextNonceBefore: number;
}

interface Config {
  d1: DigestConf;
  d2: DigestConf;
  schemes: ('Digest' | 'Basic')[];
  verifyServer: boolean | 'require';
}

type Op =
  | { kind: 'req'; method: 'GET' | 'HEAD' | 'POST'; path: string }
  | { kind: 'batch'; reqs: { method: 'GET' | 'HEAD' | 'POST'; path: string }[] }
  | {
      kind: 'during';
      reqs: { method: 'GET' | 'HEAD' | 'POST'; path: string }[];
      event: Exclude<Op, { kind: 'req' | 'batch' | 'during' }>;
      after: number;
    }
  | { kind: 'rotate'; realm: 'd1' | 'd2' | 'b'; right: boolean }
  | { kind: 'restart'; realm: 'd1' | 'd2' }
  | { kind: 'clearStore'; realm: 'd1' | 'd2' }
  | { kind: 'expire' }
  | { kind: 'tick'; ms: number };

const PLAIN = ['/d1/a', '/d1/s/b', '/d2/a', '/b/a', '/b/sub/a', '/open/a', '/a'];
const REDIRECT_SOURCES = ['/open/go', '/d1/go', '/b/sub/go'];
const codes = [301, 302, 303, 307, 308] as const;

const pathArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...PLAIN) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'B:/p/a',
      'B:/bb/a',
      'B:/back/d1/a',
      'B:/back/b/a',
      'F:/bb/a',
      'F:/p/a',
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...REDIRECT_SOURCES),
        fc.constantFrom(...codes),
        fc.oneof(
          fc.constantFrom(...PLAIN).map((p) => `A${p}`),
          fc.constantFrom('B/open', 'B/chal', 'B/p/a', 'B/bb/a', ...PLAIN.map((p) => `B/back${p}`)),
        ),
      )
      .map(([src, code, to]) => `${src}?code=${code}&to=${encodeURIComponent(to)}`),
  },
);
const methodArb = fc.constantFrom('GET' as const, 'GET' as const, 'HEAD' as const, 'POST' as const);
const reqArb = fc.record({ method: methodArb, path: pathArb });
const eventArb = fc.oneof(
  fc.record({
    kind: fc.constant('rotate' as const),
    realm: fc.constantFrom('d1' as const, 'd2' as const, 'b' as const),
    right: fc.boolean(),
  }),
  fc.record({
    kind: fc.constantFrom('restart' as const, 'clearStore' as const),
    realm: fc.constantFrom('d1' as const, 'd2' as const),
  }),
  fc.constant({ kind: 'expire' as const }),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc
      .record({
        reqs: fc.array(reqArb, { minLength: 2, maxLength: 8 }),
        event: eventArb,
        after: fc.integer({ min: 0, max: 15 }),
      })
      .map((r) => ({ kind: 'during' as const, ...r })),
  },
  { weight: 8, arbitrary: reqArb.map((r) => ({ kind: 'req' as const, ...r })) },
  {
    weight: 3,
    arbitrary: fc
      .array(reqArb, { minLength: 2, maxLength: 8 })
      .map((reqs) => ({ kind: 'batch' as const, reqs })),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('rotate' as const),
      realm: fc.constantFrom('d1' as const, 'd2' as const, 'b' as const),
      right: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('restart' as const),
      realm: fc.constantFrom('d1' as const, 'd2' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('clearStore' as const),
      realm: fc.constantFrom('d1' as const, 'd2' as const),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'expire' as const }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: LIFETIME }).map((ms) => ({ kind: 'tick' as const, ms })),
  },
);
const digestConfArb: fc.Arbitrary<DigestConf> = fc.record({
  algorithm: fc.constantFrom<DigestAlgorithm>(
    'MD5',
    'MD5-sess',
    'SHA-256',
    'SHA-256-sess',
    'SHA-512-256',
    'SHA-512-256-sess',
  ),
  qop: fc.constantFrom<DigestQop[]>(['auth'], ['auth-int'], ['auth', 'auth-int']),
  domain: fc.boolean(),
  nextNonceBefore: fc.constantFrom(0, LIFETIME / 2, LIFETIME - 1),
});
const configArb: fc.Arbitrary<Config> = fc
  .record({
    d1: digestConfArb,
    d2: digestConfArb,
    schemes: fc.constantFrom<Config['schemes']>(
      ['Digest', 'Basic'],
      ['Basic', 'Digest'],
      ['Digest'],
      ['Basic'],
    ),
    verifyServer: fc.constantFrom<Config['verifyServer']>(true, true, false, 'require'),
  })
  .map((c) => (c.verifyServer === 'require' ? { ...c, schemes: ['Digest' as const] } : c));

const servers = closedAfterEach();

async function start(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  origin: 'A' | 'B',
  log: Seen[],
  op: { current: number },
): Promise<string> {
  const server = createServer((req, res) => {
    res.on('finish', () => {
      const challenge = res.getHeader('www-authenticate');
      log.push({
        origin: req.headers['x-far'] === undefined ? origin : 'F',
        rid: req.headers['x-rid'] as string | undefined,
        op: op.current,
        method: req.method!,
        url: req.url!,
        authorization: req.headers.authorization,
        status: res.statusCode,
        challenge: Array.isArray(challenge) ? challenge.join(', ') : String(challenge ?? ''),
      });
    });
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Runs one sequence; returns a list of invariant violations (empty when all hold). */
async function runModel(config: Config, ops: Op[]): Promise<string[]> {
  const log: Seen[] = [];
  const failures: string[] = [];
  const opRef = { current: -1 };
  const passwords = { d1: 'secret', d2: 'secret', b: 'secret' };
  const clock = { t: Date.now() };
  const failedLogins = new Map<string, number>();
  // A failed login: credentials checked and found wrong (not a stale nonce, not another scheme).
  const audit = (outcome: { outcome: string; code?: string }, req: IncomingMessage): void => {
    if (outcome.outcome === 'error') failures.push(`server error: ${req.method} ${req.url}`);
    if (outcome.code === 'ERR_AUTH_INVALID_CREDENTIALS') {
      const rid = req.headers['x-rid'] as string;
      failedLogins.set(rid, (failedLogins.get(rid) ?? 0) + 1);
    }
  };
  const makeDigest = (name: 'd1' | 'd2', secret: string, store: MemoryNonceStore) => {
    const c = config[name];
    return authenticate({
      realm: name,
      audit,
      schemes: [
        digest({
          getPassword: (user) => (user === 'alice' ? passwords[name] : undefined),
          secret,
          store,
          algorithms: [c.algorithm],
          qop: c.qop,
          nonceLifetime: LIFETIME,
          nextNonceBefore: c.nextNonceBefore,
          now: () => clock.t,
          ...(c.domain ? { domain: [`/${name}/`] } : {}),
        }),
      ],
    });
  };
  const mw = {
    d1: makeDigest('d1', SECRET, new MemoryNonceStore()),
    d2: makeDigest('d2', SECRET, new MemoryNonceStore()),
    b: authenticate({
      realm: 'b',
      audit,
      schemes: [
        basic({
          verify: (user, password) => (user === 'alice' && password === passwords.b ? user : false),
        }),
      ],
    }),
  };
  let secrets = 0;
  const secretOf = { d1: SECRET, d2: SECRET };
  let bUrl = '';
  let aUrl = '';
  const target = (to: string): string =>
    to.startsWith('A') ? `${aUrl}${to.slice(1)}` : `${bUrl}${to.slice(1)}`;

  const app = express();
  app.use(express.raw({ type: () => true }));
  app.use((req, res, next) => {
    const path = req.path;
    if (path.startsWith('/d1/')) return mw.d1(req, res, next);
    if (path.startsWith('/d2/')) return mw.d2(req, res, next);
    if (path.startsWith('/b/')) return mw.b(req, res, next);
    next();
  });
  app.all('/{*path}', (req, res) => {
    if (req.path.endsWith('/go')) {
      const query = new URL(req.originalUrl, 'http://x').searchParams;
      res.redirect(Number(query.get('code')), target(query.get('to')!));
      return;
    }
    res.send('ok');
  });
  let arrivals = 0;
  aUrl = await start(
    (req, res) => {
      // Some requests wait a little, so that concurrent ones arrive out of order.
      const wait = (arrivals++ * 7) % 5;
      if (wait < 3) app(req, res);
      else setTimeout(() => app(req, res), wait);
    },
    'A',
    log,
    opRef,
  );
  // Origin B: a realm of its own (a Digest realm named as one of A's), and redirects back to A.
  const appB = express();
  appB.use(express.raw({ type: () => true }));
  const bDigest = authenticate({
    realm: 'd1',
    schemes: [digest({ users: { alice: 'secret' }, secret: `${SECRET}-b` })],
  });
  const bBasic = authenticate({ realm: 'b', schemes: [basic({ users: { alice: 'secret' } })] });
  appB.use((req, res, next) => {
    if (req.path.startsWith('/p/')) return bDigest(req, res, next);
    if (req.path.startsWith('/bb/')) return bBasic(req, res, next);
    next();
  });
  appB.all('/{*path}', (req, res) => {
    if (req.path.startsWith('/back/')) {
      res.redirect(req.method === 'POST' ? 307 : 302, `${aUrl}${req.path.slice(5)}`);
    } else if (req.path === '/chal') {
      res.status(401);
      res.setHeader('WWW-Authenticate', [
        'Basic realm="b"',
        'Digest realm="d1", nonce="bnonce", qop="auth", algorithm=MD5',
      ]);
      res.end();
    } else res.send('b');
  });
  bUrl = await start(appB, 'B', log, opRef);

  // http://far.test, a plain-http host that is not loopback, served by B: its responses are built
  // by hand (no url), so taken as coming from far.test.
  const viaFar = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.hostname !== 'far.test') return fetch(request, init);
    const headers = new Headers(request.headers);
    headers.set('x-far', '1');
    const res = await fetch(`${bUrl}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: request.body === null ? null : await request.arrayBuffer(),
      redirect: 'manual',
    });
    const body = await res.arrayBuffer();
    return new Response(
      [204, 304].includes(res.status) || request.method === 'HEAD' ? null : body,
      {
        status: res.status,
        headers: res.headers,
      },
    );
  };
  const authFetch = createAuthFetch(
    { username: 'alice', password: 'secret' },
    { fetch: viaFar, schemes: config.schemes, verifyServer: config.verifyServer },
  );
  /** Whether the client can answer `realm` at all with these options. */
  const answerable = (realm: 'd1' | 'd2' | 'b' | 'p' | 'bb'): boolean =>
    realm === 'b' || realm === 'bb'
      ? config.schemes.includes('Basic')
      : config.schemes.includes('Digest') &&
        (config.verifyServer !== 'require' || realm === 'p' || config[realm].qop.includes('auth'));
  const good = (realm: 'd1' | 'd2' | 'b'): boolean =>
    passwords[realm] === 'secret' && answerable(realm);
  let rid = 0;
  const realmOf = (path: string): 'd1' | 'd2' | 'b' | undefined =>
    path.startsWith('/d1/')
      ? 'd1'
      : path.startsWith('/d2/')
        ? 'd2'
        : path.startsWith('/b/')
          ? 'b'
          : undefined;
  const statuses: { rid: string; op: number; method: string; path: string; status: number }[] = [];
  const one = async (
    op: number,
    method: string,
    path: string,
  ): Promise<{ rid: string; ok: boolean }> => {
    const id = `r${rid++}`;
    const url = path.startsWith('B:')
      ? `${bUrl}${path.slice(2)}`
      : path.startsWith('F:')
        ? `http://far.test${path.slice(2)}`
        : `${aUrl}${path}`;
    let status: number;
    try {
      const res = await authFetch(url, {
        method,
        headers: { 'x-rid': id },
        ...(method === 'POST' ? { body: `body-${id}` } : {}),
      });
      await res.arrayBuffer();
      status = res.status;
    } catch (err) {
      // README: with verifyServer 'require', a success to an answer must carry rspauth; a Digest
      // realm without `domain` covers the whole origin, so answers go up front to pages that
      // check nothing, whose successes then reject.
      const unchecked = log.some(
        (e) =>
          e.rid === id &&
          e.authorization?.startsWith('Digest ') === true &&
          (e.origin === 'A'
            ? realmOf(new URL(e.url, 'http://x').pathname) === undefined
            : !/^\/(p|bb)\//.test(e.url)) &&
          e.status < 400,
      );
      if (!(config.verifyServer === 'require' && unchecked && /no rspauth/.test(String(err)))) {
        failures.push(`(E) ${id} ${method} ${path} rejected: ${String(err)}`);
      }
      status = -1;
    }
    statuses.push({ rid: id, op, method, path, status });
    return { rid: id, ok: true };
  };

  const apply = (i: number, op: Op): void => {
    switch (op.kind) {
      case 'rotate':
        passwords[op.realm] = op.right ? 'secret' : `other-${i}`;
        break;
      case 'restart':
        secretOf[op.realm] = `${SECRET}-restart-${secrets++}`;
        mw[op.realm] = makeDigest(op.realm, secretOf[op.realm], new MemoryNonceStore());
        break;
      case 'clearStore':
        mw[op.realm] = makeDigest(op.realm, secretOf[op.realm], new MemoryNonceStore());
        break;
      case 'expire':
        clock.t += LIFETIME + 1;
        break;
      case 'tick':
        clock.t += op.ms;
        break;
      default:
    }
  };
  for (const [i, op] of ops.entries()) {
    opRef.current = i;
    if (op.kind === 'req') await one(i, op.method, op.path);
    else if (op.kind === 'batch') await Promise.all(op.reqs.map((r) => one(i, r.method, r.path)));
    else if (op.kind === 'during') {
      const event = new Promise<void>((resolve) =>
        setTimeout(() => {
          apply(i, op.event);
          resolve();
        }, op.after),
      );
      await Promise.all([event, ...op.reqs.map((r) => one(i, r.method, r.path))]);
      // A password or secret changed while in flight: no outcome to expect (a challenge of the
      // old secret's is another digest()'s: its answer gets 401 without stale=true). A store
      // cleared or nonces expired in flight are answered with stale=true: the request ends 200.
      if (op.event.kind === 'rotate' || op.event.kind === 'restart') continue;
    } else apply(i, op);
    // Invariant 5: with the right password, every request to a protected path without a
    // redirect ends 200.
    for (const s of statuses.filter((x) => x.op === i && x.status !== -1)) {
      if (s.path.includes('?')) {
        // A redirect: where it ends, with which method, and every realm on the way.
        const url = new URL(s.path, 'http://x');
        const code = Number(url.searchParams.get('code'));
        const to = url.searchParams.get('to')!;
        const method =
          (code === 303 && s.method !== 'HEAD') || (code <= 302 && s.method === 'POST')
            ? 'GET'
            : s.method;
        const sourceRealm = realmOf(url.pathname);
        if (sourceRealm !== undefined && !good(sourceRealm)) continue;
        if (method === 'POST') continue;
        // README: a 401 after a redirect fetch followed is answered for GET and HEAD only (a POST
        // that became a GET included); the client follows itself only what it sent a password with.
        if (s.method === 'POST' && sourceRealm === undefined && s.status === 401) continue;
        const end =
          to === 'B/open'
            ? undefined
            : ['B/chal', 'B/p/a', 'B/bb/a'].includes(to)
              ? 'chal'
              : to.replace(/^(A|B\/back)/, '');
        const expected =
          end === 'chal'
            ? 401
            : end === undefined || realmOf(end) === undefined || good(realmOf(end)!)
              ? 200
              : 401;
        if (s.status !== expected) {
          failures.push(`(5r) ${s.rid} ${s.method} ${s.path} ended ${s.status}, not ${expected}`);
        }
        continue;
      }
      if (s.path.startsWith('F:')) {
        // Basic is held back from a plain-http host elsewhere; Digest is answered there.
        const expected = s.path === 'F:/bb/a' || !answerable('p') ? 401 : 200;
        if (s.status !== expected) {
          failures.push(`(5F) ${s.rid} ${s.method} ${s.path} ended ${s.status}, not ${expected}`);
        }
        continue;
      }
      if (s.path.startsWith('B:')) {
        const end = s.path.slice(2).replace(/^\/back/, '');
        const realm = realmOf(end);
        const expected =
          s.path.startsWith('B:/back') && realm !== undefined
            ? 401 // README: no credentials go to another origin a redirect led to.
            : answerable(end.startsWith('/p/') ? 'p' : end.startsWith('/bb/') ? 'bb' : 'b')
              ? 200
              : 401;
        if (s.status !== expected) {
          failures.push(`(5B) ${s.rid} ${s.method} ${s.path} ended ${s.status}, not ${expected}`);
        }
        continue;
      }
      const realm = realmOf(s.path);
      if (realm !== undefined && good(realm) && s.status !== 200) {
        failures.push(
          `(5) ${s.rid} ${s.method} ${s.path} ended ${s.status} with the right password`,
        );
      }
      if (realm !== undefined && !good(realm) && s.status !== 401) {
        failures.push(
          `(5b) ${s.rid} ${s.method} ${s.path} ended ${s.status} with a wrong password`,
        );
      }
    }
  }

  // Invariant 1: (nonce, nc) never twice; nc above every nc of earlier ops on that nonce.
  const seenNc = new Map<string, Set<number>>();
  const maxBeforeOp = new Map<string, { op: number; max: number; prevMax: number }>();
  for (const e of log) {
    if (e.authorization?.startsWith('Digest ') !== true) continue;
    const nonce = /nonce="([^"]+)"/.exec(e.authorization)![1]!;
    const ncText = /nc=([0-9a-f]+)/.exec(e.authorization)?.[1];
    if (ncText === undefined) continue;
    const nc = parseInt(ncText, 16);
    const key = `${e.origin}|${nonce}`;
    const set = seenNc.get(key) ?? new Set();
    if (set.has(nc))
      failures.push(`(1) nonce ${nonce.slice(0, 12)} nc ${nc} sent twice (${e.rid})`);
    set.add(nc);
    seenNc.set(key, set);
    const m = maxBeforeOp.get(key) ?? { op: -1, max: 0, prevMax: 0 };
    if (m.op !== e.op) {
      m.prevMax = m.max;
      m.op = e.op;
    }
    if (nc <= m.prevMax) {
      failures.push(
        `(1b) nonce ${nonce.slice(0, 12)} nc ${nc} after ${m.prevMax} of an earlier op (${e.rid})`,
      );
    }
    m.max = Math.max(m.max, nc);
    maxBeforeOp.set(key, m);
  }

  // Invariant 2: nothing of ours reaches B.
  for (const e of log) {
    const started = statuses.find((x) => x.rid === e.rid);
    if (
      e.origin === 'B' &&
      e.authorization !== undefined &&
      started?.path.startsWith('B:') !== true
    ) {
      failures.push(`(2) ${e.rid} sent ${e.authorization.slice(0, 20)} to B ${e.url}`);
    }
  }

  for (const e of log) {
    if (e.origin === 'F' && e.authorization?.startsWith('Basic ') === true) {
      failures.push(`(2F) ${e.rid} sent Basic to plain-http far.test ${e.url}`);
    }
  }

  // Per client request, in the order its requests arrived.
  const byRid = new Map<string, Seen[]>();
  for (const e of log) {
    if (e.rid === undefined) continue;
    byRid.set(e.rid, [...(byRid.get(e.rid) ?? []), e]);
  }
  // Invariant 3: Basic up front only within a directory where Basic was accepted before.
  const learned: { origin: string; dir: string; index: number }[] = [];
  log.forEach((e, index) => {
    if (e.authorization?.startsWith('Basic ') === true && e.status !== 401) {
      const path = new URL(e.url, 'http://x').pathname;
      learned.push({ origin: e.origin, dir: path.slice(0, path.lastIndexOf('/') + 1), index });
    }
  });
  for (const [id, entries] of byRid) {
    entries.forEach((e, k) => {
      const path = new URL(e.url, 'http://x').pathname;
      const prev = entries[k - 1];
      const isAnswer = prev !== undefined && prev.url === e.url && prev.status === 401;
      if (e.authorization?.startsWith('Basic ') === true && !isAnswer) {
        const index = log.indexOf(e);
        const within = (l: (typeof learned)[number]): boolean =>
          l.origin === e.origin && l.index < index && path.startsWith(l.dir);
        if (!learned.some(within)) {
          failures.push(`(3) ${id} sent Basic up front to ${e.url} outside learned directories`);
        }
      }
    });
    // Invariant 4: a 401 answered once, twice after stale=true; refused Basic bytes not repeated.
    let run = 0;
    let staleSeen = false;
    entries.forEach((e, k) => {
      const prev = entries[k - 1];
      if (prev !== undefined && prev.url === e.url && prev.status === 401) {
        run++;
        staleSeen ||= /stale=true/i.test(prev.challenge);
      } else {
        run = 0;
        staleSeen = false;
      }
      if (run > (staleSeen ? 2 : 1))
        failures.push(`(4) ${id} answered a 401 ${run} times at ${e.url}`);
      if (e.authorization?.startsWith('Basic ') === true) {
        const refusedBefore = entries
          .slice(0, k)
          .some((p) => p.url === e.url && p.status === 401 && p.authorization === e.authorization);
        if (refusedBefore) failures.push(`(4b) ${id} repeated refused Basic bytes at ${e.url}`);
      }
    });
  }
  // Invariant 6: failed logins per client request.
  // README ("Answers"): a Digest answer sent up front and refused gets one fresh answer, so two
  // failed logins there; one otherwise.
  for (const [id, n] of failedLogins) {
    const entries = byRid.get(id) ?? [];
    const refused = entries.filter((e) => e.authorization !== undefined && e.status === 401);
    const first = refused[0];
    const upFrontDigest =
      first?.authorization?.startsWith('Digest ') === true &&
      !entries.some((e, k) => entries[k + 1] === first && e.url === first.url && e.status === 401);
    if (n > (upFrontDigest ? 2 : 1)) {
      failures.push(
        `(6) ${id} counted ${n} failed logins: ${entries.map((e) => `${e.method} ${e.url} ${e.authorization?.split(' ')[0] ?? '-'} ${e.status}`).join(' | ')}`,
      );
    }
  }
  if (process.env.MODEL_STATS !== undefined) {
    const count = (f: (e: Seen) => boolean): number => log.filter(f).length;
    stats.requests += statuses.length;
    stats.digest += count((e) => e.authorization?.startsWith('Digest ') === true);
    stats.ncAbove1 += count((e) => /nc=0*([2-9]|[1-9]\d)/.test(e.authorization ?? ''));
    stats.basic += count((e) => e.authorization?.startsWith('Basic ') === true);
    stats.stale += count((e) => /stale=true/.test(e.challenge));
    stats.nextnonce += 0;
    stats.redirects += count((e) => e.status >= 300 && e.status < 400);
    stats.handed401 += statuses.filter((x) => x.status === 401).length;
    stats.ok += statuses.filter((x) => x.status === 200).length;
    stats.toB += count((e) => e.origin === 'B');
  }
  if (process.env.MODEL_DEBUG !== undefined) {
    for (const f of failures) {
      const id = /^\(\w+\) (r\d+)/.exec(f)?.[1];
      const trace = log
        .filter((e) => e.rid === id)
        .map(
          (e) =>
            `  ${e.origin} ${e.method} ${e.url} ${e.authorization?.slice(0, 140) ?? '-'} -> ${e.status} ${e.challenge.slice(0, 160)}`,
        );
      console.log([f, ...trace].join('\n'));
    }
  }
  return failures;
}

const stats = {
  requests: 0,
  digest: 0,
  ncAbove1: 0,
  basic: 0,
  stale: 0,
  nextnonce: 0,
  redirects: 0,
  handed401: 0,
  ok: 0,
  toB: 0,
};
afterAll(() => {
  if (process.env.MODEL_STATS !== undefined) console.log(stats);
});

const SEED = Number(process.env.MODEL_SEED ?? 20261204);
const RUNS = Number(process.env.MODEL_RUNS ?? 150);

describe('authscheme/client, model-based against our middleware', () => {
  it('keeps its invariants over random sequences', async () => {
    const seen: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        configArb,
        fc.array(opArb, { minLength: 1, maxLength: 25 }),
        async (config, ops) => {
          const failures = await runModel(config, ops);
          await Promise.all(
            servers.splice(0).map((server) => {
              server.closeAllConnections();
              return new Promise((done) => server.close(done));
            }),
          );
          if (failures.length > 0) seen.push(failures[0]!);
          expect(failures).toEqual([]);
        },
      ),
      { seed: SEED, numRuns: RUNS, endOnFailure: process.env.MODEL_SHRINK === undefined },
    );
    expect(seen).toEqual([]);
  }, 120_000);
});
