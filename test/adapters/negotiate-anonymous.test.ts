/**
 * authscheme/negotiate with the GSSAPI binding replaced: what the adapter does with a principal
 * name that a real acceptor reports for a token it accepted. Here, the anonymous principal of
 * RFC 8062 (anonymous PKINIT) in the form `WELLKNOWN/ANONYMOUS@<realm>`, which the test KDC
 * cannot issue: MIT's KDC names the client of every anonymous ticket
 * `WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS` and answers `kinit -n user@REALM` (the realm-exposed
 * request) with "KDC can't fulfill requested option". The `WELLKNOWN:ANONYMOUS` form is tested
 * for real in negotiate.test.ts (`kinit -n`, curl, the acceptor in its own process); this file
 * covers the realm form, which the adapter refuses too, even when `realms` accepts that realm,
 * and checks with a spy that `verify` is never called.
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

// Framed as a GSS-API initial context token (0x60, its length, an OID; RFC 2743 §3.1): others
// never reach GSSAPI.
const token = `Negotiate ${Buffer.from('601206062b0601050502a008736f6d6520746f6b', 'hex').toString('base64')}`;

describe('Negotiate and the anonymous principal in a realm (RFC 8062), mocked', () => {
  it('accepts an ordinary principal (the mock works)', async () => {
    principal = 'alice@EXAMPLE.COM';
    const res = await request(app()).get('/').set('Authorization', token);
    expect(res.status).toBe(200);
    expect(res.body.auth.principal).toBe('alice@EXAMPLE.COM');
  });

  it.each([
    ['realm-exposed anonymous', 'WELLKNOWN/ANONYMOUS@EXAMPLE.COM', {}],
    [
      'anonymous in an accepted realm',
      'WELLKNOWN/ANONYMOUS@EXAMPLE.COM',
      { realms: ['EXAMPLE.COM'] },
    ],
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

  it('refuses the anonymous principal with 401 under stripRealm (which would make it WELLKNOWN/ANONYMOUS)', async () => {
    principal = 'WELLKNOWN/ANONYMOUS@EXAMPLE.COM';
    const refused = await request(app({ stripRealm: true }))
      .get('/')
      .set('Authorization', token);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Negotiate');
    expect(refused.body).not.toHaveProperty('auth');
  });
});
