/**
 * One server for every client's tests of a realm beyond ASCII: Basic and Digest under `Zürich`,
 * which goes out as ISO-8859-1 octets (Node writes a header's characters so), and Digest under the
 * realm's UTF-8 octets (the spelling an htdigest file needs) and behind `onFailure: 'next'`.
 */
import { authenticate, basic, digest } from 'authscheme';
import { startOwnServer, type OwnServer } from './own-server';

export const WIDE_REALM = 'Z\u00fcrich';
/** The realm's UTF-8 octets, one character each: so they go on the wire. */
export const WIDE_REALM_OCTETS = Buffer.from(WIDE_REALM, 'utf8').toString('latin1');
/** A user name and password beyond ASCII too, and one within it. */
export const WIDE_USERS: Readonly<Record<string, string>> = {
  alice: 'secret',
  'j\u00f6rg': 'p\u00e4ssword',
};

/**
 * Routes: `/basic`, and `/basic-octets` under {@link WIDE_REALM_OCTETS}; `/digest` (MD5, which every client answers) and `/digest-sha256`;
 * `/digest-octets`, MD5 under {@link WIDE_REALM_OCTETS}; `/digest-next`, MD5 whose refusals go
 * through `next(err)` to Express's default handler: it sends a string body, and Node then writes
 * the whole head as UTF-8, the realm's octets with it.
 */
export function startWideRealmServer(): Promise<OwnServer> {
  return startOwnServer((guard, _now, app) => {
    const md5 = { users: WIDE_USERS, algorithms: ['MD5'] } as const;
    guard('/basic', WIDE_REALM, basic({ users: WIDE_USERS }));
    guard('/basic-octets', WIDE_REALM_OCTETS, basic({ users: WIDE_USERS }));
    guard('/digest', WIDE_REALM, digest(md5));
    guard('/digest-sha256', WIDE_REALM, digest({ users: WIDE_USERS }));
    guard('/digest-octets', WIDE_REALM_OCTETS, digest(md5));
    app.use(
      '/digest-next',
      authenticate({ realm: WIDE_REALM, onFailure: 'next', schemes: [digest(md5)] }),
    );
  });
}

/** The `realm` of a `req.auth` the server answered with. */
export function realmOf(auth: unknown): unknown {
  return (auth as { realm?: unknown } | undefined)?.realm;
}
