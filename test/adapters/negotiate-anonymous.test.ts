/**
 * authscheme/negotiate with the GSSAPI binding replaced: what the adapter does with a principal
 * name that a real acceptor reports for a token it accepted. Here, the anonymous principal of
 * RFC 8062 (anonymous PKINIT), which the test KDC cannot issue without the PKINIT plugin:
 * `kinit -n` gets such a ticket from any realm that enables anonymous PKINIT (often done for FAST
 * armor), and unless the KDC sets `restrict_anonymous_to_tgt`, service tickets too. MIT's acceptor
 * accepts it (only `GSS_C_ANON_FLAG` tells, which the `kerberos` package does not expose) and
 * names the client `WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS`, or `WELLKNOWN/ANONYMOUS@<realm>`.
 */
import express from 'express';
import request from 'supertest';
import { authenticate } from 'authscheme';
import { negotiate, type NegotiateOptions } from 'authscheme/negotiate';

let principal = '';
jest.mock('kerberos', () => ({
  initializeServer: jest.fn(async () => ({
    contextComplete: true,
    response: 'b2s=',
    get username(): string {
      return principal;
    },
    step: jest.fn(async () => undefined),
  })),
}));

function app(options: Partial<NegotiateOptions> = {}): express.Express {
  const server = express();
  server.use(
    authenticate({ schemes: [negotiate({ servicePrincipal: 'HTTP@localhost', ...options })] }),
  );
  server.get('/', (req, res) => {
    res.json({ auth: req.auth });
  });
  return server;
}

const token = `Negotiate ${Buffer.from('a token the mock accepts').toString('base64')}`;

describe('Negotiate and the anonymous principal (RFC 8062)', () => {
  it('accepts an ordinary principal (the mock works)', async () => {
    principal = 'alice@EXAMPLE.COM';
    const res = await request(app()).get('/').set('Authorization', token);
    expect(res.status).toBe(200);
    expect(res.body.auth.principal).toBe('alice@EXAMPLE.COM');
  });

  it.each([
    ['fully anonymous', 'WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS', {}],
    [
      'anonymous in an accepted realm',
      'WELLKNOWN/ANONYMOUS@EXAMPLE.COM',
      { realms: ['EXAMPLE.COM'] },
    ],
    ['anonymous with stripRealm', 'WELLKNOWN/ANONYMOUS@EXAMPLE.COM', { stripRealm: true }],
  ])('refuses the %s principal with 401, never calling verify', async (_what, name, options) => {
    principal = name;
    const verify = jest.fn(() => 'someone');
    const refused = await request(app({ ...options, verify }))
      .get('/')
      .set('Authorization', token);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Negotiate');
    expect(verify).not.toHaveBeenCalled();
    const withoutVerify = await request(app(options)).get('/').set('Authorization', token);
    expect(withoutVerify.status).toBe(401);
    expect(withoutVerify.body).not.toHaveProperty('auth');
  });
});
