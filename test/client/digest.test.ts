/** The client's Digest computation against the published examples. */
import { createHash } from 'node:crypto';
import {
  answerDigest,
  chooseDigest,
  CLIENT_ALGORITHMS,
  MAX_PARAM_LENGTH,
} from '../../src/client/digest';
import { parseChallenges, parseCredentials } from 'authscheme';
import { rfc7616Section3_9_2 } from '../fixtures/rfc/digest';

const RFC7616_CHALLENGES = [
  'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, ' +
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, ' +
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
];
const CNONCE = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';
const request = { method: 'GET', uri: '/dir/index.html' };

describe('RFC 7616 §3.9.1', () => {
  const challenges = parseChallenges(RFC7616_CHALLENGES);

  it('chooses SHA-256 over MD5 and computes the published response', () => {
    const { session } = chooseDigest(challenges, CLIENT_ALGORITHMS)!;
    expect(session.algorithm.name).toBe('SHA-256');
    expect(session.qop).toBe('auth');
    const answer = answerDigest(session, 'Mufasa', 'Circle of Life', request, CNONCE);
    const { params } = parseCredentials(answer.header);
    expect(params).toMatchObject({
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      uri: '/dir/index.html',
      algorithm: 'SHA-256',
      nc: '00000001',
      cnonce: CNONCE,
      qop: 'auth',
      response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
      opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
    });
    // RFC 7616 §3.4: algorithm, qop and nc go as tokens, never quoted.
    expect(answer.header).toMatch(/algorithm=SHA-256(,|$)/);
    expect(answer.header).toMatch(/qop=auth(,|$)/);
    expect(answer.header).toMatch(/nc=00000001(,|$)/);
  });

  it('computes the published MD5 response', () => {
    const { session } = chooseDigest(challenges, ['MD5'])!;
    const answer = answerDigest(session, 'Mufasa', 'Circle of Life', request, CNONCE);
    expect(parseCredentials(answer.header).params.response).toBe(
      '8ca523f5e9506fed4657c9700eebdbec',
    );
  });
});

describe('RFC 2617 §3.5', () => {
  it('computes the published response (no algorithm parameter: MD5)', () => {
    const [session] = [
      chooseDigest(
        parseChallenges(
          'Digest realm="testrealm@host.com", qop="auth,auth-int", ' +
            'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
        ),
        CLIENT_ALGORITHMS,
      )!.session,
    ];
    const answer = answerDigest(session, 'Mufasa', 'Circle Of Life', request, '0a4f113b');
    const { params } = parseCredentials(answer.header);
    expect(params.response).toBe('6629fae49393a05397450978507c4ef1');
    // RFC 2617 §3.5's answer names no algorithm either: only a named one is named back.
    expect(params.algorithm).toBeUndefined();
  });
});

describe('chooseDigest', () => {
  it('passes over unknown algorithms and qop values, and challenges without a nonce', () => {
    const challenges = parseChallenges([
      'Digest realm="r", nonce="a", algorithm=SHA-1',
      'Digest realm="r", nonce="b", qop="auth-conf"',
      'Digest realm="r"',
    ]);
    expect(chooseDigest(challenges, CLIENT_ALGORITHMS)).toBeUndefined();
  });

  /** The nonce of the challenge chosen among `lines`. */
  const chosen = (lines: string[]) =>
    chooseDigest(parseChallenges(lines), CLIENT_ALGORITHMS)?.session.nonce;

  it('ranks the algorithm first, then the qop: auth, auth-int, none', () => {
    // A stronger algorithm wins over a stronger qop.
    expect(
      chosen([
        'Digest realm="r", nonce="md5", algorithm=MD5, qop="auth"',
        'Digest realm="r", nonce="sha", algorithm=SHA-256',
      ]),
    ).toBe('sha');
    // With one algorithm, a qop (the body hashed) wins over none, whichever comes first.
    for (const lines of [
      ['Digest realm="r", nonce="none"', 'Digest realm="r", nonce="int", qop="auth-int"'],
      ['Digest realm="r", nonce="int", qop="auth-int"', 'Digest realm="r", nonce="none"'],
    ]) {
      expect(chosen(lines)).toBe('int');
    }
  });

  it('answers the first of equals, with its own domain', () => {
    const choice = chooseDigest(
      parseChallenges([
        'Digest realm="r", nonce="first", qop="auth", domain="/1/"',
        'Digest realm="r", nonce="second", qop="auth", domain="/2/"',
      ]),
      CLIENT_ALGORITHMS,
    );
    expect(choice).toMatchObject({ session: { nonce: 'first' }, domain: '/1/' });
  });
});

