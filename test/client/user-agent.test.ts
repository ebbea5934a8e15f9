/**
 * authscheme/client against the user-agent side of RFC 9110 §11 and §15, RFC 7617 and RFC 6750
 * (a traceability review): real servers on 127.0.0.1.
 */
import express from 'express';
import { authenticate, basic } from 'authscheme';
import { createAuthFetch } from 'authscheme/client';
import { loggingServers } from '../helpers/logging-server';

const listen = loggingServers();

/**
 * An app behind Basic whose `accepts` decides, and the URLs of the refusals its audit hook counts
 * as failed logins (`ERR_AUTH_INVALID_CREDENTIALS`). Routes go after it; a last one answers ok.
 */
function basicApp(accepts: (user: string, password: string, req: express.Request) => boolean) {
  const refusals: string[] = [];
  const app = express();
  app.use(
    authenticate({
      realm: 'r',
      schemes: [
        basic({
          verify: (user, given, req) => accepts(user, given, req as express.Request) && user,
        }),
      ],
      audit: (outcome, req) => {
        if (outcome.code === 'ERR_AUTH_INVALID_CREDENTIALS') refusals.push(req.url!);
      },
    }),
  );
  return { app, refusals };
}

describe('Basic credentials the server refused (RFC 9110 §15.5.2)', () => {
  it('does not send the refused Basic header again to the URL that refused it up front', async () => {
    // "If the request included authentication credentials, then the 401 response indicates that
    // authorization has been refused for those credentials. The user agent MAY repeat the request
    // with a new or replaced Authorization header field": a Basic answer is the same bytes again.
    let password = 'secret';
    const { app, refusals } = basicApp((user, given) => user === 'alice' && given === password);
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
    expect(refusals).toEqual(['/a/2']);
  });

  it('sends a Basic answer refused after a same-origin redirect no second time', async () => {
    // Sent up front to /a, which redirects to /b, which refuses it. Before, fetch followed the
    // redirect with it, and the client, unable to tell whether it arrived, sent it to /b again.
    const { app, refusals } = basicApp((user, _given, req) => user === 'alice' && req.url !== '/b');
    app.get('/a', (_req, res) => res.redirect(302, '/b'));
    app.use((_req, res) => res.end('ok'));
    const { url, log } = await listen(app);
    const authFetch = createAuthFetch({ username: 'alice', password: 'secret' });
    expect((await authFetch(`${url}/warm`)).status).toBe(200);
    const res = await authFetch(`${url}/a`);
    expect([res.status, res.url, res.redirected]).toEqual([401, `${url}/b`, true]);
    expect(log.map((e) => `${e.url} ${e.authorization === undefined ? '-' : 'auth'}`)).toEqual([
      '/warm -',
      '/warm auth',
      '/a auth',
      '/b auth',
    ]);
    // One failed login for a lockout to count.
    expect(refusals).toEqual(['/b']);
  });

  it('sends Basic up front after a same-origin redirect only within the space (RFC 7617 §2.2)', async () => {
    // Learned at /private/a, whose space is /private/: a redirect out of it goes on without the
    // password (before, fetch carried it to /public/b); one back into it carries it again.
    const app = express();
    app.get('/public/b', (_req, res) => res.redirect(302, '/private/c'));
    app.use(
      '/private',
      authenticate({ realm: 'r', schemes: [basic({ users: { alice: 'secret' } })] }),
    );
    app.get('/private/a', (_req, res) => res.redirect(302, '/public/b'));
    app.get('/private/c', (_req, res) => res.end('ok'));
    const { url, log } = await listen(app);
    const authFetch = createAuthFetch({ username: 'alice', password: 'secret' });
    const res = await authFetch(`${url}/private/a`);
    expect([res.status, res.url, res.redirected]).toEqual([200, `${url}/private/c`, true]);
    expect(log.map((e) => `${e.url} ${e.authorization === undefined ? '-' : 'auth'}`)).toEqual([
      '/private/a -',
      '/private/a auth',
      '/public/b -',
      '/private/c auth',
    ]);
  });

  it("sends the caller's own Authorization, refused and answered in its place, on to no same-origin redirect", async () => {
    // Refused at /a, the caller's header gave way to the client's answer, whose 302 the client
    // follows. Before, the hop went out with the caller's header again (a second failed login,
    // and a 401 more to answer); fetch, which followed Basic's redirects until 1032ac9, carried
    // the answer. Now the answer goes up front, as the space learned at /a takes /b in.
    const { app, refusals } = basicApp((user, given) => user === 'alice' && given === 'secret');
    app.get('/a', (_req, res) => res.redirect(302, '/b'));
    app.use((_req, res) => res.end('ok'));
    const { url, log } = await listen(app);
    const authFetch = createAuthFetch({ username: 'alice', password: 'secret' });
    const callers = `Basic ${Buffer.from('alice:wrong').toString('base64')}`;
    const res = await authFetch(`${url}/a`, { headers: { Authorization: callers } });
    expect([res.status, res.url, res.redirected]).toEqual([200, `${url}/b`, true]);
    const answer = `Basic ${Buffer.from('alice:secret').toString('base64')}`;
    expect(log.map((e) => `${e.url} ${e.authorization} ${e.status}`)).toEqual([
      `/a ${callers} 401`,
      `/a ${answer} 302`,
      `/b ${answer} 200`,
    ]);
    expect(refusals).toEqual(['/a']);
  });
});

