/**
 * Method tricks: HEAD is authenticated like GET, OPTIONS is challenged unless it is a real CORS
 * preflight and `allowPreflight` is on, and `X-HTTP-Method-Override` (or any rewrite of
 * `req.method`) never changes which method Digest authenticates.
 */
import express from 'express';
import { authenticate, basic, digest, type AuthenticateOptions } from 'authscheme';
import {
  HIT,
  basicAuth,
  digestAnswer,
  digestHeader,
  expectChallenged,
  expectRefused,
  send,
  sendRaw,
  startForThisFile,
  type TestServer,
} from './helpers';

const users = { alice: 'wonderland' };
const good = basicAuth('alice', 'wonderland');
const start = startForThisFile();

/** What method-override middleware does: keep the wire method, rewrite req.method. */
const methodOverride: express.RequestHandler = (req, _res, next) => {
  const override = req.headers['x-http-method-override'];
  if (typeof override === 'string') {
    (req as { originalMethod?: string }).originalMethod = req.method;
    req.method = override.toUpperCase();
  }
  next();
};

async function make(options: Partial<AuthenticateOptions> = {}): Promise<TestServer> {
  return start(
    authenticate({
      realm: 'm',
      schemes: [digest({ users, secret: 's'.repeat(32) }), basic({ users })],
      ...options,
    }),
    { before: [methodOverride] },
  );
}

let target: TestServer;
let preflight: TestServer;
beforeAll(async () => {
  target = await make();
  preflight = await make({ allowPreflight: true });
});

describe('HEAD', () => {
  it('is challenged without credentials and with bad ones, like GET', async () => {
    const cases: Record<string, string>[] = [{}, { Authorization: basicAuth('alice', 'nope') }];
    for (const headers of cases) {
      const reply = await send(target, headers, 'HEAD');
      expectChallenged(reply, ['Digest', 'Basic']);
      expect(reply.body).toBe('');
    }
  });

  it('passes with good credentials', async () => {
    expect((await send(target, { Authorization: good }, 'HEAD')).status).toBe(200);
  });
});

describe('OPTIONS', () => {
  it.each([
    ['without Access-Control-Request-Method', {}],
    ['with Access-Control-Request-Method', { 'Access-Control-Request-Method': 'DELETE' }],
  ])('is challenged %s by default', async (_title, headers) => {
    expectChallenged(await send(target, headers, 'OPTIONS'), ['Digest', 'Basic']);
  });

  it('with allowPreflight, still challenges OPTIONS without Access-Control-Request-Method', async () => {
    expectChallenged(await send(preflight, { Origin: 'http://x.test' }, 'OPTIONS'), [
      'Digest',
      'Basic',
    ]);
  });

  it('with allowPreflight, lets a preflight through unauthenticated (req.auth stays unset)', async () => {
    const reply = await send(
      preflight,
      { Origin: 'http://x.test', 'Access-Control-Request-Method': 'DELETE' },
      'OPTIONS',
    );
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ auth: null });
  });

  // Fetch standard, CORS-preflight fetch: a preflight always carries Origin ("null" for an
  // opaque origin). Without one it is a plain client's OPTIONS, to be challenged.
  it('with allowPreflight, challenges an OPTIONS with Access-Control-Request-Method but no Origin', async () => {
    const reply = await send(preflight, { 'Access-Control-Request-Method': 'DELETE' }, 'OPTIONS');
    expectChallenged(reply, ['Digest', 'Basic']);
    // Any Origin makes it one, the opaque origin's "null" too.
    const opaque = await send(
      preflight,
      { Origin: 'null', 'Access-Control-Request-Method': 'DELETE' },
      'OPTIONS',
    );
    expect(opaque.status).toBe(200);
    expect(JSON.parse(opaque.body)).toEqual({ auth: null });
  });

  // RFC 6454 §7.1: Origin is a serialized origin or "null", never empty; a browser's preflight
  // never sends it empty or blank. Node's parser hands a blank value over empty; a server or
  // middleware in front may hand it over as it came.
  it('with allowPreflight, challenges an OPTIONS whose Origin is empty or blank', async () => {
    const raw = await sendRaw(
      preflight,
      'OPTIONS / HTTP/1.1\r\nHost: localhost\r\nOrigin: \t \r\n' +
        'Access-Control-Request-Method: DELETE\r\nConnection: close\r\n\r\n',
    );
    expectChallenged(raw, ['Digest', 'Basic']);
    const untrimmed = await start(
      authenticate({ realm: 'm', schemes: [basic({ users })], allowPreflight: true }),
      {
        before: [
          (req, _res, next) => {
            if (req.headers.origin !== undefined) req.headers.origin = ' \t ';
            next();
          },
        ],
      },
    );
    const reply = await send(
      untrimmed,
      { Origin: 'x', 'Access-Control-Request-Method': 'DELETE' },
      'OPTIONS',
    );
    expectChallenged(reply, ['Basic']);
    // Not a string at all (a middleware in front that rewrote it): no preflight, and no 500.
    const rewritten = await start(
      authenticate({ realm: 'm', schemes: [basic({ users })], allowPreflight: true }),
      {
        before: [
          (req, _res, next) => {
            (req.headers as Record<string, unknown>).origin = ['https://a.test'];
            next();
          },
        ],
      },
    );
    expectChallenged(
      await send(rewritten, { Origin: 'x', 'Access-Control-Request-Method': 'DELETE' }, 'OPTIONS'),
      ['Basic'],
    );
  });

  it('with allowPreflight, a GET or DELETE carrying Access-Control-Request-Method is still challenged', async () => {
    for (const method of ['GET', 'DELETE', 'POST']) {
      const reply = await send(
        preflight,
        { 'Access-Control-Request-Method': 'GET', Origin: 'https://elsewhere.test' },
        method,
      );
      expectChallenged(reply, ['Digest', 'Basic']);
    }
  });

  it('with allowPreflight, X-HTTP-Method-Override: OPTIONS does not make a GET a preflight', async () => {
    const reply = await send(
      preflight,
      {
        'X-HTTP-Method-Override': 'OPTIONS',
        'Access-Control-Request-Method': 'DELETE',
        Origin: 'https://elsewhere.test',
      },
      'GET',
    );
    expectChallenged(reply, ['Digest', 'Basic']);
  });

  it('with allowPreflight, an OPTIONS overridden to DELETE is no preflight: the router runs a DELETE', async () => {
    const reply = await send(
      preflight,
      {
        'X-HTTP-Method-Override': 'DELETE',
        'Access-Control-Request-Method': 'DELETE',
        Origin: 'https://elsewhere.test',
      },
      'OPTIONS',
    );
    expectChallenged(reply, ['Digest', 'Basic']);
  });
});

