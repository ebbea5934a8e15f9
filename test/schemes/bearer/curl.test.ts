/** A real client: curl sends Bearer tokens (header, --oauth2-bearer, query, form) to a listening server. */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { SignJWT } from 'jose';
import { jwtBearer } from 'authscheme/jwt';
import { authenticate } from '../../../src/middleware/authenticate';
import { bearer } from '../../../src/schemes/bearer';
import { tableVerify } from './helpers';

const CURL = '/usr/bin/curl';
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile(
      CURL,
      ['-s', '-i', '--max-time', '5', ...args],
      { timeout: 10_000 },
      (error, stdout) => {
        if (error) {
          reject(new Error('curl failed', { cause: error }));
          return;
        }
        const split = stdout.indexOf('\r\n\r\n');
        const [statusLine = '', ...lines] = stdout.slice(0, split).split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        resolve({
          status: Number(statusLine.split(' ')[1]),
          headers,
          body: stdout.slice(split + 4),
        });
      },
    );
  });
}

describe('curl against a Bearer-protected server', () => {
  let server: http.Server;
  let base = '';

  beforeAll(async () => {
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    const jwt = jwtBearer({ key: ec.publicKey, issuer: 'https://as.test', audience: 'api' });
    app.use(
      '/jwt',
      authenticate({ realm: 'jwt', schemes: [jwt] }),
      (req: express.Request, res: express.Response) => {
        res.json(req.auth);
      },
    );
    const verify = tableVerify({ 'mF_9.B5f-4.1JqM': { user: 'alice', scopes: 'read' } });
    app.use(
      authenticate({
        realm: 'example',
        schemes: [bearer({ verify, allowQueryToken: true, allowFormToken: true })],
      }),
    );
    app.all('/{*rest}', (req, res) => {
      res.json(req.auth);
    });
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("authenticates curl -H 'Authorization: Bearer …'", async () => {
    const res = await curl(['-H', 'Authorization: Bearer mF_9.B5f-4.1JqM', `${base}/`]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ scheme: 'Bearer', user: 'alice', scopes: ['read'] });
  });

  it('authenticates curl --oauth2-bearer', async () => {
    const res = await curl(['--oauth2-bearer', 'mF_9.B5f-4.1JqM', `${base}/`]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).user).toBe('alice');
  });

  it('shows curl the bare challenge without a token and invalid_token with a bad one', async () => {
    const none = await curl([`${base}/`]);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="example"');
    const bad = await curl(['--oauth2-bearer', 'wrong', `${base}/`]);
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toBe('Bearer realm="example", error="invalid_token"');
  });

  it('accepts the token from the query (Cache-Control: private) and from a form body', async () => {
    const query = await curl([`${base}/resource?access_token=mF_9.B5f-4.1JqM`]);
    expect(query.status).toBe(200);
    expect(query.headers['cache-control']).toBe('private');
    const form = await curl(['-d', 'access_token=mF_9.B5f-4.1JqM', `${base}/resource`]);
    expect(form.status).toBe(200);
    const both = await curl([
      '--oauth2-bearer',
      'mF_9.B5f-4.1JqM',
      '-d',
      'access_token=mF_9.B5f-4.1JqM',
      `${base}/`,
    ]);
    expect(both.status).toBe(400);
    expect(both.headers['www-authenticate']).toContain('error="invalid_request"');
  });

  it('authenticates an ES256 JWT sent with --oauth2-bearer, and refuses a wrong audience', async () => {
    const sign = (aud: string) =>
      new SignJWT({ sub: 'carol', scp: ['read'] })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer('https://as.test')
        .setAudience(aud)
        .setExpirationTime('1m')
        .sign(ec.privateKey);
    const ok = await curl(['--oauth2-bearer', await sign('api'), `${base}/jwt`]);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ user: 'carol', scopes: ['read'] });
    const wrong = await curl(['--oauth2-bearer', await sign('other'), `${base}/jwt`]);
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe(
      'Bearer realm="jwt", error="invalid_token", error_description="The access token has an invalid aud claim"',
    );
  });
});
