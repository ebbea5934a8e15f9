/**
 * w3m, the text browser (Debian's w3m), run non-interactively: `-dump_source` prints the final
 * body, the credentials come from a passwd file (`-o passwd_file=…`, README.passwd: `machine`,
 * `port`, `realm`, `login`, `passwd`, and `proxy` for a proxy's), HOME and W3M_DIR point to a
 * directory of the test's own, and stdin is empty (a prompt after a refusal reads nothing).
 * `-o accept_media=application/json` makes the demo answer JSON. Each request goes through a
 * relay of the test's own that records what w3m sent and the status it got.
 *
 * From w3m 0.5.3's file.c: Digest (preferred to Basic) with MD5 and MD5-sess only, qop=auth; of
 * several challenges it keeps the first Digest one, and gives up if it cannot compute it; each
 * URL is a new 401 and a new answer (nc=00000001), no nonce kept.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createServer, connect, type AddressInfo, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, digest } from 'authscheme';
import { createProxyServer, listenProxy } from '../../examples/proxy/server';
import { DEMO_PASSWORD, DEMO_USER, demoForThisFile, PROXY_USERS, VIA_PROXY } from './helpers/demo';
import { digestCases, MatrixRecorder } from './helpers/matrix';
import { directive, parseJson, run, versionOf } from './helpers/run';

const matrix = new MatrixRecorder('w3m', 'w3m');
const demo = demoForThisFile(matrix, async () =>
  (await versionOf('w3m', ['-version'])).replace(/^w3m version w3m\/([^\s,]+).*$/, 'w3m $1'),
);
const [proxyUser, proxyPassword] = Object.entries(PROXY_USERS)[0]!;

/** One request w3m sent through a relay, and the status it got. */
interface Seen {
  /** The request line, e.g. `GET /basic HTTP/1.0`. */
  line: string;
  authorization: string | undefined;
  proxyAuthorization: string | undefined;
  status: number | undefined;
}

interface Relay {
  /** e.g. `http://127.0.0.1:40123` */
  origin: string;
  port: number;
  seen: Seen[];
  close(): Promise<void>;
}

const field = (head: string, name: string): string | undefined =>
  new RegExp(`^${name}: *(.*)$`, 'im').exec(head)?.[1];

