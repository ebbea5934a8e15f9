/**
 * The codec micro-benchmark's checks (bench/codec/cases.ts): each parser's answer to the shared
 * inputs is judged on every value it must carry, so a parser that loses or mangles one is WRONG.
 */
import * as authHeader from 'auth-header';
import { CASES, DIGEST, digestCheck, threeCheck } from '../bench/codec/cases';

it('judges each parser as the published report says', () => {
  const verdicts = CASES.map((c) => [c.name, c.implementation, c.check(c.run()).correct]);
  expect(verdicts).toEqual([
    ['Basic credentials', 'authscheme', true],
    ['Basic credentials', 'basic-auth', true],
    ['Digest credentials', 'authscheme', true],
    ['Digest credentials', 'auth-header', true],
    ['WWW-Authenticate, 3 challenges', 'authscheme', true],
    ['WWW-Authenticate, 3 challenges', 'auth-header', false],
    ['WWW-Authenticate, 3 challenges', 'www-authenticate', false],
  ]);
});

it('calls a Digest credential wrong when any directive is lost or cut', () => {
  const parsed = authHeader.parse(DIGEST) as { scheme: string; params: Record<string, string> };
  expect(digestCheck(parsed)).toEqual({ correct: true, note: 'all directives' });
  for (const name of ['realm', 'nonce', 'cnonce', 'opaque', 'algorithm']) {
    const params = { ...parsed.params };
    params[name] = name === 'nonce' ? params.nonce!.split('/')[0]! : '';
    expect(digestCheck({ ...parsed, params })).toEqual({
      correct: false,
      note: `wrong directives: ${name}`,
    });
  }
});

it('calls three challenges wrong when one loses its nonce or opaque', () => {
  const good = [
    {
      scheme: 'Digest',
      params: {
        realm: 'http-auth@example.org',
        qop: 'auth, auth-int',
        algorithm: 'SHA-256',
        nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
        opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
      },
    },
    {
      scheme: 'Digest',
      params: {
        realm: 'http-auth@example.org',
        qop: 'auth, auth-int',
        algorithm: 'MD5',
        nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
        opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
      },
    },
    { scheme: 'Basic', params: { realm: 'http-auth@example.org', charset: 'UTF-8' } },
  ];
  expect(threeCheck(good).correct).toBe(true);
  const noOpaque = good.map((c, i) =>
    i === 1 ? { ...c, params: { ...c.params, opaque: '' } } : c,
  );
  expect(threeCheck(noOpaque).correct).toBe(false);
});