describe('-sess without qop', () => {
  it('passes over a -sess challenge without qop: its HA1 needs a cnonce that cannot be sent', () => {
    // RFC 7616 §3.4.2: -sess folds the cnonce into HA1; without qop no cnonce goes to the server
    // (RFC 2617 §3.2.2), which then cannot check the response.
    const sessOnly = parseChallenges('Digest realm="r", nonce="n", algorithm=MD5-sess');
    expect(chooseDigest(sessOnly, CLIENT_ALGORITHMS)).toBeUndefined();
    const both = parseChallenges([
      'Digest realm="r", nonce="n", algorithm=SHA-256-sess',
      'Digest realm="r", nonce="n", algorithm=MD5',
    ]);
    expect(chooseDigest(both, CLIENT_ALGORITHMS)?.session.algorithm.name).toBe('MD5');
  });
});

// From a mutation-testing pass over the client's Digest: rules that only the end-to-end tests
// touched, and some that nothing checked.
describe('answerDigest: the response computed by RFC 7616 §3.4.1-§3.4.3', () => {
  const H = (algorithm: string, ...parts: string[]) =>
    createHash(algorithm).update(parts.join(':')).digest('hex');
  const choose = (line: string) => chooseDigest(parseChallenges(line), CLIENT_ALGORITHMS)!.session;

  // RFC 7616 §3.9.2 with the values corrected for erratum 4897 (the published ones are truncated
  // SHA-512, not SHA-512/256): the vector the server-side tests (rfc-vectors.test.ts) check too.
  it('answers RFC 7616 §3.9.2 (SHA-512-256, userhash) with its corrected userhash and response', () => {
    const vector = rfc7616Section3_9_2;
    const d = vector.directives;
    const session = choose(
      `Digest realm="${d.realm}", qop="auth", algorithm=SHA-512-256, nonce="${d.nonce}", ` +
        `opaque="${d.opaque}", charset=UTF-8, userhash=true`,
    );
    const answer = answerDigest(
      session,
      vector.user,
      vector.password,
      { method: vector.method, uri: d.uri },
      d.cnonce,
    );
    const { params } = parseCredentials(answer.header);
    expect(params).toMatchObject({
      username: vector.corrected.username,
      response: vector.corrected.response,
      nc: d.nc,
      opaque: d.opaque,
      userhash: 'true',
    });
    expect(params['username*']).toBeUndefined();
  });

  it('reads userhash in any case, and without it sends a non-ASCII name as username* (§3.4.4)', () => {
    const line = (userhash: string) => `Digest realm="r", nonce="n", qop="auth"${userhash}`;
    const name = 'J\u00e4s\u00f8n Doe';
    const hashed = parseCredentials(
      answerDigest(choose(line(', userhash=TRUE')), name, 'p', request).header,
    ).params;
    expect(hashed.username).toBe(H('md5', name, 'r'));
    expect(hashed.userhash).toBe('true');
    const plain = parseCredentials(answerDigest(choose(line('')), name, 'p', request).header);
    expect(plain.params.username).toBeUndefined();
    expect(plain.params['username*']).toBe("UTF-8''J%C3%A4s%C3%B8n%20Doe");
    expect(plain.params.userhash).toBeUndefined();
  });

  it('hashes the body for auth-int (an empty one without a body), and expects no rspauth', () => {
    const session = choose('Digest realm="r", nonce="n", qop="auth-int"');
    expect(session.qop).toBe('auth-int');
    const ha1 = H('md5', 'u', 'r', 'p');
    for (const body of [Buffer.from('a body'), undefined]) {
      const answer = answerDigest(session, 'u', 'p', { ...request, body }, 'c');
      const { params } = parseCredentials(answer.header);
      const bodyHash = createHash('md5')
        .update(body ?? '')
        .digest('hex');
      const ha2 = H('md5', 'GET', request.uri, bodyHash);
      expect(params.qop).toBe('auth-int');
      expect(params.response).toBe(H('md5', ha1, 'n', answer.nc, 'c', 'auth-int', ha2));
      expect(answer.rspauth).toBeUndefined();
    }
  });

  it('answers RFC 2069 style without qop (no qop, nc, cnonce), and expects no rspauth', () => {
    const answer = answerDigest(choose('Digest realm="r", nonce="n"'), 'u', 'p', request, 'c');
    const ha2 = H('md5', 'GET', request.uri);
    const { params } = parseCredentials(answer.header);
    expect(params.response).toBe(H('md5', H('md5', 'u', 'r', 'p'), 'n', ha2));
    expect([params.qop, params.nc, params.cnonce]).toEqual([undefined, undefined, undefined]);
    expect(answer.rspauth).toBeUndefined();
  });

  it('expects the rspauth of RFC 7616 §3.5 for qop=auth: A2 without the method', () => {
    const answer = answerDigest(
      choose('Digest realm="r", nonce="n", qop="auth", algorithm=SHA-256'),
      'u',
      'p',
      request,
      'c',
    );
    const ha1 = H('sha256', 'u', 'r', 'p');
    expect(answer.rspauth).toBe(
      H('sha256', ha1, 'n', '00000001', 'c', 'auth', H('sha256', '', request.uri)),
    );
  });

  it('keeps the first cnonce on a -sess nonce and folds it into HA1; others take a fresh one', () => {
    const sess = choose('Digest realm="r", nonce="n", qop="auth", algorithm=MD5-sess');
    const first = answerDigest(sess, 'u', 'p', request, 'c1');
    const second = answerDigest(sess, 'u', 'p', request, 'c2');
    const ha1 = H('md5', H('md5', 'u', 'r', 'p'), 'n', 'c1');
    const ha2 = H('md5', 'GET', request.uri);
    expect(parseCredentials(second.header).params).toMatchObject({
      cnonce: 'c1',
      nc: '00000002',
      response: H('md5', ha1, 'n', '00000002', 'c1', 'auth', ha2),
    });
    expect(first.cnonce).toBe('c1');
    const plain = choose('Digest realm="r", nonce="n", qop="auth"');
    answerDigest(plain, 'u', 'p', request, 'c1');
    expect(answerDigest(plain, 'u', 'p', request, 'c2').cnonce).toBe('c2');
  });

  it('names the algorithm back as the challenge spelt it (RFC 7616 §3.4), as curl does', () => {
    // "The values of the opaque and algorithm fields must be those supplied in the
    // WWW-Authenticate response header field": a server may compare them as it sent them.
    for (const [given, sent] of [
      ['algorithm=sha-256', 'sha-256'],
      ['algorithm="Md5-Sess"', 'Md5-Sess'],
    ]) {
      const answer = answerDigest(
        choose(`Digest realm="r", nonce="n", qop="auth", ${given}`),
        'u',
        'p',
        request,
        'c',
      );
      expect(parseCredentials(answer.header).params.algorithm).toBe(sent);
      // Still a bare token (RFC 7616 §3.4), however the challenge wrote it.
      expect(answer.header).toContain(`algorithm=${sent},`);
    }
  });
});

