/**
 * Python's urllib.request with its stock HTTPBasicAuthHandler, HTTPDigestAuthHandler and the
 * proxy variants, against the demo and the proxy example.
 */
import { join } from 'node:path';
import { DEMO_PASSWORD, DEMO_USER, PROXY_USERS, startTestDemo } from './helpers/demo';
import type { RunningDemo } from './helpers/demo';
import { MatrixRecorder } from './helpers/matrix';
import type { Row } from './helpers/matrix';
import type { OwnServer } from './helpers/own-server';
import { parseJson, run, versionOf } from './helpers/run';
import { startWideRealmServer, WIDE_REALM, WIDE_REALM_OCTETS } from './helpers/wide-realm';

const SCRIPT = join(__dirname, 'helpers', 'urllib_client.py');
const matrix = new MatrixRecorder('python-urllib', 'Python urllib');
let demo: RunningDemo;
const [proxyUser, proxyPassword] = Object.entries(PROXY_USERS)[0]!;

beforeAll(async () => {
  matrix.label = `${await versionOf('python3')} urllib`;
  demo = await startTestDemo();
});

afterAll(async () => {
  await demo?.close();
  await matrix.write();
});

interface Outcome {
  status?: number;
  auth?: unknown;
  forwarded?: unknown;
  error?: string;
}

async function urllib(
  handler: string,
  url: string,
  user: string,
  password: string,
  proxy?: string,
  realm?: string,
): Promise<Outcome> {
  const args = [SCRIPT, handler, url, user, password];
  if (proxy !== undefined) args.push(proxy, DEMO_USER, DEMO_PASSWORD);
  const result = await run(
    'python3',
    args,
    realm === undefined ? {} : { env: { URLLIB_REALM: realm } },
  );
  const line = parseJson(result.stdout);
  if (line === undefined) throw new Error(`urllib_client.py printed no JSON: ${result.stderr}`);
  if (typeof line.error === 'string') return { error: line.error };
  const body = parseJson(String(line.body));
  return { status: Number(line.status), auth: body?.auth, forwarded: body?.forwarded };
}

const user = (outcome: Outcome): unknown => (outcome.auth as { user?: unknown } | undefined)?.user;

