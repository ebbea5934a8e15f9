import { AuthHeaderSyntaxError } from '../../src/errors';
import {
  decodeExtValue,
  formatAuthParams,
  formatChallenge,
  formatCredentials,
  isToken,
  isToken68,
  parseChallenges,
  parseCredentials,
} from '../../src/header';
import type { Challenge } from '../../src/header';

describe('formatChallenge(challenge)', () => {
  it('formats the RFC 7617 examples', () => {
    expect(formatChallenge({ scheme: 'Basic', params: { realm: 'WallyWorld' } })).toBe(
      'Basic realm="WallyWorld"',
    );
    expect(formatChallenge({ scheme: 'Basic', params: { realm: 'foo', charset: 'UTF-8' } })).toBe(
      'Basic realm="foo", charset="UTF-8"',
    );
  });

  it('formats the RFC 6750 §3 example, quoting error and scope', () => {
    const challenge = {
      scheme: 'Bearer',
      params: { realm: 'example', error: 'invalid_token', scope: 'read write' },
    };
    expect(formatChallenge(challenge)).toBe(
      'Bearer realm="example", error="invalid_token", scope="read write"',
    );
  });

  it('formats the RFC 7616 §3.9.1 challenge: algorithm and stale as tokens, qop quoted', () => {
    const challenge = {
      scheme: 'Digest',
      params: {
        realm: 'http-auth@example.org',
        qop: 'auth, auth-int',
        algorithm: 'SHA-256',
        nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
        opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
        stale: 'true',
      },
    };
    expect(formatChallenge(challenge)).toBe(
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", stale=true',
    );
  });

  it('writes ext-values in UTF-8 only (RFC 8187 §3.2.1: producers MUST use UTF-8)', () => {
    expect(formatChallenge({ scheme: 'X', params: { 'a*': "utf-8''%C2%A3" } })).toBe(
      "X a*=utf-8''%C2%A3",
    );
    expect(() => formatChallenge({ scheme: 'X', params: { 'a*': "ISO-8859-1''%A3" } })).toThrow(
      /UTF-8/,
    );
  });

  it('refuses params that are not a plain object (a Map would lose its entries, an array write indices)', () => {
    for (const params of [new Map([['realm', 'x']]), ['x'], new Date(0)]) {
      expect(() => formatChallenge({ scheme: 'X', params: params as never })).toThrow(
        'params must be a plain object',
      );
      // Beside a token68 too, where a review found them dropped in silence.
      expect(() =>
        formatCredentials({ scheme: 'Basic', token68: 'abc', params: params as never }),
      ).toThrow('params must be a plain object');
    }
    expect(() =>
      formatCredentials({ scheme: 'Basic', token68: 'abc', params: Object.create({ realm: 'x' }) }),
    ).toThrow('params must be a plain object');
    expect(
      formatChallenge({ scheme: 'X', params: Object.assign(Object.create(null), { a: 'b' }) }),
    ).toBe('X a="b"');
  });

  it('writes no parameters for params null or undefined, beside a token68 too (no throw)', () => {
    // A JavaScript caller's "none" (docs/header.md): the bare scheme, as for params {}.
    for (const params of [null, undefined]) {
      const none = params as unknown as Record<string, string>;
      expect(formatChallenge({ scheme: 'Negotiate', params: none })).toBe('Negotiate');
      expect(formatChallenge({ scheme: 'Negotiate', token68: 'abc=', params: none })).toBe(
        'Negotiate abc=',
      );
      expect(formatCredentials({ scheme: 'Bearer', token68: 'mF_9', params: none })).toBe(
        'Bearer mF_9',
      );
      expect(formatAuthParams(none)).toBe('');
    }
  });

  it('applies the Digest token rule case-insensitively, and only to token values', () => {
    expect(formatChallenge({ scheme: 'DIGEST', params: { Algorithm: 'MD5', stale: 'a b' } })).toBe(
      'DIGEST Algorithm=MD5, stale="a b"',
    );
    expect(formatChallenge({ scheme: 'Basic', params: { algorithm: 'MD5', nc: '1' } })).toBe(
      'Basic algorithm="MD5", nc="1"',
    );
    expect(formatChallenge({ scheme: 'Digest', params: { nc: '00000001', qop: 'auth' } })).toBe(
      'Digest nc="00000001", qop="auth"',
    );
  });

  it('applies the Digest token rule to Digest only, not to other six-letter schemes', () => {
    // RFC 7616's bare tokens are Digest's rule; Bearer (RFC 6750 §3) quotes every value.
    for (const scheme of ['Bearer', 'Digess', 'Xigest']) {
      const params = { algorithm: 'MD5', stale: 'true', qop: 'auth', nc: '1' };
      const quoted = `${scheme} algorithm="MD5", stale="true", qop="auth", nc="1"`;
      expect(formatChallenge({ scheme, params })).toBe(quoted);
      expect(formatCredentials({ scheme, params })).toBe(quoted);
      expect(formatAuthParams({ qop: 'auth', nc: '1' }, scheme)).toBe('qop="auth", nc="1"');
    }
  });

  it('formats the RFC 9110 §11.6.1 challenge, escaping quotes', () => {
    const challenge = {
      scheme: 'Newauth',
      params: { realm: 'apps', type: '1', title: 'Login to "apps"' },
    };
    expect(formatChallenge(challenge)).toBe(
      'Newauth realm="apps", type="1", title="Login to \\"apps\\""',
    );
  });

  it('escapes backslashes and keeps obs-text and HTAB', () => {
    expect(
      formatChallenge({ scheme: 'X', params: { a: 'C:\\dir\\"x"', b: 'caf\u00e9\t\u00ff' } }),
    ).toBe('X a="C:\\\\dir\\\\\\"x\\"", b="caf\u00e9\t\u00ff"');
    expect(formatChallenge({ scheme: 'X', params: { empty: '' } })).toBe('X empty=""');
  });

  it('formats a scheme alone, and a token68', () => {
    expect(formatChallenge({ scheme: 'Bearer', params: {} })).toBe('Bearer');
    expect(formatChallenge({ scheme: 'Negotiate', token68: 'YII=', params: {} })).toBe(
      'Negotiate YII=',
    );
    expect(formatChallenge({ scheme: 'Negotiate', token68: 'YII=' } as Challenge)).toBe(
      'Negotiate YII=',
    );
    expect(formatChallenge({ scheme: 'Bearer' } as Challenge)).toBe('Bearer');
  });

  it('writes names ending in * bare once they are valid ext-values', () => {
    const params = Object.create(null) as Record<string, string>;
    params['title*'] = "UTF-8'en'%E2%82%AC%20rates";
    params['__proto__'] = 'data';
    expect(formatChallenge({ scheme: 'X', params })).toBe(
      'X title*=UTF-8\'en\'%E2%82%AC%20rates, __proto__="data"',
    );
  });

  it.each<[string, unknown]>([
    ['a scheme that is not a token', { scheme: 'Ba sic', params: {} }],
    ['an empty scheme', { scheme: '', params: {} }],
    ['a scheme that is not a string', { scheme: 1, params: {} }],
    ['a CRLF in the scheme', { scheme: 'Basic\r\nX-Injected: 1', params: {} }],
    ['an invalid token68', { scheme: 'Basic', token68: 'a b', params: {} }],
    ['a token68 of padding only', { scheme: 'Basic', token68: '==', params: {} }],
    ['both token68 and params', { scheme: 'Basic', token68: 'abc', params: { a: 'b' } }],
    ['a param name that is not a token', { scheme: 'X', params: { 'a b': 'c' } }],
    ['a CR in a value', { scheme: 'X', params: { realm: 'a\rb' } }],
    ['an LF in a value', { scheme: 'X', params: { realm: 'a\nSet-Cookie: x' } }],
    ['a NUL in a value', { scheme: 'X', params: { realm: '\u0000' } }],
    ['DEL in a value', { scheme: 'X', params: { realm: '\u007f' } }],
    ['a character above U+00FF', { scheme: 'X', params: { realm: '\u20ac' } }],
    ['a CR in a Digest token-rule value', { scheme: 'Digest', params: { algorithm: 'MD5\r' } }],
    ['a value that is not a string', { scheme: 'X', params: { realm: 1 } }],
    ['a name given twice in two cases', { scheme: 'X', params: { realm: 'a', Realm: 'b' } }],
    ['an invalid ext-value', { scheme: 'X', params: { 'title*': 'no quotes' } }],
    // RFC 8187 lets a charset name hold braces; a bare auth-param value (a token) cannot.
    ['an ext-value that is not a token', { scheme: 'X', params: { 'title*': "a{b}''x" } }],
    ['params that are not an object', { scheme: 'X', params: 'realm=x' }],
    ['a challenge that is not an object', null],
  ])('throws TypeError for %s', (_title, challenge) => {
    expect(() => formatChallenge(challenge as Challenge)).toThrow(TypeError);
  });
});

