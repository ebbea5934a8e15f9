/**
 * Real clients over HTTP/2: `curl --http2` and headless Chromium against a node:http2 server
 * (TLS, since browsers speak HTTP/2 only over TLS; a throw-away certificate from test/helpers/tls)
 * running `authenticate()` through Node's compatibility API. Each request's HTTP version, scheme
 * and user are recorded on the server side, so a test knows the client did not fall back to
 * HTTP/1.1.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { authenticate, basic, bearer, digest } from 'authscheme';
import { makeCertificate, type Certificate } from '../helpers/tls';
import { launchChromium } from './helpers/chromium';
import { run } from './helpers/run';

interface Seen {
  path: string;
  version: string;
  scheme: string | undefined;
  user: string | undefined;
}

const USER = 'alice';
const PASSWORD = 'wonderland';
const TOKEN = 'h2-test-token';

let certificate: Certificate;
let server: http2.Http2SecureServer;
let origin: string;
let seen: Seen[] = [];
/** The `nc` of every Digest request that reached the server, authenticated or not; '' without one. */
let counts: string[] = [];

jest.setTimeout(30_000);

beforeAll(async () => {
  certificate = await makeCertificate();
  const guard = authenticate({
    realm: 'h2',
    schemes: [
      digest({ users: { [USER]: PASSWORD } }),
      basic({ users: { [USER]: PASSWORD } }),
      bearer({ verify: (token) => (token === TOKEN ? 'bearer-user' : false) }),
    ],
  });
  server = http2.createSecureServer(
    { key: certificate.key, cert: certificate.cert },
    (req, res) => {
      const authorization = req.headers.authorization ?? '';
      counts.push(/\bnc=([0-9a-f]{8})/.exec(authorization)?.[1] ?? '');
      guard(req, res, () => {
        const auth = (req as { auth?: { scheme: string; user: string } }).auth;
        seen.push({
          path: req.url,
          version: req.httpVersion,
          scheme: auth?.scheme,
          user: auth?.user,
        });
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(`<p>hello ${auth?.user ?? ''}</p>`);
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await certificate?.remove();
});

beforeEach(() => {
  seen = [];
  counts = [];
});

describe('curl --http2', () => {
  /** Runs curl over HTTP/2 with TLS, trusting the test certificate; returns status and version. */
  async function curl(...args: string[]): Promise<{ status: number; version: string }> {
    const result = await run('curl', [
      '--silent',
      '--http2',
      '--cacert',
      certificate.certFile,
      '--output',
      '/dev/null',
      '--write-out',
      '%{http_code} %{http_version}',
      ...args,
    ]);
    expect(result.code).toBe(0);
    const [status, version] = result.stdout.split(' ');
    return { status: Number(status), version: version! };
  }

  it('authenticates with Digest (SHA-256, offered first), over HTTP/2', async () => {
    const reply = await curl('--digest', '--user', `${USER}:${PASSWORD}`, `${origin}/digest`);
    expect(reply).toEqual({ status: 200, version: '2' });
    expect(seen).toEqual([{ path: '/digest', version: '2.0', scheme: 'Digest', user: USER }]);
  });

  it('authenticates with Basic and with a Bearer token', async () => {
    expect(await curl('--user', `${USER}:${PASSWORD}`, `${origin}/basic`)).toEqual({
      status: 200,
      version: '2',
    });
    expect(await curl('--oauth2-bearer', TOKEN, `${origin}/bearer`)).toEqual({
      status: 200,
      version: '2',
    });
    expect(seen.map(({ scheme, user, version }) => [scheme, user, version])).toEqual([
      ['Basic', USER, '2.0'],
      ['Bearer', 'bearer-user', '2.0'],
    ]);
  });

  it('is refused with 401 for a wrong password', async () => {
    const reply = await curl('--digest', '--user', `${USER}:wrong`, `${origin}/`);
    expect(reply).toEqual({ status: 401, version: '2' });
    expect(seen).toEqual([]);
  });

  it('is refused with 400 when it sends two Authorization field lines', async () => {
    const basicValue = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
    const reply = await curl(
      '--header',
      `Authorization: ${basicValue}`,
      '--header',
      `Authorization: ${basicValue}`,
      `${origin}/`,
    );
    expect(reply).toEqual({ status: 400, version: '2' });
    expect(seen).toEqual([]);
  });
});

describe('Chromium over HTTP/2', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('answers the Digest challenge, then reuses the nonce on streams multiplexed at once', async () => {
    const context = await browser.newContext({
      httpCredentials: { username: USER, password: PASSWORD },
      ignoreHTTPSErrors: true,
    });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${origin}/page`);
      expect(response?.status()).toBe(200);
      expect(await page.textContent('p')).toBe(`hello ${USER}`);
      // Ten fetches at once share the connection; Chromium sends each with the cached nonce and
      // the next nc, and the streams may reach the server in any order.
      const statuses = await page.evaluate(() =>
        Promise.all(
          Array.from({ length: 10 }, (_, i) => fetch(`/item/${i}`).then((r) => r.status)),
        ),
      );
      expect(statuses).toEqual(Array.from({ length: 10 }, () => 200));
    } finally {
      await context.close();
    }
    const items = seen.filter((entry) => entry.path.startsWith('/item/'));
    expect(items).toHaveLength(10);
    expect(seen.every((entry) => entry.version === '2.0' && entry.scheme === 'Digest')).toBe(true);
    // One handshake (the page's first request went without credentials); after it, every request
    // (the fetches, and the favicon Chromium asks for) came with the nonce it had and nc 1, 2, …
    // each once, in whatever order the streams were handled.
    const sent = counts.filter((nc) => nc !== '');
    expect(counts.length - sent.length).toBe(1);
    expect(sent.length).toBeGreaterThanOrEqual(11);
    expect([...sent].sort()).toEqual(
      Array.from({ length: sent.length }, (_, i) => (i + 1).toString(16).padStart(8, '0')),
    );
  });
});