describe('Python urllib.request', () => {
  it('authenticates with HTTPBasicAuthHandler (after the 401)', async () => {
    const outcome = await urllib('basic', `${demo.origin}/basic`, DEMO_USER, DEMO_PASSWORD);
    matrix.record(
      'Basic',
      outcome.status === 200,
      'HTTPBasicAuthHandler answers the 401 challenge.',
    );
    expect(outcome).toEqual({
      status: 200,
      auth: { scheme: 'Basic', user: DEMO_USER },
      forwarded: undefined,
    });
  });

  it('is refused with a wrong Basic password (401 once the handler gives up)', async () => {
    const outcome = await urllib('basic', `${demo.origin}/basic`, DEMO_USER, 'wrong');
    expect(outcome.status).toBe(401);
  });

  const digestCases: Array<{ algorithm: string; row: Row; works: boolean }> = [
    { algorithm: 'MD5', row: 'Digest MD5', works: true },
    { algorithm: 'SHA-256', row: 'Digest SHA-256', works: false },
    { algorithm: 'SHA-512-256', row: 'Digest SHA-512-256', works: false },
    { algorithm: 'MD5-sess', row: 'Digest MD5-sess', works: false },
    { algorithm: 'SHA-256-sess', row: 'Digest SHA-256-sess', works: false },
    { algorithm: 'SHA-512-256-sess', row: 'Digest SHA-512-256-sess', works: false },
  ];

  it.each(digestCases)(
    'HTTPDigestAuthHandler with Digest $algorithm: works=$works',
    async ({ algorithm, row, works }) => {
      const outcome = await urllib(
        'digest',
        `${demo.origin}/digest/${algorithm.toLowerCase()}`,
        DEMO_USER,
        DEMO_PASSWORD,
      );
      const observed = outcome.status === 200 && user(outcome) === DEMO_USER;
      matrix.record(
        row,
        observed,
        observed
          ? undefined
          : `urllib raises \`${outcome.error?.split(':')[0] ?? `HTTP ${outcome.status}`}\`: HTTPDigestAuthHandler supports only MD5 and SHA (SHA-1), without -sess.`,
      );
      expect(observed).toBe(works);
      if (!works)
        expect(outcome.error).toMatch(/^ValueError: Unsupported digest authentication algorithm/);
    },
  );

  it('reads only the first challenge line when several schemes are offered', async () => {
    const outcome = await urllib('digest', `${demo.origin}/multi`, DEMO_USER, DEMO_PASSWORD);
    const works = outcome.status === 200;
    matrix.record(
      'Several schemes offered (Digest SHA-256 first)',
      works,
      works
        ? undefined
        : 'HTTPDigestAuthHandler reads only the first WWW-Authenticate line (here Digest SHA-256) and raises ValueError; MD5 first would work.',
    );
    expect(outcome.error).toMatch(/^ValueError/);
  });

  it('authenticates to the proxy with ProxyBasicAuthHandler (origin Basic through it)', async () => {
    const outcome = await urllib(
      'proxy-basic',
      `${demo.origin}/via-proxy`,
      proxyUser,
      proxyPassword,
      demo.proxyOrigin,
    );
    const passed = outcome.status === 200 && user(outcome) === DEMO_USER;
    matrix.record(
      'Proxy Basic (407)',
      passed,
      'ProxyBasicAuthHandler answers the 407: it scans every Proxy-Authenticate line for Basic.',
    );
    expect(outcome.status).toBe(200);
    expect(outcome.auth).toEqual({ scheme: 'Basic', user: DEMO_USER });
    expect(outcome.forwarded).toEqual(
      expect.objectContaining({
        via: '1.1 authscheme-proxy',
        proxyAuthorizationReachedOrigin: false,
      }),
    );
  });

  it('fails on proxy Digest: ProxyDigestAuthHandler reads the first line, SHA-256', async () => {
    const outcome = await urllib(
      'proxy-digest',
      `${demo.origin}/via-proxy`,
      proxyUser,
      proxyPassword,
      demo.proxyOrigin,
    );
    const passed = outcome.status === 200;
    matrix.record(
      'Proxy Digest (407)',
      passed,
      passed
        ? undefined
        : 'ProxyDigestAuthHandler reads only the first Proxy-Authenticate line (Digest SHA-256) and raises ValueError.',
    );
    expect(outcome.error).toMatch(/^ValueError/);
  });
});

describe('Python urllib.request under a realm beyond ASCII (Zürich)', () => {
  let server: OwnServer;
  beforeAll(async () => {
    server = await startWideRealmServer();
  });
  afterAll(() => server?.close());

  // Its Digest hashes encode their input as ASCII: no realm beyond ASCII can be answered, in any
  // octets. The client fails; no server can help it.
  it.each(['/digest', '/digest-octets'])(
    'Digest %s: fails in urllib (UnicodeEncodeError)',
    async (path) => {
      const outcome = await urllib('digest', server.origin + path, 'alice', 'secret');
      expect(outcome.error).toMatch(/^UnicodeEncodeError: 'ascii' codec/);
    },
  );

  // It decodes the realm as ISO-8859-1 and looks credentials up under that text: the realm as
  // authscheme sends it is found under its name; sent as UTF-8 octets, only under mojibake.
  it('Basic: finds credentials kept for the realm by its name', async () => {
    const named = (path: string, realm?: string): Promise<Outcome> =>
      urllib('basic', server.origin + path, 'alice', 'secret', undefined, realm);
    expect((await named('/basic', WIDE_REALM)).status).toBe(200);
    expect((await named('/basic')).status).toBe(200);
    expect((await named('/basic-octets', WIDE_REALM)).status).toBe(401);
    expect((await named('/basic-octets', WIDE_REALM_OCTETS)).status).toBe(200);
  });
});
