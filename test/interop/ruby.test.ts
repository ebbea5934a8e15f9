/**
 * Ruby's Net::HTTP (Debian's ruby, run by /usr/bin/ruby): Basic through `basic_auth`, Digest
 * through Net::HTTP::DigestAuth (Debian's ruby-net-http-digest-auth, the gem Mechanize uses),
 * Bearer as a plain header, against the demo and a server of its own. Neither answers a challenge
 * by itself: helpers/ruby_client.rb answers a 401's Digest challenge with `auth_header` once, as
 * the gem's documentation shows, and answers the challenge it kept up front on later requests.
 *
 * From net-http-digest_auth 1.4.1: the algorithms MD5, SHA1, SHA2, SHA256, SHA384, SHA512 and
 * RMD160 (spelt so, without RFC 7616's hyphen) and their -sess forms; `qop` copied from the
 * challenge as it stands; one nonce count for the object, across nonces, starting at
 * 00000000; `userhash`, `charset` and `stale` ignored.
 */
import { join } from 'node:path';
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

/** The Ruby that Debian's ruby-net-http-digest-auth is installed for (scripts/provision.sh). */
const RUBY = '/usr/bin/ruby';
const SCRIPT = join(__dirname, 'helpers', 'ruby_client.rb');
const matrix = new MatrixRecorder('ruby', 'Ruby Net::HTTP');
const demo = demoForThisFile(matrix, async () => {
  const version = await run(RUBY, [
    '-rnet/http/digest_auth',
    '-e',
    'print RUBY_VERSION, " ", Net::HTTP::DigestAuth::VERSION',
  ]);
  if (version.code !== 0)
    throw new Error(`ruby-net-http-digest-auth is missing: ${version.stderr}`);
  const [ruby, gem] = version.stdout.trim().split(' ');
  return `Ruby ${ruby} Net::HTTP, net-http-digest_auth ${gem}`;
});
const [proxyUser, proxyPassword] = Object.entries(PROXY_USERS)[0]!;

/** Its exchanges: a 401, then the answer to it. */
interface RubyResponse extends ScriptedResponse {
  /** The gem's exception when it could not answer the challenge (the response is the 401). */
  error: string | null;
}

interface Step {
  method: 'GET' | 'POST';
  url: string;
  auth?: 'basic' | 'digest' | 'none';
  form?: Record<string, string>;
  /** A token, or `@token`: the access_token of the previous response. */
  bearer?: string;
}

interface Session {
  user?: string;
  password?: string;
  /** DigestAuth#next_nonce once before the first answer (the upstream workaround). */
  nextNonceFirst?: boolean;
  /** A forward proxy, with Net::HTTP's proxy user and password. */
  proxy?: { host: string; port: number; user: string; password: string };
  requests: Step[];
}

async function ruby(session: Session): Promise<RubyResponse[]> {
  const result = await run(RUBY, [SCRIPT, JSON.stringify(session)]);
  const line = parseJson(result.stdout);
  if (line === undefined) throw new Error(`ruby_client.rb printed no JSON: ${result.stderr}`);
  return line.responses as RubyResponse[];
}

const demoUser = { user: DEMO_USER, password: DEMO_PASSWORD };
const times = (count: number, step: Step): Step[] => Array.from({ length: count }, () => step);

