/**
 * GNU Wget against the demo and the proxy example: Basic, Digest (MD5 only), proxy Basic.
 */
import { DEMO_PASSWORD, DEMO_USER, PROXY_USERS, startTestDemo } from './helpers/demo';
import type { RunningDemo } from './helpers/demo';
import { MatrixRecorder } from './helpers/matrix';
import type { Row } from './helpers/matrix';
import type { OwnServer } from './helpers/own-server';
import { parseJson, run, versionOf } from './helpers/run';
import {
  realmOf,
  startWideRealmServer,
  WIDE_REALM,
  WIDE_REALM_OCTETS,
  WIDE_USERS,
} from './helpers/wide-realm';

const matrix = new MatrixRecorder('wget', 'wget');
let demo: RunningDemo;
const [proxyUser, proxyPassword] = Object.entries(PROXY_USERS)[0]!;

beforeAll(async () => {
  matrix.label = (await versionOf('wget')).replace(/^GNU Wget (\S+).*$/, 'wget $1');
  demo = await startTestDemo();
});

afterAll(async () => {
  await demo?.close();
  await matrix.write();
});

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
  const digestCases: Array<{ algorithm: string; row: Row; works: boolean }> = [
    { algorithm: 'MD5', row: 'Digest MD5', works: true },
    { algorithm: 'SHA-256', row: 'Digest SHA-256', works: false },
    { algorithm: 'SHA-512-256', row: 'Digest SHA-512-256', works: false },
    { algorithm: 'MD5-sess', row: 'Digest MD5-sess', works: true },
    { algorithm: 'SHA-256-sess', row: 'Digest SHA-256-sess', works: false },
    { algorithm: 'SHA-512-256-sess', row: 'Digest SHA-512-256-sess', works: false },
  ];

  it.each(digestCases)('Digest $algorithm: works=$works', async ({ algorithm, row, works }) => {
    const { status, body } = await wget([
      ...credentials,
      `${demo.origin}/digest/${algorithm.toLowerCase()}`,
    ]);
    const observed = status === 200 && user(body) === DEMO_USER;
    matrix.record(row, observed, observed ? undefined : WGET_DIGEST);
    expect({ status, observed }).toEqual({ status: works ? 200 : 401, observed: works });
  });

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
    expect(body?.forwarded).toEqual(
      expect.objectContaining({
        via: '1.1 authscheme-proxy',
        proxyAuthorizationReachedOrigin: false,
      }),
    );
  });
});

describe('wget under a realm beyond ASCII (Zürich)', () => {
  let server: OwnServer;
  beforeAll(async () => {
    server = await startWideRealmServer();
  });
  afterAll(() => server?.close());

  // wget hashes the realm's octets as it got them: ISO-8859-1 from authscheme, UTF-8 when
  // Express's error handler wrote the 401's head (digest() took only the former).
  it.each([
    ['/digest', WIDE_REALM],
    ['/digest-next', WIDE_REALM],
    ['/digest-octets', WIDE_REALM_OCTETS],
    ['/basic', undefined],
  ])('%s: every user logs in', async (path, realm) => {
    for (const [name, password] of Object.entries(WIDE_USERS)) {
      const { status, body } = await wget([
        '--user',
        name,
        '--password',
        password,
        server.origin + path,
      ]);
      expect([status, user(body), realmOf(body?.auth)]).toEqual([200, name, realm]);
    }
  });
});
