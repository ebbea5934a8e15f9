/**
 * README, "Behind a reverse proxy": Apache httpd 2.4 (Debian's `apache2`, which
 * scripts/provision.sh installs) with mod_proxy_http in front of an Express app on 127.0.0.1.
 * What the section tells deployers, checked against the proxy itself: `ProxyPass` without
 * `nocanon` rewrites the path (Digest's `uri` no longer names the target: 400), `ProxyPreserveHost`
 * decides whether an absolute `uri` matches `Host`, and `ProxyErrorOverride` keeps only the first
 * challenge line unless told which codes to replace.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { authenticate, basic, digest } from 'authscheme';
import { startApache, type Apache } from './helpers/apache';
import { freePort } from '../helpers/free-port';

jest.setTimeout(30_000);

let root: string;
let apache: Apache | undefined;
let server: Server | undefined;
let host: string; // 127.0.0.1:<apache port>

beforeAll(async () => {
  const users = { alice: 'wonderland' };
  const app = express();
  app.use(
    authenticate({
      realm: 'r',
      schemes: [digest({ users, algorithms: ['SHA-256', 'MD5'] }), basic({ users })],
    }),
  );
  app.use((req, res) => res.send(`ok ${req.originalUrl}`));
  const appPort = await freePort();
  server = app.listen(appPort, '127.0.0.1');
  const up = `http://127.0.0.1:${appPort}`;
  root = mkdtempSync(join(tmpdir(), 'authscheme-rproxy-'));
  apache = await startApache(
    root,
    ['proxy', 'proxy_http'],
    [
      `ProxyPass /canon/ ${up}/canon/`,
      `ProxyPass /nocanon/ ${up}/nocanon/ nocanon`,
      '<Location /preserve/>',
      `  ProxyPass ${up}/preserve/`,
      '  ProxyPreserveHost On',
      '</Location>',
      '<Location /override/>',
      `  ProxyPass ${up}/override/`,
      '  ProxyErrorOverride On',
      '</Location>',
      '<Location /override-5xx/>',
      `  ProxyPass ${up}/override-5xx/`,
      '  ProxyErrorOverride On 500 502 503 504',
      '</Location>',
    ],
  );
  host = new URL(apache.base).host;
});

afterAll(async () => {
  await apache?.stop();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

interface Reply {
  status: number;
  challenges: string[];
}

/** A GET of `path` exactly as written (no URL normalisation), through Apache. */
function get(path: string, authorization?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const [hostname, port] = host.split(':');
    const req = request(
      { hostname, port: Number(port), path, headers: authorization ? { authorization } : {} },
      (res) => {
        res.resume();
        res.on('end', () => {
          const challenges: string[] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            if (res.rawHeaders[i]!.toLowerCase() === 'www-authenticate') {
              challenges.push(res.rawHeaders[i + 1]!);
            }
          }
          resolve({ status: res.statusCode!, challenges });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Digest SHA-256 as a client that sent `path` computes it, with `uri` (default: `path`). */
async function digestGet(path: string, uri = path): Promise<number> {
  const first = await get(path);
  const challenge = first.challenges.find((c) => c.includes('algorithm=SHA-256'))!;
  const param = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(challenge)![1]!;
  const h = (s: string) => createHash('sha256').update(s).digest('hex');
  const [nonce, opaque, cnonce] = [param('nonce'), param('opaque'), randomBytes(8).toString('hex')];
  const response = h(
    `${h('alice:r:wonderland')}:${nonce}:00000001:${cnonce}:auth:${h(`GET:${uri}`)}`,
  );
  const field =
    `Digest username="alice", realm="r", nonce="${nonce}", uri="${uri}", algorithm=SHA-256, ` +
    `response="${response}", qop=auth, nc=00000001, cnonce="${cnonce}", opaque="${opaque}"`;
  return (await get(path, field)).status;
}

it('passes every challenge line through, and Digest on plain paths', async () => {
  expect((await get('/canon/x')).challenges).toHaveLength(3);
  expect(await digestGet('/canon/x?q=1')).toBe(200);
});

it('ProxyPass without nocanon rewrites the path: Digest gets 400 there; nocanon keeps it', async () => {
  for (const path of ['/%7Euser', '/a//b', '/a/./b', '/%41']) {
    expect(await digestGet(`/canon${path}`)).toBe(400);
    expect(await digestGet(`/nocanon${path}`)).toBe(200);
  }
});

it('an absolute uri matches Host only with ProxyPreserveHost On', async () => {
  expect(await digestGet('/canon/abs', `http://${host}/canon/abs`)).toBe(400);
  expect(await digestGet('/preserve/abs', `http://${host}/preserve/abs`)).toBe(200);
});

it('ProxyErrorOverride On keeps only the first challenge line; with 5xx codes, all', async () => {
  const overridden = await get('/override/x');
  expect(overridden.status).toBe(401);
  expect(overridden.challenges).toHaveLength(1);
  expect((await get('/override-5xx/x')).challenges).toHaveLength(3);
});
