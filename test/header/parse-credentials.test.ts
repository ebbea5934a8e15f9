import { plain, syntaxError } from '../helpers/codec';
import { parseAuthParams, parseCredentials } from '../../src/header';
import { rfc7616Section3_9_1Sha256 } from '../fixtures/rfc/digest';

describe('parseCredentials(fieldValue)', () => {
  describe('RFC examples', () => {
    it('parses RFC 7617 §2 Basic credentials as a token68', () => {
      expect(plain(parseCredentials('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=='))).toEqual({
        scheme: 'Basic',
        token68: 'QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
        params: {},
      });
    });

    it('parses the RFC 6750 §2.1 Bearer credentials', () => {
      expect(plain(parseCredentials('Bearer mF_9.B5f-4.1JqM'))).toEqual({
        scheme: 'Bearer',
        token68: 'mF_9.B5f-4.1JqM',
        params: {},
      });
    });

    it('parses the RFC 7616 §3.9.1 credentials, line folds replaced by spaces', () => {
      const value =
        'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
      expect(plain(parseCredentials(value))).toEqual({
        scheme: 'Digest',
        params: rfc7616Section3_9_1Sha256.directives,
      });
    });

    it('keeps an RFC 8187 username* as its encoded token (RFC 7616 §3.9.2)', () => {
      const value =
        'Digest username*=UTF-8\'\'J%C3%A4s%C3%B8n%20Doe, userhash=false, realm="api@example.org"';
      expect(plain(parseCredentials(value).params)).toEqual({
        'username*': "UTF-8''J%C3%A4s%C3%B8n%20Doe",
        userhash: 'false',
        realm: 'api@example.org',
      });
    });
  });

  it('reads a token68 of any length, every token68 character and padding included', () => {
    // Lengths around where the scanner hands a long token68 (a JWT) over from its loop.
    const body = 'aZ09-._~+/';
    for (const length of [1, 31, 32, 33, 40, 300]) {
      const token = body.repeat(31).slice(0, length);
      for (const padded of [token, `${token}==`]) {
        expect(parseCredentials(`Bearer ${padded}`).token68).toBe(padded);
        expect(parseCredentials(`Bearer ${padded} \t`).token68).toBe(padded);
      }
      // A character outside token68 ends it: then the element is no token68 but a parameter
      // name (one without "/", here) that lacks its "=".
      const error = syntaxError(() => parseCredentials(`Bearer ${token.replaceAll('/', 'a')}!x`));
      expect([error.reason, error.index]).toEqual([
        "expected '=' after auth-param name",
        'Bearer '.length + length + 2,
      ]);
    }
  });

  it('parses a scheme alone to empty params (the scheme decides)', () => {
    const credentials = parseCredentials('Bearer');
    expect(plain(credentials)).toEqual({ scheme: 'Bearer', params: {} });
    expect(credentials.token68).toBeUndefined();
    expect(Object.getPrototypeOf(credentials.params)).toBeNull();
    expect(plain(parseCredentials('  Bearer   '))).toEqual({ scheme: 'Bearer', params: {} });
    // Trailing OWS is HTAB as much as SP (RFC 9110 §5.6.3).
    expect(plain(parseCredentials('Bearer\t'))).toEqual({ scheme: 'Bearer', params: {} });
    expect(plain(parseCredentials('Bearer\t '))).toEqual({ scheme: 'Bearer', params: {} });
    expect(plain(parseCredentials('Bearer \t'))).toEqual({ scheme: 'Bearer', params: {} });
    // After the spaces, OWS may precede an empty list element (RFC 9110 §5.6.1).
    expect(plain(parseCredentials('Digest \t, username="a"'))).toEqual({
      scheme: 'Digest',
      params: { username: 'a' },
    });
  });

  it('accepts surrounding OWS and empty elements inside the param list', () => {
    expect(plain(parseCredentials(' Digest  ,a=1 ,, b="2", '))).toEqual({
      scheme: 'Digest',
      params: { a: '1', b: '2' },
    });
  });

  it('lower-cases parameter names and keeps the scheme spelling', () => {
    expect(plain(parseCredentials('DIGEST UserName="x", URI="/", Nc=00000001, X-Y=z'))).toEqual({
      scheme: 'DIGEST',
      params: { username: 'x', uri: '/', nc: '00000001', 'x-y': 'z' },
    });
  });

  it.each([
    ['an empty value', '', 'expected auth-scheme', 0],
    ['whitespace only', '  ', 'expected auth-scheme', 2],
    ['a leading comma', ', Basic abc', 'expected auth-scheme', 0],
    [
      'a second scheme after a token68',
      'Basic abc, Bearer def',
      'unexpected content after credentials',
      9,
    ],
    [
      'a second scheme after params',
      'Digest a=b, Basic abc',
      'unexpected content after credentials',
      12,
    ],
    ['a comma after the scheme', 'Bearer,', 'unexpected content after credentials', 6],
    ['HTAB instead of SP before a token68', 'Bearer\tabc', 'expected space after auth-scheme', 6],
    ['HTAB and SP before a token68', 'Bearer\t abc', 'expected space after auth-scheme', 6],
    // 1*SP, then the token68 or the first auth-param at once (RFC 9110 §11.4, RFC 6750 §2.1).
    [
      'SP and HTAB before a token68',
      'Bearer \tabc',
      'expected token68 or auth-param after the spaces',
      7,
    ],
    [
      'SPs and HTAB before auth-params',
      'Digest  \ta=b',
      'expected token68 or auth-param after the spaces',
      8,
    ],
    ['a comma after a token68', 'Bearer abc,', 'unexpected content after credentials', 10],
    ['a token68 with junk', 'Bearer abc def', "expected '=' after auth-param name", 11],
    ['"=" inside a token68', 'Bearer a=b=c', "expected ',' after auth-param", 10],
    ['a duplicate parameter', 'Digest nc=1, NC=2', 'duplicate auth-param', 13],
    // RFC 9110 §11.2: token68 = 1*( ALPHA / ... ) *"=": padding alone is no token68.
    ['padding alone for a token68', 'Basic ==', 'expected auth-param', 6],
    [
      'a character above U+00FF in a token68',
      'Bearer ab\u0100',
      "expected '=' after auth-param name",
      9,
    ],
  ])('rejects %s', (_title, value, reason, index) => {
    const error = syntaxError(() => parseCredentials(value));
    expect(error.reason).toBe(reason);
    expect(error.index).toBe(index);
  });

  it('enforces maxLength and maxParams', () => {
    expect(syntaxError(() => parseCredentials(`Bearer ${'a'.repeat(16380)}`)).reason).toBe(
      'field value longer than maxLength',
    );
    expect(
      parseCredentials(`Bearer ${'a'.repeat(20000)}`, { maxLength: 20007 }).token68,
    ).toHaveLength(20000);
    expect(syntaxError(() => parseCredentials('Digest a=1, b=2', { maxParams: 1 })).reason).toBe(
      'more auth-params than maxParams',
    );
  });

  it('takes 0 as a limit: a bound is any non-negative integer', () => {
    expect(parseCredentials('Bearer abc', { maxParams: 0 }).token68).toBe('abc');
    expect(syntaxError(() => parseCredentials('Digest a=1', { maxParams: 0 })).reason).toBe(
      'more auth-params than maxParams',
    );
  });

  it('throws TypeError for limits that are not an object', () => {
    for (const limits of [5, 'maxParams', true, null]) {
      expect(() => parseCredentials('Bearer abc', limits as unknown as object)).toThrow(TypeError);
    }
  });

  it('throws TypeError for a value that is not a string', () => {
    expect(() => parseCredentials(undefined as unknown as string)).toThrow(TypeError);
    // Not a syntax error (a 400): a caller's bug, whatever the value's shape.
    for (const value of [42, { length: 6 }, ['Basic']]) {
      expect(() => parseCredentials(value as unknown as string)).toThrow(TypeError);
      expect(() => parseAuthParams(value as unknown as string)).toThrow(TypeError);
    }
  });
});

