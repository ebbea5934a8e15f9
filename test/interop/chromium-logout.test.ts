/**
 * Signing out of Basic and Digest in headless Chromium (Debian's package, driven by
 * playwright-core), against examples/basic/logout.ts over a real socket: sign in, press the
 * example's "Sign out", and Chromium sends the credentials no more.
 *
 * No `httpCredentials` here: with them the context answers every challenge itself, so a signed-out
 * page would be signed in again at once (the last test shows it). Instead the login dialog is
 * Chromium's `Fetch.authRequired` event (CDP), which it fires exactly where a headed browser asks
 * the user: a test answers it with the password once, as a user would (or signs in with
 * credentials in the URL), and with Cancel after that, so that the 401 reaches the page.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { app } from '../../examples/basic/logout';
import { launchChromium } from './helpers/chromium';

jest.setTimeout(30_000);

interface Seen {
  path: string;
  authorization: string | undefined;
  status: number;
}

let browser: Browser;
let server: Server;
let origin: string;
/** Every request the example answered, in the order of their responses (no favicon). */
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const { authorization } = req.headers;
    const path = req.url ?? '';
    // The favicon Chromium asks for now and then, never with credentials, is no part of a test.
    if (path !== '/favicon.ico') {
      res.on('finish', () => seen.push({ path, authorization, status: res.statusCode }));
    }
    app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => {
    server?.close(resolve);
    server?.closeAllConnections();
  });
});

/** A signed-in page's first line: the example's greeting. */
const greeting = (scheme: string) => `Hello, alice (${scheme}).`;

/** Whether `authorization` carries alice's credentials (the right ones) in `scheme`. */
function isAlice(scheme: string, authorization: string | undefined): boolean {
  if (scheme === 'Basic') {
    return authorization === `Basic ${Buffer.from('alice:secret').toString('base64')}`;
  }
  return authorization?.startsWith('Digest ') === true && authorization.includes('"alice"');
}

/**
 * A context whose login dialogs are recorded in `dialogs` (the paths asked for) and answered by
 * `answer`: credentials, or `undefined` for Cancel.
 */
async function contextWithDialogs(
  answer: () => { username: string; password: string } | undefined,
  options: BrowserContextOptions = {},
): Promise<{ context: BrowserContext; page: Page; dialogs: string[] }> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const dialogs: string[] = [];
  const cdp = await context.newCDPSession(page);
  cdp.on('Fetch.requestPaused', (event: { requestId: string }) => {
    void cdp.send('Fetch.continueRequest', { requestId: event.requestId }).catch(() => {});
  });
  cdp.on('Fetch.authRequired', (event: { requestId: string; request: { url: string } }) => {
    dialogs.push(new URL(event.request.url).pathname);
    const credentials = answer();
    void cdp
      .send('Fetch.continueWithAuth', {
        requestId: event.requestId,
        authChallengeResponse:
          credentials === undefined
            ? { response: 'CancelAuth' }
            : { response: 'ProvideCredentials', ...credentials },
      })
      .catch(() => {});
  });
  await cdp.send('Fetch.enable', { handleAuthRequests: true, patterns: [{ urlPattern: '*' }] });
  return { context, page, dialogs };
}

/** Loads `url` (a path, or a whole URL) and returns the status and the page's first line. */
async function visit(page: Page, url: string): Promise<{ status?: number; text: string }> {
  const response = await page.goto(url.startsWith('http') ? url : origin + url);
  return { status: response?.status(), text: (await page.innerText('body')).split('\n')[0]! };
}

/** Presses the example's "Sign out" and waits for the page it leads to. */
async function signOut(page: Page): Promise<void> {
  await Promise.all([page.waitForURL(`${origin}/signed-out`), page.click('#sign-out')]);
  expect(await page.innerText('body')).toContain('Signed out.');
}

