/**
 * authscheme/client against the user-agent side of RFC 9110 §11 and §15, RFC 7617 and RFC 6750
 * (a traceability review): real servers on 127.0.0.1.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { authenticate, basic } from 'authscheme';
import { createAuthFetch } from 'authscheme/client';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((done) => s.close(done));
    }),
  );
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{
  url: string;
  log: { url: string; authorization: string | undefined; status: number }[];
}> {
  const log: { url: string; authorization: string | undefined; status: number }[] = [];
  const server = createServer((req, res) => {
    res.on('finish', () =>
      log.push({
        url: (req as { originalUrl?: string }).originalUrl ?? req.url!,
        authorization: req.headers.authorization,
        status: res.statusCode,
      }),
    );
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, log };
}

describe('Basic credentials the server refused (RFC 9110 §15.5.2)', () => {
  it('does not send the refused Basic header again to the URL that refused it up front', async () => {
    // "If the request included authentication credentials, then the 401 response indicates that
    // authorization has been refused for those credentials. The user agent MAY repeat the request
    // with a new or replaced Authorization header field": a Basic answer is the same bytes again.
    let password = 'secret';
    const refusals: string[] = [];
    const app = express();
    app.use(
      authenticate({
        realm: 'r',
        schemes: [
          basic({ verify: (user, given) => user === 'alice' && given === password && user }),
        ],
        audit: (outcome, req) => {
          if (outcome.code === 'ERR_AUTH_INVALID_CREDENTIALS')
            refusals.push(`${req.url} ${outcome.code}`);
        },
      }),
    );
    app.use((_req, res) => res.end('ok'));
    const { url, log } = await listen(app);
    const authFetch = createAuthFetch({ username: 'alice', password: 'secret' });
    expect((await authFetch(`${url}/a/1`)).status).toBe(200);
    password = 'changed';
    // Sent up front (RFC 7617 §2.2) and refused: that is the answer, one failed login.
    expect((await authFetch(`${url}/a/2`)).status).toBe(401);
    expect(log.map((e) => `${e.url} ${e.authorization === undefined ? '-' : 'auth'}`)).toEqual([
      '/a/1 -',
      '/a/1 auth',
      '/a/2 auth',
    ]);
    // A lockout (fail2ban, the audit hook) counts one failure, not two.
    expect(refusals).toEqual(['/a/2 ERR_AUTH_INVALID_CREDENTIALS']);
  });
});
