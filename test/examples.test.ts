/**
 * Drives the example apps as a user would: over a real socket, with supertest and with curl.
 */
import http from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { app as appWide } from '../examples/basic/app-wide';
import { app as oneRoute } from '../examples/basic/one-route';
import { app as asyncVerifier } from '../examples/basic/async-verifier';
import { app as logout } from '../examples/basic/logout';
import { app as quickStart } from '../examples/quick-start/server';

const run = promisify(execFile);

/** curl's view of a request: status, then the response headers (`-i`) and body. */
async function curl(args: string[]): Promise<{ status: number; head: string; body: string }> {
  const { stdout } = await run('curl', ['-sS', '-i', '--max-time', '10', ...args]);
  // With --digest curl prints the 401 and then the final response: read the last one.
  const last = stdout.lastIndexOf('\r\n\r\nHTTP/');
  const response = last === -1 ? stdout : stdout.slice(last + 4);
  const split = response.indexOf('\r\n\r\n');
  const head = response.slice(0, split);
  return { status: Number(head.split(' ')[1]), head, body: response.slice(split + 4) };
}

describe('examples/basic/app-wide', () => {
  let server: http.Server;
  let url: string;
  beforeAll((done) => {
    server = appWide.listen(0, '127.0.0.1', () => {
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      done();
    });
  });
  afterAll((done) => {
    server.close(done);
  });

  it('curl without credentials gets 401 and the Basic challenge', async () => {
    const res = await curl([url]);
    expect(res.status).toBe(401);
    expect(res.head).toMatch(/^WWW-Authenticate: Basic realm="example", charset="UTF-8"\r?$/im);
    expect(res.head).toMatch(/^Cache-Control: no-store\r?$/im);
  });

  it('curl -u with the right password gets in', async () => {
    const res = await curl(['-u', 'alice:wonderland', url]);
    expect(res.status).toBe(200);
    expect(res.body).toBe('Hello, alice!\n');
    expect(res.head).toMatch(/^Vary: Authorization\r?$/im);
    expect(res.head).not.toMatch(/^Cache-Control:/im);
  });

  it('curl -u with a wrong password gets 401', async () => {
    expect((await curl(['-u', 'alice:nope', url])).status).toBe(401);
  });
});

describe('examples/basic/one-route', () => {
  it('protects /admin only', async () => {
    expect((await request(oneRoute).get('/')).status).toBe(200);
    expect((await request(oneRoute).get('/admin')).status).toBe(401);
    const res = await request(oneRoute).get('/admin').auth('admin', 's3cret');
    expect(res.text).toBe('Welcome to the admin area, admin.\n');
  });
});

describe('examples/basic/async-verifier', () => {
  it('accepts carol with her roles and refuses others', async () => {
    const res = await request(asyncVerifier).get('/').auth('carol', 'correct-horse');
    expect(res.body).toEqual({ scheme: 'Basic', user: 'carol', roles: ['editor'] });
    expect((await request(asyncVerifier).get('/').auth('carol', 'wrong')).status).toBe(401);
    expect((await request(asyncVerifier).get('/').auth('dave', 'correct-horse')).status).toBe(401);
  });
});

describe('examples/basic/logout (browsers: test/interop/chromium-logout.test.ts, firefox-logout.test.ts)', () => {
  it("answers the sign-out routes with the guard's 401 and challenges, even to the right password", async () => {
    const basic = await request(logout).get('/basic/logout').auth('alice', 'secret');
    expect(basic.status).toBe(401);
    expect(basic.headers['www-authenticate']).toBe('Basic realm="basic area", charset="UTF-8"');
    const digest = await request(logout).get('/digest/logout').auth('alice', 'secret');
    expect(digest.status).toBe(401);
    expect(digest.headers['www-authenticate']).toMatch(/^Digest realm="digest area", /);
    const page = await request(logout).get('/basic/').auth('alice', 'secret');
    expect(page.status).toBe(200);
    expect(page.text).toContain(
      "xhr.open('GET', '/basic/logout', true, 'signed-out', 'signed-out')",
    );
    expect((await request(logout).get('/signed-out')).status).toBe(200);
  });
});

describe("the README's quick start (examples/quick-start)", () => {
  let server: http.Server;
  let url: string;
  beforeAll((done) => {
    server = quickStart.listen(0, '127.0.0.1', () => {
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      done();
    });
  });
  afterAll((done) => {
    server.close(done);
  });

  it('offers Digest first, then Basic', async () => {
    const res = await curl([url]);
    expect(res.status).toBe(401);
    const challenges = res.head.split(/\r?\n/).filter((line) => /^www-authenticate:/i.test(line));
    expect(challenges).toHaveLength(2);
    expect(challenges[0]).toMatch(
      /^WWW-Authenticate: Digest realm="my app", qop="auth", algorithm=SHA-256, /i,
    );
    expect(challenges[1]).toMatch(/^WWW-Authenticate: Basic realm="my app", charset="UTF-8"/i);
  });

  it('curl -u (Basic) and curl --digest both get in', async () => {
    expect((await curl(['-u', 'alice:wonderland', url])).body).toBe('Hello, alice');
    const digest = await curl(['--digest', '-u', 'alice:wonderland', url]);
    expect(digest.status).toBe(200);
    expect(digest.body).toBe('Hello, alice');
  });
});
