/** The Scheme object of bearer() driven directly, as authenticate() drives it. */
import http from 'node:http';
import express from 'express';
import request from 'supertest';
import type { Challenge } from '../../../src/header/types';
import type { RequestContext, SchemeFailure } from '../../../src/scheme';
import { bearer, requireScopes, type BearerVerify } from '../../../src/schemes/bearer';
import { AuthenticationError } from '../../../src/errors';
import { bearerApp } from './helpers';

const ctx = {
  req: {} as RequestContext['req'],
  res: {} as RequestContext['res'],
  realm: 'r',
  proxy: false,
  method: 'GET',
  url: '/',
} satisfies RequestContext;

const credentials = (token68?: string) => ({
  scheme: 'Bearer',
  params: Object.create(null) as Record<string, string>,
  ...(token68 === undefined ? {} : { token68 }),
});

describe('bearer() as a Scheme', () => {
  const scheme = bearer({ verify: () => 'u' });

  it.each([
    ['ERR_AUTH_MISSING_CREDENTIALS', undefined],
    ['ERR_AUTH_HEADER_SYNTAX', 'invalid_request'],
    ['ERR_AUTH_DUPLICATE_HEADER', 'invalid_request'],
    ['ERR_AUTH_INVALID_REQUEST', 'invalid_request'],
    ['ERR_AUTH_INSUFFICIENT_SCOPE', 'insufficient_scope'],
    ['ERR_AUTH_INVALID_CREDENTIALS', 'invalid_token'],
  ])('maps a failure coded %s that it did not build to error=%p', async (code, error) => {
    const failure = { ok: false, code, message: 'm' } as SchemeFailure;
    const [challenge] = await scheme.challenges(ctx, failure);
    expect(challenge?.params['error']).toBe(error);
    expect(challenge?.params['realm']).toBe('r');
  });

  it.each(['a b', '=abc', 'a=b', 'abc==x', '', 'ä'])(
    'refuses the token68 %p with invalid_request',
    async (token) => {
      const result = await scheme.verify(credentials(token), ctx);
      expect(result).toMatchObject({ ok: false, status: 400, bearerError: 'invalid_request' });
    },
  );

  it.each(['a b', '=abc', 'ä'])(
    'refuses the token68 %p with invalid_request when the cache is on, too',
    async (token) => {
      const cached = bearer({ verify: () => 'u', cache: true });
      // A good token first, so the cache is not empty.
      expect(await cached.verify(credentials('good'), ctx)).toMatchObject({ ok: true });
      expect(await cached.verify(credentials('good'), ctx)).toMatchObject({ ok: true });
      const result = await cached.verify(credentials(token), ctx);
      expect(result).toMatchObject({ ok: false, status: 400, bearerError: 'invalid_request' });
    },
  );

  it('accepts a token with trailing = padding', async () => {
    expect(await scheme.verify(credentials('abc+/_-.~=='), ctx)).toMatchObject({
      ok: true,
      user: 'u',
    });
  });

  it('hands an expiresAt that is not a time to next(err)', async () => {
    // TypeScript refuses this verifier (test/types/req-auth.test.ts); JavaScript does not.
    const verify = (() => ({ user: 'u', expiresAt: 'tomorrow' })) as unknown as BearerVerify;
    const app = bearerApp({ verify });
    expect((await request(app).get('/').set('Authorization', 'Bearer t')).status).toBe(500);
  });
});

