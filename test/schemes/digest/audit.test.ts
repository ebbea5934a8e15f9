/**
 * Audit findings for digest(): an htdigest realm beyond ASCII (failed before getHA1 read it as
 * UTF-8 bytes), and what auth-int can check of a body express.text() decoded (docs/digest.md).
 * The client here hashes what a real client (curl, Chromium) hashes: the realm as the bytes it
 * received on the wire (Node hands them over as latin1 characters).
 */
import { createHash } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { authenticate, digest, parseChallenges, parseHtdigest, type Challenge } from 'authscheme';
import { serversForThisFile } from './helpers';

const SECRET = 'audit-secret-audit-secret-audit!';
const listen = serversForThisFile();

const md5 = (data: Buffer | string): string => createHash('md5').update(data).digest('hex');
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** An MD5 or SHA-256 answer computed over the wire bytes of every directive. */
function wireAnswer(
  challenge: Challenge,
  o: { user: string; password: string; method: string; uri: string; qop?: string; body?: Buffer },
): string {
  const p = challenge.params;
  const H = p.algorithm === 'MD5' ? md5 : sha256;
  const realmBytes = Buffer.from(p.realm as string, 'latin1');
  const ha1 = H(
    Buffer.concat([Buffer.from(`${o.user}:`), realmBytes, Buffer.from(`:${o.password}`)]),
  );
  const qop = o.qop ?? 'auth';
  const a2 =
    qop === 'auth-int'
      ? `${o.method}:${o.uri}:${H(o.body ?? Buffer.alloc(0))}`
      : `${o.method}:${o.uri}`;
  const response = H(`${ha1}:${p.nonce}:00000001:cn0nce:${qop}:${H(a2)}`);
  const quote = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return (
    `Digest username=${quote(o.user)}, realm=${quote(p.realm as string)}, nonce=${quote(p.nonce as string)}, ` +
    `uri=${quote(o.uri)}, algorithm=${p.algorithm}, qop=${qop}, nc=00000001, cnonce="cn0nce", ` +
    `response="${response}", opaque=${quote(p.opaque as string)}`
  );
}

describe('audit: htdigest files with a non-ASCII realm', () => {
  // What Apache's `htdigest -c file réalm alice` writes (password "secret"), checked by running
  // htdigest 2.4: MD5 over the realm's UTF-8 bytes, as typed in a UTF-8 terminal.
  const line = `alice:r\u00e9alm:${md5(Buffer.from('alice:r\u00e9alm:secret', 'utf8'))}\n`;

  it('(control) the same client and file format work with an ASCII realm', async () => {
    const file = parseHtdigest(`alice:api:${md5('alice:api:secret')}\n`);
    const app = express();
    app.use(
      authenticate({
        realm: 'api',
        schemes: [digest({ getHA1: file.getHA1, algorithms: ['MD5'], secret: SECRET })],
      }),
    );
    app.get('/', (req, res) => res.json({ user: req.auth?.user }));
    const origin = await listen(app);
    const challenge = parseChallenges(
      (await request(origin).get('/')).headers['www-authenticate'] as string,
    )[0]!;
    const res = await request(origin)
      .get('/')
      .set(
        'Authorization',
        wireAnswer(challenge, { user: 'alice', password: 'secret', method: 'GET', uri: '/' }),
      );
    expect(res.status).toBe(200);
  });

  it('authenticates a user of an htdigest file whose realm is not ASCII, given as its UTF-8 bytes', async () => {
    expect(line).toBe('alice:r\u00e9alm:fe87166d6ee44f1bc8f6140807443565\n');
    const file = parseHtdigest(line);
    const statuses: number[] = [];
    // The realm as the file spells it, and the realm whose latin1 bytes are the file's UTF-8 bytes.
    for (const realm of ['r\u00e9alm', Buffer.from('r\u00e9alm', 'utf8').toString('latin1')]) {
      const app = express();
      app.use(
        authenticate({
          realm,
          schemes: [digest({ getHA1: file.getHA1, algorithms: ['MD5'], secret: SECRET })],
        }),
      );
      app.get('/', (req, res) => res.json({ user: req.auth?.user }));
      const origin = await listen(app);
      const first = await request(origin).get('/');
      const challenge = parseChallenges(first.headers['www-authenticate'] as string)[0]!;
      const res = await request(origin)
        .get('/')
        .set(
          'Authorization',
          wireAnswer(challenge, { user: 'alice', password: 'secret', method: 'GET', uri: '/' }),
        );
      statuses.push(res.status);
    }
    // Only the realm whose wire bytes are the file's UTF-8 bytes can match its HA1s (getHA1's TSDoc);
    // the realm as typed is a failure that says so (next(err), a 500), not a 401 for every user.
    expect(statuses).toEqual([500, 200]);
  });
});

describe('audit: qop=auth-int over a body that express.text() parsed', () => {
  // body-parser decodes the text and drops a BOM (iconv-lite): the string is not the bytes the
  // client hashed. Its `verify` hook sees the raw bytes; kept as req.rawBody, digest() reads those.
  it.each([
    ['a string, the BOM gone', 401, {}],
    [
      'req.rawBody kept by verify',
      200,
      { verify: (req: { rawBody?: Buffer }, _res: unknown, buf: Buffer) => (req.rawBody = buf) },
    ],
  ] as const)('a UTF-8 body that starts with a BOM, from %s: %d', async (_label, status, text) => {
    const app = express();
    app.use(express.text({ type: '*/*', ...text } as Parameters<typeof express.text>[0]));
    app.use(
      authenticate({
        realm: 'api',
        schemes: [digest({ users: { alice: 'secret' }, secret: SECRET, qop: ['auth-int'] })],
      }),
    );
    app.post('/notes', (req, res) => res.json({ user: req.auth?.user }));
    const origin = await listen(app);
    const send = async (body: Buffer): Promise<number> => {
      const fresh = parseChallenges(
        (await request(origin).post('/notes')).headers['www-authenticate'] as string,
      )[0]!;
      const res = await request(origin)
        .post('/notes')
        .set('Content-Type', 'text/plain; charset=utf-8')
        .set(
          'Authorization',
          wireAnswer(fresh, {
            user: 'alice',
            password: 'secret',
            method: 'POST',
            uri: '/notes',
            qop: 'auth-int',
            body,
          }),
        )
        .send(body);
      return res.status;
    };
    expect(await send(Buffer.from('hello', 'utf8'))).toBe(200); // the control
    // EF BB BF 68 65 6C 6C 6F: what the client sent and hashed.
    expect(await send(Buffer.from('\ufeffhello', 'utf8'))).toBe(status);
  });
});
