/**
 * Digest behind forward authentication (nginx auth_request, Traefik ForwardAuth): the app answers
 * a check on its own path, usually a GET, and `forwardedRequest` says which request the client
 * sent the proxy. Express on a real server, a client that computes its responses itself.
 */
import express from 'express';
import request from 'supertest';
import {
  authenticate,
  digest,
  formatCredentials,
  parseChallenges,
  type AuthRequest,
  type Challenge,
  type DigestOptions,
  type ForwardedRequest,
} from 'authscheme';
import { answer, expectedRspauth, parseInfo, serversForThisFile } from './helpers';

const SECRET = 'forward-auth-secret-forward-auth';
const alice = { user: 'alice', password: 'secret' };
const listen = serversForThisFile();

/** What nginx's auth_request location is told to send (proxy_set_header). */
const fromNginxHeaders = (req: AuthRequest): ForwardedRequest => ({
  method: req.headers['x-original-method'] as string,
  target: req.headers['x-original-uri'] as string,
});

function checkApp(options: Partial<DigestOptions> = {}): express.Express {
  const app = express();
  app.get(
    '/_auth',
    authenticate({
      realm: 'files',
      schemes: [
        digest({
          users: { alice: 'secret' },
          secret: SECRET,
          forwardedRequest: fromNginxHeaders,
          ...options,
        } as DigestOptions),
      ],
    }),
    (req, res) => {
      res.send(req.auth!.user);
    },
  );
  return app;
}

async function challenge(base: string): Promise<Challenge> {
  const res = await request(base).get('/_auth');
  expect(res.status).toBe(401);
  return parseChallenges(res.headers['www-authenticate'] as string)[0]!;
}

/** The check nginx sends for a client's `method` and `target`, with `authorization`. */
function check(base: string, method: string, target: string, authorization: string) {
  return request(base)
    .get('/_auth')
    .set('X-Original-Method', method)
    .set('X-Original-URI', target)
    .set('Authorization', authorization);
}

