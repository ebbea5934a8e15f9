/**
 * Caching: refusals are never stored (`Cache-Control: no-store`); authenticated responses vary on
 * the field that authenticated them, are left to RFC 9111 §3.5 for `Authorization` and are
 * `private` in proxy mode, unless the application chose otherwise.
 */
import express from 'express';
import { authenticate, basic, bearer, digest, type AuthenticateOptions } from 'authscheme';
import {
  basicAuth,
  digestAnswer,
  digestHeader,
  expectRefused,
  send,
  startForThisFile,
  type TestServer,
} from './helpers';

const users = { alice: 'wonderland' };
const good = basicAuth('alice', 'wonderland');
const start = startForThisFile();

async function make(
  options: Partial<AuthenticateOptions> = {},
  before: express.RequestHandler[] = [],
): Promise<TestServer> {
  return start(
    authenticate({
      realm: 'c',
      schemes: [
        digest({ users, secret: 'c'.repeat(32) }),
        basic({ users }),
        bearer({ verify: (token) => (token === 'good' ? 'alice' : false) }),
      ],
      ...options,
    }),
    { before },
  );
}

let target: TestServer;
let proxy: TestServer;
beforeAll(async () => {
  target = await make();
  proxy = await make({ proxy: true });
});

describe('refusals carry Cache-Control: no-store', () => {
  it.each([
    ['no credentials', {}, 401],
    ['a wrong password', { Authorization: basicAuth('alice', 'x') }, 401],
    ['a malformed field', { Authorization: 'Basic a, b="' }, 400],
    ['two fields', { Authorization: [good, good] }, 400],
    ['a bad token', { Authorization: 'Bearer bad' }, 401],
    ['a malformed token', { Authorization: 'Bearer' }, 400],
  ])('%s', async (_title, headers, status) => {
    const reply = await send(target, headers);
    expectRefused(reply, [status]);
    expect(reply.headers['cache-control']).toEqual(['no-store']);
  });

  it('407 in proxy mode', async () => {
    const reply = await send(proxy, {});
    expectRefused(reply, [407]);
    expect(reply.headers['cache-control']).toEqual(['no-store']);
  });

  it('even when the application set Cache-Control: public before the middleware', async () => {
    const app = await make({}, [
      (_req, res, next) => {
        res.setHeader('Cache-Control', 'public, max-age=3600');
        next();
      },
    ]);
    const reply = await send(app, {});
    expectRefused(reply, [401]);
    expect(reply.headers['cache-control']).toEqual(['no-store']);
  });
});

describe('authenticated responses', () => {
  it('vary on Authorization and add no Cache-Control (RFC 9111 §3.5 covers them), for every scheme', async () => {
    const a = await digestAnswer(target, 'alice', 'wonderland');
    for (const auth of [good, 'Bearer good', digestHeader(a)]) {
      const reply = await send(target, { Authorization: auth });
      expect(reply.status).toBe(200);
      expect(reply.headers['cache-control']).toBeUndefined();
      expect(reply.headers.vary).toEqual(['Authorization']);
    }
  });

  it('are private when the application asks for it', async () => {
    const app = await make({ cacheControl: 'private' });
    const reply = await send(app, { Authorization: good });
    expect(reply.status).toBe(200);
    expect(reply.headers['cache-control']).toEqual(['private']);
  });

  it('are private and vary on Proxy-Authorization in proxy mode', async () => {
    const reply = await send(proxy, { 'Proxy-Authorization': good });
    expect(reply.status).toBe(200);
    expect(reply.headers['cache-control']).toEqual(['private']);
    expect(reply.headers.vary).toEqual(['Proxy-Authorization']);
  });

  it('keep a Cache-Control the application chose and add to its Vary', async () => {
    const app = await make({}, [
      (_req, res, next) => {
        res.setHeader('Cache-Control', 'no-cache');
        res.setHeader('Vary', 'Accept-Encoding');
        next();
      },
    ]);
    const reply = await send(app, { Authorization: good });
    expect(reply.status).toBe(200);
    expect(reply.headers['cache-control']).toEqual(['no-cache']);
    expect(reply.headers.vary).toEqual(['Accept-Encoding, Authorization']);
  });

  // RFC 9110 §12.5.5: Vary lists each field once, case-insensitively, and "*" already says
  // that anything may vary: the field is added only where it is missing.
  it.each([
    ['names it already, in another case', 'Accept, AUTHORIZATION', 'Accept, AUTHORIZATION'],
    ['is "*"', '*', '*'],
    ['is empty', '', 'Authorization'],
    ['is a list of lines', ['Accept', 'Origin'], 'Accept, Origin, Authorization'],
  ])(
    'add Authorization to a Vary the application set that %s only where missing',
    async (_title, vary, sent) => {
      const app = await make({}, [
        (_req, res, next) => {
          res.setHeader('Vary', vary);
          next();
        },
      ]);
      const reply = await send(app, { Authorization: good });
      expect(reply.status).toBe(200);
      expect(reply.headers.vary).toEqual([sent]);
    },
  );
});
