/**
 * Audit of authscheme/client: each test fails on the code it was written against.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuthFetch, ServerAuthenticationError } from 'authscheme/client';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((done) => s.close(done));
    }),
  );
});

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; log: { url: string; authorization: string | undefined }[] }> {
  const log: { url: string; authorization: string | undefined }[] = [];
  const server = createServer((req, res) => {
    log.push({ url: req.url!, authorization: req.headers.authorization });
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, log };
}

describe('redirect limit (README: "by fetch\'s rules (at most 20)")', () => {
  it('gives up after 20 redirects in all, also when a Digest-answered hop leads to hops fetch follows', async () => {
    // /start is Digest-protected (its domain is /start only) and redirects to /h1; /h1 ... /h20
    // redirect on, unprotected, and /h21 answers: 21 redirects from /start.
    const { url } = await listen((req, res) => {
      if (req.url === '/start') {
        if (req.headers.authorization === undefined) {
          res.statusCode = 401;
          res.setHeader(
            'WWW-Authenticate',
            'Digest realm="r", nonce="n1", qop="auth", domain="/start"',
          );
        } else {
          res.statusCode = 302;
          res.setHeader('Location', '/h1');
        }
        res.end();
        return;
      }
      const hop = Number(req.url!.slice(2));
      if (hop <= 20) {
        res.statusCode = 302;
        res.setHeader('Location', `/h${hop + 1}`);
        res.end();
        return;
      }
      res.end('arrived');
    });
    // Plain fetch refuses the same chain (from /h0 to /h21: 21 redirects).
    await expect(fetch(`${url}/h0`)).rejects.toThrow('fetch failed');
    const authFetch = createAuthFetch({ username: 'alice', password: 'secret' });
    await expect(authFetch(`${url}/start`)).rejects.toThrow('fetch failed');
  });
});

describe('rspauth on a 401 (README: "checked on a response of any status: a wrong one rejects")', () => {
  it.each([true, 'require'] as const)(
    'rejects a wrong rspauth that comes with a 401 to its answer (verifyServer %s)',
    async (verifyServer) => {
      const { url } = await listen((req, res) => {
        res.statusCode = 401;
        res.setHeader('WWW-Authenticate', 'Digest realm="r", nonce="n1", qop="auth"');
        if (req.headers.authorization !== undefined) {
          res.setHeader('Authentication-Info', `rspauth="${'0'.repeat(32)}", qop=auth`);
        }
        res.end('forged');
      });
      const authFetch = createAuthFetch(
        { username: 'alice', password: 'secret' },
        { verifyServer },
      );
      await expect(authFetch(url)).rejects.toBeInstanceOf(ServerAuthenticationError);
    },
  );
});

describe('credentials that are not well-formed UTF-16', () => {
  it('refuses a password with a lone surrogate at setup instead of sending U+FFFD for it', async () => {
    expect(() => createAuthFetch({ username: 'alice', password: 'pass\uD800' })).toThrow(TypeError);
    expect(() => createAuthFetch({ username: 'al\uDC00ice', password: 'secret' })).toThrow(
      TypeError,
    );
  });
});

describe("the caller's own Authorization (Fetch standard: an authentication entry is used only without one)", () => {
  it('does not replace an Authorization header the caller set with remembered credentials', async () => {
    const { url, log } = await listen((req, res) => {
      if (req.headers.authorization === undefined) {
        res.statusCode = 401;
        res.setHeader('WWW-Authenticate', 'Digest realm="r", nonce="n1", qop="auth"');
        res.end();
        return;
      }
      res.end('ok');
    });
    const authFetch = createAuthFetch({ username: 'alice', password: 'secret' });
    expect((await authFetch(`${url}/a`)).status).toBe(200);
    await authFetch(`${url}/b`, { headers: { Authorization: 'Bearer the-callers-token' } });
    expect(log.at(-1)).toEqual({ url: '/b', authorization: 'Bearer the-callers-token' });
  });
});
