/**
 * Python's httpx (Debian's python3-httpx, run by Debian's /usr/bin/python3) with its stock
 * httpx.BasicAuth and httpx.DigestAuth, Bearer as a plain header, and the proxy's credentials in
 * the proxy URL, against the demo and the proxy example. helpers/httpx_client.py runs a session
 * of requests in one httpx.Client, whose auth object keeps the last Digest challenge: later
 * requests answer it up front, the count going on.
 *
 * From httpx 0.23.3's _auth.py: the algorithms MD5, SHA (SHA-1), SHA-256 and SHA-512, each with
 * -sess; the first WWW-Authenticate line that is Digest; qop=auth only; no userhash, charset or
 * stale; Authentication-Info (rspauth) not read; no answer to a 407.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { authenticate, basic, digest } from 'authscheme';
import { DEMO_PASSWORD, DEMO_USER, demoForThisFile, PROXY_USERS, VIA_PROXY } from './helpers/demo';
import { digestCases, MatrixRecorder } from './helpers/matrix';
import { directive, parseJson, run } from './helpers/run';
import {
  authOf,
  expectBearer,
  expectScopedBearer,
  lastAuthorization,
  statuses,
  userOf,
} from './helpers/scripted';
import type { ScriptedResponse } from './helpers/scripted';
import * as wide from './helpers/wide-realm';

/** provision.sh installs python3-httpx for this interpreter, whatever python3 PATH finds first. */
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(__dirname, 'helpers', 'httpx_client.py');
const matrix = new MatrixRecorder('python-httpx', 'Python httpx');
const demo = demoForThisFile(matrix, async () => {
  const version = await run(PYTHON, ['-c', 'import httpx; print(httpx.__version__)']);
  if (version.code !== 0) throw new Error(`python3-httpx is missing: ${version.stderr}`);
  return `Python httpx ${version.stdout.trim()}`;
});
const [proxyUser, proxyPassword] = Object.entries(PROXY_USERS)[0]!;

/** Its exchanges: every request httpx sent for a call (a 401, then its answer). */
interface HttpxResponse extends ScriptedResponse {
  /** The exception httpx raised (class: message); the status is then 0. */
  error: string | null;
}

interface Step {
  method: 'GET' | 'POST';
  url: string;
  form?: Record<string, string>;
  /** A token, or `@token`: the access_token of the previous response. */
  bearer?: string;
}

interface Session {
  user?: string;
  password?: string;
  auth?: 'basic' | 'digest' | 'none';
  /** The proxy URL, with its credentials in it or not. */
  proxy?: string;
  requests: Step[];
}

async function httpx(session: Session): Promise<HttpxResponse[]> {
  const result = await run(PYTHON, [SCRIPT, JSON.stringify(session)]);
  const line = parseJson(result.stdout);
  if (line === undefined) throw new Error(`httpx_client.py printed no JSON: ${result.stderr}`);
  return line.responses as HttpxResponse[];
}

const demoUser = { user: DEMO_USER, password: DEMO_PASSWORD };
const times = (count: number, url: string): Step[] =>
  Array.from({ length: count }, () => ({ method: 'GET', url }));
/** The proxy example's URL with `user:password@` in it. */
const proxyWith = (user: string, password: string): string => {
  const url = new URL(demo.proxyOrigin);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  return url.href;
};

