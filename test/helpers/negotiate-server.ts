/**
 * The server the Negotiate tests talk to, run as its own process (`node --import tsx`) so that the
 * GSSAPI library sees the throw-away realm in its real environment (jest gives test files a copy of
 * `process.env` that native code never reads). Prints `listening <port>` once it accepts requests.
 *
 * Environment: KRB5_CONFIG (the realm), NEGOTIATE_KEYTAB (handed to the `keytab` option).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { authenticate, basic } from '../../src/index';
import { negotiate } from '../../src/adapters/kerberos';

const keytab = process.env.NEGOTIATE_KEYTAB;
if (keytab === undefined) throw new Error('NEGOTIATE_KEYTAB is not set');
const servicePrincipal = 'HTTP@localhost';

const app = express();
const show = (req: Request, res: Response): void => {
  res.json({ auth: req.auth });
};

app.get('/', authenticate({ schemes: [negotiate({ servicePrincipal, keytab })] }), show);
app.get(
  '/strip',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab, stripRealm: true })] }),
  show,
);
// Refuses alice, maps everyone else to an identity with extra fields.
app.get(
  '/verify',
  authenticate({
    schemes: [
      negotiate({
        servicePrincipal,
        keytab,
        verify: async (principal) =>
          principal.startsWith('alice@')
            ? false
            : { user: principal.split('@')[0]!, role: 'staff' },
      }),
    ],
  }),
  show,
);
app.get(
  '/other-realm',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab, realms: ['OTHER.TEST'] })] }),
  show,
);
app.get(
  '/both',
  authenticate({
    realm: 'both',
    schemes: [negotiate({ servicePrincipal, keytab }), basic({ users: { bob: 'bob-password' } })],
  }),
  show,
);
app.get(
  '/no-mutual',
  authenticate({ schemes: [negotiate({ servicePrincipal, keytab, mutual: false })] }),
  show,
);
app.get(
  '/proxy',
  authenticate({ proxy: true, schemes: [negotiate({ servicePrincipal, keytab })] }),
  show,
);
// Challenges and never accepts: curl answers with a fresh token that no acceptor has seen yet.
app.get('/challenge-only', (_req, res) => {
  res.status(401).set('WWW-Authenticate', 'Negotiate').end();
});
// Refusals go to the error handler below, which shows their code and message (what a logger sees).
app.get(
  '/reasons',
  authenticate({ onFailure: 'next', schemes: [negotiate({ servicePrincipal, keytab })] }),
  show,
);
// The keytab holds no key for this service: the acceptor cannot be set up.
app.get(
  '/no-key',
  authenticate({ schemes: [negotiate({ servicePrincipal: 'HTTP@nokey.test', keytab })] }),
  show,
);
// Express 5's default handler would print the stack; answer with the status alone.
app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
  const {
    status = 500,
    code,
    message,
  } = err as { status?: number; code?: string; message?: string };
  if (req.path === '/reasons') res.status(status).json({ code, message });
  else res.status(status).json({ error: status === 500 ? 'server error' : 'refused' });
});

const server = http.createServer(app);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
