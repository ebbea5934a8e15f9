/**
 * Whether a URL's hostname names this machine (`localhost`, 127.0.0.0/8, ::1, and 127.0.0.0/8
 * mapped to IPv6): plain http there never leaves the host, so secrets may go without TLS. Not
 * `*.localhost`: browsers resolve those to loopback themselves (RFC 6761 §6.3), but Node asks the
 * system resolver, which may ask DNS.
 */
export function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname) ||
    // 127.0.0.0/8 mapped to IPv6 (::ffff:127.x.y.z), as the URL parser writes it.
    /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(hostname)
  );
}
