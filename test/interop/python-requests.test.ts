/**
 * Python's requests (Debian's python3-requests, run by Debian's /usr/bin/python3) with its stock
 * HTTPBasicAuth and HTTPDigestAuth, against the demo and the proxy example. Each case makes two
 * requests in one session, as a script would: Digest reuses its nonce on the second, nc=2.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { authenticate, basic, digest } from 'authscheme';
import { DEMO_PASSWORD, DEMO_USER, demoForThisFile, PROXY_USERS, VIA_PROXY } from './helpers/demo';
import { digestCases, MatrixRecorder } from './helpers/matrix';
import { parseJson, run } from './helpers/run';
import * as wide from './helpers/wide-realm';

/** provision.sh installs python3-requests for this interpreter, whatever python3 PATH finds first. */
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(__dirname, 'helpers', 'requests_client.py');
const matrix = new MatrixRecorder('python-requests', 'Python requests');
const demo = demoForThisFile(matrix, async () => {
  const version = await run(PYTHON, ['-c', 'import requests; print(requests.__version__)']);
  if (version.code !== 0) throw new Error(`python3-requests is missing: ${version.stderr}`);
  return `Python requests ${version.stdout.trim()}`;
});
const [proxyUser, proxyPassword] = Object.entries(PROXY_USERS)[0]!;

interface Exchange {
  status: number;
  auth: unknown;
  forwarded: unknown;
  /** The Authorization field of the request that got this response. */
  authorization: string | null;
  /** The response came after a 401 that requests answered. */
  after401: boolean;
}

type Outcome = { exchanges: Exchange[] } | { error: string };

async function requests(mode: string, url: string, ...rest: string[]): Promise<Outcome> {
  const result = await run(PYTHON, [SCRIPT, mode, url, ...rest]);
  const line = parseJson(result.stdout);
  if (line === undefined) throw new Error(`requests_client.py printed no JSON: ${result.stderr}`);
  if (typeof line.error === 'string') return { error: line.error };
  const responses = line.responses as Array<Record<string, unknown>>;
  return {
    exchanges: responses.map((r) => {
      const body = parseJson(String(r.body));
      return {
        status: Number(r.status),
        auth: body?.auth,
        forwarded: body?.forwarded,
        authorization: r.authorization as string | null,
        after401: r.after401 === true,
      };
    }),
  };
}

const userOf = (e: Exchange): unknown => (e.auth as { user?: unknown } | undefined)?.user;
const directive = (e: Exchange, name: string): string | undefined =>
  new RegExp(`(?:^|[ ,])${name}="?([^",]*)`).exec(e.authorization ?? '')?.[1];

