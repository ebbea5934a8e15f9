/**
 * Headless Chromium (Debian's package, driven by playwright-core) loading the demo's protected
 * pages with `httpCredentials`, going through the proxy example with proxy credentials, and a
 * screenshot of the landing page checked for its content.
 *
 * Never downloads a browser: it uses /usr/bin/chromium (scripts/provision.sh installs it).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions } from 'playwright-core';
import { basic } from 'authscheme';
import { createProxyServer, listenProxy } from '../../examples/proxy/server';
import { launchChromium } from './helpers/chromium';
import {
  DEMO_PASSWORD,
  DEMO_USER,
  demoForThisFile,
  expectDigestPage,
  PROXY_USERS,
} from './helpers/demo';
import { digestCases, MatrixRecorder, type Row } from './helpers/matrix';
import * as wide from './helpers/wide-realm';

const SCREENSHOT_DIR = join(__dirname, '..', '..', '.tmp', 'interop');

const matrix = new MatrixRecorder('chromium', 'Chromium');
// The column's label comes from the browser, launched after the demo.
const demo = demoForThisFile(matrix);
let browser: Browser;
const [proxyUser, proxyPassword] = Object.entries(PROXY_USERS)[0]!;

jest.setTimeout(30_000);

beforeAll(async () => {
  browser = await launchChromium();
  matrix.label = `Chromium ${browser.version().split('.')[0]}`;
});

afterAll(() => browser?.close());

/** Opens `url` in a fresh context and returns the status and the page's text. */
async function load(
  url: string,
  options: BrowserContextOptions,
): Promise<{ status: number | undefined; text: string }> {
  const context = await browser.newContext(options);
  try {
    const page = await context.newPage();
    const response = await page.goto(url, { timeout: 15_000 });
    return { status: response?.status(), text: await page.innerText('body') };
  } finally {
    await context.close();
  }
}

const credentials = { httpCredentials: { username: DEMO_USER, password: DEMO_PASSWORD } };

describe('Chromium (playwright-core, httpCredentials)', () => {
  it('renders the landing page: screenshot, routes, credentials and curl lines', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${demo.origin}/`);
      expect(response?.status()).toBe(200);
      await mkdir(SCREENSHOT_DIR, { recursive: true });
      const path = join(SCREENSHOT_DIR, 'landing.png');
      await page.screenshot({ path, fullPage: true });
      const png = await readFile(path);
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      expect(png.length).toBeGreaterThan(20_000);

      const text = await page.innerText('body');
      expect(await page.title()).toBe('authscheme playground');
      for (const route of [
        '/basic',
        '/digest/sha-256',
        '/digest/md5',
        '/bearer',
        '/multi',
        '/admin',
        '/via-proxy',
      ]) {
        expect(await page.locator(`a[href="${route}"]`).count()).toBe(1);
      }
      expect(text).toContain(`${DEMO_USER} / ${DEMO_PASSWORD}`);
      expect(text).toContain(`${proxyUser} / ${proxyPassword}`);
      expect(text).toContain(`curl -u ${DEMO_USER}:${DEMO_PASSWORD} ${demo.origin}/basic`);
      expect(text).toContain(
        `curl --digest -u ${DEMO_USER}:${DEMO_PASSWORD} ${demo.origin}/digest/sha-256`,
      );
      expect(text).toContain(`Authorization: Bearer ${demo.demo.readToken}`);
      expect(text).toContain(`--proxy ${demo.proxyOrigin}`);
    } finally {
      await context.close();
    }
  });

  it('authenticates with Basic and the page shows what crossed the wire', async () => {
    const { status, text } = await load(`${demo.origin}/basic`, credentials);
    matrix.record(
      'Basic',
      status === 200,
      'playwright `httpCredentials`; Chromium answers the 401 challenge.',
    );
    expect(status).toBe(200);
    expect(text).toContain(`Authenticated as ${DEMO_USER}.`);
    // The challenge Chromium was sent, the masked header it answered with, parsed, and req.auth.
    expect(text).toContain('WWW-Authenticate: Basic realm="demo", charset="UTF-8"');
    expect(text).toMatch(/Authorization: Basic \*{4,}/);
    expect(text).toContain(`"decoded": "${DEMO_USER}:********"`);
    expect(text).not.toContain(DEMO_PASSWORD);
    expect(text).toContain('"scheme": "Basic"');
  });

  it.each(
    digestCases(
      ['MD5', 'SHA-256', 'MD5-sess', 'SHA-256-sess'],
      'Chromium ignores Digest challenges with algorithm=SHA-512-256 (and -sess): no handler, the 401 page stays.',
    ),
  )('Digest $algorithm: works=$works', async (digestCase) => {
    const page = await load(
      `${demo.origin}/digest/${digestCase.algorithm.toLowerCase()}`,
      credentials,
    );
    expectDigestPage(matrix, digestCase, page);
  });

  it('answers the first challenge it supports when several schemes are offered', async () => {
    const { status, text } = await load(`${demo.origin}/multi`, credentials);
    const scheme = /"scheme": "(\w+)"/.exec(text.slice(text.indexOf('req.auth')))?.[1];
    matrix.record(
      'Several schemes offered (Digest SHA-256 first)',
      status === 200,
      status === 200 ? `Chromium answered with ${scheme}, the first line offered.` : undefined,
    );
    expect(status).toBe(200);
    expect(scheme).toBe('Digest');
  });

  it('obtains a token through the /token form and sends it with fetch() (Bearer, scope admin)', async () => {
    const context = await browser.newContext(credentials);
    try {
      const page = await context.newPage();
      await page.goto(`${demo.origin}/token`);
      await page.check('input[value="admin"]');
      await Promise.all([
        page.waitForURL(`${demo.origin}/token`),
        page.click('button[type="submit"]'),
      ]);
      const token = (await page.innerText('#token')).trim();
      const answer = await page.evaluate(async (bearer) => {
        const response = await fetch('/admin', {
          headers: { Authorization: `Bearer ${bearer}`, Accept: 'application/json' },
        });
        return {
          status: response.status,
          body: (await response.json()) as { auth?: { user?: string; scopes?: string[] } },
        };
      }, token);
      matrix.record(
        'Bearer',
        answer.status === 200,
        'A token from the /token form, sent by fetch() with an Authorization header.',
      );
      expect(answer.status).toBe(200);
      expect(answer.body.auth).toMatchObject({
        scheme: 'Bearer',
        user: DEMO_USER,
        scopes: ['read', 'admin'],
      });
    } finally {
      await context.close();
    }
  });

  /** The demo's /via-proxy through the proxy at `server`, with proxy and origin credentials. */
  async function expectThroughTheProxy(server: string, row: Row, note: string): Promise<void> {
    const { status, text } = await load(`${demo.origin}/via-proxy`, {
      ...credentials,
      proxy: { server, username: proxyUser, password: proxyPassword },
    });
    // The proxy's Via on what reached the origin: the request went through it.
    const proxied = text.includes('"via": "1.1 authscheme-proxy"');
    matrix.record(row, status === 200 && proxied, note);
    expect(status).toBe(200);
    expect(text).toContain('"proxyAuthorizationReachedOrigin": false');
    expect(proxied).toBe(true);
    expect(text).toContain(`Authenticated as ${DEMO_USER}.`);
  }

  // Like curl, Chromium answers a proxy's Digest challenge with uri="/path" (origin form) while
  // the request line carries the absolute form; digest() treats both as the same resource.
  it('authenticates to the Digest proxy (407) with proxy credentials', async () => {
    await expectThroughTheProxy(
      demo.proxyOrigin,
      'Proxy Digest (407)',
      'playwright `proxy` credentials; Chromium answers the first Proxy-Authenticate line (Digest SHA-256) with uri="/path".',
    );
  });

  it('authenticates to a Basic-only proxy (407) with proxy credentials', async () => {
    const proxy = createProxyServer({ schemes: [basic({ users: { ...PROXY_USERS } })] });
    const port = await listenProxy(proxy, 0);
    try {
      await expectThroughTheProxy(
        `http://127.0.0.1:${port}`,
        'Proxy Basic (407)',
        'playwright `proxy` credentials, against a proxy offering Basic only.',
      );
    } finally {
      await new Promise((resolve) => {
        proxy.close(resolve);
        proxy.closeAllConnections();
      });
    }
  });
});

