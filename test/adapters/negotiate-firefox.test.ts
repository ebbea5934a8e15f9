/**
 * authscheme/negotiate with headless Firefox ESR (Debian's firefox-esr, driven by puppeteer-core
 * over WebDriver BiDi: ../interop/helpers/firefox.ts) as the client, against a throw-away Kerberos
 * realm of this file's own (../helpers/kdc) and the server of ../helpers/negotiate-server.ts.
 *
 * Firefox does SPNEGO through the system's GSSAPI library (MIT's libgssapi_krb5), which reads the
 * realm and the ticket cache from the browser process's environment (KRB5_CONFIG, KRB5CCNAME),
 * and only for an origin its preferences trust: `network.negotiate-auth.trusted-uris` (a list of
 * hosts, or of URLs whose scheme and port must match too), or any dotless host name with
 * `network.negotiate-auth.allow-non-fqdn`. The service is HTTP@<host>: the host is `localhost`, as
 * for curl and Chromium in negotiate.test.ts, whose principal HTTP/localhost the server's keytab
 * holds. Each case is a launch of its own, since the environment and the preferences are the
 * process's.
 */
import type { HTTPRequest } from 'puppeteer-core';
import { startKdc, type Kdc } from '../helpers/kdc';
import {
  initialTokenOf,
  negTokenRespFields,
  OID,
  startNegotiateServer,
  type NegotiateServer,
} from '../helpers/negotiate-harness';
import { launchFirefox } from '../interop/helpers/firefox';

const ALICE_PASSWORD = 'alice-password';
const TRUSTED_URIS = 'network.negotiate-auth.trusted-uris';

let kdc: Kdc;
let server: NegotiateServer | undefined;
let origin: string;
let aliceCache: string;

beforeAll(async () => {
  kdc = await startKdc();
  await kdc.addUser('alice', ALICE_PASSWORD);
  const keytab = await kdc.addService('HTTP/localhost', 'http.keytab');
  aliceCache = await kdc.kinit('alice', ALICE_PASSWORD, 'alice.ccache');
  server = await startNegotiateServer(kdc, { NEGOTIATE_KEYTAB: keytab });
  origin = `http://localhost:${server.port}`;
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await kdc?.stop();
});

interface Visit {
  status: number | undefined;
  /** The page's text (the server's JSON, or its 401 body). */
  text: string;
  /** The final response's WWW-Authenticate. */
  challenge: string | undefined;
  /** The Authorization field of each request the page made for the route, in order (or null). */
  authorizations: Array<string | null>;
}

/**
 * One launch of Firefox with `cache` as its ticket cache and `prefs`, visiting `routes` of the
 * server in one page. Nothing answers an HTTP-auth prompt (no `page.authenticate`): a route that
 * offers Basic too would hang on one if Firefox did not answer Negotiate.
 */
async function visit(
  cache: string,
  prefs: Record<string, unknown>,
  routes = ['/'],
): Promise<Visit[]> {
  const firefox = await launchFirefox({
    prefs,
    env: { ...process.env, ...kdc.env, KRB5CCNAME: cache },
  });
  try {
    const page = await firefox.browser.newPage();
    const requests: HTTPRequest[] = [];
    page.on('request', (request) => requests.push(request));
    const visits: Visit[] = [];
    for (const route of routes) {
      const url = origin + route;
      const response = await page.goto(url, { timeout: 15_000 });
      visits.push({
        status: response?.status(),
        // A string: the DOM's types are not in this project's lib.
        text: String(await page.evaluate('document.body.innerText')),
        challenge: response?.headers()['www-authenticate'],
        authorizations: requests
          .splice(0)
          .filter((request) => request.url() === url)
          .map((request) => request.headers()['authorization'] ?? null),
      });
    }
    return visits;
  } finally {
    await firefox.close();
  }
}

describe('Negotiate with headless Firefox ESR and a real KDC', () => {
  it('answers with the ticket from kinit on its first launch for a trusted origin (asking for no mutual authentication)', async () => {
    const [root, both, basicFirst, notFound] = await visit(aliceCache, { [TRUSTED_URIS]: origin }, [
      '/',
      '/both',
      '/basic-first',
      '/status/404',
    ]);
    expect(root!.status).toBe(200);
    expect(JSON.parse(root!.text)).toEqual({
      auth: {
        scheme: 'Negotiate',
        user: `alice@${kdc.realm}`,
        principal: `alice@${kdc.realm}`,
        realm: kdc.realm,
      },
    });
    // The first request goes without credentials; the retry after the 401 carries an SPNEGO
    // NegTokenInit (Firefox wraps the Kerberos AP-REQ in SPNEGO, as Chromium and curl do).
    expect(root!.authorizations).toHaveLength(2);
    expect(root!.authorizations[0]).toBeNull();
    expect(initialTokenOf(root!.authorizations[1], OID.spnego)).toBe(true);
    // As Chromium's, Firefox's AP-REQ does not ask for mutual authentication (no MUTUAL-REQUIRED),
    // so the 200 carries SPNEGO's bare accept-completed (negState, supportedMech), with no AP-REP:
    // there is no mutual-auth token to check.
    expect(negTokenRespFields(root!.challenge)).toEqual([0, 1]);
    // Offered Basic too, in either order, it answers Negotiate, and shows no Basic prompt (which
    // nothing here would answer).
    for (const page of [both, basicFirst]) {
      expect(page!.status).toBe(200);
      expect(JSON.parse(page!.text).auth.scheme).toBe('Negotiate');
    }
    // An error page after Negotiate comes as it was sent, with the final token beside it.
    expect(notFound).toMatchObject({ status: 404, text: 'status 404' });
    expect(negTokenRespFields(notFound!.challenge)).toEqual([0, 1]);
  }, 60_000);

  it.each([
    ['trusted-uris left at its default (empty)', {}],
    ['trusted-uris naming the host on another port', { [TRUSTED_URIS]: 'http://localhost:1' }],
    ['trusted-uris naming the host over https', { [TRUSTED_URIS]: 'https://localhost' }],
  ])(
    'sends no Negotiate answer to an origin it does not trust, ticket or not: %s',
    async (_name, prefs) => {
      const [root] = await visit(aliceCache, prefs);
      expect(root).toEqual({
        status: 401,
        text: 'Unauthorized',
        challenge: 'Negotiate',
        authorizations: [null],
      });
    },
    60_000,
  );

  it('trusts every dotless host name with network.negotiate-auth.allow-non-fqdn (without trusted-uris)', async () => {
    const [root] = await visit(aliceCache, { 'network.negotiate-auth.allow-non-fqdn': true });
    expect(root!.status).toBe(200);
    expect(JSON.parse(root!.text).auth.principal).toBe(`alice@${kdc.realm}`);
  }, 60_000);

  it('sends nothing without a ticket (an empty cache), for a trusted origin too: the 401 stays', async () => {
    const [root] = await visit(kdc.emptyCache('firefox-empty.ccache'), { [TRUSTED_URIS]: origin });
    expect(root).toEqual({
      status: 401,
      text: 'Unauthorized',
      challenge: 'Negotiate',
      authorizations: [null],
    });
  }, 60_000);
});
