/**
 * GNU Wget against the demo and the proxy example: Basic, Digest (MD5 only), proxy Basic.
 */
import { DEMO_PASSWORD, DEMO_USER, demoForThisFile, PROXY_USERS, VIA_PROXY } from './helpers/demo';
import { digestCases, MatrixRecorder } from './helpers/matrix';
import { parseJson, run, versionOf } from './helpers/run';
import * as wide from './helpers/wide-realm';

const matrix = new MatrixRecorder('wget', 'wget');
const demo = demoForThisFile(matrix, async () =>
  (await versionOf('wget')).replace(/^GNU Wget (\S+).*$/, 'wget $1'),
);
const [proxyUser, proxyPassword] = Object.entries(PROXY_USERS)[0]!;

/** Runs wget; `-S` prints the response status lines to stderr, the body goes to stdout. */
async function wget(
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ status: number | undefined; body: Record<string, unknown> | undefined }> {
  const result = await run(
    'wget',
    ['-q', '-S', '-O', '-', '--tries=1', '--timeout=10', '--no-config', ...args],
    { env },
  );
  // The last status line is the final answer (after any 401 and retry).
  const statuses = [...result.stderr.matchAll(/^ {2}HTTP\/1\.1 (\d{3})/gm)].map((match) =>
    Number(match[1]),
  );
  return { status: statuses.at(-1), body: parseJson(result.stdout) };
}

const credentials = ['--user', DEMO_USER, '--password', DEMO_PASSWORD];
const user = (body: Record<string, unknown> | undefined): unknown =>
  (body?.auth as { user?: unknown } | undefined)?.user;

describe('wget', () => {
  it('authenticates with Basic after the 401 challenge', async () => {
    const { status, body } = await wget([...credentials, `${demo.origin}/basic`]);
    matrix.record(
      'Basic',
      status === 200,
      'wget waits for the challenge (or sends Basic at once with --auth-no-challenge).',
    );
    expect(status).toBe(200);
    expect(body?.auth).toEqual({ scheme: 'Basic', user: DEMO_USER });
  });

  it('is refused with a wrong Basic password', async () => {
    const { status } = await wget([
      '--user',
      DEMO_USER,
      '--password',
      'wrong',
      `${demo.origin}/basic`,
    ]);
    expect(status).toBe(401);
  });

  const WGET_DIGEST = 'wget 1.21 implements Digest with MD5 and MD5-sess only.';
  it.each(digestCases(['MD5', 'MD5-sess']))(
    'Digest $algorithm: works=$works',
    async ({ algorithm, row, works }) => {
      const { status, body } = await wget([
        ...credentials,
        `${demo.origin}/digest/${algorithm.toLowerCase()}`,
      ]);
      const observed = status === 200 && user(body) === DEMO_USER;
      matrix.record(row, observed, observed ? undefined : WGET_DIGEST);
      expect({ status, observed }).toEqual({ status: works ? 200 : 401, observed: works });
    },
  );

  it('answers one of the challenges when several schemes are offered', async () => {
    const { status, body } = await wget([...credentials, `${demo.origin}/multi`]);
    const scheme = (body?.auth as { scheme?: unknown } | undefined)?.scheme;
    matrix.record(
      'Several schemes offered (Digest SHA-256 first)',
      status === 200,
      status === 200
        ? `wget answered with ${String(scheme)}.`
        : 'wget gave up on the challenges offered.',
    );
    expect(status).toBe(200);
    expect(user(body)).toBe(DEMO_USER);
  });

  it('authenticates to the proxy with Basic (--proxy-user), origin Basic through it', async () => {
    const { status, body } = await wget(
      [
        '-e',
        'use_proxy=on',
        '--proxy-user',
        proxyUser,
        '--proxy-password',
        proxyPassword,
        '--auth-no-challenge',
        ...credentials,
        `${demo.origin}/via-proxy`,
      ],
      { http_proxy: demo.proxyOrigin },
    );
    matrix.record(
      'Proxy Basic (407)',
      status === 200,
      'wget sends proxy credentials as Basic, pre-emptively (it knows no proxy Digest).',
    );
    expect(status).toBe(200);
    expect(body?.auth).toEqual({ scheme: 'Basic', user: DEMO_USER });
    expect(body?.forwarded).toEqual(expect.objectContaining(VIA_PROXY));
  });
});

describe('wget under a realm beyond ASCII (Zürich)', () => {
  const server = wide.serverForThisBlock();

  // wget hashes the realm's octets as it got them: ISO-8859-1 from authscheme, UTF-8 when
  // Express's error handler wrote the 401's head (digest() took only the former).
  it.each([
    ['/digest', wide.REALM],
    ['/digest-next', wide.REALM],
    ['/digest-octets', wide.REALM_OCTETS],
    ['/basic', undefined],
  ])('%s: every user logs in', async (path, realm) => {
    for (const [name, password] of Object.entries(wide.USERS)) {
      const { status, body } = await wget([
        '--user',
        name,
        '--password',
        password,
        server.origin + path,
      ]);
      expect([status, user(body), wide.realmOf(body?.auth)]).toEqual([200, name, realm]);
    }
  });
});
