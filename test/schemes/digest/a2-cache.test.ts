import { findAlgorithm, hashWire } from '../../../src/schemes/digest/algorithms';
import type { DigestDirectives } from '../../../src/schemes/digest/directives';
import { cachedA2Count, requestDigest } from '../../../src/schemes/digest/response';

describe('the H(A2) cache', () => {
  it('stays bounded over all methods (HTTP/2 lets a client send any token), and stays right', () => {
    const algorithm = findAlgorithm('SHA-256')!;
    const directives = (uri: string): DigestDirectives =>
      ({
        algorithm,
        uri,
        nonce: 'n',
        ncText: '00000001',
        cnonce: 'c',
        qopText: 'auth',
      }) as DigestDirectives;
    // H(A2) is computed before the password is checked: anyone can fill the cache. 200 methods of
    // 100 uris each held 20,000 entries before; the bound holds them to 4096 in all.
    for (let m = 0; m < 200; m++) {
      for (let u = 0; u < 100; u++) requestDigest(directives(`/${u}`), 'k', `M${m}`, undefined);
      expect(cachedA2Count(algorithm)).toBeLessThanOrEqual(4096);
    }
    const expected = hashWire(
      algorithm,
      'k',
      'n',
      '00000001',
      'c',
      'auth',
      hashWire(algorithm, 'M7', '/3'),
    );
    expect(requestDigest(directives('/3'), 'k', 'M7', undefined)).toBe(expected);
    expect(requestDigest(directives('/3'), 'k', 'M7', undefined)).toBe(expected);
  });
});
