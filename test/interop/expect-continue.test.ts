/**
 * The `Expect: 100-continue` recipe of docs/security.md, with curl: a client refused by the
 * middleware uploads nothing when the app, not Node, decides on `100 Continue`
 * (RFC 9110 §10.1.1); without the recipe Node asks for the body before any middleware runs.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { authenticate, basic, type AuthRequest } from 'authscheme';
import { run } from './helpers/run';

const BODY_BYTES = 4 * 1024 * 1024;
let dir: string;
let bodyFile: string;
const servers: Server[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'authscheme-continue-'));
  bodyFile = join(dir, 'body.bin');
  writeFileSync(bodyFile, Buffer.alloc(BODY_BYTES, 0x61));
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  rmSync(dir, { recursive: true, force: true });
});

/** The app of the recipe; `recipe: false` leaves Node's automatic 100 Continue in place. */
async function start(recipe: boolean): Promise<{ url: string; received: () => number }> {
  let received = 0;
  const app = express();
  // A verifier that takes a while, as one asking a directory would. Without the recipe it waits
  // until body bytes reach the socket (at most 5 s): a loaded machine may take longer than any
  // fixed delay to let curl answer Node's 100 Continue, and curl's 8 s wait for that 100 (below)
  // means bytes arrive only if Node sent it.
  const verify = async (user: string, password: string, req: AuthRequest) => {
    const socket = (req as IncomingMessage).socket;
    const head = socket.bytesRead;
    const deadline = Date.now() + (recipe ? 50 : 5000);
    do await new Promise((resolve) => setTimeout(resolve, 5));
    while (Date.now() < deadline && (recipe || socket.bytesRead === head));
    return user === 'alice' && password === 'secret' ? user : false;
  };
  app.use(authenticate({ realm: 'uploads', schemes: [basic({ verify })] }));
  app.use((req, res, next) => {
    if (req.httpVersion === '1.1' && /\b100-continue\b/i.test(req.headers.expect ?? '')) {
      res.writeContinue();
    }
    next();
  });
  app.post('/upload', (req, res) => {
    req.on('data', (chunk: Buffer) => (received += chunk.length));
    req.on('end', () => res.json({ received, user: req.auth?.user }));
  });
  const server = createServer(app);
  if (recipe) server.on('checkContinue', app);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/upload`, received: () => received };
}

/** curl's status and how many body bytes it sent. */
async function upload(url: string, ...args: string[]): Promise<{ status: number; sent: number }> {
  const result = await run('curl', [
    '-sS',
    '--max-time',
    '10',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code} %{size_upload}',
    '-H',
    'Expect: 100-continue',
    // Wait for the 100 Continue longer than any verifier here takes (curl's default is 1 s).
    '--expect100-timeout',
    '8',
    '--data-binary',
    `@${bodyFile}`,
    ...args,
    url,
  ]);
  expect(result.stderr).toBe('');
  const [status, sent] = result.stdout.split(' ').map(Number);
  return { status: status!, sent: sent! };
}

it('refuses a client without credentials before it uploads anything', async () => {
  const { url, received } = await start(true);
  expect(await upload(url)).toEqual({ status: 401, sent: 0 });
  expect(await upload(url, '-u', 'alice:wrong')).toEqual({ status: 401, sent: 0 });
  expect(received()).toBe(0);
});

it('asks an authenticated client for its body, which arrives whole', async () => {
  const { url, received } = await start(true);
  expect(await upload(url, '-u', 'alice:secret')).toEqual({ status: 200, sent: BODY_BYTES });
  expect(received()).toBe(BODY_BYTES);
});

it('sends no 100 Continue to an HTTP/1.0 client that names the expectation (RFC 9110 §15.2)', async () => {
  const { url } = await start(true);
  const { port } = new URL(url);
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(
        'POST /upload HTTP/1.0\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n' +
          `Authorization: Basic ${Buffer.from('alice:secret').toString('base64')}\r\n\r\nabc`,
      );
    });
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  expect(reply).toMatch(/^HTTP\/1\.1 200 /);
  expect(reply).not.toMatch(/100 Continue/);
});

it('without the recipe, Node asks for the body first and a refused client sends it', async () => {
  const { url, received } = await start(false);
  // Wrong credentials, so the verifier runs and the 401 waits for the body's first bytes; a
  // request without any is refused at once, racing curl's answer to the 100 Continue.
  const refused = await upload(url, '-u', 'alice:wrong');
  expect(refused.status).toBe(401);
  expect(refused.sent).toBeGreaterThan(0);
  expect(received()).toBe(0);
});