/** A TCP relay to `target`'s port that records each request head and the status line answered. */
async function startRelay(target: string): Promise<Relay> {
  const targetPort = Number(new URL(target).port);
  const seen: Seen[] = [];
  const server: NetServer = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    let head = '';
    let entry: Seen | undefined;
    let answered = false;
    client.on('data', (chunk) => {
      if (entry === undefined) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end >= 0) {
          const text = head.slice(0, end);
          entry = {
            line: text.split('\r\n')[0]!,
            authorization: field(text, 'Authorization'),
            proxyAuthorization: field(text, 'Proxy-Authorization'),
            status: undefined,
          };
          seen.push(entry);
        }
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!answered && entry !== undefined) {
        answered = true;
        entry.status = Number(/^HTTP\/1\.\d (\d{3})/.exec(chunk.toString('latin1'))?.[1]);
      }
      client.write(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A passwd file entry (README.passwd). */
interface Entry {
  port: number;
  realm?: string;
  login: string;
  passwd: string;
  proxy?: boolean;
}

let home: string;
let origin: Relay;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'authscheme-w3m-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

let passwdFiles = 0;

/** Writes a passwd file (README.passwd) of `entries`, a new one each call; its path. */
async function writePasswd(entries: Entry[]): Promise<string> {
  const passwd = join(home, `passwd-${++passwdFiles}`);
  const lines = entries.flatMap((e) => [
    'machine 127.0.0.1',
    `port ${e.port}`,
    ...(e.realm === undefined ? [] : [`realm ${e.realm}`]),
    ...(e.proxy === true ? ['proxy'] : []),
    `login ${e.login}`,
    `passwd ${e.passwd}`,
    '',
  ]);
  await writeFile(passwd, lines.join('\n'));
  // w3m warns about (and ignores) a passwd file others can read.
  await chmod(passwd, 0o600);
  return passwd;
}

/** Runs w3m on `url` with the passwd file `entries`; `body` is the final body. */
async function w3m(
  url: string,
  entries: Entry[],
  options: string[] = [],
): Promise<{ body: string; stderr: string }> {
  const passwd = await writePasswd(entries);
  return runW3m([
    '-o',
    `passwd_file=${passwd}`,
    '-o',
    'accept_media=application/json',
    '-no-cookie',
    ...options,
    '-dump_source',
    url,
  ]);
}

/**
 * Runs w3m with `args`, stdin at its end: after a refusal w3m asks for a user name on stdout and
 * reads it from stdin (the password from the terminal, which there is none of), and exits at the
 * end of stdin on the next refusal.
 */
async function runW3m(args: string[]): Promise<{ body: string; stderr: string }> {
  const result = await run('sh', ['-c', 'exec w3m "$@" </dev/null', 'w3m', ...args], {
    env: { HOME: home, W3M_DIR: home },
  });
  return { body: result.stdout, stderr: result.stderr };
}

const demoEntry = (password = DEMO_PASSWORD): Entry => ({
  port: origin.port,
  realm: 'demo',
  login: DEMO_USER,
  passwd: password,
});
const authOf = (body: string): Record<string, unknown> | undefined =>
  parseJson(body)?.auth as Record<string, unknown> | undefined;
const statuses = (relay: Relay): Array<number | undefined> => relay.seen.map((s) => s.status);

describe('w3m against the demo', () => {
  beforeAll(async () => {
    origin = await startRelay(demo.origin);
  });
  afterAll(() => origin.close());
  beforeEach(() => {
    origin.seen.length = 0;
  });

  it('answers the Basic challenge with the passwd file’s credentials', async () => {
    const { body } = await w3m(`${origin.origin}/basic`, [demoEntry()]);
    const works = authOf(body)?.user === DEMO_USER;
    matrix.record(
      'Basic',
      works,
      'Credentials from a passwd file (`-o passwd_file=`, mode 600), `-dump_source`: w3m answers the 401 challenge (`http://user:pass@host/` works too, without a proxy).',
    );
    expect(authOf(body)).toEqual({ scheme: 'Basic', user: DEMO_USER });
    expect(statuses(origin)).toEqual([401, 200]);
    expect(origin.seen[0]!.authorization).toBeUndefined();
  });

  it('takes credentials in the URL as well (answering the challenge), Basic and Digest', async () => {
    for (const [path, scheme] of [
      ['/basic', 'Basic'],
      ['/digest/md5', 'Digest'],
    ] as const) {
      origin.seen.length = 0;
      const url = new URL(origin.origin + path);
      url.username = DEMO_USER;
      url.password = DEMO_PASSWORD;
      const { body } = await w3m(url.href, []);
      expect(authOf(body)).toMatchObject({ scheme, user: DEMO_USER });
      expect(statuses(origin)).toEqual([401, 200]);
    }
  });

  const W3M_DIGEST =
    'w3m 0.5.3 computes Digest with MD5 and MD5-sess only: offered another algorithm alone, it sends no answer and shows the 401.';
  it.each(digestCases(['MD5', 'MD5-sess']))(
    'Digest $algorithm (works: $works; a second URL gets a 401 and a new answer)',
    async ({ algorithm, row, works }) => {
      const url = `${origin.origin}/digest/${algorithm.toLowerCase()}`;
      const { body } = await w3m(url, [demoEntry()]);
      const observed = authOf(body)?.user === DEMO_USER;
      matrix.record(row, observed, observed ? undefined : W3M_DIGEST);
      expect(observed).toBe(works);
      if (!works) {
        // No answer at all: the one request, its 401.
        expect(statuses(origin)).toEqual([401]);
        expect(body).toBe('Unauthorized');
        return;
      }
      expect(authOf(body)).toMatchObject({ scheme: 'Digest', algorithm, qop: 'auth' });
      expect(statuses(origin)).toEqual([401, 200]);
      const answer = origin.seen[1]!.authorization;
      expect([directive(answer, 'algorithm'), directive(answer, 'nc')]).toEqual([
        algorithm,
        '00000001',
      ]);
    },
  );

  it('keeps no nonce: two URLs in one run, each a 401 and an answer with nc=00000001', async () => {
    const url = `${origin.origin}/digest/md5`;
    const passwd = await writePasswd([demoEntry()]);
    await runW3m([
      '-o',
      `passwd_file=${passwd}`,
      '-o',
      'accept_media=application/json',
      '-no-cookie',
      '-dump_source',
      url,
      url,
    ]);
    expect(statuses(origin)).toEqual([401, 200, 401, 200]);
    const answers = [origin.seen[1]!, origin.seen[3]!].map((s) => s.authorization);
    expect(answers.map((a) => directive(a, 'nc'))).toEqual(['00000001', '00000001']);
    expect(directive(answers[0], 'nonce')).not.toBe(directive(answers[1], 'nonce'));
  });

  // Run side by side: each refusal costs w3m some seconds of sleep(2) before its messages.
  it('is refused with a wrong password, Basic or Digest: one answer, then one with the empty prompt’s', async () => {
    const refused = await Promise.all(
      ['/basic', '/digest/md5'].map((path) => w3m(origin.origin + path, [demoEntry('wrong')])),
    );
    for (const { body, stderr } of refused) {
      // It exits asking again: nothing of the 401's body is printed.
      expect(body).toBe('Username for demo: ');
      expect(stderr).toContain('Wrong username or password');
      expect(stderr).toContain('w3m: Authorization required for demo');
    }
    for (const path of ['/basic', '/digest/md5']) {
      const sent = origin.seen.filter((seen) => seen.line === `GET ${path} HTTP/1.0`);
      expect(sent.map((seen) => seen.status)).toEqual([401, 401, 401]);
      expect(sent.map((seen) => seen.authorization === undefined)).toEqual([true, false, false]);
    }
  });

  it('keeps the first Digest challenge when several schemes are offered, and gives up on it', async () => {
    const { body } = await w3m(`${origin.origin}/multi`, [demoEntry()]);
    const works = authOf(body)?.user === DEMO_USER;
    matrix.record(
      'Several schemes offered (Digest SHA-256 first)',
      works,
      'w3m keeps the first Digest challenge (it prefers Digest to Basic), here SHA-256, which it cannot compute: it sends no answer, neither to the MD5 line nor Basic.',
    );
    expect(works).toBe(false);
    expect(body).toBe('Unauthorized');
    expect(statuses(origin)).toEqual([401]);
  });

  it('sends a Bearer token given as a header (-header); a wrong one gets 401', async () => {
    const bearer = async (token: string): Promise<string> =>
      (await w3m(`${origin.origin}/bearer`, [], ['-header', `Authorization: Bearer ${token}`]))
        .body;
    const good = await bearer(demo.demo.readToken);
    matrix.record(
      'Bearer',
      authOf(good)?.user === DEMO_USER,
      'w3m has no Bearer support: `-header "Authorization: Bearer …"` sets the field.',
    );
    expect(authOf(good)).toMatchObject({ scheme: 'Bearer', user: DEMO_USER, scopes: ['read'] });
    const wrong = await bearer('not-a-token');
    expect(wrong).not.toContain(DEMO_USER);
    expect(statuses(origin)).toEqual([200, 401]);
  });

  it('gives up on /token’s challenge (Digest SHA-256 first); with a Basic field set, gets a token and meets a required scope', async () => {
    const form = join(home, 'form');
    await writeFile(form, 'scope=admin');
    const refused = await w3m(`${origin.origin}/token`, [demoEntry()], ['-post', form]);
    expect(refused.body).toBe('Unauthorized');
    expect(statuses(origin)).toEqual([401]);
    const basicField = `Basic ${Buffer.from(`${DEMO_USER}:${DEMO_PASSWORD}`).toString('base64')}`;
    const issued = await w3m(
      `${origin.origin}/token`,
      [],
      ['-post', form, '-header', `Authorization: ${basicField}`],
    );
    const token = parseJson(issued.body)?.access_token;
    expect(typeof token).toBe('string');
    const withToken = async (value: string): Promise<string> =>
      (await w3m(`${origin.origin}/admin`, [], ['-header', `Authorization: Bearer ${value}`])).body;
    const admin = await withToken(String(token));
    const readOnly = await withToken(demo.demo.readToken);
    matrix.record(
      'Bearer with a required scope',
      authOf(admin)?.user === DEMO_USER && origin.seen.at(-1)?.status === 403,
      'Token from the demo’s /token endpoint (`-post`), whose challenge, Digest SHA-256 first, w3m gives up on: the script sets the Basic field there with `-header`; a token without the scope gets 403 insufficient_scope.',
    );
    expect(authOf(admin)).toMatchObject({ scheme: 'Bearer', user: DEMO_USER });
    expect(readOnly).not.toContain(DEMO_USER);
    expect(statuses(origin)).toEqual([401, 200, 200, 403]);
  });
});

describe('w3m through an authenticating proxy', () => {
  let basicProxy: Server;
  let md5Proxy: Server;
  let proxies: Record<'basic' | 'md5' | 'demo', Relay>;

  beforeAll(async () => {
    basicProxy = createProxyServer({ schemes: [basic({ users: { ...PROXY_USERS } })] });
    md5Proxy = createProxyServer({
      schemes: [digest({ users: { ...PROXY_USERS }, algorithms: ['MD5'] })],
    });
    const [basicPort, md5Port] = await Promise.all([
      listenProxy(basicProxy, 0),
      listenProxy(md5Proxy, 0),
    ]);
    proxies = {
      basic: await startRelay(`http://127.0.0.1:${basicPort}`),
      md5: await startRelay(`http://127.0.0.1:${md5Port}`),
      demo: await startRelay(demo.proxyOrigin),
    };
  });
  afterAll(async () => {
    await Promise.all(Object.values(proxies).map((relay) => relay.close()));
    for (const server of [basicProxy, md5Proxy]) {
      await new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      });
    }
  });

  const through = (relay: Relay, password = proxyPassword): Promise<{ body: string }> =>
    w3m(
      `${demo.origin}/via-proxy`,
      [
        {
          port: Number(new URL(demo.origin).port),
          realm: 'demo',
          login: DEMO_USER,
          passwd: DEMO_PASSWORD,
        },
        { port: relay.port, proxy: true, login: proxyUser, passwd: password },
      ],
      ['-o', 'use_proxy=1', '-o', `http_proxy=${relay.origin}/`],
    );
  const proxyAnswers = (relay: Relay): Array<string | undefined> =>
    relay.seen.map((s) => s.proxyAuthorization);

  it('answers a proxy Basic challenge from the passwd file (origin Basic through it)', async () => {
    const { body } = await through(proxies.basic);
    const works = authOf(body)?.user === DEMO_USER;
    matrix.record(
      'Proxy Basic (407)',
      works,
      'A `proxy` entry in the passwd file; against a proxy offering Basic only (the demo’s offers Digest SHA-256 first, which w3m gives up on). Credentials in the origin URL go into the request target through a proxy, which refuses that (400).',
    );
    expect(authOf(body)).toEqual({ scheme: 'Basic', user: DEMO_USER });
    expect(parseJson(body)?.forwarded).toMatchObject(VIA_PROXY);
    // 407 answered, then the origin's 401 answered, the proxy's answer sent again with it.
    expect(statuses(proxies.basic)).toEqual([407, 401, 200]);
    expect(proxyAnswers(proxies.basic).slice(1)).toEqual([
      expect.stringMatching(/^Basic /),
      expect.stringMatching(/^Basic /),
    ]);
    proxies.basic.seen.length = 0;
    await through(proxies.basic, 'wrong');
    // The passwd file's answer, then the empty prompt's (a user name from stdin, none else).
    expect(statuses(proxies.basic)).toEqual([407, 407, 407]);
    expect(
      proxyAnswers(proxies.basic).map((field) =>
        field === undefined
          ? undefined
          : Buffer.from(field.slice('Basic '.length), 'base64').toString().split(':')[0],
      ),
    ).toEqual([undefined, proxyUser, '']);
  });

  it('gives up on the demo proxy’s Digest SHA-256 challenge; answers Digest MD5 with the proxy’s own URL as uri (400)', async () => {
    const refused = await through(proxies.demo);
    const md5 = await through(proxies.md5);
    const works = authOf(refused.body)?.user === DEMO_USER || authOf(md5.body)?.user === DEMO_USER;
    matrix.record(
      'Proxy Digest (407)',
      works,
      'Against the demo’s proxy, whose first Proxy-Authenticate line is Digest SHA-256, w3m sends no answer. Against a proxy offering Digest MD5 only it answers with uri="http://proxy-host:port/", the proxy’s URL, not the request target: 400 Bad Request (RFC 7616 §3.4.6).',
    );
    expect(works).toBe(false);
    expect(statuses(proxies.demo)).toEqual([407]);
    expect(refused.body).toBe('Proxy Authentication Required');
    expect(statuses(proxies.md5)).toEqual([407, 400]);
    const answer = proxyAnswers(proxies.md5)[1];
    expect([directive(answer, 'algorithm'), directive(answer, 'uri')]).toEqual([
      'MD5',
      `${proxies.md5.origin}/`,
    ]);
    expect(proxies.md5.seen[1]!.line).toBe(`GET ${demo.origin}/via-proxy HTTP/1.0`);
  });

  it('puts credentials in the URL into the request target through a proxy (refused: 400)', async () => {
    proxies.basic.seen.length = 0;
    const url = new URL(`${demo.origin}/via-proxy`);
    url.username = DEMO_USER;
    url.password = DEMO_PASSWORD;
    await w3m(
      url.href,
      [{ port: proxies.basic.port, proxy: true, login: proxyUser, passwd: proxyPassword }],
      ['-o', 'use_proxy=1', '-o', `http_proxy=${proxies.basic.origin}/`],
    );
    expect(proxies.basic.seen[0]!.line).toBe(`GET ${url.href} HTTP/1.0`);
    expect(statuses(proxies.basic)).toEqual([400]);
  });
});
