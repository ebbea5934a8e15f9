import { createHash } from 'node:crypto';
import {
  findAlgorithm,
  hashCredentials,
  hashUsername,
} from '../../../src/schemes/digest/algorithms';
import { decodeWireUsername, readDirectives } from '../../../src/schemes/digest/directives';
import type { DigestDirectives } from '../../../src/schemes/digest/directives';
import { requestDigest, sessionHA1 } from '../../../src/schemes/digest/response';
import {
  rfc2617Section3_5,
  rfc7616Section3_9_1Md5,
  rfc7616Section3_9_1Sha256,
  rfc7616Section3_9_2,
  type DigestVector,
} from '../../fixtures/rfc/digest';

function directivesOf(params: Record<string, string>): DigestDirectives {
  const result = readDirectives({
    scheme: 'Digest',
    params: Object.assign(Object.create(null), params),
  });
  if ('ok' in result) throw new Error(`directives refused: ${result.message}`);
  return result;
}

/** The response our verifier expects for `directives`, given the user's password. */
function expectedResponse(vector: DigestVector, directives: DigestDirectives): string {
  const ha1 = hashCredentials(
    directives.algorithm.hash,
    vector.user,
    vector.realm,
    vector.password,
  );
  const key = sessionHA1(directives.algorithm, ha1, directives.nonce, directives.cnonce);
  return requestDigest(directives, key, vector.method, undefined);
}

describe('Digest: the RFC examples', () => {
  it.each([rfc2617Section3_5, rfc7616Section3_9_1Md5, rfc7616Section3_9_1Sha256])(
    '$title: the published response is the one expected',
    (vector) => {
      const directives = directivesOf(vector.directives);
      expect(expectedResponse(vector, directives)).toBe(vector.directives.response);
      expect(directives.response).toBe(vector.directives.response);
    },
  );

  it('RFC 2617 §3.5: a response without an algorithm directive is MD5 (RFC 7616 §3.4)', () => {
    const directives = directivesOf(rfc2617Section3_5.directives);
    expect(directives.algorithm.name).toBe('MD5');
    expect(directives.algorithmSent).toBe(false);
  });

  it('RFC 7616 §3.9.1: a wrong password does not give the published response', () => {
    const vector = { ...rfc7616Section3_9_1Sha256, password: 'Circle Of Life' };
    expect(expectedResponse(vector, directivesOf(vector.directives))).not.toBe(
      vector.directives.response,
    );
  });

  describe('RFC 7616 §3.9.2 (SHA-512-256, userhash, username*)', () => {
    const vector = rfc7616Section3_9_2;
    const truncatedSha512 = (data: string): string =>
      createHash('sha512').update(data, 'utf8').digest('hex').slice(0, 64);

    it('the published userhash and response are truncated SHA-512, not SHA-512/256 (erratum 4897)', () => {
      const ha1 = truncatedSha512(`${vector.user}:${vector.realm}:${vector.password}`);
      const ha2 = truncatedSha512(`GET:${vector.directives.uri}`);
      const d = vector.directives;
      expect(truncatedSha512(`${vector.user}:${vector.realm}`)).toBe(vector.published.username);
      expect(truncatedSha512(`${ha1}:${d.nonce}:${d.nc}:${d.cnonce}:${d.qop}:${ha2}`)).toBe(
        vector.published.response,
      );
      // …and so SHA-512/256 (FIPS 180-4, its own initial values), which we implement, differs.
      expect(hashUsername('SHA-512-256', vector.user, vector.realm)).not.toBe(
        vector.published.username,
      );
    });

    it('the userhash is H(username ":" realm) with SHA-512/256', () => {
      expect(hashUsername('SHA-512-256', vector.user, vector.realm)).toBe(
        vector.corrected.username,
      );
    });

    it('the request with userhash=true gives the corrected response', () => {
      const directives = directivesOf({
        ...vector.directives,
        username: vector.corrected.username,
        response: vector.corrected.response,
      });
      expect(directives.userhash).toBe(true);
      expect(directives.algorithm).toBe(findAlgorithm('SHA-512-256'));
      // HA1 uses the real user name, not its hash (RFC 7616 §3.4.4).
      expect(expectedResponse(vector, directives)).toBe(vector.corrected.response);
    });

    it('username* decodes to the user name and gives the same response', () => {
      const params: Record<string, string> = {
        ...vector.directives,
        'username*': vector.usernameExtValue,
        response: vector.corrected.response,
      };
      delete params.userhash;
      const directives = directivesOf(params);
      expect(directives.extendedUsername).toBe(true);
      expect(directives.username).toBe(vector.user);
      expect(expectedResponse(vector, directives)).toBe(vector.corrected.response);
    });

    it('a UTF-8 user name sent as a plain username (latin1 on the wire) decodes to the same name', () => {
      const wire = Buffer.from(vector.user, 'utf8').toString('latin1');
      expect(decodeWireUsername(wire)).toBe(vector.user);
      expect(decodeWireUsername('\u00e4')).toBeUndefined();
      // acceptLatin1: bytes that are not UTF-8 are their latin1 reading; UTF-8 stays UTF-8.
      expect(decodeWireUsername('J\u00f6rg', true)).toBe('J\u00f6rg');
      expect(decodeWireUsername(wire, true)).toBe(vector.user);
      expect(decodeWireUsername('A\u0085', true)).toBeUndefined();
    });
  });
});
