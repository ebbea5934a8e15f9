/**
 * Headless Chromium for the interop tests: Debian's package at /usr/bin/chromium
 * (`scripts/provision.sh` installs it), driven by playwright-core. Never downloads a browser.
 */
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext } from 'playwright-core';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A browser; `launch()` gives every run a fresh, temporary user-data-dir. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    timeout: 20_000,
  });
}

/**
 * A browser context with a persistent profile in `userDataDir` (what Chromium keeps between
 * launches, "Local State" included), its environment and any `args` beside the usual ones.
 */
export function launchChromiumProfile(
  userDataDir: string,
  options: {
    env?: Record<string, string | undefined>;
    args?: string[];
    /** Take a test server's self-signed certificate. */
    ignoreHTTPSErrors?: boolean;
  } = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
    env: options.env,
    ignoreHTTPSErrors: options.ignoreHTTPSErrors ?? false,
    timeout: 20_000,
  });
}