describe('Python requests', () => {
  it('authenticates with HTTPBasicAuth (sent up front, both requests)', async () => {
    const outcome = await requests('basic', `${demo.origin}/basic`, DEMO_USER, DEMO_PASSWORD);
    const works =
      'exchanges' in outcome &&
      outcome.exchanges.every((e) => e.status === 200 && userOf(e) === DEMO_USER);
    matrix.record('Basic', works, 'HTTPBasicAuth sends Basic up front, without a challenge.');
    expect(outcome).toEqual({
      exchanges: [0, 1].map(() =>
        expect.objectContaining({ status: 200, auth: { scheme: 'Basic', user: DEMO_USER } }),
      ),
    });
  });

  it('is refused with a wrong Basic password', async () => {
    const outcome = await requests('basic', `${demo.origin}/basic`, DEMO_USER, 'wrong');
    expect('exchanges' in outcome && outcome.exchanges.map((e) => e.status)).toEqual([401, 401]);
  });

  it.each(digestCases(['MD5', 'SHA-256', 'MD5-sess']))(
    'HTTPDigestAuth with Digest $algorithm (works: $works; where it does, nc=2 on the nonce next)',
    async ({ algorithm, row, works }) => {
      const url = `${demo.origin}/digest/${algorithm.toLowerCase()}`;
      const outcome = await requests('digest', url, DEMO_USER, DEMO_PASSWORD);
      if (!works) {
        matrix.record(
          row,
          false,
          `requests 2.28 computes MD5, MD5-sess, SHA (SHA-1), SHA-256 and SHA-512 only: here it raises \`${'error' in outcome ? outcome.error.split(':')[0] : '?'}\`.`,
        );
        expect(outcome).toEqual({ error: expect.stringMatching(/^TypeError/) });
        return;
      }
      if (!('exchanges' in outcome)) throw new Error(outcome.error);
      const [first, second] = outcome.exchanges as [Exchange, Exchange];
      const observed = [first, second].every((e) => e.status === 200 && userOf(e) === DEMO_USER);
      matrix.record(row, observed);
      expect(first).toMatchObject({ status: 200, after401: true });
      expect(directive(first, 'algorithm')).toBe(algorithm);
      // The second request answers from memory: the same nonce, the next count, no 401 first.
      expect(second).toMatchObject({ status: 200, after401: false });
      expect(directive(second, 'nonce')).toBe(directive(first, 'nonce'));
      expect([directive(first, 'nc'), directive(second, 'nc')]).toEqual(['00000001', '00000002']);
      expect(userOf(second)).toBe(DEMO_USER);
    },
  );

  it('is refused with a wrong Digest password (401 after one answer)', async () => {
    const outcome = await requests('digest', `${demo.origin}/digest/sha-256`, DEMO_USER, 'wrong');
    expect('exchanges' in outcome && outcome.exchanges.map((e) => [e.status, e.after401])).toEqual([
      [401, true],
      [401, true],
    ]);
  });

  it('answers several schemes with the last Digest challenge (all lines read as one)', async () => {
    const outcome = await requests('digest', `${demo.origin}/multi`, DEMO_USER, DEMO_PASSWORD);
    if (!('exchanges' in outcome)) throw new Error(outcome.error);
    const [first] = outcome.exchanges as [Exchange];
    const works = outcome.exchanges.every((e) => e.status === 200 && userOf(e) === DEMO_USER);
    matrix.record(
      'Several schemes offered (Digest SHA-256 first)',
      works,
      `HTTPDigestAuth reads the WWW-Authenticate lines as one list of parameters, so the last Digest challenge's nonce and algorithm win: it answered ${directive(first, 'algorithm')}.`,
    );
    expect(works).toBe(true);
    expect(directive(first, 'algorithm')).toBe('MD5');
  });

  it('authenticates to the proxy with credentials in the proxy URL (origin Basic through it)', async () => {
    const outcome = await requests(
      'proxy-basic',
      `${demo.origin}/via-proxy`,
      proxyUser,
      proxyPassword,
      demo.proxyOrigin,
      DEMO_USER,
      DEMO_PASSWORD,
    );
    if (!('exchanges' in outcome)) throw new Error(outcome.error);
    const works = outcome.exchanges.every((e) => e.status === 200 && userOf(e) === DEMO_USER);
    matrix.record(
      'Proxy Basic (407)',
      works,
      'Credentials in the proxy URL: requests sends Proxy-Authorization Basic up front.',
    );
    expect(works).toBe(true);
    expect(outcome.exchanges[0]!.forwarded).toEqual(expect.objectContaining(VIA_PROXY));
  });

  describe('a user name and password beyond ASCII', () => {
    // requests encodes Basic credentials as Latin-1, and sends a Digest username in Latin-1 while
    // it hashes it as UTF-8: both need acceptLatin1.
    const users = { 'j\u00f6rg': 'p\u00e4ssword' };
    let server: Server;
    let origin: string;

    beforeAll(async () => {
      const app = express();
      for (const acceptLatin1 of [false, true]) {
        const prefix = acceptLatin1 ? '/latin1' : '/strict';
        app.use(`${prefix}/basic`, authenticate({ schemes: [basic({ users, acceptLatin1 })] }));
        app.use(`${prefix}/digest`, authenticate({ schemes: [digest({ users, acceptLatin1 })] }));
      }
      app.use((req, res) => res.json({ auth: req.auth }));
      server = createServer(app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise((done) => server.close(done)));

    it.each(['basic', 'digest'])(
      '%s: refused as not UTF-8, taken with acceptLatin1',
      async (mode) => {
        const [user, password] = Object.entries(users)[0]!;
        const strict = await requests(mode, `${origin}/strict/${mode}`, user, password);
        expect('exchanges' in strict && strict.exchanges.map((e) => e.status)).toEqual([401, 401]);
        const lenient = await requests(mode, `${origin}/latin1/${mode}`, user, password);
        expect(
          'exchanges' in lenient && lenient.exchanges.map((e) => [e.status, userOf(e)]),
        ).toEqual([
          [200, user],
          [200, user],
        ]);
      },
    );
  });
});

describe('Python requests under a realm beyond ASCII (Zürich)', () => {
  const server = wide.serverForThisBlock();

  // requests decodes the realm's octets as ISO-8859-1 and hashes the UTF-8 of that text, not the
  // octets it got (it echoes those): every user was refused under a realm beyond ASCII.
  it.each([
    ['/digest', wide.REALM],
    ['/digest-next', wide.REALM],
    ['/digest-octets', wide.REALM_OCTETS],
  ])('Digest %s: logs in, and again on the same nonce', async (path, realm) => {
    const outcome = await requests('digest', server.origin + path, 'alice', 'secret');
    expect(
      'exchanges' in outcome &&
        outcome.exchanges.map((e) => [e.status, userOf(e), wide.realmOf(e.auth)]),
    ).toEqual([
      [200, 'alice', realm],
      [200, 'alice', realm],
    ]);
    const wrong = await requests('digest', server.origin + path, 'alice', 'Secret');
    expect('exchanges' in wrong && wrong.exchanges.map((e) => e.status)).toEqual([401, 401]);
  });

  it('Basic: logs in (the realm is only shown)', async () => {
    const outcome = await requests('basic', `${server.origin}/basic`, 'alice', 'secret');
    expect('exchanges' in outcome && outcome.exchanges.map((e) => e.status)).toEqual([200, 200]);
  });
});
