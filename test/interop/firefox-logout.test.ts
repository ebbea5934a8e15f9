/**
 * Signing out of Basic and Digest in headless Firefox ESR (Debian's firefox-esr, driven by
 * puppeteer-core over WebDriver BiDi), against examples/basic/logout.ts over a real socket: the
 * steps of chromium-logout.test.ts. Sign in, press the example's "Sign out", and see what Firefox
 * sends next.
 *
 * The login dialog is BiDi's `network.authRequired`, which Firefox raises exactly where a headed
 * Firefox asks the user; every one is recorded in `prompts`, read off the BiDi connection itself.
 * puppeteer's `page.authenticate()` answers them. A test answers the first with alice's password,
 * as a user would, and every later one as a user `prompted` whom the server refuses: a dialog after
 * signing in then shows twice, in `prompts` and on the wire, and cannot sign alice in again
 * unnoticed. (puppeteer answers a request's first two prompts and cancels the third, so a page
 * that prompts still ends, with its 401. Nothing answering at all would leave Firefox's dialog
 * waiting and the page loading for ever.)
 *
 * Every visit gets a query of its own, so that Firefox's HTTP cache never answers one.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { app } from '../../examples/basic/logout';
import { type Firefox, launchFirefox } from './helpers/firefox';
import { directive } from './helpers/run';

jest.setTimeout(20_000);

/** Who a request's credentials name, or `none`. */
type Who = 'none' | 'alice' | 'signed-out' | 'prompted' | 'other';

interface Seen {
  /** The path without its query. */
  path: string;
  authorization: string | undefined;
  status: number;
}

let firefox: Firefox;
let browser: Browser;
let server: Server;
let origin: string;
/** Every request the example answered, in the order of their responses (no favicon). */
const seen: Seen[] = [];
/** The paths of Firefox's login dialogs (BiDi network.authRequired), in order. */
const prompts: string[] = [];
let visits = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    // Read before the example's sign-out route deletes it.
    const { authorization } = req.headers;
    const path = (req.url ?? '').split('?')[0]!;
    if (path !== '/favicon.ico') {
      res.on('finish', () => seen.push({ path, authorization, status: res.statusCode }));
    }
    app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  firefox = await launchFirefox();
  browser = firefox.browser;
  // puppeteer's BiDi browser has the connection; its public type does not say so.
  const { connection } = browser as unknown as {
    connection: {
      on(
        event: 'network.authRequired',
        handler: (event: { request: { url: string } }) => void,
      ): void;
    };
  };
  connection.on('network.authRequired', (event) =>
    prompts.push(new URL(event.request.url).pathname),
  );
});

afterAll(async () => {
  await firefox?.close();
  await new Promise((resolve) => {
    server?.close(resolve);
    server?.closeAllConnections();
  });
});

beforeEach(() => {
  prompts.length = 0;
});

const ALICE = { username: 'alice', password: 'secret' };
/** What a dialog is answered with once alice has signed in: a user the server refuses. */
const PROMPTED = { username: 'prompted', password: 'prompted' };

/** A signed-in page's first line: the example's greeting. */
const greeting = (scheme: string) => `Hello, alice (${scheme}).`;

function who(authorization: string | undefined): Who {
  if (authorization === undefined) return 'none';
  const user = authorization.startsWith('Basic ')
    ? Buffer.from(authorization.slice(6), 'base64').toString().split(':')[0]
    : /username="([^"]*)"/.exec(authorization)?.[1];
  return (['alice', 'signed-out', 'prompted'] as const).find((u) => u === user) ?? 'other';
}

/** What the server saw from `from` on: path, whose credentials, status. */
const since = (from: number) =>
  seen.slice(from).map((r) => [r.path, who(r.authorization), r.status]);

/** A fresh context (an HTTP-auth cache of its own) whose dialogs are answered with alice's password. */
async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.authenticate(ALICE);
  return { context, page };
}

/** Loads `path` at `at` (with a query of its own) and returns the status and the page's first line. */
async function visit(
  page: Page,
  path: string,
  at = origin,
): Promise<{ status?: number; text: string }> {
  const response = await page.goto(`${at}${path}?visit=${++visits}`, { timeout: 5_000 });
  const text = String(await page.evaluate('document.body.innerText'));
  return { status: response?.status(), text: text.split('\n')[0]! };
}

/** Presses the example's "Sign out" and waits for the page it leads to. */
async function signOut(page: Page): Promise<void> {
  await Promise.all([page.waitForNavigation({ timeout: 5_000 }), page.click('#sign-out')]);
  expect(page.url()).toBe(`${origin}/signed-out`);
  expect(String(await page.evaluate('document.body.innerText'))).toContain('Signed out.');
}

/** Signs alice in through the dialog, then answers every later dialog as `prompted`. */
async function signIn(page: Page, area: string, scheme: string): Promise<void> {
  const before = seen.length;
  expect(await visit(page, area)).toEqual({ status: 200, text: greeting(scheme) });
  expect(since(before)).toEqual([
    [area, 'none', 401],
    [area, 'alice', 200],
  ]);
  await page.authenticate(PROMPTED);
}