describe('digest({ forwardedRequest })', () => {
  it('checks the uri against, and hashes with, the request the client sent the proxy', async () => {
    const base = await listen(checkApp());
    const c = await challenge(base);
    const sent = { ...alice, method: 'PUT', uri: '/files/report.pdf?v=2' };
    const res = await check(
      base,
      'PUT',
      '/files/report.pdf?v=2',
      formatCredentials(answer(c, sent)),
    );
    expect(res.status).toBe(200);
    expect(res.text).toBe('alice');
    // rspauth covers the client's uri (RFC 7616 §3.5), so the client can check it.
    expect(parseInfo(res.headers['authentication-info'] as string).rspauth).toBe(
      expectedRspauth(c, sent),
    );
  });

  it("refuses a response made for the check's own method or path", async () => {
    const base = await listen(checkApp());
    const c = await challenge(base);
    const madeFor = (options: { method: string; uri: string }) =>
      check(base, 'PUT', '/files/a', formatCredentials(answer(c, { ...alice, ...options })));
    // Hashed over GET, the check's method, where the client sent PUT: a wrong response.
    expect((await madeFor({ method: 'GET', uri: '/files/a' })).status).toBe(401);
    // The uri of the check, not of the client's request (RFC 7616 §3.4.6): 400.
    const moved = await madeFor({ method: 'PUT', uri: '/_auth' });
    expect(moved.status).toBe(400);
  });

  // A realm beyond ASCII is checked in each spelling a client may hash (docs/digest.md): each over
  // the method the client sent, not the check's.
  it.each([
    ['as sent', (text: string) => text],
    ['as its UTF-8 octets', (text: string) => Buffer.from(text, 'utf8').toString('latin1')],
  ])("hashes with the client's method a realm beyond ASCII echoed %s", async (_title, spell) => {
    const app = express();
    app.get(
      '/_auth',
      authenticate({
        realm: 'Z\u00fcrich',
        schemes: [
          digest({
            users: { alice: 'secret' },
            secret: SECRET,
            forwardedRequest: fromNginxHeaders,
          }),
        ],
      }),
      (req, res) => {
        res.send(req.auth!.user);
      },
    );
    const base = await listen(app);
    const c = await challenge(base);
    const echoed = { ...c, params: { ...c.params, realm: spell(c.params.realm as string) } };
    const sent = { ...alice, method: 'PUT', uri: '/files/a' };
    const res = await check(base, 'PUT', '/files/a', formatCredentials(answer(echoed, sent)));
    expect(res.status).toBe(200);
  });

  it('answers 400 when the proxy sent no method or target, whatever the credentials', async () => {
    const base = await listen(checkApp());
    const c = await challenge(base);
    const credentials = formatCredentials(answer(c, { ...alice, uri: '/_auth' }));
    for (const headers of [
      {},
      { 'X-Original-Method': 'GET' },
      { 'X-Original-URI': '/_auth' },
      { 'X-Original-Method': 'G E T', 'X-Original-URI': '/_auth' },
      { 'X-Original-Method': 'GET', 'X-Original-URI': '' },
    ]) {
      const res = await request(base).get('/_auth').set(headers).set('Authorization', credentials);
      expect(res.status).toBe(400);
    }
  });

  it("takes an absolute target, as ingress-nginx's X-Original-URL gives it, for the client's origin-form uri", async () => {
    const base = await listen(checkApp());
    const c = await challenge(base);
    const sent = { ...alice, method: 'GET', uri: '/files/a?x=1' };
    const res = await check(
      base,
      'GET',
      'https://files.example/files/a?x=1',
      formatCredentials(answer(c, sent)),
    );
    expect(res.status).toBe(200);
    // Another path under that origin is another resource.
    const other = await check(
      base,
      'GET',
      'https://files.example/files/b?x=1',
      formatCredentials(answer(c, { ...sent, nc: 2 })),
    );
    expect(other.status).toBe(400);
  });

  it('takes undefined for the request itself', async () => {
    const base = await listen(checkApp({ forwardedRequest: () => undefined }));
    const c = await challenge(base);
    const res = await request(base)
      .get('/_auth')
      .set('Authorization', formatCredentials(answer(c, { ...alice, uri: '/_auth' })));
    expect(res.status).toBe(200);
  });

  it('tells audit why a request without the forwarded fields was refused', async () => {
    const outcomes: unknown[] = [];
    const app = express();
    app.use(
      authenticate({
        schemes: [
          digest({
            users: { alice: 'secret' },
            secret: SECRET,
            // A proxy that sent the method but not the target.
            forwardedRequest: () => ({ method: 'GET' }) as ForwardedRequest,
          }),
        ],
        audit: (outcome) => outcomes.push(outcome),
      }),
    );
    const base = await listen(app);
    const first = await request(base).get('/');
    const c = parseChallenges(first.headers['www-authenticate'] as string)[0]!;
    const res = await request(base)
      .get('/')
      .set('Authorization', formatCredentials(answer(c, { ...alice, uri: '/' })));
    expect(res.status).toBe(400);
    expect(outcomes.at(-1)).toMatchObject({
      outcome: 'refused',
      status: 400,
      code: 'ERR_AUTH_INVALID_REQUEST',
      user: 'alice',
      message: 'Digest forwardedRequest() gave no method and target (did the proxy send them?)',
    });
  });

  it('hands an async forwardedRequest to next(err) as a programming error, not a 400', async () => {
    const errors: unknown[] = [];
    const app = express();
    app.use(
      authenticate({
        schemes: [
          digest({
            users: { alice: 'secret' },
            secret: SECRET,
            forwardedRequest: (async () => ({ method: 'GET', target: '/' })) as never,
          }),
        ],
      }),
    );
    app.use(
      (err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        errors.push(err);
        res.status(500).end();
      },
    );
    const base = await listen(app);
    const first = await request(base).get('/');
    const c = parseChallenges(first.headers['www-authenticate'] as string)[0]!;
    const res = await request(base)
      .get('/')
      .set('Authorization', formatCredentials(answer(c, { ...alice, uri: '/' })));
    expect(res.status).toBe(500);
    expect(errors).toEqual([
      expect.objectContaining({
        code: 'ERR_AUTH_VERIFIER_RESULT',
        message: "Digest's forwardedRequest() returned a promise: it must answer synchronously",
      }),
    ]);
  });

  it('is refused at setup when not a function, or with auth-int (the check carries no body)', () => {
    expect(() =>
      digest({ users: { alice: 'secret' }, forwardedRequest: 'x-original-uri' as never }),
    ).toThrow(new TypeError('digest(): forwardedRequest must be a function'));
    expect(() =>
      digest({
        users: { alice: 'secret' },
        qop: ['auth', 'auth-int'],
        forwardedRequest: fromNginxHeaders,
      }),
    ).toThrow(
      new TypeError(
        "digest(): forwardedRequest cannot go with qop 'auth-int' (forward authentication passes no body)",
      ),
    );
  });
});
