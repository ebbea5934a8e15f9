/**
 * authscheme/negotiate with the GSSAPI binding replaced: what the adapter makes of the principal
 * name and the context state an acceptor reports, for names the test KDC cannot issue or tickets
 * curl cannot present (a name ending in a backslash, an `@` escaped in the realm, a principal
 * without a realm, a context GSSAPI has not completed). The display form is krb5's
 * (krb5_unparse_name): `@` and `\` inside a component are escaped with a backslash, and the realm
 * follows the last unescaped `@`.
 *
 * Also the anonymous principal of RFC 8062 (anonymous PKINIT) in the form
 * `WELLKNOWN/ANONYMOUS@<realm>`, which the test KDC cannot issue: MIT's KDC names the client of
 * every anonymous ticket `WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS` and answers `kinit -n
 * user@REALM` (the realm-exposed request) with "KDC can't fulfill requested option". The
 * `WELLKNOWN:ANONYMOUS` form is tested for real in negotiate.test.ts (`kinit -n`, curl, the
 * acceptor in its own process); the realm form is refused too, even when `realms` accepts that
 * realm, and a spy checks that `verify` is never called.
 */
import express from 'express';
import request from 'supertest';
import { authenticate } from 'authscheme';
import { negotiate, type NegotiateOptions } from 'authscheme/negotiate';

