// Stopping password guessing: an account locks after 5 wrong passwords within 15 minutes, an
// address is refused (429) after 20 wrong guesses within 15 minutes, whatever the accounts, and a
// right password on a locked account raises an alert. Basic (a users map, or an htpasswd file's
// verify with `cache: true`) and Digest (a users map) alike.
// Run: npx tsx examples/basic/lockout.ts, then:
//   for p in a b c d e secret; do curl -s -o /dev/null -w '%{http_code} ' -u alice:$p http://localhost:3004/; done
//
// Where the lock is checked matters:
// - After the scheme's own check (withLockout below), never instead of it: the refusal of a locked
//   account then costs what a wrong password costs, and says nothing of the password. A check in
//   a middleware before authenticate() answers a locked account without hashing (it can be timed),
//   has to decode the credentials itself, and leaves audit a credential-less request.
// - Not inside a Basic `verify` given `cache: true`: the cache answers a right password without
//   calling `verify`, so a locked account whose owner logged in within `maxAge` is let in (a 200
//   where every other guess got a 401: the guesser learns the password). Nor can a `users` map
//   take a check of its own. Wrapping the scheme covers all of these.
// - Do not reset the count on a success: Basic sends the password with every request, so the
//   owner's next page view would give a guesser 4 more guesses. Failures expire instead.
import { createHash } from 'node:crypto';
import express, { type Request } from 'express';
import {
  authenticate,
  basic,
  digest,
  refuse,
  safeCompare,
  type AuthOutcome,
  type Scheme,
  type VerifyResult,
} from 'authscheme';

/** Failures per key within a window, in a bounded map. */
export class FailureCounter {
  private readonly entries = new Map<string, { count: number; until: number }>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    readonly maxKeys = 100_000,
    readonly now: () => number = Date.now,
  ) {}

  fail(key: string): void {
    const now = this.now();
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.until > now) {
      entry.count++;
      return;
    }
    this.entries.delete(key);
    if (this.entries.size >= this.maxKeys) this.sweep(now);
    this.entries.set(key, { count: 1, until: now + this.windowMs });
  }

  blocked(key: string): boolean {
    const entry = this.entries.get(key);
    return entry !== undefined && entry.until > this.now() && entry.count >= this.limit;
  }

  /** Drops expired entries; if the map is still full, the oldest (a flood of made-up names). */
  private sweep(now: number): void {
    for (const [key, entry] of this.entries) if (entry.until <= now) this.entries.delete(key);
    if (this.entries.size >= this.maxKeys) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }
}

/**
 * The key of an account. `user` in audit is the name the client sent, as the scheme compared it
 * (Unicode NFC for Basic and Digest), up to the header's 16 384 characters: long names are hashed
 * to bound the map. If your own store matches names case-insensitively (a database collation, a
 * directory), fold them here the same way, or `Alice` and `alice` would count apart.
 */
export function accountKey(user: string): string {
  return user.length <= 128 ? user : `sha256:${createHash('sha256').update(user).digest('hex')}`;
}

export const LOCKED = 'Account locked';

/**
 * Refuses a locked account after `scheme` checked its credentials: a right password then gets the
 * refusal a wrong one gets (same status, challenges and body; audit: `ERR_AUTH_INVALID_CREDENTIALS`
 * with the message `Account locked`).
 */
export function withLockout(scheme: Scheme, isLocked: (user: string) => boolean): Scheme {
  const decide = (result: VerifyResult): VerifyResult =>
    result.ok && isLocked(result.user) ? { ...refuse(LOCKED), user: result.user } : result;
  const wrapped: Scheme = {
    name: scheme.name,
    challenges: (ctx, failure) => scheme.challenges(ctx, failure),
    verify(credentials, ctx) {
      const result = scheme.verify(credentials, ctx);
      return result instanceof Promise ? result.then(decide) : decide(result);
    },
  };
  if (scheme.locate) wrapped.locate = (ctx, found) => scheme.locate!(ctx, found);
  if (scheme.setup) wrapped.setup = (setup) => scheme.setup!(setup);
  return wrapped;
}

const users = { alice: 'secret', bob: 'builder', carol: 'hunter2' };

/** The app, with its counters and alerts (one set per app). */
export function lockoutApp() {
  const accounts = new FailureCounter(5, 15 * 60_000);
  const addresses = new FailureCounter(20, 15 * 60_000);
  const alerts: string[] = [];
  const isLocked = (user: string) => accounts.blocked(accountKey(user));

  const audit = ({ outcome, code, user, message }: AuthOutcome, req: Request): void => {
    // Only refusals of a password check: not a browser's first request (no credentials), not a
    // Digest stale nonce (a right password), not a nonce from before a restart nor a malformed
    // header (ERR_AUTH_INVALID_REQUEST, ERR_AUTH_HEADER_SYNTAX: no password was tested).
    if (outcome !== 'refused' || code !== 'ERR_AUTH_INVALID_CREDENTIALS') return;
    addresses.fail(req.ip ?? '');
    // Digest with `userhash: true` names no user on a refusal: those guesses count per address only.
    if (user !== undefined) accounts.fail(accountKey(user));
    if (message === LOCKED) {
      alerts.push(`right password for locked account ${JSON.stringify(user)} from ${req.ip}`);
    }
  };

  // Before authenticate(): an address with too many wrong guesses is refused unchecked. (A rate
  // limiter counting every 401 would count each browser's first, credential-less request and
  // Digest's stale nonces too; with express-rate-limit, set a flag in audit and give it
  // `requestWasSuccessful: (req) => !req.wrongGuess`.)
  const limitAddresses: express.RequestHandler = (req, res, next) => {
    if (!addresses.blocked(req.ip ?? '')) return next();
    res.status(429).set('Retry-After', '900').end();
  };

  const hello: express.RequestHandler = (req, res) => {
    res.send(`Hello, ${req.auth!.user}!\n`);
  };
  // Digest under /digest, answered there (the Basic guard below never sees those requests).
  const digestRoutes = express.Router();
  digestRoutes.use(
    limitAddresses,
    authenticate({
      realm: 'example',
      audit,
      schemes: [withLockout(digest({ users, secret: process.env.DIGEST_SECRET }), isLocked)],
    }),
  );
  digestRoutes.get(/.*/, hello);

  const app = express();
  // app.set('trust proxy', 'loopback'); // behind a reverse proxy: req.ip is then the client's
  app.use('/digest', digestRoutes);
  app.use(
    limitAddresses,
    authenticate({
      realm: 'example',
      audit,
      // Or basic({ verify: (await loadHtpasswd(path)).verify, cache: true }), wrapped the same way.
      schemes: [withLockout(basic({ verify: usersVerify(users), cache: true }), isLocked)],
    }),
  );
  app.get(/.*/, hello);
  return { app, accounts, addresses, alerts };
}

export const { app } = lockoutApp();

/** A password check of your own (a stand-in for a database), so that `cache` applies. */
function usersVerify(map: Record<string, string>) {
  return (user: string, password: string) => {
    const known = Object.hasOwn(map, user);
    // Compare for an unknown name too, so that it costs what a wrong password costs.
    return safeCompare(password, known ? map[user]! : '') && known ? user : false;
  };
}

if (require.main === module) {
  const port = Number(process.env.PORT ?? 3004);
  // Express 5 hands a failed listen (EADDRINUSE) to this callback: say so, not that it listens.
  app.listen(port, (error?: Error) => {
    if (error) throw error;
    console.log(`lockout example on http://localhost:${port}/`);
  });
}