describe.each([
  ['Basic', '/basic/'],
  ['Digest', '/digest/'],
])('%s (%s): "Sign out" in Firefox', (scheme, area) => {
  const logout = `${area}logout`;

  it('sends the wrong credentials once, without a dialog; the next page goes without any and asks again', async () => {
    const { context, page } = await freshPage();
    try {
      await signIn(page, area, scheme);
      expect(prompts).toEqual([area]);
      // Signed in: a later visit sends the credentials from Firefox's cache, no dialog.
      const signedIn = seen.length;
      expect(await visit(page, area)).toEqual({ status: 200, text: greeting(scheme) });
      expect(since(signedIn)).toEqual([[area, 'alice', 200]]);

      const before = seen.length;
      await signOut(page);
      // Unlike Chromium, Firefox sends the script's credentials on the first request, without
      // waiting for a 401 (with Digest: answering the nonce it has for the realm). The 401 raises
      // no dialog, and the script's request ends there.
      expect(since(before)).toEqual([
        [logout, 'signed-out', 401],
        ['/signed-out', 'none', 200],
      ]);
      const sent = seen[before]!.authorization;
      expect(sent).toMatch(new RegExp(`^${scheme} `));
      if (scheme === 'Digest') {
        expect(directive(sent, 'nonce')).toBe(directive(seen[signedIn]!.authorization, 'nonce'));
      }
      expect(prompts).toEqual([area]);

      // Signed out: the page goes without credentials, gets a 401, and the dialog shows again.
      const after = seen.length;
      expect((await visit(page, area)).status).toBe(401);
      expect(since(after)).toEqual([
        [area, 'none', 401],
        [area, 'prompted', 401],
        [area, 'prompted', 401],
      ]);
      expect(prompts).toEqual([area, area, area, area]);

      // And signing in again works.
      await page.authenticate(ALICE);
      const again = seen.length;
      expect(await visit(page, area)).toEqual({ status: 200, text: greeting(scheme) });
      expect(since(again)).toEqual([
        [area, 'none', 401],
        [area, 'alice', 200],
      ]);
    } finally {
      await context.close();
    }
  });

  it('a script without the wrong credentials raises the dialog', async () => {
    const { context, page } = await freshPage();
    try {
      await signIn(page, area, scheme);
      const before = seen.length;
      // The example's request, without user and password (a string: the DOM's types are not in
      // this project's lib).
      const status = await page.evaluate(`new Promise((resolve) => {
        const xhr = new XMLHttpRequest();
        xhr.open('GET', '${logout}', true);
        xhr.onloadend = () => resolve(xhr.status);
        xhr.send();
      })`);
      expect(status).toBe(401);
      // Firefox sends alice's credentials, gets the 401 and asks, on the script's request: in a
      // browser with a window the user would have to press Cancel. (Here puppeteer answers as
      // `prompted`, refused, and then cancels.)
      expect(since(before)).toEqual([
        [logout, 'alice', 401],
        [logout, 'prompted', 401],
      ]);
      expect(prompts).toEqual([area, logout, logout]);
      // After that, alice's credentials are gone too.
      const after = seen.length;
      expect((await visit(page, area)).status).toBe(401);
      expect(since(after)[0]).toEqual([area, 'none', 401]);
    } finally {
      await context.close();
    }
  });

  it('fetch() with a wrong Authorization header of its own does not sign out', async () => {
    const { context, page } = await freshPage();
    try {
      await signIn(page, area, scheme);
      const before = seen.length;
      const wrong =
        scheme === 'Basic'
          ? `Basic ${Buffer.from('signed-out:signed-out').toString('base64')}`
          : 'Digest username="signed-out"';
      const status = await page.evaluate(
        (url, authorization) =>
          fetch(url, { headers: { Authorization: authorization } }).then((r) => r.status),
        logout,
        wrong,
      );
      expect(status).toBe(401);
      // Sent as given, refused, no dialog: and Firefox's entry for the realm stays.
      expect(since(before)).toEqual([[logout, 'signed-out', 401]]);
      expect(seen[before]!.authorization).toBe(wrong);
      expect(prompts).toEqual([area]);
      const after = seen.length;
      expect(await visit(page, area)).toEqual({ status: 200, text: greeting(scheme) });
      expect(since(after)).toEqual([[area, 'alice', 200]]);
    } finally {
      await context.close();
    }
  });
});

it.each([
  ['/basic/', '/digest/'],
  ['/digest/', '/basic/'],
])(
  'signing out of %s signs out of %s too (unlike Chromium), but not on another origin',
  async (area, other) => {
    const { context, page } = await freshPage();
    // The same server by another name: another origin for Firefox.
    const elsewhere = origin.replace('127.0.0.1', 'localhost');
    try {
      for (const at of [origin, elsewhere]) {
        for (const path of [area, other]) expect((await visit(page, path, at)).status).toBe(200);
      }
      await page.authenticate(PROMPTED);
      await visit(page, area);
      await signOut(page);
      const before = seen.length;
      // The other origin's entries stay: its pages go with alice's credentials up front.
      for (const path of [area, other]) {
        expect((await visit(page, path, elsewhere)).status).toBe(200);
      }
      expect(since(before).map(([, name, status]) => [name, status])).toEqual([
        ['alice', 200],
        ['alice', 200],
      ]);
      // This origin's other realm, with an entry of its own, goes without credentials and asks.
      const after = seen.length;
      expect((await visit(page, other)).status).toBe(401);
      expect(since(after)).toEqual([
        [other, 'none', 401],
        [other, 'prompted', 401],
        [other, 'prompted', 401],
      ]);
    } finally {
      await context.close();
    }
  },
);

it("with page.authenticate's password left in place, Firefox signs in again at once (why the tests above change it)", async () => {
  const { context, page } = await freshPage();
  try {
    expect(await visit(page, '/basic/')).toEqual({ status: 200, text: greeting('Basic') });
    await signOut(page);
    const after = seen.length;
    // Firefox forgot the credentials (the request goes without them), and the 401's dialog is
    // answered by puppeteer with the password again.
    expect(await visit(page, '/basic/')).toEqual({ status: 200, text: greeting('Basic') });
    expect(since(after)).toEqual([
      ['/basic/', 'none', 401],
      ['/basic/', 'alice', 200],
    ]);
  } finally {
    await context.close();
  }
});
