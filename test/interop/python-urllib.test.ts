/**
 * Python's urllib.request with its stock HTTPBasicAuthHandler, HTTPDigestAuthHandler and the
 * proxy variants, against the demo and the proxy example.
 */
import { join } from 'node:path';
import { DEMO_PASSWORD, DEMO_USER, demoForThisFile, PROXY_USERS, VIA_PROXY } from './helpers/demo';
import { digestCases, MatrixRecorder } from './helpers/matrix';
import { parseJson, run, versionOf } from './helpers/run';
import * as wide from './helpers/wide-realm';

const SCRIPT = join(__dirname, 'helpers', 'urllib_client.py');
const matrix = new MatrixRecorder('python-urllib', 'Python urllib');
const demo = demoForThisFile(matrix, async () => `${await versionOf('python3')} urllib`);
const [proxyUser, proxyPassword] = Object.entries(PROXY_USERS)[0]!;

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

  it.each(digestCases(['MD5']))(
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
    expect(outcome.forwarded).toEqual(expect.objectContaining(VIA_PROXY));
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
  const server = wide.serverForThisBlock();

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
    expect((await named('/basic', wide.REALM)).status).toBe(200);
    expect((await named('/basic')).status).toBe(200);
    expect((await named('/basic-octets', wide.REALM)).status).toBe(401);
    expect((await named('/basic-octets', wide.REALM_OCTETS)).status).toBe(200);
  });
});
