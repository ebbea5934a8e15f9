/**
 * curl against the demo and the proxy example: Basic, Digest (every algorithm), Bearer, several
 * schemes at once, and proxy authentication (407) with --proxy-basic and --proxy-digest.
 */
import { DEMO_PASSWORD, DEMO_USER, demoForThisFile, PROXY_USERS, VIA_PROXY } from './helpers/demo';
import { digestCases, MatrixRecorder } from './helpers/matrix';
import type { Row } from './helpers/matrix';
import { authorizationsAt } from './helpers/own-server';
import { directive, parseJson, run, versionOf } from './helpers/run';
import * as wide from './helpers/wide-realm';

const matrix = new MatrixRecorder('curl', 'curl');
const demo = demoForThisFile(matrix, async () =>
  (await versionOf('curl')).split(' ').slice(0, 2).join(' '),
);
const [proxyUser, proxyPassword] = Object.entries(PROXY_USERS)[0]!;
const userArg = `${DEMO_USER}:${DEMO_PASSWORD}`;

/** Runs curl, returning the status code (from -w) and the JSON body. */
async function curl(
  args: string[],
): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  const result = await run('curl', [
    '-sS',
    '--max-time',
    '10',
    '-o',
    '-',
    '-w',
    '\n%{http_code}',
    ...args,
  ]);
  expect(result.stderr).toBe('');
  const cut = result.stdout.lastIndexOf('\n');
  return {
    status: Number(result.stdout.slice(cut + 1)),
    body: parseJson(result.stdout.slice(0, cut)),
  };
}

function authUser(body: Record<string, unknown> | undefined): unknown {
  return (body?.auth as { user?: unknown } | undefined)?.user;
}