/** What the mocked acceptor reports after its step. */
let reported: {
  username: unknown;
  contextComplete: unknown;
  response: unknown;
  stepError?: Error;
};
jest.mock('kerberos', () => ({
  initializeServer: jest.fn(async () => ({
    get contextComplete(): unknown {
      return reported.contextComplete;
    },
    get username(): unknown {
      return reported.username;
    },
    get response(): unknown {
      return reported.response;
    },
    step: jest.fn(async () => {
      if (reported.stepError !== undefined) throw reported.stepError;
    }),
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

function accepting(username: string): void {
  reported = { username, contextComplete: true, response: 'b2s=' };
}

describe('Negotiate principal names, mocked acceptor', () => {
  it.each([
    ['a one-character name', 'x@EXAMPLE.COM', 'x', 'EXAMPLE.COM'],
    ['an escaped @ in the name', 'a\\@b@EXAMPLE.COM', 'a\\@b', 'EXAMPLE.COM'],
    ['a name that is one (escaped) backslash', '\\\\@EXAMPLE.COM', '\\\\', 'EXAMPLE.COM'],
    ['a name ending in an escaped backslash', 'a\\\\@EXAMPLE.COM', 'a\\\\', 'EXAMPLE.COM'],
    ['an escaped @ in the realm', 'a@EX\\@AMPLE', 'a', 'EX\\@AMPLE'],
    ['two unescaped @ (the last one)', 'a@b@EXAMPLE.COM', 'a@b', 'EXAMPLE.COM'],
  ])('stripRealm: true finds the realm of %s', async (_what, principal, user, realm) => {
    accepting(principal);
    const res = await request(app({ stripRealm: true }))
      .get('/')
      .set('Authorization', token);
    expect(res.status).toBe(200);
    expect(res.body.auth).toEqual({ scheme: 'Negotiate', user, principal, realm });
  });

  it.each([
    ['no @ at all', 'alice'],
    ['only an escaped @', 'a\\@EXAMPLE.COM'],
    ['an @ that begins it (an empty name)', '@EXAMPLE.COM'],
  ])('a principal with %s has no realm: stripRealm keeps it whole', async (_what, principal) => {
    accepting(principal);
    const res = await request(app({ stripRealm: true }))
      .get('/')
      .set('Authorization', token);
    expect(res.status).toBe(200);
    expect(res.body.auth).toEqual({ scheme: 'Negotiate', user: principal, principal });
  });

  it('realms refuses a principal without a realm', async () => {
    accepting('alice');
    const res = await request(app({ realms: ['EXAMPLE.COM'] }))
      .get('/')
      .set('Authorization', token);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Negotiate');
    // The control: a principal of that realm passes.
    accepting('alice@EXAMPLE.COM');
    const ok = await request(app({ realms: ['EXAMPLE.COM'] }))
      .get('/')
      .set('Authorization', token);
    expect(ok.status).toBe(200);
  });

  it('a stripRealm list shortens the principals of its realms only', async () => {
    const server = app({ stripRealm: ['A.TEST'] });
    accepting('alice@A.TEST');
    const listed = await request(server).get('/').set('Authorization', token);
    expect(listed.body.auth).toMatchObject({ user: 'alice', realm: 'A.TEST' });
    accepting('alice@B.TEST');
    const other = await request(server).get('/').set('Authorization', token);
    expect(other.body.auth).toMatchObject({ user: 'alice@B.TEST', realm: 'B.TEST' });
  });

  it.each([
    [
      'a context GSSAPI has not completed',
      { contextComplete: false, username: 'alice@EXAMPLE.COM' },
    ],
    ['an empty principal', { contextComplete: true, username: '' }],
  ])('refuses %s with 401', async (_what, state) => {
    reported = { ...state, response: 'b2s=' };
    const res = await request(app()).get('/').set('Authorization', token);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Negotiate');
    expect(res.body).not.toHaveProperty('auth');
  });

  it.each([
    ['ESC', 'ev\u001b[31mil@EXAMPLE.COM', 'ev\\u{1b}[31mil@EXAMPLE.COM'],
    ['CR', 'cr\rlf@EXAMPLE.COM', 'cr\\u{d}lf@EXAMPLE.COM'],
    ['DEL', 'del\u007f@EXAMPLE.COM', 'del\\u{7f}@EXAMPLE.COM'],
    ['a C1 control (NEL)', 'nel\u0085@EXAMPLE.COM', 'nel\\u{85}@EXAMPLE.COM'],
    ['a control in the realm', 'alice@EXAMPLE\u001b.COM', 'alice@EXAMPLE\\u{1b}.COM'],
  ])(
    'refuses a principal with %s (MIT does not escape it) with 401, before verify, naming it escaped',
    async (_what, principal, shown) => {
      // As Basic does (RFC 7617 §2): the raw name would reach req.auth.user and the logs.
      accepting(principal);
      const verify = jest.fn(() => 'someone');
      const refusals: unknown[] = [];
      const server = express();
      server.use(
        authenticate({
          audit: (outcome) => void refusals.push(outcome),
          schemes: [negotiate({ servicePrincipal: 'HTTP@localhost', verify })],
        }),
      );
      server.get('/', (req, res) => res.json({ auth: req.auth }));
      const res = await request(server).get('/').set('Authorization', token);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Negotiate');
      expect(verify).not.toHaveBeenCalled();
      expect(refusals).toEqual([
        expect.objectContaining({
          outcome: 'refused',
          user: shown,
          message: 'The principal’s name contains control characters',
        }),
      ]);
      // The control: the same name without it passes.
      accepting('evil@EXAMPLE.COM');
      expect((await request(server).get('/').set('Authorization', token)).status).toBe(200);
    },
  );

  it('escapes control and format characters of the principal it names on a refusal', async () => {
    // A trusted realm's KDC may issue any name; the refusal's `user` reaches audit logs.
    accepting('eve\r\u001b[31m\u202e@EXAMPLE.COM');
    const server = express();
    server.use(
      authenticate({
        onFailure: 'next',
        schemes: [negotiate({ servicePrincipal: 'HTTP@localhost', realms: ['OTHER.TEST'] })],
      }),
    );
    server.use(
      (err: { user?: string }, _req: express.Request, res: express.Response, _next: unknown) => {
        res.status(401).json({ user: err.user });
      },
    );
    const res = await request(server).get('/').set('Authorization', token);
    expect(res.status).toBe(401);
    expect(res.body.user).toBe('eve\\u{d}\\u{1b}[31m\\u{202e}@EXAMPLE.COM');
  });

  it('tells a raw NTLM token apart in its refusal', async () => {
    // Windows clients without a ticket send NTLMSSP as the Negotiate token: say so in the refusal.
    const server = express();
    server.use(
      authenticate({
        onFailure: 'next',
        schemes: [negotiate({ servicePrincipal: 'HTTP@localhost' })],
      }),
    );
    server.use(
      (err: { message?: string }, _req: express.Request, res: express.Response, _next: unknown) => {
        res.status(401).json({ message: err.message });
      },
    );
    const ntlm = Buffer.concat([
      Buffer.from('NTLMSSP\0', 'latin1'),
      Buffer.from('01000000', 'hex'),
    ]);
    const res = await request(server)
      .get('/')
      .set('Authorization', `Negotiate ${ntlm.toString('base64')}`);
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('NTLM is not supported');
  });

  it("refuses GSSAPI's Error with 401 but sends the binding's TypeError (a programming error) to next(err)", async () => {
    const server = app();
    server.use((_err: unknown, _req: express.Request, res: express.Response, _next: unknown) => {
      res.status(500).json({ error: 'server error' });
    });
    reported = { username: 'alice@EXAMPLE.COM', contextComplete: true, response: 'b2s=' };
    reported.stepError = new Error('Invalid token was supplied');
    expect((await request(server).get('/').set('Authorization', token)).status).toBe(401);
    reported.stepError = new TypeError('step() expects a string');
    expect((await request(server).get('/').set('Authorization', token)).status).toBe(500);
  });

  it('sends no mutual-auth token that is not a token68', async () => {
    reported = { username: 'alice@EXAMPLE.COM', contextComplete: true, response: 'b2s= x' };
    const res = await request(app()).get('/').set('Authorization', token);
    expect(res.status).toBe(200);
    expect(res.headers['www-authenticate']).toBeUndefined();
  });
});

describe('Negotiate and the anonymous principal in a realm (RFC 8062), mocked', () => {
  it('accepts an ordinary principal (the mock works)', async () => {
    accepting('alice@EXAMPLE.COM');
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
    accepting(name);
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
    accepting('WELLKNOWN/ANONYMOUS@EXAMPLE.COM');
    const refused = await request(app({ stripRealm: true }))
      .get('/')
      .set('Authorization', token);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Negotiate');
    expect(refused.body).not.toHaveProperty('auth');
  });
});
