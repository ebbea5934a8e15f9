/**
 * Audit of authscheme/client: each test fails on the code it was written against.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuthFetch, ServerAuthenticationError } from 'authscheme/client';
import { closedAfterEach } from '../helpers/logging-server';

const servers = closedAfterEach();

interface Logged {
  url: string;
  method: string;
  authorization: string | undefined;
  body: string;
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<{ url: string; log: Logged[] }> {
  const log: Logged[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      log.push({
        url: req.url!,
        method: req.method!,
        authorization: req.headers.authorization,
        body,
      });
      handler(req, res, body);
    });
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
    expect(log.at(-1)).toMatchObject({ url: '/b', authorization: 'Bearer the-callers-token' });
  });
});

// From the review of the fixes above: a body sent again on a second 307 after another origin, a
// same-origin chain of 307s, and a Digest challenge junk cut short (skipped, not answered).
describe('client: hops after another origin (followPlain)', () => {
  it('follows a second 307 on the other origin with the body, as fetch did', async () => {
    const b = await listen((req, res, body) => {
      if (req.url === '/one') {
        res.statusCode = 307;
        res.setHeader('Location', '/two');
        res.end();
        return;
      }
      res.end(`got ${req.method} ${body}`);
    });
    const a = await listen((req, res) => {
      if (req.headers.authorization === undefined) {
        res.statusCode = 401;
        res.setHeader('WWW-Authenticate', 'Digest realm="r", nonce="n1", qop="auth"');
        res.end();
        return;
      }
      res.statusCode = 307;
      res.setHeader('Location', `${b.url}/one`);
      res.end();
    });
    const authFetch = createAuthFetch({ username: 'alice', password: 'secret' });
    const res = await authFetch(`${a.url}/start`, { method: 'POST', body: 'payload' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('got POST payload');
  });
});

describe('client: same-origin hops after a Digest answer (control)', () => {
  it('follows two 307s on the same origin with the body', async () => {
    const a = await listen((req, res, body) => {
      if (req.url === '/start' && req.headers.authorization === undefined) {
        res.statusCode = 401;
        res.setHeader(
          'WWW-Authenticate',
          'Digest realm="r", nonce="n1", qop="auth", domain="/start"',
        );
        res.end();
        return;
      }
      if (req.url === '/start' || req.url === '/one') {
        res.statusCode = 307;
        res.setHeader('Location', req.url === '/start' ? '/one' : '/two');
        res.end();
        return;
      }
      res.end(`got ${req.method} ${body}`);
    });
    const authFetch = createAuthFetch({ username: 'alice', password: 'secret' });
    const res = await authFetch(`${a.url}/start`, { method: 'POST', body: 'payload' });
    expect(await res.text()).toBe('got POST payload');
  });
});

describe('client: a malformed challenge (README: "a malformed challenge is skipped")', () => {
  it('does not answer a Digest challenge cut short by junk inside it (its algorithm lost)', async () => {
    const a = await listen((_req, res) => {
      res.statusCode = 401;
      // One line, one challenge; the junk element makes it malformed.
      res.setHeader(
        'WWW-Authenticate',
        'Digest realm="r", nonce="n1", qop="auth", @, algorithm=SHA-256',
      );
      res.end();
    });
    const seen: (string | undefined)[] = [];
    const authFetch = createAuthFetch(
      { username: 'alice', password: 'secret' },
      {
        fetch: async (input, init) => {
          const request = new Request(input, init);
          seen.push(request.headers.get('authorization') ?? undefined);
          return fetch(request);
        },
      },
    );
    const res = await authFetch(`${a.url}/x`);
    expect(res.status).toBe(401);
    // Sent: one request without credentials. Observed: a second with an MD5 answer.
    expect(seen).toEqual([undefined]);
  });
});