describe('chooseDigest: what is passed over', () => {
  const nonceOf = (lines: string[]) =>
    chooseDigest(parseChallenges(lines), CLIENT_ALGORITHMS)?.session.nonce;

  it('answers a nonce, realm or opaque of 1024 characters, and none longer (MAX_PARAM_LENGTH)', () => {
    const line = (name: string, value: string) => {
      const params: Record<string, string> = { realm: 'r', nonce: 'n', opaque: 'o' };
      params[name] = value;
      return `Digest realm="${params.realm}", nonce="${params.nonce}", opaque="${params.opaque}"`;
    };
    for (const name of ['nonce', 'realm', 'opaque']) {
      expect(nonceOf([line(name, 'x'.repeat(MAX_PARAM_LENGTH))])).toBeDefined();
      expect(nonceOf([line(name, 'x'.repeat(MAX_PARAM_LENGTH + 1))])).toBeUndefined();
    }
  });

  it('answers only Digest challenges that carry a realm and a nonce (RFC 7616 §3.3)', () => {
    expect(nonceOf(['Basic realm="r", nonce="n"', 'Newauth realm="r", nonce="n"'])).toBe(undefined);
    expect(nonceOf(['Digest nonce="n"'])).toBeUndefined();
  });

  it('reads a qop list with spaces and in any case', () => {
    const { session } = chooseDigest(
      parseChallenges('Digest realm="r", nonce="n", qop="auth-int , AUTH"'),
      CLIENT_ALGORITHMS,
    )!;
    expect(session.qop).toBe('auth');
  });
});
