/**
 * Headless Firefox ESR (Debian's firefox-esr, driven by puppeteer-core over WebDriver BiDi)
 * answering the demo's challenges with `page.authenticate()`, then, against a server of this
 * file's own, what it sends: UTF-8 Basic, each Digest algorithm alone and several at once,
 * userhash offered, a forged rspauth, one nonce counted up across a page's sub-resources, a stale
 * nonce, a wrong password.
 *
 * Never downloads a browser: it uses /usr/bin/firefox-esr (scripts/provision.sh installs it), on a
 * fresh profile in a temporary directory. Every page opens in a browser context of its own, whose
 * HTTP-auth cache starts empty.
 */
import type { Browser } from 'puppeteer-core';
import { basic, digest } from 'authscheme';
import type { DigestAlgorithm } from '../../src/schemes/digest/algorithms';
import { DEMO_PASSWORD, DEMO_USER, demoForThisFile, expectDigestPage } from './helpers/demo';
import { type Firefox, launchFirefox, loadInFirefox } from './helpers/firefox';
import { digestCases, DIGEST_ALGORITHMS, MatrixRecorder } from './helpers/matrix';
import { authorizationsAt, ownServerForThisBlock } from './helpers/own-server';
import { directive } from './helpers/run';

const matrix = new MatrixRecorder('firefox', 'Firefox');
// The column's label comes from the browser, launched after the demo.
const demo = demoForThisFile(matrix);
let firefox: Firefox;
let browser: Browser;

jest.setTimeout(30_000);

beforeAll(async () => {
  firefox = await launchFirefox();
  browser = firefox.browser;
  matrix.label = firefox.label;
});

afterAll(() => firefox?.close());

const SUPPORTED: DigestAlgorithm[] = ['MD5', 'SHA-256', 'MD5-sess', 'SHA-256-sess'];
const NO_ANSWER =
  'Firefox sends no answer to a Digest challenge with algorithm=SHA-512-256 (or -sess): the 401 page stays.';

describe('Firefox (puppeteer-core, page.authenticate)', () => {
  const load = (path: string) =>
    loadInFirefox(browser, demo.origin + path, { username: DEMO_USER, password: DEMO_PASSWORD });

  it('authenticates with Basic', async () => {
    const { status, text } = await load('/basic');
    matrix.record(
      'Basic',
      status === 200,
      'puppeteer `page.authenticate()` (BiDi network.continueWithAuth); Firefox answers the 401 challenge.',
    );
    expect(status).toBe(200);
    expect(text).toContain(`Authenticated as ${DEMO_USER}.`);
    expect(text).toContain('WWW-Authenticate: Basic realm="demo", charset="UTF-8"');
    expect(text).toContain('"scheme": "Basic"');
  });

  it.each(digestCases(SUPPORTED, NO_ANSWER))(
    'Digest $algorithm: works=$works',
    async (digestCase) => {
      const page = await load(`/digest/${digestCase.algorithm.toLowerCase()}`);
      expectDigestPage(matrix, digestCase, page);
    },
  );

  it('answers the strongest Digest challenge when several schemes are offered', async () => {
    const { status, text } = await load('/multi');
    const auth = text.slice(text.indexOf('req.auth'));
    const scheme = /"scheme": "(\w+)"/.exec(auth)?.[1];
    const algorithm = /"algorithm": "([\w-]+)"/.exec(auth)?.[1];
    matrix.record(
      'Several schemes offered (Digest SHA-256 first)',
      status === 200,
      status === 200
        ? `Firefox answered with ${scheme} ${algorithm}: of several Digest challenges it takes the strongest it knows, whatever their order.`
        : undefined,
    );
    expect(status).toBe(200);
    expect([scheme, algorithm]).toEqual(['Digest', 'SHA-256']);
  });

  it('sends a Bearer token with fetch()', async () => {
    const context = await browser.createBrowserContext();
    try {
      const page = await context.newPage();
      await page.goto(`${demo.origin}/`);
      const answer = await page.evaluate(async (token) => {
        const response = await fetch('/bearer', {
          headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
        });
        return {
          status: response.status,
          body: (await response.json()) as { auth?: { scheme?: string; user?: string } },
        };
      }, demo.demo.readToken);
      matrix.record(
        'Bearer',
        answer.status === 200,
        'The demo’s read token, sent by fetch() with an Authorization header.',
      );
      expect(answer.status).toBe(200);
      expect(answer.body.auth).toMatchObject({ scheme: 'Bearer', user: DEMO_USER });
    } finally {
      await context.close();
    }
  });
});

