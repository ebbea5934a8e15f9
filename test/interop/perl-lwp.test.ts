/**
 * Perl's LWP::UserAgent (Debian's libwww-perl, run by /usr/bin/perl), which answers Basic and
 * Digest challenges itself from `$ua->credentials(host:port, realm, user, password)`
 * (LWP::Authen::Basic, LWP::Authen::Digest), against the demo and a server of its own. Each case
 * is a session of a few requests on one user agent (helpers/lwp_client.pl), as in a script.
 *
 * From LWP::Authen::Digest (6.68): MD5 only, whatever the challenge's algorithm, labelled
 * `algorithm="MD5"`; `qop=auth` when the challenge offers `auth` (alone or with `auth-int`), no
 * `qop` at all otherwise; the nonce count kept per nonce, and forgotten on `stale=true`, which it
 * retries; `userhash` and `charset` ignored. LWP::Authen::Basic encodes as UTF-8 when the
 * challenge says `charset="UTF-8"`.
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import { basic, digest } from 'authscheme';
import { createProxyServer, listenProxy } from '../../examples/proxy/server';
import { DEMO_PASSWORD, DEMO_USER, demoForThisFile, PROXY_USERS, VIA_PROXY } from './helpers/demo';
import { digestCases, MatrixRecorder } from './helpers/matrix';
import { authorizationsAt, guardCommonRoutes, ownServerForThisBlock } from './helpers/own-server';
import { directive, parseJson, run } from './helpers/run';
import {
  authOf,
  expectBearer,
  expectScopedBearer,
  lastAuthorization,
  statuses,
  userOf,
} from './helpers/scripted';
import type { ScriptedResponse } from './helpers/scripted';

/** The Perl that Debian's libwww-perl is installed for (scripts/provision.sh). */
const PERL = '/usr/bin/perl';
const SCRIPT = join(__dirname, 'helpers', 'lwp_client.pl');
const matrix = new MatrixRecorder('perl-lwp', 'Perl LWP');
const demo = demoForThisFile(matrix, async () => {
  const version = await run(PERL, ['-MLWP', '-e', 'print $LWP::VERSION']);
  if (version.code !== 0) throw new Error(`libwww-perl is missing: ${version.stderr}`);
  return `Perl LWP ${version.stdout.trim()}`;
});
const [proxyUser, proxyPassword] = Object.entries(PROXY_USERS)[0]!;

/** Its exchanges: a 401 LWP answered, then the answer. */
interface LwpResponse extends ScriptedResponse {
  /** LWP's Client-Warning: `Internal response` when it made the response up itself. */
  warning: string | null;
}

interface Credentials {
  hostPort: string;
  /** As the challenge carries it, one character an octet: LWP looks it up as received. */
  realm: string;
  user: string;
  password: string;
}

interface Step {
  method: 'GET' | 'POST';
  url: string;
  form?: Record<string, string>;
  /** A token, or `@token`: the access_token of the previous response. */
  bearer?: string;
}

interface Session {
  credentials?: Credentials[];
  /** A forward proxy, and what answers its 407. */
  proxy?: { url: string; credentials: { user: string; password: string } };
  /** How user name and password are given to LWP: Perl character strings, or their UTF-8 bytes. */
  strings?: 'characters' | 'utf8-bytes';
  requests: Step[];
}

async function lwp(session: Session): Promise<LwpResponse[]> {
  const result = await run(PERL, [SCRIPT, JSON.stringify(session)]);
  const line = parseJson(result.stdout);
  if (line === undefined) throw new Error(`lwp_client.pl printed no JSON: ${result.stderr}`);
  if (typeof line.error === 'string') throw new Error(`LWP: ${line.error}`);
  return line.responses as LwpResponse[];
}

const hostPort = (origin: string): string => new URL(origin).host;
const demoCredentials = (password = DEMO_PASSWORD): Credentials[] => [
  { hostPort: hostPort(demo.origin), realm: 'demo', user: DEMO_USER, password },
];
const get = (...urls: string[]): Step[] => urls.map((url) => ({ method: 'GET', url }));

