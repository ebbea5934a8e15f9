/**
 * The benchmark's Digest load driver (bench/http/wrk/digest.lua, run by bench/http/wrk.ts) against
 * a small server that records what the clients send: one handshake per client, then its nonce
 * with `nc` counting up, and a refused nonce counted against the round.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DigestSession } from '../bench/http/digest-client';
import { runWrk } from '../bench/http/wrk';

interface Seen {
  bare: number;
  authenticated: number;
  /** Requests whose nc was not above the last one seen on its nonce. */
  ncNotIncreasing: number;
  /** The highest nc seen on any nonce. */
  highestNc: number;
  refused: number;
}

/** Challenges every request without credentials; `refuse(nonce, nc)` says which others get 401. */
function digestServer(refuse: (nonce: string, nc: number) => boolean): {
  server: Server;
  seen: Seen;
} {
  const seen: Seen = { bare: 0, authenticated: 0, ncNotIncreasing: 0, highestNc: 0, refused: 0 };
  const last = new Map<string, number>();
  let issued = 0;
  const challenge = (res: import('node:http').ServerResponse): void => {
    const nonce = `nonce-${issued++}`;
    last.set(nonce, 0);
    res.statusCode = 401;
    res.setHeader(
      'WWW-Authenticate',
      `Digest realm="bench", qop="auth", algorithm=SHA-256, nonce="${nonce}"`,
    );
    res.end();
  };
  const server = createServer((req, res) => {
    const header = req.headers.authorization;
    if (header === undefined) {
      seen.bare++;
      challenge(res);
      return;
    }
    seen.authenticated++;
    const nonce = /nonce="([^"]+)"/.exec(header)?.[1] ?? '';
    const nc = Number.parseInt(/nc=([0-9a-f]{8})/.exec(header)?.[1] ?? '0', 16);
    if (!(nc > (last.get(nonce) ?? Infinity))) seen.ncNotIncreasing++;
    last.set(nonce, Math.max(nc, last.get(nonce) ?? 0));
    seen.highestNc = Math.max(seen.highestNc, nc);
    if (refuse(nonce, nc)) {
      seen.refused++;
      challenge(res);
      return;
    }
    res.end('ok');
  });
  return { server, seen };
}

async function drive(refuse: (nonce: string, nc: number) => boolean, connections: number) {
  const { server, seen } = digestServer(refuse);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const result = await runWrk({
      url: `http://127.0.0.1:${port}/`,
      connections,
      durationSec: 1,
      auth: { kind: 'digest', user: 'alice', password: 'secret' },
      expectStatus: 200,
    });
    return { result, seen };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

it('performs one handshake per client, two clients per connection, then counts nc up', async () => {
  const { result, seen } = await drive(() => false, 10);
  // wrk's own check of request() sent nothing; it once took the place of a client (19 here).
  expect(result.handshakes).toBe(20);
  expect(seen.bare).toBe(20);
  expect(result.rehandshakes).toBe(0);
  expect(result.unexpected).toBe(0);
  // Nonces are reused with nc counting up, not answered once each. How many requests a second
  // holds depends on the machine (48 on a CI run with two busy cores, thousands idle).
  expect(seen.authenticated).toBeGreaterThan(seen.bare);
  expect(seen.highestNc).toBeGreaterThanOrEqual(2);
  expect(seen.ncNotIncreasing).toBe(0);
});

it('counts a refused nonce against the round, the first one included', async () => {
  const { result, seen } = await drive((nonce, nc) => nonce === 'nonce-3' && nc === 2, 10);
  expect(seen.refused).toBe(1);
  expect(result.handshakes).toBe(20);
  expect(result.rehandshakes).toBe(1);
  expect(result.unexpected).toBe(1);
});

// bench/instructions.ts's client outlasts a nonce under valgrind: it takes the server's nextnonce.
it('moves a session to the nextnonce of Authentication-Info, counting from 1 (RFC 7616 §3.5)', () => {
  const session = new DigestSession('alice', 'secret');
  session.accept({ realm: 'bench', nonce: 'first', qop: 'auth', algorithm: 'SHA-256' });
  expect(session.authorization('GET', '/')).toMatch(/nonce="first".*nc=00000001/);
  session.followNextNonce('qop=auth, rspauth="x", cnonce="c", nc=00000001');
  session.followNextNonce(undefined);
  expect(session.authorization('GET', '/')).toMatch(/nonce="first".*nc=00000002/);
  session.followNextNonce('qop=auth, rspauth="x", cnonce="c", nc=00000002, nextnonce="second"');
  const next = session.authorization('GET', '/');
  expect(next).toMatch(/nonce="second".*nc=00000001/);
  expect(next).toContain('realm="bench"');
  expect(next).toContain('algorithm=SHA-256');
});