describe('Chromium under a realm beyond ASCII (Zürich)', () => {
  const server = wide.serverForThisBlock();

  // Chromium hashes and echoes the realm's octets as it got them: ISO-8859-1 from authscheme,
  // UTF-8 when Express's error handler wrote the 401's head (digest() took only the former).
  it.each(['/digest-sha256', '/digest', '/digest-next', '/digest-octets', '/basic'])(
    '%s: every user logs in',
    async (path) => {
      for (const [username, password] of Object.entries(wide.USERS)) {
        const { status, text } = await load(server.origin + path, {
          httpCredentials: { username, password },
        });
        const auth = (JSON.parse(text) as { auth?: { user?: unknown } }).auth;
        expect([status, auth?.user]).toEqual([200, username]);
        if (path.startsWith('/digest')) {
          expect(wide.realmOf(auth)).toBe(
            path === '/digest-octets' ? wide.REALM_OCTETS : wide.REALM,
          );
        }
      }
    },
  );

  // What its login dialog shows: the octets read as ISO-8859-1, so the realm as authscheme sends
  // it reads right, and its UTF-8 octets (as Apache sends a realm typed in UTF-8) as mojibake.
  it('reads the realm as ISO-8859-1, as its dialog shows it', async () => {
    const realms: string[] = [];
    for (const path of ['/basic', '/basic-octets', '/digest-sha256']) {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const cdp = await context.newCDPSession(page);
        cdp.on('Fetch.requestPaused', (event: { requestId: string }) => {
          void cdp.send('Fetch.continueRequest', { requestId: event.requestId }).catch(() => {});
        });
        cdp.on(
          'Fetch.authRequired',
          (event: { requestId: string; authChallenge: { realm: string } }) => {
            realms.push(event.authChallenge.realm);
            void cdp
              .send('Fetch.continueWithAuth', {
                requestId: event.requestId,
                authChallengeResponse: { response: 'CancelAuth' },
              })
              .catch(() => {});
          },
        );
        await cdp.send('Fetch.enable', {
          handleAuthRequests: true,
          patterns: [{ urlPattern: '*' }],
        });
        const response = await page.goto(server.origin + path, { timeout: 15_000 });
        expect(response?.status()).toBe(401);
      } finally {
        await context.close();
      }
    }
    expect(realms).toEqual([wide.REALM, wide.REALM_OCTETS, wide.REALM]);
  });
});