describe.each([
  ['Basic', '/basic/'],
  ['Digest', '/digest/'],
])('%s (%s): "Sign out" makes Chromium forget the credentials', (scheme, area) => {
  it('typed into the login dialog: the next page asks again, and no request carries them', async () => {
    let typed = false;
    const { context, page, dialogs } = await contextWithDialogs(() => {
      if (typed) return undefined;
      typed = true;
      return { username: 'alice', password: 'secret' };
    });
    try {
      expect(await visit(page, area)).toEqual({ status: 200, text: greeting(scheme) });
      expect(dialogs).toEqual([area]);
      // Signed in: a later visit sends the credentials from Chromium's cache, no dialog.
      const signedIn = seen.length;
      expect(await visit(page, area)).toEqual({ status: 200, text: greeting(scheme) });
      expect(seen.slice(signedIn).map((r) => isAlice(scheme, r.authorization))).toEqual([true]);
      expect(dialogs).toEqual([area]);

      const before = seen.length;
      await signOut(page);
      // Without a dialog: the wrong credentials went to the sign-out route after its first 401.
      expect(dialogs).toEqual([area]);
      const logout = seen.slice(before).filter((r) => r.path === `${area}logout`);
      expect(logout.map((r) => r.status)).toEqual([401, 401]);
      expect(logout[0]!.authorization).toBeUndefined();
      expect(logout[1]!.authorization).toMatch(new RegExp(`^${scheme} `));
      expect(isAlice(scheme, logout[1]!.authorization)).toBe(false);

      // Signed out: the page gets a 401, sent without credentials, and the dialog shows again.
      const after = seen.length;
      const { status } = await visit(page, area);
      expect(status).toBe(401);
      expect(dialogs).toEqual([area, area]);
      expect(seen.slice(after)).toEqual([{ path: area, authorization: undefined, status: 401 }]);
      expect(seen.slice(before).some((r) => isAlice(scheme, r.authorization))).toBe(false);
    } finally {
      await context.close();
    }
  });

  it('given in the URL (user:password@), and then signing in again works', async () => {
    const { context, page, dialogs } = await contextWithDialogs(() => undefined);
    const withPassword = origin.replace('//', '//alice:secret@') + area;
    try {
      expect(await visit(page, withPassword)).toEqual({ status: 200, text: greeting(scheme) });
      expect(await visit(page, area)).toEqual({ status: 200, text: greeting(scheme) });
      expect(isAlice(scheme, seen.at(-1)!.authorization)).toBe(true);

      const before = seen.length;
      await signOut(page);
      expect((await visit(page, area)).status).toBe(401);
      expect(dialogs).toEqual([area]);
      expect(seen.slice(before).some((r) => isAlice(scheme, r.authorization))).toBe(false);

      expect(await visit(page, withPassword)).toEqual({ status: 200, text: greeting(scheme) });
      expect(isAlice(scheme, seen.at(-1)!.authorization)).toBe(true);
    } finally {
      await context.close();
    }
  });
});

it('signing out of one realm leaves the other signed in (an entry per realm and scheme)', async () => {
  const { context, page } = await contextWithDialogs(() => undefined);
  const signIn = (area: string) => origin.replace('//', '//alice:secret@') + area;
  try {
    expect((await visit(page, signIn('/basic/'))).status).toBe(200);
    expect((await visit(page, signIn('/digest/'))).status).toBe(200);
    await visit(page, '/basic/');
    await signOut(page);
    expect((await visit(page, '/basic/')).status).toBe(401);
    expect(await visit(page, '/digest/')).toEqual({ status: 200, text: greeting('Digest') });
    expect(isAlice('Digest', seen.at(-1)!.authorization)).toBe(true);
  } finally {
    await context.close();
  }
});

it("with playwright's httpCredentials the context signs in again at once (why the tests above do without)", async () => {
  const context = await browser.newContext({
    httpCredentials: { username: 'alice', password: 'secret' },
  });
  try {
    const page = await context.newPage();
    expect(await visit(page, '/basic/')).toEqual({ status: 200, text: greeting('Basic') });
    await signOut(page);
    const after = seen.length;
    // Chromium forgot the credentials (the request goes without them), and the 401's "dialog"
    // is answered by the context with the password again.
    expect(await visit(page, '/basic/')).toEqual({ status: 200, text: greeting('Basic') });
    expect(seen.slice(after).map((r) => [r.authorization === undefined, r.status])).toEqual([
      [true, 401],
      [false, 200],
    ]);
  } finally {
    await context.close();
  }
});
