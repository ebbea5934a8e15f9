import { sameResource } from '../../../src/schemes/digest/uri';

describe('sameResource(): the uri directive against the request target (RFC 7616 §3.4.6)', () => {
  it.each([
    ['/a?b=1', '/a?b=1', undefined],
    // Proxies: absolute-form target, origin-form uri (curl --proxy-digest, Chromium).
    ['/a?b=1', 'http://example.com/a?b=1', undefined],
    ['/', 'http://example.com', undefined],
    ['/?q', 'http://example.com?q', undefined],
    ['http://example.com/a', 'http://example.com/a', undefined],
    // An absolute uri for an origin-form target, when its authority is the Host.
    ['http://Example.com:8080/a', '/a', 'example.com:8080'],
    ['host.example:443', 'host.example:443', undefined],
    // Both absolute: scheme and host in any case, a default port or none (RFC 3986 §6.2.2, §6.2.3).
    ['HTTP://Example.COM/a', 'http://example.com/a', undefined],
    ['http://example.com:80/a', 'http://example.com/a', undefined],
    ['https://example.com/a', 'https://EXAMPLE.com:443/a', undefined],
    ['http://example.com:80/a', '/a', 'Example.com'],
    ['http://example.com/a', '/a', 'example.com:80'],
  ])('%p names the same resource as %p', (uri, target, host) => {
    expect(sameResource(uri, target, host)).toBe(true);
  });

  it.each([
    ['/a', '/a?b=1', undefined],
    ['/a?b=2', '/a?b=1', undefined],
    ['/A', '/a', undefined],
    ['/a%2f', '/a/', undefined],
    ['/b', 'http://example.com/a', undefined],
    ['http://other.com/a', '/a', 'example.com'],
    ['http://example.com/a', '/a', undefined],
    ['ftp://example.com/a', '/a', 'example.com'],
    ['http:///a', '/a', ''],
    ['/items', '/api/items', undefined],
    ['https://example.com/a', 'http://example.com/a', undefined],
    ['http://example.com:8080/a', 'http://example.com/a', undefined],
    ['https://example.com:80/a', '/a', 'example.com'],
    ['http://example.com/A', 'http://example.com/a', undefined],
    // The Host's authority in an absolute uri does not make another path the same resource.
    ['http://example.com/b', '/a', 'example.com'],
    ['http://example.com/a?x', '/a', 'example.com'],
    // No "://": no absolute URI, whatever its first letters spell.
    ['https', '/', 'tps'],
  ])('%p does not name %p', (uri, target, host) => {
    expect(sameResource(uri, target, host)).toBe(false);
  });
});
