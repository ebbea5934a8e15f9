// Basic with your own asynchronous check, e.g. against a database. The identity object's extra
// fields (here `roles`) land on req.auth.
// Run: npx tsx examples/basic/async-verifier.ts, then: curl -u carol:correct-horse http://localhost:3003/
import { scrypt, timingSafeEqual, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import express from 'express';
import { authenticate, basic } from 'authscheme';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
) => Promise<Buffer>;

/** A stand-in for a user table: salted scrypt hashes, never plain passwords. */
const salt = randomBytes(16);
const table = new Map<string, { hash: Promise<Buffer>; roles: string[] }>([
  ['carol', { hash: scryptAsync('correct-horse', salt, 32), roles: ['editor'] }],
]);
const unknownUser = scryptAsync('no such user', salt, 32);

export const app = express();

app.use(
  authenticate({
    realm: 'example',
    schemes: [
      basic({
        async verify(user, password) {
          const row = table.get(user);
          // Hash even for unknown users, so that both cases take the same time.
          const [expected, actual] = await Promise.all([
            row?.hash ?? unknownUser,
            scryptAsync(password, salt, 32),
          ]);
          return timingSafeEqual(expected, actual) && row ? { user, roles: row.roles } : false;
        },
      }),
    ],
  }),
);

app.get('/', (req, res) => {
  res.json(req.auth);
});

if (require.main === module) {
  const port = Number(process.env.PORT ?? 3003);
  // Express 5 hands a failed listen (EADDRINUSE) to this callback: say so, not that it listens.
  app.listen(port, (error?: Error) => {
    if (error) throw error;
    console.log(`async verifier example on http://localhost:${port}/`);
  });
}
