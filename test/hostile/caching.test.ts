/**
 * Caching: refusals are never stored (`Cache-Control: no-store`); authenticated responses vary on
 * the field that authenticated them, are left to RFC 9111 §3.5 for `Authorization` and are
 * `private` in proxy mode, unless the application chose otherwise.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { authenticate, basic, bearer, digest, type AuthenticateOptions } from 'authscheme';
import {
  basicAuth,
  digestAnswer,
  digestHeader,
  expectRefused,
  listen,
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

// express.static and res.sendFile (the send package) set `Cache-Control: public, max-age=…` on what
// they serve when nothing set one before them, and `public` lets a shared cache store and reuse a
// response to Authorization (RFC 9111 §3.5): README and docs/security.md tell to give the guard
// `cacheControl: 'private'`, which they keep. A 304 and a 206 carry what the 200 does (RFC 9110
// §15.4.5: Cache-Control, ETag, Vary), and Digest's Authentication-Info.
describe('files served behind the guard', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'authscheme-caching-'));
  writeFileSync(path.join(dir, 'a.txt'), 'x'.repeat(2000));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const servers: TestServer[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  async function files(options: Partial<AuthenticateOptions> = {}): Promise<TestServer> {
    const app = express();
    app.use(
      authenticate({
        realm: 'c',
        schemes: [digest({ users, secret: 'c'.repeat(32) }), basic({ users })],
        ...options,
      }),
    );
    app.get('/file', (_req, res) => res.sendFile(path.join(dir, 'a.txt')));
    app.use(express.static(dir));
    const server = await listen(http.createServer(app));
    servers.push(server);
    return server;
  }

  it.each(['/a.txt', '/file'])(
    '%s is public, max-age=0 by default, which the docs tell to make private',
    async (file) => {
      const reply = await send(await files(), { Authorization: good }, 'GET', file);
      expect(reply.status).toBe(200);
      expect(reply.headers['cache-control']).toEqual(['public, max-age=0']);
      expect(reply.headers.vary).toEqual(['Authorization']);
    },
  );

  it.each(['/a.txt', '/file'])(
    '%s keeps cacheControl private on 200, HEAD, 304 and 206, with Vary and ETag',
    async (file) => {
      const app = await files({ cacheControl: 'private' });
      const ok = await send(app, { Authorization: good }, 'GET', file);
      expect(ok.status).toBe(200);
      const etag = ok.headers.etag![0]!;
      const replies = [
        [ok, 200],
        [await send(app, { Authorization: good }, 'HEAD', file), 200],
        [await send(app, { Authorization: good, 'If-None-Match': etag }, 'GET', file), 304],
        [await send(app, { Authorization: good, Range: 'bytes=0-9' }, 'GET', file), 206],
      ] as const;
      for (const [reply, status] of replies) {
        expect(reply.status).toBe(status);
        expect(reply.headers['cache-control']).toEqual(['private']);
        expect(reply.headers.vary).toEqual(['Authorization']);
        expect(reply.headers.etag).toEqual([etag]);
      }
      expect(replies[3][0].headers['content-range']).toEqual(['bytes 0-9/2000']);
    },
  );

  it('a Digest 304 carries Authentication-Info, Vary and the ETag', async () => {
    const app = await files({ cacheControl: 'private' });
    const a = await digestAnswer(app, 'alice', 'wonderland', 'GET', '/a.txt');
    const ok = await send(app, { Authorization: digestHeader(a) }, 'GET', '/a.txt');
    expect(ok.status).toBe(200);
    const etag = ok.headers.etag![0]!;
    const again = { ...a, nc: '00000002' };
    const reply = await send(
      app,
      { Authorization: digestHeader(again), 'If-None-Match': etag },
      'GET',
      '/a.txt',
    );
    expect(reply.status).toBe(304);
    expect(reply.headers['authentication-info']![0]).toMatch(/rspauth="[0-9a-f]{64}".*nc=00000002/);
    expect(reply.headers.vary).toEqual(['Authorization']);
    expect(reply.headers['cache-control']).toEqual(['private']);
    expect(reply.headers.etag).toEqual([etag]);
  });

  it('a refusal of a Range request carries no-store and no Content-Range', async () => {
    const reply = await send(await files(), { Range: 'bytes=0-9' }, 'GET', '/a.txt');
    expectRefused(reply, [401]);
    expect(reply.headers['cache-control']).toEqual(['no-store']);
    expect(reply.headers['content-range']).toBeUndefined();
  });
});