describe('Perl LWP against the demo', () => {
  it('answers the Basic challenge, then sends Basic up front below the same path', async () => {
    const url = `${demo.origin}/basic`;
    const [first, second] = await lwp({ credentials: demoCredentials(), requests: get(url, url) });
    const works = [first, second].every((r) => r?.status === 200 && userOf(r) === DEMO_USER);
    matrix.record(
      'Basic',
      works,
      '`$ua->credentials(host:port, realm, user, password)`: LWP answers the 401, then sends Basic up front below the same path.',
    );
    expect(statuses(first!)).toEqual([401, 200]);
    expect(authOf(first)).toEqual({ scheme: 'Basic', user: DEMO_USER });
    expect(statuses(second!)).toEqual([200]);
    expect(lastAuthorization(second!)).toMatch(/^Basic /);
  });

  it('is refused with a wrong Basic password (401 after one answer)', async () => {
    const [response] = await lwp({
      credentials: demoCredentials('wrong'),
      requests: get(`${demo.origin}/basic`),
    });
    expect(response!.status).toBe(401);
    expect(statuses(response!)).toEqual([401, 401]);
  });

  const MD5_ONLY =
    'LWP::Authen::Digest 6.68 computes MD5 whatever the challenge asks, and labels it `algorithm="MD5"`: refused with 401 (an algorithm not offered), and LWP gives up.';
  it.each(digestCases(['MD5']))(
    'Digest $algorithm (works: $works; where it does, the nonce again with nc=2 and 3, up front)',
    async ({ algorithm, row, works }) => {
      const url = `${demo.origin}/digest/${algorithm.toLowerCase()}`;
      const responses = await lwp({ credentials: demoCredentials(), requests: get(url, url, url) });
      const [first, second, third] = responses as [LwpResponse, LwpResponse, LwpResponse];
      const observed = responses.every((r) => r.status === 200 && userOf(r) === DEMO_USER);
      matrix.record(row, observed, works ? undefined : MD5_ONLY);
      expect(observed).toBe(works);
      const answer = first.exchanges[1]!.authorization;
      expect(first.exchanges[0]!.challenges).toEqual([
        expect.stringContaining(`algorithm=${algorithm},`),
      ]);
      expect(directive(answer, 'algorithm')).toBe('MD5');
      expect(directive(answer, 'qop')).toBe('auth');
      if (!works) {
        // Refused, and not answered again: LWP gives up when the password has not changed.
        expect(responses.map(statuses)).toEqual([[401, 401], [401], [401]]);
        return;
      }
      expect(authOf(first)).toMatchObject({ scheme: 'Digest', algorithm: 'MD5', qop: 'auth' });
      // Later calls answer from memory: the same nonce, the next count, no 401 first.
      expect([first, second, third].map(statuses)).toEqual([[401, 200], [200], [200]]);
      const sent = [first, second, third].map(lastAuthorization);
      expect(sent.map((field) => directive(field, 'nonce'))).toEqual(
        Array(3).fill(directive(answer, 'nonce')),
      );
      expect(sent.map((field) => directive(field, 'nc'))).toEqual([
        '00000001',
        '00000002',
        '00000003',
      ]);
    },
  );

  it('is refused with a wrong Digest password (401 after one answer)', async () => {
    const [response] = await lwp({
      credentials: demoCredentials('wrong'),
      requests: get(`${demo.origin}/digest/md5`),
    });
    expect(response!.status).toBe(401);
    expect(statuses(response!)).toEqual([401, 401]);
    expect(directive(lastAuthorization(response!), 'response')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('answers the first challenge it knows when several schemes are offered (with MD5)', async () => {
    const [response] = await lwp({
      credentials: demoCredentials(),
      requests: get(`${demo.origin}/multi`),
    });
    const works = response!.status === 200 && userOf(response) === DEMO_USER;
    matrix.record(
      'Several schemes offered (Digest SHA-256 first)',
      works,
      'LWP answers the first challenge whose scheme it knows, Digest SHA-256, with MD5: accepted because MD5 is offered too. With SHA-256 alone it would be refused.',
    );
    expect(works).toBe(true);
    expect(statuses(response!)).toEqual([401, 200]);
    expect(response!.exchanges[0]!.challenges[0]).toContain('algorithm=SHA-256,');
    expect(authOf(response)).toMatchObject({ scheme: 'Digest', algorithm: 'MD5' });
  });

  // LWP keeps an answer per directory of the path it answered ("/" for /basic), and sends it up
  // front to everything below, whatever the realm or scheme there. Refused without stale=true,
  // it does not answer the new challenge: the password has not changed, so it takes it as wrong.
  it('sends its answer up front below the directory it answered, and gives up when that is refused', async () => {
    const [basicResponse, digestResponse] = await lwp({
      credentials: demoCredentials(),
      requests: get(`${demo.origin}/basic`, `${demo.origin}/digest/md5`),
    });
    expect(basicResponse!.status).toBe(200);
    expect(digestResponse!.status).toBe(401);
    expect(statuses(digestResponse!)).toEqual([401]);
    expect(lastAuthorization(digestResponse!)).toMatch(/^Basic /);
    expect(digestResponse!.exchanges[0]!.challenges[0]).toMatch(/^Digest /);
  });

  it('sends a Bearer token set as a header; a wrong one gets 401, which LWP leaves alone', async () => {
    await expectBearer(
      demo,
      (requests) => lwp({ requests }),
      (works) =>
        matrix.record(
          'Bearer',
          works,
          'LWP has no Bearer support: the script sets `Authorization: Bearer …` on the request.',
        ),
    );
  });

  it('gets a token from /token (answering its Digest challenge) and meets a required scope', async () => {
    const [issued] = await lwp({
      credentials: demoCredentials(),
      requests: [{ method: 'POST', url: `${demo.origin}/token`, form: { scope: 'admin' } }],
    });
    expect(statuses(issued!)).toEqual([401, 200]);
    expect(lastAuthorization(issued!)).toMatch(/^Digest /);
    const token = parseJson(issued!.body)?.access_token;
    expect(typeof token).toBe('string');
    const [admin, readOnly] = await lwp({
      requests: [
        { method: 'GET', url: `${demo.origin}/admin`, bearer: String(token) },
        { method: 'GET', url: `${demo.origin}/admin`, bearer: demo.demo.readToken },
      ],
    });
    expectScopedBearer(admin, readOnly, (works) =>
      matrix.record(
        'Bearer with a required scope',
        works,
        'Token from the demo’s /token endpoint, used by another user agent: one that answered /token puts its Digest answer in place of the Bearer field below "/".',
      ),
    );
  });

  it('replaces a Bearer field with its own answer below a directory it answered (refused)', async () => {
    const [issued, admin] = await lwp({
      credentials: demoCredentials(),
      requests: [
        { method: 'POST', url: `${demo.origin}/token`, form: { scope: 'admin' } },
        { method: 'GET', url: `${demo.origin}/admin`, bearer: '@token' },
      ],
    });
    expect(issued!.status).toBe(200);
    expect(admin!.status).toBe(401);
    expect(lastAuthorization(admin!)).toMatch(/^Digest /);
    expect(directive(lastAuthorization(admin!), 'uri')).toBe('/admin');
  });
});

describe('Perl LWP through an authenticating proxy', () => {
  let basicProxy: Server;
  let basicProxyOrigin: string;
  const proxyCredentials = { user: proxyUser, password: proxyPassword };
  const twice = (): Step[] => get(`${demo.origin}/via-proxy`, `${demo.origin}/via-proxy`);
  const proxyAnswer = (response: LwpResponse): string | null =>
    response.exchanges.at(-1)?.proxyAuthorization ?? null;

  beforeAll(async () => {
    // The demo's proxy offers Digest first; LWP answers the first challenge it knows.
    basicProxy = createProxyServer({ schemes: [basic({ users: { ...PROXY_USERS } })] });
    basicProxyOrigin = `http://127.0.0.1:${await listenProxy(basicProxy, 0)}`;
  });

  afterAll(
    () =>
      new Promise((resolve) => {
        basicProxy?.close(resolve);
        basicProxy?.closeAllConnections();
      }),
  );

  it('answers the proxy Basic challenge, then the origin one; both up front next time', async () => {
    const [first, second] = await lwp({
      credentials: demoCredentials(),
      proxy: { url: basicProxyOrigin, credentials: proxyCredentials },
      requests: twice(),
    });
    const works = [first, second].every((r) => r!.status === 200 && userOf(r) === DEMO_USER);
    matrix.record(
      'Proxy Basic (407)',
      works,
      'LWP answers a 407 only with what `get_basic_credentials` returns for the proxy (nothing by default): the script overrides it. Against a proxy offering Basic only; up front on the next request.',
    );
    expect(statuses(first!)).toEqual([407, 401, 200]);
    expect(proxyAnswer(first!)).toMatch(/^Basic /);
    expect(statuses(second!)).toEqual([200]);
    expect(proxyAnswer(second!)).toMatch(/^Basic /);
    expect(parseJson(second!.body)?.forwarded).toMatchObject(VIA_PROXY);
  });

  it('answers the proxy Digest challenge with MD5, then up front on the nonce, counting on', async () => {
    const [first, second] = await lwp({
      credentials: demoCredentials(),
      proxy: { url: demo.proxyOrigin, credentials: proxyCredentials },
      requests: twice(),
    });
    const works = [first, second].every((r) => r!.status === 200 && userOf(r) === DEMO_USER);
    matrix.record(
      'Proxy Digest (407)',
      works,
      'As for Basic, through `get_basic_credentials`; LWP answers the first Proxy-Authenticate line (Digest SHA-256) with MD5, which this proxy offers too, with uri="/path".',
    );
    expect(statuses(first!)).toEqual([407, 401, 200]);
    expect(first!.exchanges[0]!.proxyChallenges[0]).toContain('algorithm=SHA-256,');
    const answers = [proxyAnswer(first!), proxyAnswer(second!)];
    expect(answers.map((field) => directive(field, 'algorithm'))).toEqual(['MD5', 'MD5']);
    expect(answers.map((field) => directive(field, 'uri'))).toEqual(['/via-proxy', '/via-proxy']);
    expect(statuses(second!)).toEqual([200]);
    // Every request through the proxy after the 407 carries the answer, the origin's 401 too.
    const sent = [first!, second!].flatMap((r) => r.exchanges.map((e) => e.proxyAuthorization));
    expect(sent.map((field) => directive(field, 'nc'))).toEqual([
      undefined,
      '00000001',
      '00000002',
      '00000003',
    ]);
    expect(new Set(sent.slice(1).map((field) => directive(field, 'nonce'))).size).toBe(1);
  });

  it('is refused by the proxy with a wrong password (407 after one answer)', async () => {
    const [response] = await lwp({
      credentials: demoCredentials(),
      proxy: { url: demo.proxyOrigin, credentials: { user: proxyUser, password: 'wrong' } },
      requests: get(`${demo.origin}/via-proxy`),
    });
    expect(response!.status).toBe(407);
    expect(statuses(response!)).toEqual([407, 407]);
  });
});

describe('Perl LWP against a server of its own', () => {
  /** Beyond U+00FF (the euro sign), and within ISO-8859-1. */
  const users = {
    'j\u00f6rg': 'p\u00e4ss\u20acword',
    'zo\u00eb': 'p\u00e4ssword',
    [DEMO_USER]: DEMO_PASSWORD,
  };
  const [wideUser, widePassword] = Object.entries(users)[0]!;
  /** A realm beyond ASCII as its UTF-8 bytes, one character each: so it goes on the wire. */
  const utf8Realm = Buffer.from('r\u00e9alm', 'utf8').toString('latin1');
  const server = ownServerForThisBlock((guard, now) => {
    guardCommonRoutes(guard, now, users);
    const md5 = { users, algorithms: ['MD5'] } as const;
    guard('/digest-latin1', 'own', digest({ ...md5, acceptLatin1: true }));
    guard('/comma-realm', 'Acme, Inc.', digest(md5));
  });
  const credentials = (realm: string, user = DEMO_USER, password = DEMO_PASSWORD): Credentials => ({
    hostPort: hostPort(server.origin),
    realm,
    user,
    password,
  });
  const url = (path: string): string => `${server.origin}${path}`;
  const receivedAt = (path: string): Array<string | undefined> => authorizationsAt(server, path);

  it('retries a stale nonce (stale=true) with the fresh one, counting from 1 again', async () => {
    const resource = url('/stale/resource');
    const [first, , stale, next] = await lwp({
      credentials: [credentials('own')],
      // /advance lies outside /stale/, where LWP sends no answer up front.
      requests: get(resource, url('/advance'), resource, resource),
    });
    expect(first!.status).toBe(200);
    expect(stale!.status).toBe(200);
    expect(statuses(stale!)).toEqual([401, 200]);
    expect(stale!.exchanges[0]!.challenges[0]).toContain('stale=true');
    const oldNonce = directive(lastAuthorization(first!), 'nonce');
    expect(directive(stale!.exchanges[0]!.authorization, 'nonce')).toBe(oldNonce);
    expect(directive(stale!.exchanges[0]!.authorization, 'nc')).toBe('00000002');
    expect(directive(lastAuthorization(stale!), 'nonce')).not.toBe(oldNonce);
    expect(directive(lastAuthorization(stale!), 'nc')).toBe('00000001');
    expect(next!.status).toBe(200);
    expect(directive(lastAuthorization(next!), 'nc')).toBe('00000002');
  });

  it('drops qop when only auth-int is offered (refused); answers qop=auth when auth is offered too', async () => {
    const [only, both] = await lwp({
      credentials: [credentials('own')],
      // Directories of their own: LWP would send its answer for one up front to the other.
      requests: get(url('/auth-int/resource'), url('/auth-or-auth-int/resource')),
    });
    expect(only!.exchanges[0]!.challenges[0]).toContain('qop="auth-int"');
    expect(only!.status).toBe(401);
    const answer = only!.exchanges[1]!.authorization;
    expect(answer).toMatch(/^Digest /);
    expect([directive(answer, 'qop'), directive(answer, 'nc')]).toEqual([undefined, undefined]);
    expect(both!.exchanges[0]!.challenges[0]).toContain('qop="auth,auth-int"');
    expect(both!.status).toBe(200);
    expect(directive(lastAuthorization(both!), 'qop')).toBe('auth');
  });

  it('ignores userhash=true and sends the name in clear, which is accepted', async () => {
    const [response] = await lwp({
      credentials: [credentials('own')],
      requests: get(url('/userhash')),
    });
    expect(response!.exchanges[0]!.challenges[0]).toContain('userhash=true');
    expect(response!.status).toBe(200);
    expect(directive(lastAuthorization(response!), 'username')).toBe(DEMO_USER);
    expect(directive(lastAuthorization(response!), 'userhash')).toBeUndefined();
  });

  it('answers MD5 offered first, before SHA-256', async () => {
    const [response] = await lwp({
      credentials: [credentials('own')],
      requests: get(url('/md5-first')),
    });
    expect(response!.exchanges[0]!.challenges).toHaveLength(2);
    expect(response!.status).toBe(200);
    expect(authOf(response)).toMatchObject({ algorithm: 'MD5' });
  });

  describe('a user name and password beyond ASCII (and beyond U+00FF)', () => {
    const wide = (): Credentials[] => [credentials('own', wideUser, widePassword)];
    const utf8 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

    it('Basic: works with character strings (charset="UTF-8"); UTF-8 bytes are encoded twice', async () => {
      const [characters] = await lwp({
        credentials: wide(),
        strings: 'characters',
        requests: get(url('/basic/characters')),
      });
      expect(characters!.status).toBe(200);
      expect(userOf(characters)).toBe(wideUser);
      const sent = (path: string): string =>
        Buffer.from(receivedAt(path).at(-1)!.slice('Basic '.length), 'base64').toString('latin1');
      expect(sent('/basic/characters')).toBe(utf8(`${wideUser}:${widePassword}`));

      // Bytes in a Perl string are characters to Encode: each is encoded as UTF-8 once more.
      const [bytes] = await lwp({
        credentials: wide(),
        strings: 'utf8-bytes',
        requests: get(url('/basic/bytes')),
      });
      expect(bytes!.status).toBe(401);
      expect(sent('/basic/bytes')).toBe(utf8(utf8(`${wideUser}:${widePassword}`)));
    });

    it('Digest: works with UTF-8 bytes; with character strings hashes ISO-8859-1 (refused) or dies', async () => {
      const [bytes] = await lwp({
        credentials: wide(),
        strings: 'utf8-bytes',
        requests: get(url('/digest/bytes')),
      });
      expect(bytes!.status).toBe(200);
      expect(userOf(bytes)).toBe(wideUser);
      expect(directive(receivedAt('/digest/bytes').at(-1), 'username')).toBe(utf8(wideUser));

      // Digest::MD5 takes bytes only: a character above U+00FF dies in LWP::Authen::Digest,
      // which LWP turns into a response of its own.
      const [characters] = await lwp({
        credentials: wide(),
        strings: 'characters',
        requests: get(url('/digest/characters')),
      });
      expect(characters!.status).toBe(400);
      expect(characters!.warning).toBe('Internal response');
      expect(characters!.body).toMatch(/^400 Wide character/);
      expect(receivedAt('/digest/characters')).toEqual([undefined]);

      // Within ISO-8859-1 it hashes (and sends) the name and password in that charset, not in
      // UTF-8 as charset=UTF-8 asks: refused, acceptLatin1 or not (that reads the name only).
      const [latin1, accepted] = await lwp({
        credentials: [credentials('own', 'zo\u00eb', 'p\u00e4ssword')],
        strings: 'characters',
        requests: get(url('/digest/latin1'), url('/digest-latin1/resource')),
      });
      expect([latin1!.status, accepted!.status]).toEqual([401, 401]);
      expect(directive(receivedAt('/digest/latin1').at(-1), 'username')).toBe('zo\u00eb');
      expect(statuses(accepted!)).toEqual([401, 401]);
    });
  });

  it('echoes a realm beyond ASCII as received, as ISO-8859-1 or UTF-8 octets', async () => {
    const [latin1, utf8] = await lwp({
      credentials: [credentials('r\u00e9alm'), credentials(utf8Realm)],
      requests: get(url('/latin1-realm/resource'), url('/utf8-realm/resource')),
    });
    expect([latin1!.status, utf8!.status]).toEqual([200, 200]);
    expect(directive(receivedAt('/latin1-realm/resource').at(-1), 'realm')).toBe('r\u00e9alm');
    expect(directive(receivedAt('/utf8-realm/resource').at(-1), 'realm')).toBe(utf8Realm);
    expect(authOf(utf8)).toMatchObject({ realm: utf8Realm });
  });

  it('reads a comma in a realm as a semicolon: such a realm cannot be answered', async () => {
    // LWP turns every "," of a challenge into ";" before splitting it into parameters, so it
    // knows the realm as "Acme; Inc.": credentials for it are found, and refused.
    const [response] = await lwp({
      credentials: [credentials('Acme; Inc.')],
      requests: get(url('/comma-realm')),
    });
    expect(response!.exchanges[0]!.challenges[0]).toContain('realm="Acme, Inc."');
    expect(response!.status).toBe(401);
    expect(directive(response!.exchanges[1]!.authorization, 'realm')).toBe('Acme; Inc.');
  });
});
