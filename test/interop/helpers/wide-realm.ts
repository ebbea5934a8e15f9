/**
 * One server for every client's tests of a realm beyond ASCII: Basic and Digest under `Zürich`,
 * which goes out as ISO-8859-1 octets (Node writes a header's characters so), and Digest under the
 * realm's UTF-8 octets (the spelling an htdigest file needs) and behind `onFailure: 'next'`.
 * The client files import it whole, as `wide`: `wide.serverForThisBlock()`, `wide.REALM`.
 */
import { authenticate, basic, digest } from 'authscheme';
import { ownServerForThisBlock, type OwnServer } from './own-server';

export const REALM = 'Z\u00fcrich';
/** The realm's UTF-8 octets, one character each: so they go on the wire. */
export const REALM_OCTETS = Buffer.from(REALM, 'utf8').toString('latin1');
/** A user name and password beyond ASCII too, and one within it. */
export const USERS: Readonly<Record<string, string>> = {
  alice: 'secret',
  'j\u00f6rg': 'p\u00e4ssword',
};

/**
 * The server for the describe block this is called in (see {@link ownServerForThisBlock}).
 * Routes: `/basic`, and `/basic-octets` under {@link REALM_OCTETS}; `/digest` (MD5, which every
 * client answers) and `/digest-sha256`; `/digest-octets`, MD5 under {@link REALM_OCTETS};
 * `/digest-next`, MD5 whose refusals go through `next(err)` to Express's default handler: it
 * sends a string body, and Node then writes the whole head as UTF-8, the realm's octets with it.
 */
export function serverForThisBlock(): Pick<OwnServer, 'origin' | 'received'> {
  return ownServerForThisBlock((guard, _now, app) => {
    const md5 = { users: USERS, algorithms: ['MD5'] } as const;
    guard('/basic', REALM, basic({ users: USERS }));
    guard('/basic-octets', REALM_OCTETS, basic({ users: USERS }));
    guard('/digest', REALM, digest(md5));
    guard('/digest-sha256', REALM, digest({ users: USERS }));
    guard('/digest-octets', REALM_OCTETS, digest(md5));
    app.use(
      '/digest-next',
      authenticate({ realm: REALM, onFailure: 'next', schemes: [digest(md5)] }),
    );
  });
}

/** The `realm` of a `req.auth` the server answered with. */
export function realmOf(auth: unknown): unknown {
  return (auth as { realm?: unknown } | undefined)?.realm;
}
