/**
 * Headless Firefox ESR (Debian's firefox-esr, driven by puppeteer-core over WebDriver BiDi)
 * answering the demo's challenges with `page.authenticate()`, sending a token from its /token
 * form with fetch(), and going through the proxy example (407, Digest and Basic); then, against a
 * server of this file's own, what it sends: UTF-8 Basic, each Digest algorithm alone and several
 * at once, userhash offered, a forged rspauth, one nonce counted up across a page's sub-resources,
 * a stale nonce, a wrong password.
 *
 * Never downloads a browser: it uses /usr/bin/firefox-esr (scripts/provision.sh installs it), on a
 * fresh profile in a temporary directory. Every page opens in a browser context of its own, whose
 * HTTP-auth cache starts empty.
 */
import type { Browser } from 'puppeteer-core';
import { basic, digest } from 'authscheme';
import type { DigestAlgorithm } from '../../src/schemes/digest/algorithms';
import { createProxyServer, listenProxy, type ProxyOptions } from '../../examples/proxy/server';
import {
  DEMO_PASSWORD,
  DEMO_USER,
  demoForThisFile,
  expectDigestPage,
  PROXY_USERS,
  VIA_PROXY,
} from './helpers/demo';
import { type Firefox, launchFirefox, loadInFirefox } from './helpers/firefox';
import { digestCases, DIGEST_ALGORITHMS, MatrixRecorder, type Row } from './helpers/matrix';
import { authorizationsAt, ownServerForThisBlock } from './helpers/own-server';
import { directive, parseJson } from './helpers/run';
import { expectScopedBearer, type ScriptedResponse } from './helpers/scripted';

const matrix = new MatrixRecorder('firefox', 'Firefox');
// The column's label comes from the browser, launched after the demo.
const demo = demoForThisFile(matrix);
let firefox: Firefox;
let browser: Browser;
const [proxyUser, proxyPassword] = Object.entries(PROXY_USERS)[0]!;

jest.setTimeout(30_000);

beforeAll(async () => {
  // For the proxy tests below: without it Firefox sends a loopback origin's requests past any
  // proxy (observed: nothing reached it). Contexts without a proxy go direct all the same.
  firefox = await launchFirefox({ prefs: { 'network.proxy.allow_hijacking_localhost': true } });
  browser = firefox.browser;
  matrix.label = firefox.label;
});

afterAll(() => firefox?.close());

const SUPPORTED: DigestAlgorithm[] = ['MD5', 'SHA-256', 'MD5-sess', 'SHA-256-sess'];
const NO_ANSWER =
  'Firefox sends no answer to a Digest challenge with algorithm=SHA-512-256 (or -sess): the 401 page stays.';

/** A fetch() from the page: its status, body and WWW-Authenticate. */
interface Fetched {
  status: number;
  body: string;
  challenge: string | null;
}

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

  it('obtains a token through the /token form and sends it with fetch(); /admin wants its scope', async () => {
    const context = await browser.createBrowserContext();
    try {
      const page = await context.newPage();
      // /token asks for the demo user (Digest SHA-256, MD5, Basic): page.authenticate answers.
      await page.authenticate({ username: DEMO_USER, password: DEMO_PASSWORD });
      expect((await page.goto(`${demo.origin}/token`))?.status()).toBe(200);
      await page.click('input[value="admin"]');
      await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
      const token = String(
        await page.evaluate("document.querySelector('#token').textContent"),
      ).trim();
      const [bearer, admin, readOnly] = await page.evaluate(
        (calls) =>
          Promise.all(
            calls.map(async ([path, bearerToken]): Promise<Fetched> => {
              const response = await fetch(path, {
                headers: { Authorization: `Bearer ${bearerToken}`, Accept: 'application/json' },
              });
              return {
                status: response.status,
                body: await response.text(),
                challenge: response.headers.get('www-authenticate'),
              };
            }),
          ),
        [
          ['/bearer', token],
          ['/admin', token],
          ['/admin', demo.demo.readToken],
        ] as Array<[path: string, token: string]>,
      );
      matrix.record(
        'Bearer',
        bearer!.status === 200,
        'A token from the /token form, sent by fetch() with an Authorization header.',
      );
      expect(bearer!.status).toBe(200);
      expect(JSON.parse(bearer!.body)).toMatchObject({
        auth: { scheme: 'Bearer', user: DEMO_USER, scopes: ['read', 'admin'] },
      });
      // In the scripted clients' shape, to share their expectations.
      const asScripted = ({ status, body, challenge }: Fetched): ScriptedResponse => ({
        status,
        body,
        exchanges: [
          {
            status,
            authorization: null,
            proxyAuthorization: null,
            challenges: challenge === null ? [] : [challenge],
            proxyChallenges: [],
          },
        ],
      });
      expectScopedBearer(asScripted(admin!), asScripted(readOnly!), (works) =>
        matrix.record(
          'Bearer with a required scope',
          works,
          'A token with scope admin from the /token form, sent by fetch(); the read token gets 403 insufficient_scope.',
        ),
      );
    } finally {
      await context.close();
    }
  });
});

/** What the example's proxy got: each request's URL, Proxy-Authorization, status and challenges. */
interface Proxied {
  url: string | undefined;
  proxyAuthorization: string | undefined;
  status: number;
  challenges: string[];
}

/**
 * A context whose proxy (`createBrowserContext({ proxyServer })`, BiDi's per-user-context proxy)
 * is the example's, with `options`, and whose page answers prompts with the proxy's user: it
 * loads the demo's landing page (no origin credentials) through the proxy, then fetches /via-proxy
 * with the origin's Basic credentials in an Authorization header. Returns what the origin
 * reported and every request the proxy got.
 */