describe('X-HTTP-Method-Override', () => {
  it('does not let an answer signed for GET pass as POST overridden to GET', async () => {
    const a = await digestAnswer(target, 'alice', 'wonderland', 'GET');
    const reply = await send(
      target,
      { Authorization: digestHeader(a), 'X-HTTP-Method-Override': 'GET' },
      'POST',
    );
    expectRefused(reply, [401]);
  });

  it('does not let an answer signed for DELETE pass on a POST overridden to DELETE', async () => {
    const a = await digestAnswer(target, 'alice', 'wonderland', 'DELETE');
    const reply = await send(
      target,
      { Authorization: digestHeader(a), 'X-HTTP-Method-Override': 'DELETE' },
      'POST',
    );
    expectRefused(reply, [401]);
  });

  it('authenticates the wire method: an answer for POST passes on a POST overridden to DELETE', async () => {
    const a = await digestAnswer(target, 'alice', 'wonderland', 'POST');
    const reply = await send(
      target,
      { Authorization: digestHeader(a), 'X-HTTP-Method-Override': 'DELETE' },
      'POST',
    );
    expect(reply.status).toBe(200);
    expect(reply.headers[HIT]).toEqual(['yes']);
  });

  it('reads originalMethod only on the request itself, where method-override puts it', async () => {
    // A prototype's originalMethod (here, every request's) is no record of this request's method.
    const inherited = await start(
      authenticate({ realm: 'm', schemes: [digest({ users, secret: 's'.repeat(32) })] }),
      {
        before: [
          (req, _res, next) => {
            const prototype: object = Object.create(Object.getPrototypeOf(req) as object, {
              originalMethod: { value: 'POST' },
            });
            Object.setPrototypeOf(req, prototype);
            next();
          },
        ],
      },
    );
    const a = await digestAnswer(inherited, 'alice', 'wonderland', 'GET');
    const reply = await send(inherited, { Authorization: digestHeader(a) }, 'GET');
    expect(reply.status).toBe(200);
    expect(reply.headers[HIT]).toEqual(['yes']);
  });

  it('does not skip authentication for any overridden method', async () => {
    for (const override of ['HEAD', 'OPTIONS', 'GET', 'TRACE', 'CONNECT']) {
      const reply = await send(target, { 'X-HTTP-Method-Override': override }, 'POST');
      expectChallenged(reply, ['Digest', 'Basic']);
    }
  });
});