describe('formatCredentials(credentials)', () => {
  it('formats the RFC 7617 Basic credentials and RFC 6750 Bearer credentials', () => {
    expect(
      formatCredentials({ scheme: 'Basic', token68: 'QWxhZGRpbjpvcGVuIHNlc2FtZQ==', params: {} }),
    ).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
    expect(formatCredentials({ scheme: 'Bearer', token68: 'mF_9.B5f-4.1JqM', params: {} })).toBe(
      'Bearer mF_9.B5f-4.1JqM',
    );
  });

  it('formats the RFC 7616 §3.9.1 credentials: algorithm, qop, nc as tokens (§3.4)', () => {
    const params = {
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      uri: '/dir/index.html',
      algorithm: 'SHA-256',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      qop: 'auth',
      response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
      opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
    };
    const formatted = formatCredentials({ scheme: 'Digest', params });
    expect(formatted).toBe(
      'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    );
    expect({ ...parseCredentials(formatted).params }).toEqual(params);
  });

  it('formats the RFC 7616 §3.9.2 credentials: userhash=true bare, as the example writes it', () => {
    const params = {
      username: '488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec',
      realm: 'api@example.org',
      uri: '/doe.json',
      algorithm: 'SHA-512-256',
      nonce: '5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK',
      nc: '00000001',
      cnonce: 'NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v',
      qop: 'auth',
      response: 'ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd',
      opaque: 'HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS',
      userhash: 'true',
    };
    const formatted = formatCredentials({ scheme: 'Digest', params });
    expect(formatted).toBe(
      'Digest username="488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec", realm="api@example.org", uri="/doe.json", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", nc=00000001, cnonce="NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v", qop=auth, response="ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", userhash=true',
    );
    expect({ ...parseCredentials(formatted).params }).toEqual(params);
  });

  it('does not apply the challenge-only stale rule to credentials', () => {
    expect(formatCredentials({ scheme: 'Digest', params: { stale: 'true' } })).toBe(
      'Digest stale="true"',
    );
  });

  it('throws TypeError on a header-splitting value', () => {
    expect(() =>
      formatCredentials({ scheme: 'Digest', params: { username: 'a"\r\nX: y' } }),
    ).toThrow(TypeError);
  });
});

describe('formatAuthParams(params, scheme?)', () => {
  it('formats Digest Authentication-Info with qop and nc as tokens (RFC 7616 §3.5)', () => {
    expect(
      formatAuthParams({ rspauth: 'abc', cnonce: 'def', nc: '00000001', qop: 'auth' }, 'Digest'),
    ).toBe('rspauth="abc", cnonce="def", nc=00000001, qop=auth');
  });

  it('quotes everything without a scheme, and formats an empty list as ""', () => {
    expect(formatAuthParams({ nc: '00000001', qop: 'auth' })).toBe('nc="00000001", qop="auth"');
    expect(formatAuthParams({})).toBe('');
  });

  it('round-trips through parseChallenges when used after a scheme', () => {
    const list = formatAuthParams({ realm: 'a, b="c"', x: '\\' });
    expect({ ...parseChallenges(`X ${list}`)[0]!.params }).toEqual({ realm: 'a, b="c"', x: '\\' });
  });
});

describe('isToken(value) and isToken68(value)', () => {
  it.each([
    ['Digest', true, true],
    ["!#$%&'*+-.^_`|~09AZaz", true, false],
    ['abc+/==', false, true],
    ['a=b', false, false],
    ['==', false, false],
    ['', false, false],
    ['a b', false, false],
    ['caf\u00e9', false, false],
    ['\u0100', false, false],
  ])('classifies %j', (value, token, token68) => {
    expect(isToken(value)).toBe(token);
    expect(isToken68(value)).toBe(token68);
  });

  it('returns false for non-strings', () => {
    expect(isToken(undefined as unknown as string)).toBe(false);
    expect(isToken68(5 as unknown as string)).toBe(false);
  });
});

describe('ext-values the formatters write are UTF-8 (RFC 8187 §3.2.1, docs/header.md)', () => {
  // docs/header.md: "the parsers accept any value under a name ending in `*` ..., and the
  // formatters write only UTF-8 ext-values there, throwing `TypeError` on the rest."
  it('parses any value under a name ending in *, and formats it only when it is one', () => {
    const [parsed] = parseChallenges(
      "X a*=\"plain\", b*=ISO-8859-1''%A3, c*=\"UTF-8''%C2%A3\", d*=utf-8'en'%c2%a3",
    );
    expect({ ...parsed!.params }).toEqual({
      'a*': 'plain',
      'b*': "ISO-8859-1''%A3",
      'c*': "UTF-8''%C2%A3",
      'd*': "utf-8'en'%c2%a3",
    });
    for (const name of ['a*', 'b*']) {
      expect(() =>
        formatChallenge({ scheme: 'X', params: { [name]: parsed!.params[name]! } }),
      ).toThrow(TypeError);
    }
    const { 'c*': c, 'd*': d } = parsed!.params;
    expect(formatChallenge({ scheme: 'X', params: { 'c*': c!, 'd*': d! } })).toBe(
      "X c*=UTF-8''%C2%A3, d*=utf-8'en'%c2%a3",
    );
  });

  // docs/header.md: "parameter names ending in `*` must hold an RFC 8187 ext-value in UTF-8
  // (§3.2.1: producers MUST use UTF-8)" and "the formatters write UTF-8 only". The charset label
  // is checked, the bytes are not: these are no UTF-8, and decodeExtValue refuses what was written.
  it.each([
    ['a lone continuation byte', "UTF-8''%FF"],
    ['an overlong encoding of "/"', "UTF-8''%C0%AF"],
    ['a surrogate encoded in UTF-8', "UTF-8''%ED%A0%80"],
    ['a truncated sequence', "UTF-8''%E2%82"],
  ])('refuses %s labelled UTF-8', (_label, value) => {
    expect(() => decodeExtValue(value)).toThrow(AuthHeaderSyntaxError);
    expect(() => formatChallenge({ scheme: 'Foo', params: { 'title*': value } })).toThrow(
      TypeError,
    );
    expect(() => formatCredentials({ scheme: 'Digest', params: { 'username*': value } })).toThrow(
      TypeError,
    );
    expect(() => formatAuthParams({ 'x*': value })).toThrow(TypeError);
  });
});