async function viaProxyInFirefox(
  options: ProxyOptions,
): Promise<{ landing: number | undefined; status: number; body: string; proxied: Proxied[] }> {
  const proxy = createProxyServer(options);
  const proxied: Proxied[] = [];
  proxy.prependListener('request', (req, res) => {
    const proxyAuthorization = req.headers['proxy-authorization'];
    res.on('finish', () => {
      const offered = res.getHeader('proxy-authenticate');
      proxied.push({
        url: req.url,
        proxyAuthorization,
        status: res.statusCode,
        challenges: offered === undefined ? [] : [offered].flat().map(String),
      });
    });
  });
  const port = await listenProxy(proxy, 0);
  const context = await browser.createBrowserContext({ proxyServer: `127.0.0.1:${port}` });
  try {
    const page = await context.newPage();
    await page.authenticate({ username: proxyUser, password: proxyPassword });
    const landing = (await page.goto(`${demo.origin}/`, { timeout: 15_000 }))?.status();
    const answer = await page.evaluate(
      async (authorization) => {
        const response = await fetch('/via-proxy', {
          headers: { Authorization: authorization, Accept: 'application/json' },
        });
        return { status: response.status, body: await response.text() };
      },
      `Basic ${Buffer.from(`${DEMO_USER}:${DEMO_PASSWORD}`).toString('base64')}`,
    );
    return { landing, ...answer, proxied };
  } finally {
    await context.close();
    await new Promise((resolve) => {
      proxy.close(resolve);
      proxy.closeAllConnections();
    });
  }
}

describe('Firefox through the proxy example (407)', () => {
  /**
   * The page and /via-proxy through the proxy (its Via on what reached the origin, which never
   * saw Proxy-Authorization) as the cell of `row`, then Firefox's answers: one 407 for the first
   * request, whose challenges are returned, and every request after it answered up front.
   */
  async function expectThroughTheProxy(
    options: ProxyOptions,
    row: Row,
    note: string,
  ): Promise<{ offered: string[]; answers: Array<{ url: string; answer: string }> }> {
    const { landing, status, body, proxied } = await viaProxyInFirefox(options);
    const forwarded = parseJson(body)?.forwarded as Record<string, unknown> | undefined;
    // The proxy's Via on what reached the origin: the request went through it.
    matrix.record(row, landing === 200 && status === 200 && forwarded?.via === VIA_PROXY.via, note);
    expect([landing, status]).toEqual([200, 200]);
    expect(forwarded).toMatchObject(VIA_PROXY);
    expect(parseJson(body)?.auth).toEqual({ scheme: 'Basic', user: DEMO_USER });
    const [first, ...rest] = proxied;
    expect([first?.url, first?.status, first?.proxyAuthorization]).toEqual([
      `${demo.origin}/`,
      407,
      undefined,
    ]);
    // No other 407 (/favicon.ico is the origin's 404).
    expect(rest.map((r) => r.status)).not.toContain(407);
    expect(rest.map((r) => r.url)).toEqual(expect.arrayContaining([`${demo.origin}/via-proxy`]));
    return {
      offered: first!.challenges,
      answers: rest.map((r) => ({ url: r.url!, answer: r.proxyAuthorization! })),
    };
  }

  // Like Chromium and curl, Firefox answers with uri="/path" (origin form) while the request line
  // carries the absolute form; digest() treats both as the same resource.
  it('Digest proxy (the demo proxy’s schemes): answers the first line, SHA-256, with uri="/path"', async () => {
    const { offered, answers } = await expectThroughTheProxy(
      {},
      'Proxy Digest (407)',
      'puppeteer `createBrowserContext({ proxyServer })` (with the pref `network.proxy.allow_hijacking_localhost` for a loopback origin) and `page.authenticate()` with the proxy’s user; the origin’s Basic credentials by fetch() with an Authorization header. Firefox answers the first Proxy-Authenticate line (Digest SHA-256) with uri="/path", then sends it up front, nc counting up.',
    );
    expect(offered.map((c) => /^(\w+)(?:.*algorithm=([\w-]+))?/.exec(c)?.slice(1, 3))).toEqual([
      ['Digest', 'SHA-256'],
      ['Digest', 'MD5'],
      ['Basic', undefined],
    ]);
    for (const { url, answer } of answers) {
      expect(answer).toMatch(new RegExp(`^Digest username="${proxyUser}", realm="proxy", `));
      expect([
        directive(answer, 'algorithm'),
        directive(answer, 'qop'),
        directive(answer, 'uri'),
      ]).toEqual(['SHA-256', 'auth', new URL(url).pathname]);
    }
    expect(new Set(answers.map((a) => directive(a.answer, 'nonce'))).size).toBe(1);
    // The page's sub-resources may finish in any order: their counts, not their order, are fixed.
    expect(answers.map((a) => directive(a.answer, 'nc')).sort()).toEqual(
      answers.map((_, index) => (index + 1).toString(16).padStart(8, '0')),
    );
  });

  it('Basic-only proxy: answers with the proxy’s user and password', async () => {
    const { offered, answers } = await expectThroughTheProxy(
      { schemes: [basic({ users: { ...PROXY_USERS } })] },
      'Proxy Basic (407)',
      'The set-up of the Proxy Digest row, against a proxy offering Basic only: Firefox answers the 407 with Basic, then sends Proxy-Authorization up front.',
    );
    expect(offered).toEqual(['Basic realm="proxy", charset="UTF-8"']);
    const expected = `Basic ${Buffer.from(`${proxyUser}:${proxyPassword}`).toString('base64')}`;
    expect(answers.map((a) => a.answer)).toEqual(answers.map(() => expected));
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