describe('Ruby against the demo', () => {
  it('sends Basic up front with basic_auth', async () => {
    const responses = await ruby({
      ...demoUser,
      requests: times(2, { method: 'GET', url: `${demo.origin}/basic`, auth: 'basic' }),
    });
    const works = responses.every((r) => r.status === 200 && userOf(r) === DEMO_USER);
    matrix.record(
      'Basic',
      works,
      '`request.basic_auth(user, password)` sends Basic up front; Net::HTTP answers no challenge.',
    );
    expect(responses.map(statuses)).toEqual([[200], [200]]);
    expect(authOf(responses[0])).toEqual({ scheme: 'Basic', user: DEMO_USER });
  });

  it('is refused with a wrong Basic password', async () => {
    const [response] = await ruby({
      user: DEMO_USER,
      password: 'wrong',
      requests: [{ method: 'GET', url: `${demo.origin}/basic`, auth: 'basic' }],
    });
    expect(response!.status).toBe(401);
  });

  const UNKNOWN =
    'net-http-digest_auth 1.4.1 knows MD5, SHA1, SHA2, SHA256, SHA384, SHA512 and RMD160, spelt so (not SHA-256 as in RFC 7616), each with -sess: here it raises `Net::HTTP::DigestAuth::Error: unknown algorithm`.';
  const NC_ZERO =
    'net-http-digest_auth 1.4.1 counts from nc=00000000, which is refused (RFC 7616 §3.4: the first request sends 00000001; drbrain/net-http-digest_auth#19): call `next_nonce` once after `DigestAuth.new`, as here.';

  it.each(digestCases(['MD5', 'MD5-sess']))(
    'Digest $algorithm with next_nonce first (works: $works; where it does, nc=2 and 3 on the nonce, up front)',
    async ({ algorithm, row, works }) => {
      const url = `${demo.origin}/digest/${algorithm.toLowerCase()}`;
      const responses = await ruby({
        ...demoUser,
        nextNonceFirst: true,
        requests: times(3, { method: 'GET', url, auth: 'digest' }),
      });
      const [first, second, third] = responses as [RubyResponse, RubyResponse, RubyResponse];
      const observed = responses.every((r) => r.status === 200 && userOf(r) === DEMO_USER);
      matrix.record(row, observed, works ? NC_ZERO : UNKNOWN);
      expect(observed).toBe(works);
      if (!works) {
        const name = algorithm.replace(/-sess$/, '');
        expect(first.error).toBe(`Net::HTTP::DigestAuth::Error: unknown algorithm "${name}"`);
        // The 401 is what the application gets; nothing was answered.
        expect(first.exchanges).toEqual([expect.objectContaining({ authorization: null })]);
        return;
      }
      expect(authOf(first)).toMatchObject({ scheme: 'Digest', algorithm, qop: 'auth' });
      expect([first, second, third].map(statuses)).toEqual([[401, 200], [200], [200]]);
      const sent = [first, second, third].map(lastAuthorization);
      expect(sent.map((field) => directive(field, 'algorithm'))).toEqual(Array(3).fill(algorithm));
      expect(sent.map((field) => directive(field, 'nonce'))).toEqual(
        Array(3).fill(directive(sent[0], 'nonce')),
      );
      expect(sent.map((field) => directive(field, 'nc'))).toEqual([
        '00000001',
        '00000002',
        '00000003',
      ]);
    },
  );

  it('as the gem stands, answers first with nc=00000000: refused, then works from nc=00000001', async () => {
    const url = `${demo.origin}/digest/md5`;
    const [first, second] = await ruby({
      ...demoUser,
      requests: times(2, { method: 'GET', url, auth: 'digest' }),
    });
    // A malformed count, refused before the password is looked at: a fresh challenge, no stale.
    expect(statuses(first!)).toEqual([401, 401]);
    expect(directive(first!.exchanges[1]!.authorization, 'nc')).toBe('00000000');
    expect(first!.exchanges[1]!.challenges[0]).not.toContain('stale');
    // The next request answers the same challenge up front, the count now at 1: accepted (the
    // refused count used nothing up).
    expect(statuses(second!)).toEqual([200]);
    expect(directive(lastAuthorization(second!), 'nc')).toBe('00000001');
    expect(directive(lastAuthorization(second!), 'nonce')).toBe(
      directive(first!.exchanges[1]!.authorization, 'nonce'),
    );
  });

  it('is refused with a wrong Digest password (401 after one answer)', async () => {
    const [response] = await ruby({
      user: DEMO_USER,
      password: 'wrong',
      nextNonceFirst: true,
      requests: [{ method: 'GET', url: `${demo.origin}/digest/md5`, auth: 'digest' }],
    });
    expect(response!.status).toBe(401);
    expect(statuses(response!)).toEqual([401, 401]);
    expect(directive(lastAuthorization(response!), 'nc')).toBe('00000001');
  });

  it('reads the first algorithm of all the lines when several schemes are offered', async () => {
    const [response] = await ruby({
      ...demoUser,
      nextNonceFirst: true,
      requests: [{ method: 'GET', url: `${demo.origin}/multi`, auth: 'digest' }],
    });
    const works = response!.status === 200;
    matrix.record(
      'Several schemes offered (Digest SHA-256 first)',
      works,
      'DigestAuth reads the WWW-Authenticate lines (joined by Net::HTTP) as one challenge: the first algorithm, SHA-256, is unknown to it.',
    );
    expect(works).toBe(false);
    expect(response!.status).toBe(401);
    expect(response!.error).toBe('Net::HTTP::DigestAuth::Error: unknown algorithm "SHA-256"');
  });

  it('sends a Bearer token set as a header; a wrong one gets 401', async () => {
    await expectBearer(
      demo,
      (requests) => ruby({ requests }),
      (works) =>
        matrix.record(
          'Bearer',
          works,
          '`request["Authorization"] = "Bearer …"`: Net::HTTP has no Bearer support of its own.',
        ),
    );
  });

  it('sends proxy Basic up front with the proxy user and password (origin Basic through it)', async () => {
    const proxy = new URL(demo.proxyOrigin);
    const through = (password: string): Promise<RubyResponse[]> =>
      ruby({
        ...demoUser,
        proxy: { host: proxy.hostname, port: Number(proxy.port), user: proxyUser, password },
        requests: [{ method: 'GET', url: `${demo.origin}/via-proxy`, auth: 'basic' }],
      });
    const [response] = await through(proxyPassword);
    const works = response!.status === 200 && userOf(response) === DEMO_USER;
    matrix.record(
      'Proxy Basic (407)',
      works,
      '`Net::HTTP.new(host, port, proxy_host, proxy_port, proxy_user, proxy_password)` sends Proxy-Authorization Basic up front; it answers no 407 (so no proxy Digest).',
    );
    expect(statuses(response!)).toEqual([200]);
    expect(response!.exchanges[0]!.proxyAuthorization).toMatch(/^Basic /);
    expect(parseJson(response!.body)?.forwarded).toMatchObject(VIA_PROXY);
    const [refused] = await through('wrong');
    expect(refused!.status).toBe(407);
  });

  it('gets a token from /token with Basic and meets a required scope', async () => {
    const [issued, admin, readOnly] = await ruby({
      ...demoUser,
      requests: [
        { method: 'POST', url: `${demo.origin}/token`, auth: 'basic', form: { scope: 'admin' } },
        { method: 'GET', url: `${demo.origin}/admin`, bearer: '@token' },
        { method: 'GET', url: `${demo.origin}/admin`, bearer: demo.demo.readToken },
      ],
    });
    expect(issued!.status).toBe(200);
    expectScopedBearer(admin, readOnly, (works) =>
      matrix.record(
        'Bearer with a required scope',
        works,
        'Token from the demo’s /token endpoint; a token without the scope gets 403 insufficient_scope.',
      ),
    );
  });
});

