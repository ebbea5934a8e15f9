/**
 * Run as its own process (`node --import tsx`) by test/hostile/lifecycle.test.ts: uses every part
 * that could hold a handle (htpasswd reload and its hash threads, bcrypt's slots, Digest's nonce
 * store, bearer's cache with introspection, a remote JWK Set, the client), closes its servers and
 * prints the statuses it got, then, as it exits, how long after the close that was. The process
 * must exit on its own at once: nothing to close or dispose.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { authenticate, basic, bearer, digest, introspection, loadHtpasswd } from '../../src/index';
import { jwtVerifier } from '../../src/adapters/jwt';
import { createAuthFetch } from '../../src/client/index';

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authscheme-lifecycle-'));
  const file = path.join(dir, 'htpasswd');
  const line = (flags: string[], user: string): string =>
    execFileSync('/usr/bin/htpasswd', ['-nb', ...flags, user, 'pw'], { encoding: 'utf8' }).trim();
  // Apache MD5 and SHA crypt on the hash threads, bcrypt through its slots.
  fs.writeFileSync(
    file,
    `${[line(['-m'], 'apr'), line(['-B', '-C', '4'], 'bc'), line(['-5'], 'sha')].join('\n')}\n`,
  );
  const file1 = await loadHtpasswd(file, { reload: { interval: 0 } });

  // An authorization server: introspection and an empty JWK Set.
  const as = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/introspect') {
      req.resume();
      req.on('end', () => res.end(JSON.stringify({ active: true, sub: 'x' })));
    } else {
      res.end(JSON.stringify({ keys: [] }));
    }
  });
  const asBase = await listen(as);
  const app = express();
  app.get(
    '/basic',
    authenticate({ schemes: [basic({ verify: file1.verify, cache: true })] }),
    (_req, res) => {
      res.end();
    },
  );
  app.get(
    '/digest',
    authenticate({ schemes: [digest({ users: { alice: 'pw' } })] }),
    (_req, res) => {
      res.end();
    },
  );
  const introspect = introspection({
    endpoint: `${asBase}/introspect`,
    clientId: 'a',
    clientSecret: 'b',
  });
  app.get(
    '/introspect',
    authenticate({ schemes: [bearer({ verify: introspect, cache: true })] }),
    (_req, res) => {
      res.end();
    },
  );
  const jwks = jwtVerifier({ jwksUri: `${asBase}/jwks`, issuer: 'i', audience: 'a' });
  app.get('/jwt', authenticate({ schemes: [bearer({ verify: jwks })] }), (_req, res) => {
    res.end();
  });
  app.use((_err: unknown, _req: express.Request, res: express.Response, _next: unknown) => {
    res.status(500).end();
  });
  const server = http.createServer(app);
  const base = await listen(server);

  const statuses: number[] = [];
  // The reloaded file is looked at again (interval 0) before each check.
  for (const user of ['apr', 'bc', 'sha', 'apr']) {
    statuses.push(
      (await createAuthFetch({ username: user, password: 'pw' })(`${base}/basic`)).status,
    );
  }
  const alice = createAuthFetch({ username: 'alice', password: 'pw' });
  statuses.push((await alice(`${base}/digest`)).status, (await alice(`${base}/digest`)).status);
  const withToken = (token: string): RequestInit => ({
    headers: { authorization: `Bearer ${token}` },
  });
  statuses.push((await fetch(`${base}/introspect`, withToken('opaque'))).status);
  // A JWT whose kid the (empty) set lacks: a fetch of the set, then a refusal.
  const jwt = `${Buffer.from('{"alg":"RS256","kid":"k"}').toString('base64url')}.e30.AAAA`;
  statuses.push((await fetch(`${base}/jwt`, withToken(jwt))).status);
  process.stdout.write(`${statuses.join(' ')}\n`);
  server.closeAllConnections();
  as.closeAllConnections();
  await Promise.all([server, as].map((s) => new Promise((resolve) => s.close(resolve))));
  fs.rmSync(dir, { recursive: true, force: true });
  // Printed when the event loop empties (stdout to a pipe is written synchronously on Linux).
  const closedAt = performance.now();
  process.on('exit', () => {
    process.stdout.write(`exit ${Math.round(performance.now() - closedAt)}\n`);
  });
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