describe('parseAuthParams(value)', () => {
  it('parses an RFC 7616 §3.5 Authentication-Info value', () => {
    const value =
      'rspauth="6629fae49393a05397450978507c4ef1", cnonce="0a4f113b", nc=00000001, qop=auth, nextnonce="abc"';
    const params = parseAuthParams(value);
    expect(Object.getPrototypeOf(params)).toBeNull();
    expect(plain(params)).toEqual({
      rspauth: '6629fae49393a05397450978507c4ef1',
      cnonce: '0a4f113b',
      nc: '00000001',
      qop: 'auth',
      nextnonce: 'abc',
    });
  });

  it('accepts an empty list and empty elements', () => {
    expect(plain(parseAuthParams(''))).toEqual({});
    expect(plain(parseAuthParams(' , a=1,,b=2 ,'))).toEqual({ a: '1', b: '2' });
  });

  it.each([
    ['a bare token', 'abc', "expected '=' after auth-param name", 3],
    ['a bare token after a comma', 'a=1, abc', "expected '=' after auth-param name", 5],
    ['a duplicate', 'a=1, A=2', 'duplicate auth-param', 5],
  ])('rejects %s', (_title, value, reason, index) => {
    const error = syntaxError(() => parseAuthParams(value));
    expect(error.reason).toBe(reason);
    expect(error.index).toBe(index);
  });

  it('enforces its limits', () => {
    expect(syntaxError(() => parseAuthParams('a=1', { maxLength: 2 })).index).toBe(2);
    expect(syntaxError(() => parseAuthParams('a=1, b=2', { maxParams: 1 })).index).toBe(5);
  });
});
