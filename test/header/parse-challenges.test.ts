import { plain, syntaxError } from '../helpers/codec';
import { DEFAULT_LIMITS, parseChallenges } from '../../src/header';

describe('parseChallenges(fieldValue)', () => {
  describe('RFC examples', () => {
    it('parses RFC 7617 §2 Basic realm="WallyWorld"', () => {
      expect(plain(parseChallenges('Basic realm="WallyWorld"'))).toEqual([
        { scheme: 'Basic', params: { realm: 'WallyWorld' } },
      ]);
    });

    it('parses RFC 7617 §2.1 Basic with charset', () => {
      expect(plain(parseChallenges('Basic realm="foo", charset="UTF-8"'))).toEqual([
        { scheme: 'Basic', params: { realm: 'foo', charset: 'UTF-8' } },
      ]);
    });

    it('parses the RFC 9110 §11.6.1 example as two challenges', () => {
      const value =
        'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"';
      expect(plain(parseChallenges(value))).toEqual([
        { scheme: 'Newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
        { scheme: 'Basic', params: { realm: 'simple' } },
      ]);
    });

    it('parses the RFC 6750 §3 examples', () => {
      expect(plain(parseChallenges('Bearer realm="example"'))).toEqual([
        { scheme: 'Bearer', params: { realm: 'example' } },
      ]);
      const value =
        'Bearer realm="example", error="invalid_token", error_description="The access token expired"';
      expect(plain(parseChallenges(value))).toEqual([
        {
          scheme: 'Bearer',
          params: {
            realm: 'example',
            error: 'invalid_token',
            error_description: 'The access token expired',
          },
        },
      ]);
    });

    it('parses the RFC 7616 §3.9.1 challenges (SHA-256 and MD5 offered together)', () => {
      const value = [
        'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
        'Digest realm="http-auth@example.org",\tqop="auth, auth-int",algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
      ];
      const common = {
        realm: 'http-auth@example.org',
        qop: 'auth, auth-int',
        nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
        opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
      };
      const expected = [
        { scheme: 'Digest', params: { ...common, algorithm: 'SHA-256' } },
        { scheme: 'Digest', params: { ...common, algorithm: 'MD5' } },
      ];
      expect(plain(parseChallenges(value))).toEqual(expected);
      expect(plain(parseChallenges(value.join(', ')))).toEqual(expected);
    });
  });

  describe('lists of challenges', () => {
    it('splits challenges with and without params', () => {
      const value = 'Basic realm="a", Bearer, Digest realm="b", nonce="c"';
      expect(plain(parseChallenges(value))).toEqual([
        { scheme: 'Basic', params: { realm: 'a' } },
        { scheme: 'Bearer', params: {} },
        { scheme: 'Digest', params: { realm: 'b', nonce: 'c' } },
      ]);
    });

    it('reads a token68 challenge followed by another challenge', () => {
      expect(plain(parseChallenges('Negotiate abc+/def==, Basic realm="x"'))).toEqual([
        { scheme: 'Negotiate', token68: 'abc+/def==', params: {} },
        { scheme: 'Basic', params: { realm: 'x' } },
      ]);
    });

    it('ignores empty list elements and surrounding whitespace (RFC 9110 §5.6.1)', () => {
      expect(plain(parseChallenges(' ,, Basic realm="a" ,\t, , Bearer , ,'))).toEqual([
        { scheme: 'Basic', params: { realm: 'a' } },
        { scheme: 'Bearer', params: {} },
      ]);
      expect(plain(parseChallenges('Basic ,realm="a",, charset="UTF-8"'))).toEqual([
        { scheme: 'Basic', params: { realm: 'a', charset: 'UTF-8' } },
      ]);
      expect(plain(parseChallenges('Basic , Bearer'))).toEqual([
        { scheme: 'Basic', params: {} },
        { scheme: 'Bearer', params: {} },
      ]);
    });

    // RFC 9110 §5.6.1: list elements are separated by OWS "," OWS, and OWS includes HTAB, also
    // after a challenge that is a scheme alone.
    it('reads OWS and an empty element after the spaces as the start of the parameter list', () => {
      expect(plain(parseChallenges('Digest \t, realm="x", Basic \t, Bearer'))).toEqual([
        { scheme: 'Digest', params: { realm: 'x' } },
        { scheme: 'Basic', params: {} },
        { scheme: 'Bearer', params: {} },
      ]);
    });

    it('accepts HTAB between a scheme alone and the comma or end that follows it', () => {
      expect(plain(parseChallenges('Basic\t, Bearer\t,Other \t,\tLast\t'))).toEqual([
        { scheme: 'Basic', params: {} },
        { scheme: 'Bearer', params: {} },
        { scheme: 'Other', params: {} },
        { scheme: 'Last', params: {} },
      ]);
      expect(plain(parseChallenges('Digest realm="a", b=c, Negotiate\t, Basic'))).toEqual([
        { scheme: 'Digest', params: { realm: 'a', b: 'c' } },
        { scheme: 'Negotiate', params: {} },
        { scheme: 'Basic', params: {} },
      ]);
    });

    it('treats a token after a comma followed by BWS "=" as a parameter', () => {
      expect(plain(parseChallenges('Basic realm="a", b = c, Other'))).toEqual([
        { scheme: 'Basic', params: { realm: 'a', b: 'c' } },
        { scheme: 'Other', params: {} },
      ]);
    });

    it('accepts several field lines and an empty value', () => {
      expect(plain(parseChallenges(['Basic realm="a"', '', 'Bearer realm="b", Other']))).toEqual([
        { scheme: 'Basic', params: { realm: 'a' } },
        { scheme: 'Bearer', params: { realm: 'b' } },
        { scheme: 'Other', params: {} },
      ]);
      expect(parseChallenges('')).toEqual([]);
      expect(parseChallenges([])).toEqual([]);
      expect(parseChallenges(' , ')).toEqual([]);
    });

    it('reads field lines as their values joined with commas (RFC 9110 §5.3)', () => {
      const lines = ['Basic realm="a"', 'charset="UTF-8"'];
      expect(plain(parseChallenges(lines))).toEqual(plain(parseChallenges(lines.join(', '))));
      expect(plain(parseChallenges(lines))).toEqual([
        { scheme: 'Basic', params: { realm: 'a', charset: 'UTF-8' } },
      ]);
    });

    it('reads a lone token, or one with "=" padding, after a scheme as a token68', () => {
      expect(plain(parseChallenges('X abc=, Y ab==  , Z realm'))).toEqual([
        { scheme: 'X', token68: 'abc=', params: {} },
        { scheme: 'Y', token68: 'ab==', params: {} },
        { scheme: 'Z', token68: 'realm', params: {} },
      ]);
    });

    it('reads a known parameter name as a token68 only where a token68 may stand', () => {
      expect(
        plain(
          parseChallenges(
            'A Realm="r", B realm=r, C realm= "r", D realm ="r", E realmy="r", F realm==, G realm=',
          ),
        ),
      ).toEqual([
        { scheme: 'A', params: { realm: 'r' } },
        { scheme: 'B', params: { realm: 'r' } },
        { scheme: 'C', params: { realm: 'r' } },
        { scheme: 'D', params: { realm: 'r' } },
        { scheme: 'E', params: { realmy: 'r' } },
        { scheme: 'F', token68: 'realm==', params: {} },
        { scheme: 'G', token68: 'realm=', params: {} },
      ]);
    });

    it('reads a token68 that begins with a known parameter name as a token68', () => {
      // An opaque token may start with any letters: `nc`, `uri`, `realm` too (RFC 6750 §2.1).
      for (const token of ['realmXYZ', 'nc0ffee', 'uri.x9', 'nonce12==', 'qop-auth_int~/+']) {
        expect(plain(parseChallenges(`Bearer ${token}`))).toEqual([
          { scheme: 'Bearer', token68: token, params: {} },
        ]);
      }
    });
  });

  describe('names and values', () => {
    it('keeps the scheme spelling and lower-cases parameter names', () => {
      const [challenge] = parseChallenges('dIgEsT REALM="r", Nonce=n, QOP="auth", X-Custom=1');
      expect(challenge?.scheme).toBe('dIgEsT');
      expect(plain(challenge?.params)).toEqual({
        realm: 'r',
        nonce: 'n',
        qop: 'auth',
        'x-custom': '1',
      });
    });

    describe('the parameter names of RFC 7617, 7616, 6750 and 7615', () => {
      // The parser recognises these while it reads them; each must come out like any other name.
      const names = [
        'nc',
        'qop',
        'uri',
        'realm',
        'nonce',
        'stale',
        'error',
        'scope',
        'cnonce',
        'opaque',
        'domain',
        'charset',
        'rspauth',
        'response',
        'username',
        'userhash',
        'algorithm',
        'username*',
        'nextnonce',
        'error_uri',
        'error_description',
      ];
      const mixedCase = (name: string): string =>
        [...name].map((c, k) => (k % 2 === 1 ? c.toUpperCase() : c)).join('');
      // One character more or less makes another parameter.
      const nearMisses = [
        ...new Set(names.flatMap((name) => [`${name}x`, `x${name}`, name.slice(0, -1)])),
      ].filter((name) => !names.includes(name));

      it('reads each, in any case, as its lower-case name, among other names', () => {
        const all = names.flatMap((name, k) => [mixedCase(name), nearMisses[k]!]);
        const [challenge] = parseChallenges(
          `X ${all.map((name, k) => `${name}=v${k}`).join(', ')}`,
        );
        expect(Object.entries(challenge!.params)).toEqual(
          all.map((name, k) => [name.toLowerCase(), `v${k}`]),
        );
      });

      it.each(names)('reads %s as the first parameter, quoted or not', (name) => {
        expect(
          plain(parseChallenges(`X ${mixedCase(name)}="q", Y ${name.toUpperCase()}=t`)),
        ).toEqual([
          { scheme: 'X', params: { [name]: 'q' } },
          { scheme: 'Y', params: { [name]: 't' } },
        ]);
      });

      it.each(names)('refuses %s twice, whatever the case', (name) => {
        const input = `X a=1, ${name}=1, ${name.toUpperCase()}=2`;
        const error = syntaxError(() => parseChallenges(input));
        expect([error.reason, error.index]).toEqual([
          'duplicate auth-param',
          input.lastIndexOf(name.toUpperCase()),
        ]);
      });
    });

    it('returns params with a null prototype, keeping __proto__ as data', () => {
      const [challenge] = parseChallenges('X __proto__="polluted", constructor=c, toString=t');
      const params = challenge!.params;
      expect(Object.getPrototypeOf(params)).toBeNull();
      expect(params['__proto__']).toBe('polluted');
      expect(Object.keys(params)).toEqual(['__proto__', 'constructor', 'tostring']);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('returns null-prototype params for token68 and bare challenges too', () => {
      for (const challenge of parseChallenges('A abc, B')) {
        expect(Object.getPrototypeOf(challenge.params)).toBeNull();
        expect(Object.keys(challenge.params)).toEqual([]);
      }
    });

    it('unescapes quoted-pairs and keeps obs-text and HTAB', () => {
      const [challenge] = parseChallenges('X a="q\\"b\\\\c\\d", b="caf\u00e9\tx", c="", d="\\\\"');
      expect(plain(challenge?.params)).toEqual({ a: 'q"b\\cd', b: 'caf\u00e9\tx', c: '', d: '\\' });
    });

    it('unescapes long quoted-strings too', () => {
      const content = 'a\u00ff\\"\\\\'.repeat(100);
      const [challenge] = parseChallenges(`X a="${content}", b=c`);
      expect(challenge?.params['a']).toBe('a\u00ff"\\'.repeat(100));
      expect(challenge?.params['b']).toBe('c');
    });

    it('accepts BWS around "=" and OWS around commas', () => {
      expect(plain(parseChallenges('X a \t= \t"1" \t, b=2'))).toEqual([
        { scheme: 'X', params: { a: '1', b: '2' } },
      ]);
      // BWS is OWS (RFC 9110 §5.6.3): a tab may come first on either side of "=".
      expect(plain(parseChallenges('X a=\t"1", b\t=\t2, realm=\t"r"'))).toEqual([
        { scheme: 'X', params: { a: '1', b: '2', realm: 'r' } },
      ]);
    });

    it('accepts OWS after the last value', () => {
      expect(plain(parseChallenges('X a="1", b=2 \t'))).toEqual([
        { scheme: 'X', params: { a: '1', b: '2' } },
      ]);
      expect(plain(parseChallenges('X a=1, b="2"\t '))).toEqual([
        { scheme: 'X', params: { a: '1', b: '2' } },
      ]);
    });
  });

  describe('malformed input', () => {
    it.each([
      ['a value with no scheme', '="x"', 'expected auth-scheme', 0],
      ['a scheme joined to "="', 'Basic=x', 'expected space after auth-scheme', 5],
      [
        'HTAB instead of SP after the scheme',
        'Basic\trealm=x',
        'expected space after auth-scheme',
        5,
      ],
      ['a parameter without "="', 'Basic realm foo', "expected '=' after auth-param name", 12],
      ['two tokens with no comma', 'Basic foo bar', "expected '=' after auth-param name", 10],
      ['a parameter without a value', 'Basic a=b, realm=', 'expected token or quoted-string', 17],
      [
        'a parameter with only BWS for a value',
        'Basic a=b, realm= \t',
        'expected token or quoted-string',
        19,
      ],
      [
        'a parameter with a comma for a value',
        'Basic a=b, c=,',
        'expected token or quoted-string',
        13,
      ],
      ['a quoted-string where a name belongs', 'Basic realm=a, "x"', 'expected auth-param', 15],
      ['content after a quoted value', 'Basic realm="a"b', "expected ',' after auth-param", 15],
      ['content after a token value', 'Basic realm=a "b"', "expected ',' after auth-param", 14],
      ['an unterminated quoted-string', 'Basic realm="abc', 'unterminated quoted-string', 12],
      ['a trailing backslash', 'Basic realm="abc\\', 'unterminated quoted-string', 12],
      ['a CR in a quoted-string', 'Basic realm="a\rb"', 'invalid character in quoted-string', 14],
      ['an escaped LF', 'Basic realm="a\\\nb"', 'invalid quoted-pair in quoted-string', 14],
      ['DEL in a quoted-string', 'Basic realm="\u007f"', 'invalid character in quoted-string', 13],
      [
        'a character above U+00FF',
        'Basic realm="\u0100"',
        'invalid character in quoted-string',
        13,
      ],
      ['a duplicate parameter', 'Basic realm="a", REALM="b"', 'duplicate auth-param', 17],
      [
        'a parameter after a token68',
        'Bearer abc, realm="x"',
        'expected space after auth-scheme',
        17,
      ],
      ['a token68 followed by junk', 'Bearer abc def', "expected '=' after auth-param name", 11],
      [
        'a scheme after a scheme and a comma',
        'Basic, realm="x"',
        'expected space after auth-scheme',
        12,
      ],
    ])('rejects %s', (_title, value, reason, index) => {
      const error = syntaxError(() => parseChallenges(value));
      expect(error.reason).toBe(reason);
      expect(error.index).toBe(index);
      expect(error.code).toBe('ERR_AUTH_HEADER_SYNTAX');
    });

    it('never echoes the value in the message', () => {
      const error = syntaxError(() => parseChallenges('Basic secret="s3cr3t'));
      expect(error.message).not.toContain('s3cr3t');
      expect(error.message).toBe(
        'Invalid authentication header: unterminated quoted-string at index 13',
      );
    });

    it('throws TypeError for a value that is not a string', () => {
      expect(() => parseChallenges(42 as unknown as string)).toThrow(TypeError);
      expect(() => parseChallenges([42] as unknown as string[])).toThrow(TypeError);
    });
  });

  describe('limits', () => {
    it('has finite, frozen defaults', () => {
      expect(DEFAULT_LIMITS).toEqual({ maxLength: 16384, maxParams: 64, maxChallenges: 32 });
      expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true);
    });

    it('rejects a value longer than maxLength, over all lines', () => {
      expect(syntaxError(() => parseChallenges('x'.repeat(16385))).reason).toBe(
        'field value longer than maxLength',
      );
      expect(parseChallenges('x'.repeat(16384))).toHaveLength(1);
      // The lines as one value, joined with ", " (21 characters of lines, 23 of value): a review
      // found the joins uncounted, and 100 000 empty lines scanned under a maxLength of 100.
      const lines = ['Basic realm="a"', 'Bearer'];
      expect(parseChallenges(lines, { maxLength: 23 })).toHaveLength(2);
      expect(syntaxError(() => parseChallenges(lines, { maxLength: 22 })).index).toBe(22);
      expect(
        syntaxError(() => parseChallenges(Array(100_000).fill(''), { maxLength: 100 })).reason,
      ).toBe('field value longer than maxLength');
    });

    it('rejects more challenges than maxChallenges, over all lines', () => {
      expect(parseChallenges(Array(32).fill('A').join(','))).toHaveLength(32);
      expect(syntaxError(() => parseChallenges(Array(33).fill('A').join(','))).reason).toBe(
        'more challenges than maxChallenges',
      );
      // The index is into the lines joined with ', ' (RFC 9110 §5.3): 'A, B, C'.
      expect(syntaxError(() => parseChallenges(['A, B', 'C'], { maxChallenges: 2 })).index).toBe(6);
    });

    it('rejects more params than maxParams in one challenge', () => {
      const params = (n: number) => Array.from({ length: n }, (_, k) => `p${k}=v`).join(', ');
      expect(Object.keys(parseChallenges(`X ${params(64)}`)[0]!.params)).toHaveLength(64);
      expect(syntaxError(() => parseChallenges(`X ${params(65)}`)).reason).toBe(
        'more auth-params than maxParams',
      );
      expect(parseChallenges(`X ${params(2)}, Y ${params(2)}`, { maxParams: 2 })).toHaveLength(2);
    });

    it('throws TypeError for a limit that is not a non-negative integer', () => {
      expect(() => parseChallenges('A', { maxLength: Infinity })).toThrow(TypeError);
      expect(() => parseChallenges('A', { maxParams: -1 })).toThrow(TypeError);
      expect(() => parseChallenges('A', { maxChallenges: 1.5 })).toThrow(TypeError);
      // A length or a challenge count of 0 would refuse every header: Number('') of an unset
      // variable, not a choice.
      expect(() => parseChallenges('A', { maxLength: 0 })).toThrow(
        new TypeError('HeaderLimits.maxLength must be a positive integer'),
      );
      expect(() => parseChallenges('A', { maxChallenges: 0 })).toThrow(
        new TypeError('HeaderLimits.maxChallenges must be a positive integer'),
      );
      expect(parseChallenges('A', { maxLength: 1, maxChallenges: 1 })).toHaveLength(1);
      expect(parseChallenges('A', {})).toHaveLength(1);
    });
  });
});