describe('Python httpx against the demo', () => {
  it('authenticates with httpx.BasicAuth (sent up front, both requests)', async () => {
    const responses = await httpx({
      ...demoUser,
      auth: 'basic',
      requests: times(2, `${demo.origin}/basic`),
    });
    const works = responses.every((r) => r.status === 200 && userOf(r) === DEMO_USER);
    matrix.record('Basic', works, 'httpx.BasicAuth sends Basic up front, without a challenge.');
    expect(responses.map(statuses)).toEqual([[200], [200]]);
    expect(authOf(responses[0])).toEqual({ scheme: 'Basic', user: DEMO_USER });
  });

  it('is refused with a wrong Basic password', async () => {
    const responses = await httpx({
      user: DEMO_USER,
      password: 'wrong',
      auth: 'basic',
      requests: times(2, `${demo.origin}/basic`),
    });
    expect(responses.map(statuses)).toEqual([[401], [401]]);
  });

  it.each(digestCases(['MD5', 'SHA-256', 'MD5-sess', 'SHA-256-sess']))(
    'httpx.DigestAuth with Digest $algorithm (works: $works; where it does, nc=2 on the nonce next, up front)',
    async ({ algorithm, row, works }) => {
      const url = `${demo.origin}/digest/${algorithm.toLowerCase()}`;
      const responses = await httpx({ ...demoUser, auth: 'digest', requests: times(2, url) });
      const [first, second] = responses as [HttpxResponse, HttpxResponse];
      if (!works) {
        matrix.record(
          row,
          false,
          `httpx 0.23 computes MD5, SHA (SHA-1), SHA-256 and SHA-512, each with -sess, only: here it raises \`${first.error?.split(':')[0] ?? '?'}\` (its table has no such name).`,
        );
        // Raised while answering the 401: the application gets no response at all.
        expect(first.error).toBe(`KeyError: '${algorithm.toUpperCase()}'`);
        expect(first.exchanges).toEqual([expect.objectContaining({ status: 401 })]);
        return;
      }
      const observed = [first, second].every((r) => r.status === 200 && userOf(r) === DEMO_USER);
      matrix.record(row, observed);
      expect(statuses(first)).toEqual([401, 200]);
      expect(authOf(first)).toMatchObject({ scheme: 'Digest', algorithm, qop: 'auth' });
      // The second request answers from memory: the same nonce, the next count, no 401 first.
      expect(statuses(second)).toEqual([200]);
      const sent = [first, second].map(lastAuthorization);
      expect(sent.map((field) => directive(field, 'algorithm'))).toEqual([algorithm, algorithm]);
      expect(directive(sent[1], 'nonce')).toBe(directive(sent[0], 'nonce'));
      expect(sent.map((field) => directive(field, 'nc'))).toEqual(['00000001', '00000002']);
      expect(userOf(second)).toBe(DEMO_USER);
    },
  );

  it('is refused with a wrong Digest password (401 after one answer; next time the kept challenge, then one answer)', async () => {
    const responses = await httpx({
      user: DEMO_USER,
      password: 'wrong',
      auth: 'digest',
      requests: times(2, `${demo.origin}/digest/sha-256`),
    });
    expect(
      responses.map((r) => r.exchanges.map((e) => [e.status, directive(e.authorization, 'nc')])),
    ).toEqual([
      [
        [401, undefined],
        [401, '00000001'],
      ],
      [
        [401, '00000002'],
        [401, '00000001'],
      ],
    ]);
  });

  it('answers the first Digest line when several schemes are offered (SHA-256)', async () => {
    const responses = await httpx({
      ...demoUser,
      auth: 'digest',
      requests: times(2, `${demo.origin}/multi`),
    });
    const [first] = responses as [HttpxResponse];
    const works = responses.every((r) => r.status === 200 && userOf(r) === DEMO_USER);
    matrix.record(
      'Several schemes offered (Digest SHA-256 first)',
      works,
      `DigestAuth answers the first WWW-Authenticate line that is Digest: it answered ${directive(lastAuthorization(first), 'algorithm')}.`,
    );
    expect(works).toBe(true);
    expect(first.exchanges[0]!.challenges).toHaveLength(4);
    expect(directive(lastAuthorization(first), 'algorithm')).toBe('SHA-256');
    expect(responses.map(statuses)).toEqual([[401, 200], [200]]);
  });

  it('sends a Bearer token set as a header; a wrong one gets 401, which httpx leaves alone', async () => {
    await expectBearer(
      demo,
      (requests) => httpx({ requests }),
      (works) =>
        matrix.record(
          'Bearer',
          works,
          'httpx has no Bearer auth class: the script passes `headers={"Authorization": "Bearer …"}`.',
        ),
    );
  });

  it('gets a token from /token with Basic and meets a required scope', async () => {
    const [issued, admin, readOnly] = await httpx({
      ...demoUser,
      auth: 'basic',
      requests: [
        { method: 'POST', url: `${demo.origin}/token`, form: { scope: 'admin' } },
        { method: 'GET', url: `${demo.origin}/admin`, bearer: '@token' },
        { method: 'GET', url: `${demo.origin}/admin`, bearer: demo.demo.readToken },
      ],
    });
    expect(issued!.status).toBe(200);
    expectScopedBearer(admin, readOnly, (works) =>
      matrix.record(
        'Bearer with a required scope',
        works,
        'Token from the demo’s /token endpoint; a token without the scope gets 403 insufficient_scope.',
      ),
    );
  });

  it('authenticates to the proxy with credentials in the proxy URL (origin Basic through it)', async () => {
    const through = (proxy: string): Promise<HttpxResponse[]> =>
      httpx({ ...demoUser, auth: 'basic', proxy, requests: times(2, `${demo.origin}/via-proxy`) });
    const responses = await through(proxyWith(proxyUser, proxyPassword));
    const works = responses.every((r) => r.status === 200 && userOf(r) === DEMO_USER);
    matrix.record(
      'Proxy Basic (407)',
      works,
      'Credentials in the proxy URL (`proxies=`): httpx sends Proxy-Authorization Basic up front; it answers no 407 (so no proxy Digest).',
    );
    // No 407 first: the proxy's credentials went with the first request.
    expect(responses.map(statuses)).toEqual([[200], [200]]);
    expect(parseJson(responses[0]!.body)?.forwarded).toMatchObject(VIA_PROXY);
    const [refused] = await through(proxyWith(proxyUser, 'wrong'));
    expect(statuses(refused!)).toEqual([407]);
  });

  it('answers no 407: without credentials in the proxy URL the challenges go to the application', async () => {
    const [response] = await httpx({
      ...demoUser,
      auth: 'digest',
      proxy: demo.proxyOrigin,
      requests: times(1, `${demo.origin}/via-proxy`),
    });
    expect(statuses(response!)).toEqual([407]);
    expect(response!.exchanges[0]!.proxyChallenges).toContainEqual(
      expect.stringMatching(/^Digest /),
    );
  });

  describe('a user name and password beyond ASCII', () => {
    const users = { 'j\u00f6rg': 'p\u00e4ssword' };
    const [user, password] = Object.entries(users)[0]!;
    let server: Server;
    let origin: string;

    beforeAll(async () => {
      const app = express();
      app.use('/basic', authenticate({ schemes: [basic({ users })] }));
      app.use('/digest', authenticate({ schemes: [digest({ users })] }));
      app.use((req, res) => res.json({ auth: req.auth }));
      server = createServer(app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise((done) => server.close(done)));

    it('Basic: sent as UTF-8, taken', async () => {
      const responses = await httpx({
        user,
        password,
        auth: 'basic',
        requests: times(2, `${origin}/basic`),
      });
      expect(responses.map((r) => [r.status, userOf(r)])).toEqual([
        [200, user],
        [200, user],
      ]);
    });

    // DigestAuth builds its answer as text, and sets it on the request that got the 401, whose
    // header encoding httpx has by then fixed at ASCII: the first answer raises. The next request
    // (a new one, its headers UTF-8) answers the challenge kept up front: taken.
    it('Digest: the first answer raises UnicodeEncodeError; the next request, up front, is taken', async () => {
      const [first, second] = await httpx({
        user,
        password,
        auth: 'digest',
        requests: times(2, `${origin}/digest`),
      });
      expect(first!.error).toMatch(/^UnicodeEncodeError: 'ascii' codec/);
      expect(statuses(first!)).toEqual([401]);
      expect([statuses(second!), userOf(second)]).toEqual([[200], user]);
      // The count went on past the answer that was never sent.
      expect(directive(lastAuthorization(second!), 'nc')).toBe('00000002');
    });
  });
});

describe('Python httpx under a realm beyond ASCII (Zürich)', () => {
  const server = wide.serverForThisBlock();

  // httpx decodes the realm as ISO-8859-1 (or UTF-8, when its octets are that) and hashes and
  // echoes its UTF-8; but the first answer to it raises, as for a user name beyond ASCII: the
  // request that got the 401 has its headers bound to ASCII. The next request answers up front.
  it.each([
    ['/digest', wide.REALM],
    ['/digest-next', wide.REALM],
    ['/digest-octets', wide.REALM_OCTETS],
  ])('Digest %s: the first answer raises; the next request logs in', async (path, realm) => {
    const [first, second] = await httpx({
      user: 'alice',
      password: 'secret',
      auth: 'digest',
      requests: times(2, server.origin + path),
    });
    expect(first!.error).toMatch(/^UnicodeEncodeError: 'ascii' codec/);
    expect(statuses(first!)).toEqual([401]);
    expect([statuses(second!), userOf(second), wide.realmOf(authOf(second))]).toEqual([
      [200],
      'alice',
      realm,
    ]);
    expect(directive(lastAuthorization(second!), 'realm')).toBe(wide.REALM_OCTETS);
    const wrong = await httpx({
      user: 'alice',
      password: 'Secret',
      auth: 'digest',
      requests: times(2, server.origin + path),
    });
    expect(wrong.map((r) => r.status)).toEqual([0, 401]);
  });

  it('Basic: logs in (the realm is only shown)', async () => {
    const responses = await httpx({
      user: 'alice',
      password: 'secret',
      auth: 'basic',
      requests: times(2, `${server.origin}/basic`),
    });
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
  });
});