describe('bearer() challenges', () => {
  const missing = {
    ok: false,
    code: 'ERR_AUTH_MISSING_CREDENTIALS',
    message: 'm',
  } as SchemeFailure;
  const invalid = {
    ok: false,
    code: 'ERR_AUTH_INVALID_CREDENTIALS',
    message: 'm',
  } as SchemeFailure;

  it('makes the challenge without an error once per realm, frozen, with the required scope', () => {
    const scheme = bearer({ verify: () => 'u', requiredScopes: ['read', 'write'] });
    // Bearer makes its challenges synchronously.
    const challengesOf = (realm: string, failure?: SchemeFailure) =>
      scheme.challenges({ ...ctx, realm }, failure) as readonly Challenge[];
    const first = challengesOf('a');
    expect(first).toEqual([{ scheme: 'Bearer', params: { realm: 'a', scope: 'read write' } }]);
    expect(Object.isFrozen(first[0])).toBe(true);
    expect(Object.isFrozen(first[0]!.params)).toBe(true);
    // A failure that carries no error (no credentials) gets the same kept challenge.
    expect(challengesOf('a')).toBe(first);
    expect(challengesOf('a', missing)).toBe(first);
    expect(challengesOf('b')).toEqual([
      { scheme: 'Bearer', params: { realm: 'b', scope: 'read write' } },
    ]);
    expect(challengesOf('a')).toBe(first);
  });

  it('makes a challenge with an error afresh, never the kept one', () => {
    const scheme = bearer({ verify: () => 'u', errorUri: 'https://example.com/e' });
    const challengesOf = (failure?: SchemeFailure) =>
      scheme.challenges(ctx, failure) as readonly Challenge[];
    const plain = challengesOf();
    const refused = challengesOf(invalid);
    expect(refused).toEqual([
      {
        scheme: 'Bearer',
        params: { realm: 'r', error: 'invalid_token', error_uri: 'https://example.com/e' },
      },
    ]);
    expect(Object.isFrozen(refused[0]!.params)).toBe(false);
    expect(challengesOf(invalid)[0]).not.toBe(refused[0]);
    // The error was not written into the kept challenge.
    expect(challengesOf()).toBe(plain);
    expect(plain[0]!.params).toEqual({ realm: 'r' });
  });

  it('keeps the challenges of 64 realms at most', () => {
    const scheme = bearer({ verify: () => 'u' });
    const challengesOf = (realm: string) =>
      scheme.challenges({ ...ctx, realm }) as readonly Challenge[];
    const first = challengesOf('tenant-0');
    for (let i = 1; i < 64; i++) challengesOf(`tenant-${i}`);
    expect(challengesOf('tenant-0')).toBe(first);
    challengesOf('tenant-64');
    const again = challengesOf('tenant-0');
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });

  it("names its own realm over the middleware's", () => {
    const scheme = bearer({ verify: () => 'u', realm: 'own' });
    expect(scheme.challenges(ctx)).toEqual([{ scheme: 'Bearer', params: { realm: 'own' } }]);
  });
});

describe('requireScopes() edge cases', () => {
  it('hands malformed req.auth.scopes to next(err)', async () => {
    const app = express();
    app.use((req, _res, next) => {
      req.auth = { scheme: 'Bearer', user: 'u', scopes: 42 };
      next();
    });
    app.get('/', requireScopes('read'), (_req, res) => res.send('ran'));
    app.use((_e: unknown, _q: express.Request, res: express.Response, _n: express.NextFunction) => {
      res.status(500).send('error');
    });
    const res = await request(app).get('/');
    expect(res.status).toBe(500);
    expect(res.text).toBe('error');
  });

  it('hands its refusal to next(err) when the response went out already, the connection kept', async () => {
    const guard = requireScopes('read');
    const seen: unknown[] = [];
    const server = http.createServer((req, res) => {
      res.end(`early ${req.url}`);
      guard(req, res, (err?: unknown) => seen.push(err));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as import('node:net').AddressInfo).port;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<{ text: string; socket: unknown }>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path, agent }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve({ text, socket: res.socket }));
          })
          .on('error', reject);
      });
    try {
      const first = await get('/1');
      const second = await get('/2');
      expect([first.text, second.text]).toEqual(['early /1', 'early /2']);
      // One connection served both: the guard closed nothing.
      expect(second.socket).toBe(first.socket);
      expect(seen).toHaveLength(2);
      expect(seen[0]).toBeInstanceOf(AuthenticationError);
      expect(seen[0]).toMatchObject({ code: 'ERR_AUTH_MISSING_CREDENTIALS', status: 401 });
    } finally {
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
