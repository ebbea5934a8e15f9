/** The client's Digest computation against the published examples. */
import { answerDigest, chooseDigest, CLIENT_ALGORITHMS } from '../../src/client/digest';
import { parseChallenges, parseCredentials } from 'authscheme';

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

  it('answers a challenge without qop the RFC 2069 way (no nc, no cnonce)', () => {
    const { session } = chooseDigest(
      parseChallenges('Digest realm="r", nonce="abc"'),
      CLIENT_ALGORITHMS,
    )!;
    const { params } = parseCredentials(answerDigest(session, 'u', 'p', request).header);
    expect(params.qop).toBeUndefined();
    expect(params.nc).toBeUndefined();
    expect(params.response).toMatch(/^[0-9a-f]{32}$/);
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