describe('Firefox against a server of its own: what crosses the wire', () => {
  // A password beyond ASCII throughout: Digest refuses Latin-1 (acceptLatin1 is off), so a
  // success shows Firefox hashed its UTF-8.
  const USER = 'alice';
  const PASSWORD = 'pässwörd';
  const users = { [USER]: PASSWORD, jörg: PASSWORD };
  const challenges: Array<{ path: string; challenge: string | undefined }> = [];
  const forged: Array<{ rspauth: string; wrong: string }> = [];
  const server = ownServerForThisBlock((guard, now, app) => {
    app.use((req, res, next) => {
      res.on('finish', () => {
        const header = res.getHeader('www-authenticate');
        challenges.push({
          path: req.originalUrl,
          challenge: Array.isArray(header) ? header.join('\n') : header?.toString(),
        });
      });
      next();
    });
    guard('/basic', 'own', basic({ users }));
    for (const algorithm of DIGEST_ALGORITHMS) {
      guard(`/alone/${algorithm.toLowerCase()}`, 'own', digest({ users, algorithms: [algorithm] }));
    }
    guard(
      '/several-md5-first',
      'own',
      digest({ users, algorithms: ['MD5', 'SHA-256', 'SHA-512-256'] }),
    );
    guard(
      '/several-strong-first',
      'own',
      digest({ users, algorithms: ['SHA-512-256', 'SHA-256', 'MD5'] }),
    );
    guard('/userhash', 'own', digest({ users, userhash: true }));
    guard('/reuse', 'own', digest({ users }));
    app.get('/reuse/page', (_req, res) => {
      res.type('html').send('<img src="a.png"><img src="b.png"><img src="c.png"><p>page</p>');
    });
    guard('/stale', 'own', digest({ users, nonceLifetime: 5 * 60_000, now }));
    // rspauth with its first hex digit changed: a client that checks it must refuse the page.
    app.use('/forged-rspauth', (_req, res, next) => {
      const setHeader = res.setHeader.bind(res);
      res.setHeader = (name, value) => {
        if (!/^authentication-info$/i.test(name)) return setHeader(name, value);
        const sent = String(value);
        const rspauth = directive(sent, 'rspauth')!;
        const wrong = `${rspauth[0] === '0' ? '1' : '0'}${rspauth.slice(1)}`;
        forged.push({ rspauth, wrong });
        return setHeader(name, sent.replace(rspauth, wrong));
      };
      next();
    });
    guard('/forged-rspauth', 'own', digest({ users }));
  });
  const as = (username: string, password: string) => ({ username, password });
  const load = (path: string, username = USER, password = PASSWORD) =>
    loadInFirefox(browser, server.origin + path, as(username, password));

  it('Basic: answers the challenge with the user and password in UTF-8', async () => {
    const { status, text } = await load('/basic', 'jörg');
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({ auth: { scheme: 'Basic', user: 'jörg' } });
    expect(challenges.find((c) => c.path === '/basic')?.challenge).toBe(
      'Basic realm="own", charset="UTF-8"',
    );
    expect(authorizationsAt(server, '/basic')).toEqual([
      undefined,
      `Basic ${Buffer.from(`jörg:${PASSWORD}`, 'utf8').toString('base64')}`,
    ]);
  });

  it.each(
    DIGEST_ALGORITHMS.map((algorithm) => ({ algorithm, works: SUPPORTED.includes(algorithm) })),
  )('Digest $algorithm offered alone: answered=$works', async ({ algorithm, works }) => {
    const path = `/alone/${algorithm.toLowerCase()}/page`;
    const { status, text, headers } = await load(path);
    const sent = authorizationsAt(server, path);
    if (!works) {
      // Firefox does not take the challenge up (puppeteer's protocol log shows no BiDi
      // network.authRequired, so no prompt): nothing is sent, the 401 page stays.
      expect([status, sent]).toEqual([401, [undefined]]);
      return;
    }
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({
      auth: { scheme: 'Digest', user: USER, realm: 'own', algorithm, qop: 'auth' },
    });
    expect(sent).toHaveLength(2);
    const answer = sent[1];
    expect(answer).toMatch(/^Digest username="alice", realm="own", nonce="/);
    expect([
      directive(answer, 'algorithm'),
      directive(answer, 'qop'),
      directive(answer, 'nc'),
      directive(answer, 'uri'),
    ]).toEqual([algorithm, 'auth', '00000001', path]);
    // Firefox states no charset and no userhash: a plain ASCII user name.
    expect(answer).not.toMatch(/username\*|userhash|charset/);
    expect(headers['authentication-info']).toMatch(/^qop=auth, rspauth="[0-9a-f]+", cnonce="/);
  });

  // Firefox asks for credentials (network.authRequired), is given them, and then sends nothing:
  // it has no username* (RFC 7616 §3.4) and does not put such a name in username="…".
  it('Digest: sends no answer at all for a user name beyond ASCII', async () => {
    const { status } = await load('/alone/sha-256/other', 'jörg');
    expect([status, authorizationsAt(server, '/alone/sha-256/other')]).toEqual([401, [undefined]]);
  });

  it.each(['/several-md5-first/page', '/several-strong-first/page'])(
    'Digest, several algorithms offered (%s): answers SHA-256, whatever the order',
    async (path) => {
      const { status, text } = await load(path);
      expect(challenges.find((c) => c.path === path)?.challenge?.split('\n')).toHaveLength(3);
      expect(status).toBe(200);
      expect(JSON.parse(text)).toMatchObject({ auth: { algorithm: 'SHA-256' } });
      expect(directive(authorizationsAt(server, path)[1], 'algorithm')).toBe('SHA-256');
    },
  );

  it('Digest with userhash=true offered: sends the plain user name (accepted)', async () => {
    const { status, text } = await load('/userhash/page');
    expect(challenges.find((c) => c.path === '/userhash/page')?.challenge).toContain(
      'userhash=true',
    );
    expect([status, JSON.parse(text)]).toEqual([
      200,
      { auth: expect.objectContaining({ scheme: 'Digest', user: USER }) as unknown },
    ]);
    const answer = authorizationsAt(server, '/userhash/page')[1];
    expect([directive(answer, 'username'), directive(answer, 'userhash')]).toEqual([
      USER,
      undefined,
    ]);
  });

  it('does not check rspauth: a forged one in Authentication-Info still shows the page', async () => {
    const { status, text, headers } = await load('/forged-rspauth/page');
    expect(status).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ auth: { scheme: 'Digest', user: USER } });
    expect(forged).toHaveLength(1);
    const [{ rspauth, wrong }] = forged as [{ rspauth: string; wrong: string }];
    expect(wrong).not.toBe(rspauth);
    expect(directive(headers['authentication-info'], 'rspauth')).toBe(wrong);
  });

  it('reuses the nonce for the sub-resources under the same directory, nc counting up', async () => {
    const { status, text } = await load('/reuse/page');
    expect([status, text]).toEqual([200, 'page']);
    const received = server.received.filter((r) => r.path.startsWith('/reuse/'));
    // One 401, then every request answered up front: the page and its three images.
    expect(received.map((r) => r.status)).toEqual([401, 200, 200, 200, 200]);
    const answers = received.slice(1).map((r) => r.authorization);
    expect(new Set(answers.map((a) => directive(a, 'nonce'))).size).toBe(1);
    expect(new Set(answers.map((a) => directive(a, 'cnonce'))).size).toBe(4);
    // The images load in parallel: their counts, not their order, are fixed.
    expect(answers.map((a) => directive(a, 'nc')).sort()).toEqual([
      '00000001',
      '00000002',
      '00000003',
      '00000004',
    ]);
    expect(
      received
        .slice(1)
        .map((r) => r.path)
        .sort(),
    ).toEqual(['/reuse/a.png', '/reuse/b.png', '/reuse/c.png', '/reuse/page']);
  });

  it('retries a stale nonce (stale=true) with the new one, without asking for credentials', async () => {
    const context = await browser.createBrowserContext();
    try {
      const page = await context.newPage();
      await page.authenticate(as(USER, PASSWORD));
      expect((await page.goto(`${server.origin}/stale/1`))?.status()).toBe(200);
      // From now on a prompt would be answered with a wrong password: a success shows there was
      // none, and Firefox answered from its cache.
      await page.authenticate(as(USER, 'wrong'));
      const advanced = await fetch(`${server.origin}/advance`);
      expect(advanced.status).toBe(200);
      expect((await page.goto(`${server.origin}/stale/2`))?.status()).toBe(200);
      expect((await page.goto(`${server.origin}/stale/3`))?.status()).toBe(200);
    } finally {
      await context.close();
    }
    const received = server.received.filter((r) => r.path.startsWith('/stale/'));
    expect(received.map((r) => [r.path, r.status])).toEqual([
      ['/stale/1', 401],
      ['/stale/1', 200],
      ['/stale/2', 401],
      ['/stale/2', 200],
      ['/stale/3', 200],
    ]);
    const [, first, expired, renewed, next] = received.map((r) => r.authorization);
    expect(challenges.filter((c) => c.path === '/stale/2')[0]?.challenge).toMatch(/, stale=true$/);
    const nonceAndCount = (field: string | undefined) => [
      directive(field, 'nonce'),
      directive(field, 'nc'),
    ];
    const oldNonce = directive(first, 'nonce');
    const newNonce = directive(renewed, 'nonce');
    expect(newNonce).not.toBe(oldNonce);
    expect([first, expired, renewed, next].map(nonceAndCount)).toEqual([
      [oldNonce, '00000001'],
      [oldNonce, '00000002'],
      [newNonce, '00000001'],
      [newNonce, '00000002'],
    ]);
  });

  it('a wrong password is refused and the 401 page stays', async () => {
    const path = '/alone/sha-256/wrong';
    const { status, text } = await load(path, USER, 'wrong');
    expect([status, text]).toEqual([401, 'Unauthorized']);
    const received = server.received.filter((r) => r.path === path);
    // Firefox asks again after each refusal; puppeteer 24.43 answers the first two prompts of a
    // request with the credentials and cancels the third.
    expect(received.map((r) => r.status)).toEqual([401, 401, 401]);
    expect(received.map((r) => directive(r.authorization, 'username'))).toEqual([
      undefined,
      USER,
      USER,
    ]);
    expect(
      challenges.filter((c) => c.path === path).every((c) => !c.challenge?.includes('stale')),
    ).toBe(true);
  });
});
