/**
 * Headless Firefox for the interop tests: Debian's ESR at /usr/bin/firefox-esr
 * (`scripts/provision.sh` installs it), driven by puppeteer-core over WebDriver BiDi (no
 * geckodriver). Never downloads a browser.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import type { Browser, Credentials } from 'puppeteer-core';

export const FIREFOX = '/usr/bin/firefox-esr';

export interface Firefox {
  browser: Browser;
  /** e.g. `Firefox ESR 153` */
  label: string;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** What a caller may add to a launch; without it, the browser is launched as always. */
export interface FirefoxOptions {
  /** Preferences written to the profile beside puppeteer's own (puppeteer's `extraPrefsFirefox`). */
  prefs?: Record<string, unknown>;
  /** The browser process's whole environment (e.g. KRB5CCNAME and KRB5_CONFIG for Negotiate). */
  env?: Record<string, string | undefined>;
}

/** A browser on a fresh profile in a temporary directory of its own. */
export async function launchFirefox(options: FirefoxOptions = {}): Promise<Firefox> {
  const profile = await mkdtemp(join(tmpdir(), 'authscheme-firefox-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      userDataDir: profile,
      timeout: 20_000,
      ...(options.prefs === undefined ? {} : { extraPrefsFirefox: options.prefs }),
      ...(options.env === undefined ? {} : { env: options.env }),
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  // `firefox/153.8.0`
  const major = (await browser.version()).split('/')[1]?.split('.')[0];
  return {
    browser,
    label: `Firefox ESR ${major}`,
    close: async () => {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Opens `url` in a fresh browser context (its own cookies and HTTP-auth cache) whose page answers
 * authentication prompts with `credentials` (`page.authenticate`: BiDi's network.authRequired,
 * answered with network.continueWithAuth), and returns the status and the page's text.
 *
 * Without credentials nothing would answer Firefox's prompt, and a 401 page would never load.
 */
export async function loadInFirefox(
  browser: Browser,
  url: string,
  credentials: Credentials,
): Promise<{ status: number | undefined; text: string; headers: Record<string, string> }> {
  const context = await browser.createBrowserContext();
  try {
    const page = await context.newPage();
    await page.authenticate(credentials);
    const response = await page.goto(url, { timeout: 15_000 });
    return {
      status: response?.status(),
      // A string: the DOM's types are not in this project's lib.
      text: String(await page.evaluate('document.body.innerText')),
      headers: response?.headers() ?? {},
    };
  } finally {
    await context.close();
  }
}