describe('Ruby against a server of its own', () => {
  const users = { 'j\u00f6rg': 'p\u00e4ss\u20acword', [DEMO_USER]: DEMO_PASSWORD };
  const [wideUser, widePassword] = Object.entries(users)[0]!;
  const utf8 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
  const server = ownServerForThisBlock((guard, now) => guardCommonRoutes(guard, now, users));
  const url = (path: string): string => `${server.origin}${path}`;
  const digestGet = (path: string): Step => ({ method: 'GET', url: url(path), auth: 'digest' });
  const receivedAt = (path: string): Array<string | undefined> => authorizationsAt(server, path);

  it('answers a stale nonce once more, its count going on from the old nonce (accepted)', async () => {
    const [first, , stale, next] = await ruby({
      ...demoUser,
      nextNonceFirst: true,
      requests: [
        digestGet('/stale'),
        { method: 'GET', url: url('/advance') },
        digestGet('/stale'),
        digestGet('/stale'),
      ],
    });
    expect(first!.status).toBe(200);
    expect(statuses(stale!)).toEqual([401, 200]);
    expect(stale!.exchanges[0]!.challenges[0]).toContain('stale=true');
    const oldNonce = directive(lastAuthorization(first!), 'nonce');
    expect(directive(stale!.exchanges[0]!.authorization, 'nonce')).toBe(oldNonce);
    // One count for the DigestAuth object: the fresh nonce's first use is nc=3, which is fine
    // (RFC 7616 §3.4 asks only that a count not be used twice).
    const answer = lastAuthorization(stale!);
    expect(directive(answer, 'nonce')).not.toBe(oldNonce);
    expect([directive(stale!.exchanges[0]!.authorization, 'nc'), directive(answer, 'nc')]).toEqual([
      '00000002',
      '00000003',
    ]);
    expect(next!.status).toBe(200);
    expect(directive(lastAuthorization(next!), 'nc')).toBe('00000004');
  });

  it('copies a qop list unquoted (a malformed field: 400); answers auth-int without the body (401)', async () => {
    const [both, only] = await ruby({
      ...demoUser,
      nextNonceFirst: true,
      requests: [digestGet('/auth-or-auth-int'), digestGet('/auth-int')],
    });
    expect(both!.exchanges[0]!.challenges[0]).toContain('qop="auth,auth-int"');
    expect(both!.status).toBe(400);
    expect(lastAuthorization(both!)).toContain(', qop=auth,auth-int, ');
    // qop=auth-int, but H(A2) computed as for auth: refused.
    expect(
      only!.exchanges.map((e) => [e.status, directive(e.authorization, 'qop')]),
    ).toContainEqual([401, 'auth-int']);
    expect(only!.status).toBe(401);
  });

  it('ignores userhash=true and sends the name in clear, which is accepted', async () => {
    const [response] = await ruby({
      ...demoUser,
      nextNonceFirst: true,
      requests: [digestGet('/userhash')],
    });
    expect(response!.exchanges[0]!.challenges[0]).toContain('userhash=true');
    expect(response!.status).toBe(200);
    expect(directive(lastAuthorization(response!), 'username')).toBe(DEMO_USER);
    expect(directive(lastAuthorization(response!), 'userhash')).toBeUndefined();
  });

  it('answers MD5 offered first, before SHA-256 (the first algorithm of the lines)', async () => {
    const [response] = await ruby({
      ...demoUser,
      nextNonceFirst: true,
      requests: [digestGet('/md5-first')],
    });
    expect(response!.exchanges[0]!.challenges).toHaveLength(2);
    expect(response!.status).toBe(200);
    expect(authOf(response)).toMatchObject({ algorithm: 'MD5' });
  });

  it('sends a user name and password beyond ASCII as UTF-8, in Basic and Digest', async () => {
    const [basicResponse, digestResponse] = await ruby({
      user: wideUser,
      password: widePassword,
      nextNonceFirst: true,
      requests: [{ method: 'GET', url: url('/basic'), auth: 'basic' }, digestGet('/digest')],
    });
    expect([basicResponse!.status, digestResponse!.status]).toEqual([200, 200]);
    expect([userOf(basicResponse), userOf(digestResponse)]).toEqual([wideUser, wideUser]);
    const basicField = receivedAt('/basic').at(-1)!;
    expect(Buffer.from(basicField.slice('Basic '.length), 'base64').toString('latin1')).toBe(
      utf8(`${wideUser}:${widePassword}`),
    );
    expect(directive(receivedAt('/digest').at(-1), 'username')).toBe(utf8(wideUser));
  });

  it('echoes a realm beyond ASCII as received, as ISO-8859-1 or UTF-8 octets', async () => {
    const [latin1, utf8Realm] = await ruby({
      ...demoUser,
      nextNonceFirst: true,
      requests: [digestGet('/latin1-realm'), digestGet('/utf8-realm')],
    });
    expect([latin1!.status, utf8Realm!.status]).toEqual([200, 200]);
    expect(directive(receivedAt('/latin1-realm').at(-1), 'realm')).toBe('r\u00e9alm');
    expect(directive(receivedAt('/utf8-realm').at(-1), 'realm')).toBe(utf8('r\u00e9alm'));
  });
});
