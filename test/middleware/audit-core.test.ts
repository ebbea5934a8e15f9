/**
 * Audit of the middleware core (src/middleware/, src/scheme.ts): each test here failed on the
 * code it was written against.
 */
import http from 'node:http';
import request from 'supertest';
import express from 'express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { authenticate, basic, refuse, safeCompare, type Scheme } from 'authscheme';
import { FRAMEWORKS, HIT, mount, rawRequest } from '../helpers/frameworks';
import { recordingRejections } from '../helpers/rejections';

const users = { alice: 'wonderland' };

/** An AWS Signature V4 field (RFC 9110 §11.4 does not admit its unquoted `/` and `;` values). */
const SIGV4 =
  'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
  'SignedHeaders=host;range;x-amz-date, ' +
  'Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024';

describe('credentialsRequired: false and credentials made for another authenticate()', () => {
  describe.each(FRAMEWORKS)('on %s', (framework) => {
    // TSDoc of credentialsRequired / README: "Those made for another authenticate() (a scheme this
    // one does not offer, …) pass on as if none were sent."
    it('lets a field of a scheme it does not offer through even when that field is outside RFC 9110 §11.4 grammar', async () => {
      const server = mount(
        framework,
        authenticate({ credentialsRequired: false, schemes: [basic({ users })] }),
      );
      const res = await rawRequest(server, { authorization: SIGV4 });
      server.close();
      expect(res.status).toBe(200); // fails: 400, the field does not parse
      expect(res.headers[HIT]).toBe('yes');
      expect(JSON.parse(res.body)).toEqual({ auth: null });
    });

    it("lets a Negotiate token longer than this guard's maxLength through to the guard that raised it", async () => {
      // docs/negotiate.md "Large tokens": raise maxHeaderSize and the Negotiate guard's limits.
      const token = 'YII' + 'A'.repeat(20_000) + '='; // a large-PAC Kerberos token, ~20 KB
      const site = authenticate({ credentialsRequired: false, schemes: [basic({ users })] });
      const server = mount(framework, site);
      const big = http.createServer(
        { maxHeaderSize: 81920 },
        server.listeners('request')[0] as http.RequestListener,
      );
      const res = await rawRequest(big, { authorization: `Negotiate ${token}` });
      big.close();
      expect(res.status).toBe(200); // fails: 400 (ERR_AUTH_HEADER_SYNTAX, maxLength 16384)
      expect(res.headers[HIT]).toBe('yes');
    });
  });

  it('reaches an Express route guarded by another scheme behind a site-wide optional guard', async () => {
    const app = express();
    app.use(authenticate({ credentialsRequired: false, schemes: [basic({ users })] }));
    // The S3-compatible API checks its own signatures (another middleware, another scheme).
    app.get('/s3/bucket', (req, res) => {
      res.json({ sigv4: req.headers.authorization?.startsWith('AWS4-HMAC-SHA256 ') ?? false });
    });
    const res = await request(app).get('/s3/bucket').set('Authorization', SIGV4);
    expect(res.status).toBe(200); // fails: 400
    expect(res.body).toEqual({ sigv4: true });
  });
});

describe('the Scheme TSDoc example (src/scheme.ts)', () => {
  /** The `@example` of the Scheme interface, as the TSDoc writes it. */
  function exampleScheme(): Scheme {
    const doc = readFileSync(join(__dirname, '../../src/scheme.ts'), 'utf8');
    const example = /@example\n((?: \*.*\n)+?) \*\/\nexport interface Scheme/
      .exec(doc)![1]!
      .replace(/^ \* ?/gm, '')
      .replace(/const apiKey: Scheme =/, 'return');
    const body = ts.transpile(example, { target: ts.ScriptTarget.ES2022 });
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the TSDoc example, run as written
    return new Function('refuse', 'safeCompare', 'process', body)(
      refuse,
      safeCompare,
      process,
    ) as Scheme;
  }

  async function status(apiKey: Scheme, field: string): Promise<number> {
    const app = express();
    app.use(authenticate({ schemes: [apiKey] }));
    app.get('/', (req, res) => res.json(req.auth));
    return (await request(app).get('/').set('Authorization', field)).status;
  }

  // The example once authenticated a bare `Authorization: ApiKey` as 'service' when KEY was unset
  // (safeCompare(undefined, undefined)); it now refuses to start without a key.
  it('refuses to start when KEY is unset, rather than match the bare scheme name', () => {
    const saved = process.env.KEY;
    delete process.env.KEY; // not configured in this environment
    try {
      expect(() => exampleScheme()).toThrow('KEY is not set');
    } finally {
      if (saved !== undefined) process.env.KEY = saved;
    }
  });

  it('with KEY set, authenticates the key and nothing else', async () => {
    const saved = process.env.KEY;
    process.env.KEY = 'k3y';
    try {
      const apiKey = exampleScheme();
      expect(await status(apiKey, 'ApiKey k3y')).toBe(200);
      expect(await status(apiKey, 'ApiKey')).toBe(401);
      expect(await status(apiKey, 'ApiKey other')).toBe(401);
    } finally {
      if (saved === undefined) delete process.env.KEY;
      else process.env.KEY = saved;
    }
  });
});

describe('challenges() of several schemes failing at once', () => {
  // docs/security.md §3: "never a crash … with no uncaught exception or unhandled rejection".
  it('leaves no unhandled rejection when one scheme rejects and a later one throws', async () => {
    await recordingRejections(async (rejections) => {
      const asyncScheme: Scheme = {
        name: 'Async',
        // An asynchronous nonce store that is down, say.
        challenges: () => Promise.reject(new Error('store down')),
        verify: () => refuse(),
      };
      const throwing: Scheme = {
        name: 'Sync',
        challenges: () => {
          throw new Error('broken');
        },
        verify: () => refuse(),
      };
      const server = mount('http', authenticate({ schemes: [asyncScheme, throwing] }));
      const res = await rawRequest(server, {});
      server.close();
      expect(res.status).toBe(500);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(rejections).toEqual([]); // fails: [Error: store down], which ends a Node process
    });
  });
});