describe('proxy authentication (RFC 9110 §11.7): not answered', () => {
  it('answers no 407: Node’s fetch rejects it (no window), after one request without credentials', async () => {
    // Fetch standard, HTTP-network-or-cache fetch: a 407 where there is no window is a network
    // error. Node's fetch (undici) does that: nothing loops, and no credentials go anywhere.
    const { url, log } = await listen((_req, res) => {
      res.writeHead(407, {
        'Proxy-Authenticate': 'Basic realm="proxy"',
        'WWW-Authenticate': 'Basic realm="origin"',
      });
      res.end();
    });
    const authFetch = createAuthFetch({ username: 'alice', password: 'secret' });
    // (undici's TypeError, of Node's realm, not of jest's: matched by name.)
    await expect(authFetch(`${url}/x`)).rejects.toMatchObject({
      name: 'TypeError',
      message: 'fetch failed',
    });
    expect(log).toEqual([{ method: 'GET', url: '/x', authorization: undefined, status: 407 }]);
  });

  it('hands back a 407 from a `fetch` of options as it is, unanswered, once', async () => {
    const seen: [string | null, string | null][] = [];
    const proxyFetch: typeof fetch = async (input) => {
      const request = input as Request;
      seen.push([request.headers.get('authorization'), request.headers.get('proxy-authorization')]);
      return new Response(null, {
        status: 407,
        headers: { 'Proxy-Authenticate': 'Basic realm="proxy"' },
      });
    };
    const authFetch = createAuthFetch(
      { username: 'alice', password: 'secret' },
      { fetch: proxyFetch },
    );
    expect((await authFetch('https://api.example/x')).status).toBe(407);
    expect(seen).toEqual([[null, null]]);
  });
});

describe('Basic in UTF-8 and NFC (RFC 7617 §2.1)', () => {
  it('sends user name and password in NFC, UTF-8 encoded, whatever form they were given', async () => {
    const { url, log } = await listen((req, res) => {
      if (req.headers.authorization === undefined) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="r", charset="UTF-8"' }).end();
      } else res.end('ok');
    });
    const nfd = (text: string): string => text.normalize('NFD');
    expect(nfd('jörg')).not.toBe('jörg');
    const authFetch = createAuthFetch({ username: nfd('jörg'), password: nfd('pässword') });
    expect((await authFetch(`${url}/`)).status).toBe(200);
    expect(log.at(-1)?.authorization).toBe(
      `Basic ${Buffer.from('j\u00f6rg:p\u00e4ssword', 'utf8').toString('base64')}`,
    );
  });
});

describe('Authorization on a redirect to another origin (Fetch standard, RFC 9110 §15.4)', () => {
  it("drops the caller's own Authorization, as its answer, on a redirect the client follows after Digest", async () => {
    const other = await listen((req, res) => res.end(String(req.headers.authorization)));
    const { url } = await listen((req, res) => {
      if (req.headers.authorization?.startsWith('Digest ') !== true) {
        res.writeHead(401, { 'WWW-Authenticate': 'Digest realm="r", nonce="n1", qop="auth"' });
        res.end();
      } else res.writeHead(302, { Location: `${other.url}/elsewhere` }).end();
    });
    const authFetch = createAuthFetch({ username: 'alice', password: 'secret' });
    const res = await authFetch(`${url}/away`, {
      headers: { Authorization: 'Bearer the-callers-token' },
    });
    expect([res.status, res.url, res.redirected]).toEqual([200, `${other.url}/elsewhere`, true]);
    expect(await res.text()).toBe('undefined');
    expect(other.log.map((entry) => entry.authorization)).toEqual([undefined]);
  });
});
