/**
 * A real CORS preflight from headless Chromium to a route behind `authenticate({ allowPreflight:
 * true })` and `requireScopes()`, with the CORS handler after them: a page on one origin calls
 * the API on another with `fetch()` and an Authorization header, which Chromium preflights
 * without credentials (Fetch standard, CORS-preflight request).
 *
 * Never downloads a browser: it uses /usr/bin/chromium (scripts/provision.sh installs it).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Browser } from 'playwright-core';
import { authenticate, bearer, requireScopes } from 'authscheme';
import { launchChromium } from './helpers/chromium';

jest.setTimeout(30_000);

const TOKENS: Record<string, { user: string; scopes: string[] }> = {
  reader: { user: 'r', scopes: ['orders:read'] },
  other: { user: 'o', scopes: ['profile'] },
};

let browser: Browser;
let page: Server;
let api: Server;
let pageOrigin: string;
let apiOrigin: string;
/** Method and path of each request that reached the API, and its status. */
const seen: string[] = [];

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  page = createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end('<!doctype html><title>app</title><p>app</p>');
  });
  pageOrigin = await listen(page);

  const app = express();
  app.use((req, res, next) => {
    res.on('finish', () => seen.push(`${req.method} ${req.path} ${res.statusCode}`));
    // On every answer, refusals included, or the page cannot read a 403.
    res.setHeader('Access-Control-Allow-Origin', pageOrigin);
    next();
  });
  app.use(
    authenticate({
      realm: 'api',
      allowPreflight: true,
      schemes: [bearer({ verify: (token) => TOKENS[token] ?? false })],
    }),
  );
  app.use(requireScopes({ allOf: ['orders:read'], realm: 'api' }));
  // The CORS handler after the guards (cors() on a route, or with preflightContinue).
  app.options('/orders', (_req, res) => {
    res.setHeader('Access-Control-Allow-Methods', 'GET');
    res.setHeader('Access-Control-Allow-Headers', 'Authorization');
    res.status(204).end();
  });
  app.get('/orders', (req, res) => res.json({ user: req.auth?.user }));
  api = createServer(app);
  apiOrigin = await listen(api);

  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  for (const server of [page, api]) {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }
});

/** fetch() from a page of the other origin: the status, or the error when CORS failed. */
async function fetchFromPage(token: string): Promise<number | string> {
  const context = await browser.newContext();
  try {
    const tab = await context.newPage();
    await tab.goto(`${pageOrigin}/`);
    return await tab.evaluate(
      async ({ url, bearer }) => {
        try {
          const response = await fetch(url, { headers: { Authorization: `Bearer ${bearer}` } });
          return response.status;
        } catch (error) {
          return String(error);
        }
      },
      { url: `${apiOrigin}/orders`, bearer: token },
    );
  } finally {
    await context.close();
  }
}

describe('Chromium: CORS preflight through allowPreflight and requireScopes()', () => {
  it('preflights without credentials, gets the CORS handler’s 204, then sends the token', async () => {
    seen.length = 0;
    expect(await fetchFromPage('reader')).toBe(200);
    expect(seen).toEqual(['OPTIONS /orders 204', 'GET /orders 200']);
  });

  it('a token without the scope gets requireScopes()’s 403 after the preflight', async () => {
    seen.length = 0;
    expect(await fetchFromPage('other')).toBe(403);
    expect(seen).toEqual(['OPTIONS /orders 204', 'GET /orders 403']);
  });
});
