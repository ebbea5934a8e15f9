import type { IncomingMessage } from 'node:http';

/**
 * RFC 7616 §3.4.6: the `uri` directive repeats the request target so that a response cannot be
 * moved to another resource; the server checks that both name the same resource and answers a
 * mismatch with 400 (as Apache does, even for a different query).
 *
 * Equal strings always match. Proxies see an absolute-form target (RFC 9112 §3.2.2) while curl and
 * Chromium put the origin form in `uri` for `Proxy-Authorization`; the reverse (an absolute `uri`
 * for an origin-form target) names the same resource when its authority is the Host. Nothing else
 * is normalised but the case of scheme and host and a default port (RFC 3986 §6.2.2.1,
 * §6.2.3): no percent-decoding, no dot segments, the query compared as is.
 */
export function sameResource(uri: string, target: string, host: string | undefined): boolean {
  if (uri === target) return true;
  const uriParts = absoluteParts(uri);
  const targetParts = absoluteParts(target);
  if (targetParts !== undefined) {
    if (uriParts === undefined) return uri === targetParts.pathAndQuery;
    // Both absolute: scheme and host are case-insensitive, a default port is the same as none
    // (RFC 3986 §6.2.2.1, §6.2.3).
    return (
      uriParts.scheme === targetParts.scheme &&
      uriParts.authority === targetParts.authority &&
      uriParts.pathAndQuery === targetParts.pathAndQuery
    );
  }
  if (uriParts === undefined || host === undefined) return false;
  return (
    uriParts.pathAndQuery === target &&
    uriParts.authority === normalAuthority(uriParts.scheme, host)
  );
}

/**
 * The authority the request was sent to: HTTP/2's `:authority` (RFC 9113 §8.3.1; Node's
 * compatibility API adds no Host), else `Host`. HTTP/1 cannot carry a field named `:authority`.
 */
export function authorityOf(req: IncomingMessage): string | undefined {
  const { headers } = req;
  const authority = headers[':authority'] ?? headers.host;
  return typeof authority === 'string' ? authority : undefined;
}

interface AbsoluteParts {
  /** Lower-cased. */
  scheme: 'http' | 'https';
  /** Lower-cased, without the scheme's default port. */
  authority: string;
  pathAndQuery: string;
}

/** Splits an absolute `http(s)://authority/path?query` URI, or returns undefined. */
function absoluteParts(uri: string): AbsoluteParts | undefined {
  const colon = uri.indexOf('://');
  if (colon === -1) return undefined;
  const scheme = uri.slice(0, colon).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return undefined;
  const authorityStart = colon + 3;
  let end = authorityStart;
  while (end < uri.length) {
    const code = uri.charCodeAt(end);
    if (code === 0x2f /* / */ || code === 0x3f /* ? */ || code === 0x23 /* # */) break;
    end++;
  }
  const authority = uri.slice(authorityStart, end);
  if (authority === '') return undefined;
  const rest = uri.slice(end);
  // RFC 9112 §3.2.1: an empty path is sent as "/" (an empty rest has no first "/" either).
  const pathAndQuery = rest.charCodeAt(0) !== 0x2f ? `/${rest}` : rest;
  return { scheme, authority: normalAuthority(scheme, authority), pathAndQuery };
}

/** An authority lower-cased and without the scheme's default port (RFC 3986 §6.2.3). */
function normalAuthority(scheme: 'http' | 'https', authority: string): string {
  const lower = authority.toLowerCase();
  const defaultPort = scheme === 'http' ? ':80' : ':443';
  return lower.endsWith(defaultPort) ? lower.slice(0, -defaultPort.length) : lower;
}