describe('curl', () => {
  it('authenticates with Basic (-u)', async () => {
    const { status, body } = await curl(['-u', userArg, `${demo.origin}/basic`]);
    matrix.record('Basic', status === 200, '`curl -u user:password` sends Basic pre-emptively.');
    expect(status).toBe(200);
    expect(body?.auth).toEqual({ scheme: 'Basic', user: DEMO_USER });
  });

  it('is refused with a wrong Basic password', async () => {
    const { status } = await curl(['-u', `${DEMO_USER}:wrong`, `${demo.origin}/basic`]);
    expect(status).toBe(401);
  });

  it.each(
    digestCases(
      ['MD5', 'SHA-256', 'MD5-sess', 'SHA-256-sess'],
      'curl 7.88 labels its answer SHA-512-256 but computes SHA-256 (a curl bug).',
    ),
  )('Digest $algorithm with --digest: works=$works', async ({ algorithm, row, works, note }) => {
    const { status, body } = await curl([
      '--digest',
      '-u',
      userArg,
      `${demo.origin}/digest/${algorithm.toLowerCase()}`,
    ]);
    const observed = status === 200 && authUser(body) === DEMO_USER;
    matrix.record(row, observed, observed ? undefined : note);
    expect({ status, observed }).toEqual({ status: works ? 200 : 401, observed: works });
  });

  it('is refused with a wrong Digest password', async () => {
    const { status } = await curl([
      '--digest',
      '-u',
      `${DEMO_USER}:wrong`,
      `${demo.origin}/digest/sha-256`,
    ]);
    expect(status).toBe(401);
  });

  it('authenticates with Bearer (--oauth2-bearer)', async () => {
    const { status, body } = await curl([
      '--oauth2-bearer',
      demo.demo.readToken,
      `${demo.origin}/bearer`,
    ]);
    matrix.record('Bearer', status === 200, '`curl --oauth2-bearer TOKEN`.');
    expect(status).toBe(200);
    expect(body?.auth).toMatchObject({ scheme: 'Bearer', user: DEMO_USER, scopes: ['read'] });
  });

  it('gets a token from /token and meets a required scope; a read-only token gets 403', async () => {
    const issued = await curl(['-u', userArg, '-d', 'scope=admin', `${demo.origin}/token`]);
    expect(issued.status).toBe(200);
    const token = issued.body?.access_token;
    expect(typeof token).toBe('string');
    const admin = await curl(['--oauth2-bearer', String(token), `${demo.origin}/admin`]);
    const readOnly = await curl(['--oauth2-bearer', demo.demo.readToken, `${demo.origin}/admin`]);
    matrix.record(
      'Bearer with a required scope',
      admin.status === 200 && readOnly.status === 403,
      'Token from the demo’s /token endpoint; a token without the scope gets 403 insufficient_scope.',
    );
    expect(admin.status).toBe(200);
    expect(authUser(admin.body)).toBe(DEMO_USER);
    expect(readOnly.status).toBe(403);
  });

  it('picks Digest when several schemes are offered (--anyauth)', async () => {
    const { status, body } = await curl(['--anyauth', '-u', userArg, `${demo.origin}/multi`]);
    const scheme = (body?.auth as { scheme?: unknown } | undefined)?.scheme;
    matrix.record(
      'Several schemes offered (Digest SHA-256 first)',
      status === 200,
      '`curl --anyauth` picks the safest scheme it knows: Digest.',
    );
    expect(status).toBe(200);
    expect(scheme).toBe('Digest');
  });

  const proxyArgs = (flag: string, password: string): string[] => [
    '--proxy',
    demo.proxyOrigin,
    '--proxy-user',
    `${proxyUser}:${password}`,
    flag,
    '-u',
    userArg,
    `${demo.origin}/via-proxy`,
  ];

  /** Through the proxy, answering it with `flag`, to origin Basic: both get their credentials. */
  async function expectThroughTheProxy(flag: string, row: Row, note: string): Promise<void> {
    const { status, body } = await curl(proxyArgs(flag, proxyPassword));
    matrix.record(row, status === 200, note);
    expect(status).toBe(200);
    expect(body?.auth).toEqual({ scheme: 'Basic', user: DEMO_USER });
    expect(body?.forwarded).toEqual(expect.objectContaining(VIA_PROXY));
  }

  it('authenticates to the proxy with --proxy-basic; Authorization reaches the origin, Proxy-Authorization does not', async () => {
    await expectThroughTheProxy(
      '--proxy-basic',
      'Proxy Basic (407)',
      '`curl --proxy … --proxy-user … --proxy-basic`, with origin Basic through the proxy.',
    );
  });

  // curl answers a proxy's Digest challenge with uri="/path" (origin form) while the request line
  // carries the absolute form (http://host/path): digest() must treat both as the same resource
  // (RFC 7616 §3.4.6).
  it('authenticates to the proxy with --proxy-digest (uri in origin form, absolute-form target)', async () => {
    await expectThroughTheProxy(
      '--proxy-digest',
      'Proxy Digest (407)',
      '`curl --proxy … --proxy-user … --proxy-digest`; curl sends uri="/path" for an absolute-form request target.',
    );
  });

  it('gets 407 from the proxy with a wrong proxy password', async () => {
    const { status } = await curl(proxyArgs('--proxy-basic', 'wrong'));
    expect(status).toBe(407);
  });
});

describe('curl under a realm beyond ASCII (Zürich)', () => {
  const server = wide.serverForThisBlock();

  /** The realm directive of the last answer that reached `path`. */
  const echoedAt = (path: string): string | undefined =>
    directive(authorizationsAt(server, path).at(-1), 'realm');

  // curl hashes and echoes the realm's octets as it got them: ISO-8859-1 from authscheme, UTF-8
  // when Express's error handler wrote the 401's head; digest() takes either spelling.
  it.each([
    ['/digest', wide.REALM, wide.REALM],
    ['/digest-sha256', wide.REALM, wide.REALM],
    ['/digest-next', wide.REALM, wide.REALM_OCTETS],
    ['/digest-octets', wide.REALM_OCTETS, wide.REALM_OCTETS],
  ])('Digest %s: every user logs in', async (path, realm, echoed) => {
    for (const [user, password] of Object.entries(wide.USERS)) {
      const { status, body } = await curl([
        '--digest',
        '-u',
        `${user}:${password}`,
        server.origin + path,
      ]);
      expect([status, authUser(body), wide.realmOf(body?.auth)]).toEqual([200, user, realm]);
      expect(echoedAt(path)).toBe(echoed);
    }
    const { status } = await curl(['--digest', '-u', 'alice:wrong', server.origin + path]);
    expect(status).toBe(401);
  });

  it('Basic: logs in (the realm is only shown)', async () => {
    const { status, body } = await curl([
      '-u',
      'j\u00f6rg:p\u00e4ssword',
      `${server.origin}/basic`,
    ]);
    expect([status, authUser(body)]).toEqual([200, 'j\u00f6rg']);
  });
});
