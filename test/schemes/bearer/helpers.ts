/**
 * An Express app with authenticate() + bearer() and a handler that echoes req.auth, for the
 * Bearer tests.
 */
import express from 'express';
import type { Express } from 'express';
import { authenticate } from '../../../src/middleware/authenticate';
import type { AuthenticateOptions } from '../../../src/middleware/authenticate';
import { bearer } from '../../../src/schemes/bearer';
import type { BearerOptions, BearerVerify } from '../../../src/schemes/bearer';
import type { Identity } from '../../../src/scheme';

/** Header that proves the protected handler ran. */
export const HIT = 'x-handler-ran';

export function bearerApp(
  options: BearerOptions,
  auth: Partial<AuthenticateOptions> = {},
  before: express.RequestHandler[] = [],
): Express {
  const app = express();
  for (const middleware of before) app.use(middleware);
  app.use(authenticate({ realm: 'example', ...auth, schemes: [bearer(options)] }));
  app.all('/{*rest}', (req, res) => {
    res.setHeader(HIT, 'yes');
    res.json({ auth: req.auth ?? null });
  });
  // Errors: 500 with no challenge, as Express's default handler does for a plain Error.
  app.use(
    (_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).send('Internal Server Error');
    },
  );
  return app;
}

/** A verifier over a fixed table of tokens. */
export function tableVerify(table: Record<string, Identity>): BearerVerify {
  return (token) => (Object.hasOwn(table, token) ? table[token] : false);
}
