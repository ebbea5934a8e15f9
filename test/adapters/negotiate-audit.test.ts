/**
 * Audit of authscheme/negotiate: defects found, each a test that fails on the code it was written
 * against.
 *
 * - A real realm (../helpers/kdc) and the server of ../helpers/negotiate-server.ts in its own
 *   process: principals whose names are not UTF-8.
 * - The GSSAPI binding mocked in this process (jest.mock reaches only this process, not the
 *   server's): what reaches GSSAPI at all.
 */
import { execFile } from 'node:child_process';
import express from 'express';
import request from 'supertest';
import { authenticate } from 'authscheme';
import { negotiate } from 'authscheme/negotiate';
import { startKdc, type Kdc } from '../helpers/kdc';
import { startNegotiateServer, type NegotiateServer } from '../helpers/negotiate-harness';

const initializeServer = jest.fn(async () => {
  throw new Error('the mocked acceptor cannot be set up');
});
jest.mock('kerberos', () => ({ initializeServer }));

function sh(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'sh',
      ['-c', script],
      { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 15_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${script}: ${stderr}`)) : resolve(stdout),
    );
  });
}

describe('Negotiate principals that are not UTF-8 (real KDC)', () => {
  let kdc: Kdc;
  let server: NegotiateServer | undefined;
  let port: number;

  beforeAll(async () => {
    kdc = await startKdc();
    const keytab = await kdc.addService('HTTP/localhost', 'http.keytab');
    const admin = (query: string): Promise<string> =>
      sh(`kadmin.local -r ${kdc.realm} -q "${query}"`, kdc.env);
    // MIT 1.20 puts a PAC in every ticket, and cannot make one for a name that is not UTF-8; a
    // realm without PACs (MIT before 1.20, Heimdal, or this flag, MIT's documented opt-out)
    // issues such tickets. Kerberos names are octet strings (RFC 4120 §5.2.1, §6.1).
    await admin(`modprinc +no_auth_data_required krbtgt/${kdc.realm}`);
    await admin('modprinc +no_auth_data_required HTTP/localhost');
    // Two principals: "élise" and "èlise" in Latin-1 (0xE9 and 0xE8, neither valid UTF-8).
    for (const octal of ['351', '350']) {
      await admin(`addprinc -pw pw $(printf '\\${octal}lise')`);
      await sh(
        `printf 'pw\\n' | KRB5CCNAME=FILE:${kdc.dir}/cc${octal} kinit "$(printf '\\${octal}lise')@${kdc.realm}"`,
        kdc.env,
      );
    }
    server = await startNegotiateServer(kdc, { NEGOTIATE_KEYTAB: keytab });
    port = server.port;
  }, 40_000);

  afterAll(async () => {
    await server?.stop();
    await kdc?.stop();
  });

  async function as(
    octal: string,
    route: string,
  ): Promise<{ status: number; auth?: { user: string } }> {
    const out = await sh(
      `KRB5CCNAME=FILE:${kdc.dir}/cc${octal} curl -sS --max-time 10 --negotiate -u : ` +
        `-w '\\n%{http_code}' http://localhost:${port}${route}`,
      kdc.env,
    );
    const split = out.lastIndexOf('\n');
    const status = Number(out.slice(split + 1));
    const body = out.slice(0, split);
    return status === 200 ? { status, auth: JSON.parse(body).auth } : { status };
  }

  it.each(['/', '/strip'])(
    'two principals whose names are not UTF-8 never become one user (%s)',
    async (route) => {
      const elise = await as('351', route);
      const other = await as('350', route);
      const users = [elise, other].filter((r) => r.status === 200).map((r) => r.auth!.user);
      // Neither is lost into U+FFFD, and two principals are never one identity.
      expect(users.filter((user: string) => user.includes('\uFFFD'))).toEqual([]);
      expect(new Set(users).size).toBe(users.length);
    },
    30_000,
  );
});

describe('What reaches GSSAPI (binding mocked)', () => {
  function app(): express.Express {
    const server = express();
    server.use(authenticate({ schemes: [negotiate({ servicePrincipal: 'HTTP@localhost' })] }));
    server.get('/', (req, res) => {
      res.json({ auth: req.auth });
    });
    server.use((_err: unknown, _req: express.Request, res: express.Response, _next: unknown) => {
      res.status(500).json({ error: 'server error' });
    });
    return server;
  }

  beforeEach(() => initializeServer.mockClear());

  it.each([
    ['a lone 0x60 byte (YA==)', Buffer.from([0x60])],
    ['0x60 and junk whose DER length does not match', Buffer.from('`junk that is no token')],
    ['0x60 with a matching length but no mechanism OID', Buffer.from([0x60, 3, 1, 2, 3])],
    ['a DER length shorter than the token', Buffer.from([0x60, 3, 6, 1, 0x2b, 0xff])],
    // Past any header field (a first octet 0 keeps the length small: DER forbids it, MIT too).
    ['a five-octet DER length', Buffer.from([0x60, 0x85, 0, 0, 0, 0, 3, 6, 1, 0x2b])],
    ['a mechanism tag that is not an OID (0x04)', Buffer.from([0x60, 3, 4, 1, 0x2b])],
    ['an empty mechanism OID', Buffer.from([0x60, 2, 6, 0])],
    [
      'a long-form OID length',
      Buffer.concat([Buffer.from([0x60, 0x81, 0x83, 6, 0x81]), Buffer.alloc(129, 1)]),
    ],
    ['an OID longer than the token', Buffer.from([0x60, 3, 6, 5, 0x2b])],
  ])(
    'garbage that starts with 0x60 (%s) is refused with 401 before any keytab read or GSSAPI step',
    async (_what, bytes) => {
      const res = await request(app())
        .get('/')
        .set('Authorization', `Negotiate ${bytes.toString('base64')}`);
      expect(initializeServer).not.toHaveBeenCalled();
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Negotiate');
    },
  );

  it.each([
    ['an OID that ends the token', Buffer.from([0x60, 3, 6, 1, 0x2b])],
    ['a four-octet DER length', Buffer.from([0x60, 0x84, 0, 0, 0, 3, 6, 1, 0x2b])],
  ])('a token framed right to its last byte (%s) reaches GSSAPI', async (_what, bytes) => {
    const res = await request(app())
      .get('/')
      .set('Authorization', `Negotiate ${bytes.toString('base64')}`);
    expect(initializeServer).toHaveBeenCalledTimes(1);
    expect(res.status).toBe(500);
  });

  it('a well-framed SPNEGO token still reaches GSSAPI (the control)', async () => {
    // 0x60 len { OID 1.3.6.1.5.5.2, [0] {} }: framing right, contents for GSSAPI to judge.
    const inner = Buffer.concat([Buffer.from('06062b0601050502', 'hex'), Buffer.from([0xa0, 0])]);
    const token = Buffer.concat([Buffer.from([0x60, inner.length]), inner]);
    const res = await request(app())
      .get('/')
      .set('Authorization', `Negotiate ${token.toString('base64')}`);
    expect(initializeServer).toHaveBeenCalledTimes(1);
    expect(res.status).toBe(500);
  });
});
