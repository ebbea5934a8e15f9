/**
 * authscheme/negotiate without a KDC: option checks at setup, the challenge, and every malformed
 * credential that must be refused before GSSAPI sees it. No keytab is configured in this process's
 * real environment, so a request that did reach GSSAPI would fail to set up the acceptor and be
 * answered 500: a 401 here also shows the request was refused up front.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { authenticate, basic, type AuthenticateOptions } from 'authscheme';
import { negotiate, type NegotiateOptions } from 'authscheme/negotiate';

const servicePrincipal = 'HTTP@localhost';
const NTLM_NEGOTIATE = Buffer.concat([
  Buffer.from('NTLMSSP\0', 'latin1'),
  Buffer.from('01000000b78208e2', 'hex'),
  Buffer.alloc(16),
]).toString('base64');

function app(
  options: { proxy?: boolean; withBasic?: boolean; audit?: AuthenticateOptions['audit'] } = {},
): express.Express {
  const server = express();
  const schemes = [negotiate({ servicePrincipal })];
  if (options.withBasic === true) schemes.push(basic({ users: { bob: 'pw' } }));
  server.use(authenticate({ schemes, proxy: options.proxy === true, audit: options.audit }));
  server.get('/', (req, res) => {
    res.json({ auth: req.auth });
  });
  server.use((_err: unknown, _req: express.Request, res: express.Response, _next: unknown) => {
    res.status(500).json({ error: 'server error' });
  });
  return server;
}

/** One GET over a real socket, with the header lines as given (supertest cannot repeat a field). */
async function rawGet(
  handler: express.Express,
  headers: http.OutgoingHttpHeaders,
): Promise<http.IncomingMessage> {
  const server = handler.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/', headers }, resolve).once('error', reject);
    });
    res.resume();
    await new Promise((resolve) => res.once('end', resolve));
    return res;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('negotiate() setup', () => {
  const savedKtname = process.env.KRB5_KTNAME;
  afterEach(() => {
    if (savedKtname === undefined) delete process.env.KRB5_KTNAME;
    else process.env.KRB5_KTNAME = savedKtname;
  });

  it.each<[string, unknown]>([
    ['no options', undefined],
    ['no servicePrincipal', {}],
    [
      'a Kerberos principal name instead of service@host',
      { servicePrincipal: 'HTTP/www.example.com@EXAMPLE.COM' },
    ],
    ['a service without host', { servicePrincipal: 'HTTP' }],
    ['an empty servicePrincipal', { servicePrincipal: '' }],
    ['a servicePrincipal with a space', { servicePrincipal: 'HTTP@www example.com' }],
    ['verify that is not a function', { servicePrincipal, verify: 'alice' }],
    ['an empty stripRealm list', { servicePrincipal, stripRealm: [] }],
    [
      'stripRealm beside verify, which it would not change',
      { servicePrincipal, verify: () => 'u', stripRealm: true },
    ],
    [
      'a stripRealm list beside verify',
      { servicePrincipal, verify: () => 'u', stripRealm: ['EXAMPLE.COM'] },
    ],
    ['realms that are not a list', { servicePrincipal, realms: 'EXAMPLE.COM' }],
    ['a realm with @', { servicePrincipal, realms: ['a@b'] }],
    ['an empty realm name', { servicePrincipal, realms: [''] }],
    ['an empty realm name in stripRealm', { servicePrincipal, stripRealm: ['EXAMPLE.COM', ''] }],
    // Read from a file or the environment: compared exactly, they matched no principal.
    ['a realm with a CR left from a file', { servicePrincipal, realms: ['EXAMPLE.COM\r'] }],
    ['a stripRealm realm padded with a space', { servicePrincipal, stripRealm: [' EXAMPLE.COM'] }],
    // Any entry of the list, not the first alone; a NUL (a C string's end) that trim() keeps.
    ['a second realm with a CR', { servicePrincipal, realms: ['EXAMPLE.COM', 'OTHER.COM\r'] }],
    ['a realm ending in NUL', { servicePrincipal, realms: ['EXAMPLE.COM\0'] }],
    ['a servicePrincipal without host after the @', { servicePrincipal: 'HTTP@' }],
    ['a servicePrincipal with a space in the service', { servicePrincipal: 'HT TP@localhost' }],
    ['a servicePrincipal with two @', { servicePrincipal: 'HTTP@a@localhost' }],
    ['a servicePrincipal with port 65536', { servicePrincipal: 'HTTP@localhost:65536' }],
    ['a servicePrincipal with an empty port', { servicePrincipal: 'HTTP@localhost:' }],
    // Not a file keytab, so no file is checked: the name itself must be refused.
    ['a keytab name with a control character', { servicePrincipal, keytab: 'MEMORY:a\u0001b' }],
    ['mutual that is not a boolean', { servicePrincipal, mutual: 'yes' }],
    ['an empty keytab', { servicePrincipal, keytab: '' }],
    ['a keytab that does not exist', { servicePrincipal, keytab: '/nonexistent/http.keytab' }],
    ['a servicePrincipal with a port that is no number', { servicePrincipal: 'HTTP@localhost:x' }],
    ['a servicePrincipal with two colons', { servicePrincipal: 'HTTP@localhost:80:80' }],
    ['a servicePrincipal with port 0', { servicePrincipal: 'HTTP@localhost:0' }],
    ['a servicePrincipal with port 99999', { servicePrincipal: 'HTTP@localhost:99999' }],
    ['a servicePrincipal with a port written 00080', { servicePrincipal: 'HTTP@localhost:00080' }],
    ['a keytab that is a directory', { servicePrincipal, keytab: '/tmp' }],
  ])('refuses %s with a TypeError', (_what, options) => {
    expect(() => negotiate(options as NegotiateOptions)).toThrow(TypeError);
  });

  /** Runs `test` with two empty keytab files of a temporary folder, removed after. */
  function withTwoKeytabs(test: (first: string, second: string) => void): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authscheme-keytab-'));
    try {
      const first = path.join(dir, 'a.keytab');
      const second = path.join(dir, 'b.keytab');
      fs.writeFileSync(first, '');
      fs.writeFileSync(second, '');
      test(first, second);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  it('keytab sets KRB5_KTNAME, and refuses a second, different keytab', () => {
    delete process.env.KRB5_KTNAME;
    withTwoKeytabs((first, second) => {
      expect(negotiate({ servicePrincipal, keytab: first }).name).toBe('Negotiate');
      expect(process.env.KRB5_KTNAME).toBe(first);
      // The same keytab again (a second route) is fine; another one is not.
      expect(() => negotiate({ servicePrincipal, keytab: first })).not.toThrow();
      expect(() => negotiate({ servicePrincipal, keytab: second })).toThrow(/KRB5_KTNAME/);
      // The same file named another way is the same keytab.
      expect(() => negotiate({ servicePrincipal, keytab: `FILE:${first}` })).not.toThrow();
      expect(() => negotiate({ servicePrincipal, keytab: `WRFILE:${first}` })).not.toThrow();
      // Clients that put the port in the name they ask a ticket for (HTTP/host:port).
      expect(() =>
        negotiate({ servicePrincipal: 'HTTP@localhost:8080', keytab: first }),
      ).not.toThrow();
      expect(() =>
        negotiate({ servicePrincipal, keytab: path.relative(process.cwd(), first) }),
      ).not.toThrow();
    });
  });

  it('takes an empty KRB5_KTNAME for unset, and puts the keytab there', () => {
    withTwoKeytabs((first) => {
      process.env.KRB5_KTNAME = '';
      expect(() => negotiate({ servicePrincipal, keytab: first })).not.toThrow();
      expect(process.env.KRB5_KTNAME).toBe(first);
    });
  });

  it('takes a KRB5_KTNAME from the environment that names the keytab as FILE: for the same keytab', () => {
    withTwoKeytabs((first) => {
      process.env.KRB5_KTNAME = `FILE:${first}`;
      expect(() => negotiate({ servicePrincipal, keytab: first })).not.toThrow();
    });
  });

  it('accepts port 65535 in servicePrincipal', () => {
    expect(() => negotiate({ servicePrincipal: 'HTTP@localhost:65535' })).not.toThrow();
  });

  it('a second keytab is told apart from one KRB5_KTNAME held from the start, both named', () => {
    withTwoKeytabs((first, second) => {
      // An earlier negotiate() put `first` there: the application never set KRB5_KTNAME itself.
      delete process.env.KRB5_KTNAME;
      negotiate({ servicePrincipal, keytab: first });
      const fromEarlier = (): unknown => negotiate({ servicePrincipal, keytab: second });
      expect(fromEarlier).toThrow(TypeError);
      expect(fromEarlier).toThrow(
        `an earlier negotiate() was given the keytab ${first}; this one's, ${second}, cannot be read too`,
      );
      expect(fromEarlier).toThrow('put every service principal’s key in one keytab');
      // KRB5_KTNAME from the environment (a service manager's, say).
      process.env.KRB5_KTNAME = `FILE:${second}`;
      const fromEnvironment = (): unknown => negotiate({ servicePrincipal, keytab: first });
      expect(fromEnvironment).toThrow(TypeError);
      expect(fromEnvironment).toThrow(`KRB5_KTNAME names the keytab FILE:${second}, not ${first}`);
    });
  });

  it('puts a relative keytab into KRB5_KTNAME as an absolute path (a later chdir must not lose it)', () => {
    delete process.env.KRB5_KTNAME;
    const dir = fs.mkdtempSync(path.join(process.cwd(), '.tmp-keytab-'));
    try {
      const file = path.join(dir, 'rel.keytab');
      fs.writeFileSync(file, '');
      const relative = path.relative(process.cwd(), file);
      negotiate({ servicePrincipal, keytab: relative });
      expect(process.env.KRB5_KTNAME).toBe(file);
      delete process.env.KRB5_KTNAME;
      negotiate({ servicePrincipal, keytab: `FILE:${relative}` });
      expect(process.env.KRB5_KTNAME).toBe(file);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Negotiate challenges and malformed credentials (no KDC)', () => {
  it('answers a request without credentials with 401 and a bare Negotiate challenge', async () => {
    const res = await request(app()).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Negotiate');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers in proxy mode with 407 and Proxy-Authenticate: Negotiate', async () => {
    const res = await request(app({ proxy: true })).get('/');
    expect(res.status).toBe(407);
    expect(res.headers['proxy-authenticate']).toBe('Negotiate');
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it.each([
    ['no token', 'Negotiate'],
    ['auth-params instead of a token', 'Negotiate token="YWJj"'],
    ['a token that is not canonical base64 (no padding)', 'Negotiate YWJjZA'],
    ['a base64url token', 'Negotiate YW-_ZA=='],
    ['a raw NTLM token (NTLM is not supported)', `Negotiate ${NTLM_NEGOTIATE}`],
    ['a lower-case scheme name with a raw NTLM token', `negotiate ${NTLM_NEGOTIATE}`],
    // RFC 2743 §3.1: a first token starts with [APPLICATION 0] (0x60); no keytab is read for these.
    [
      'a token that is no GSS-API initial token',
      `Negotiate ${Buffer.from('junk').toString('base64')}`,
    ],
    [
      'a later leg (SPNEGO negTokenResp, 0xa1)',
      `Negotiate ${Buffer.from([0xa1, 3, 0, 0, 0]).toString('base64')}`,
    ],
  ])('refuses %s with 401 and the challenge, before GSSAPI', async (_what, header) => {
    const codes: (string | undefined)[] = [];
    const res = await request(app({ audit: (outcome) => void codes.push(outcome.code) }))
      .get('/')
      .set('Authorization', header);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Negotiate');
    expect(res.body).not.toHaveProperty('auth');
    // Nothing was checked (Windows sends raw NTLM where it has no ticket): no failed guess for a
    // lockout to count, as Basic's credentials that do not decode.
    expect(codes).toEqual(['ERR_AUTH_INVALID_REQUEST']);
  });

  it.each([
    ['two tokens', 'Negotiate YWJj ZGVm'],
    ['a token followed by a comma', 'Negotiate YWJj,'],
  ])('answers a malformed field (%s) with 400', async (_what, header) => {
    const res = await request(app()).get('/').set('Authorization', header);
    expect(res.status).toBe(400);
  });

  it('answers two Authorization fields with 400', async () => {
    // Node sends an array value as one field line per element.
    const lines: http.OutgoingHttpHeader = ['Negotiate YWJj', 'Negotiate ZGVm'];
    const res = await rawGet(app(), { authorization: lines as unknown as string });
    expect(res.statusCode).toBe(400);
  });

  it('offers Negotiate and Basic as one field line each, in the configured order', async () => {
    // supertest joins repeated fields into one string: read the raw lines off a real socket.
    const res = await rawGet(app({ withBasic: true }), {});
    expect(res.statusCode).toBe(401);
    expect(res.headersDistinct['www-authenticate']).toEqual([
      'Negotiate',
      'Basic realm="Restricted", charset="UTF-8"',
    ]);
  });

  it('fails closed with 500 (next(err)) when a well-formed token arrives and no keytab is usable', async () => {
    const res = await request(app())
      .get('/')
      .set(
        'Authorization',
        // Framed as a GSS-API initial context token (0x60, its length, the SPNEGO OID): GSSAPI's to judge.
        `Negotiate ${Buffer.from('601206062b0601050502a008736f6d6520746f6b', 'hex').toString('base64')}`,
      );
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'server error' });
  });
});
