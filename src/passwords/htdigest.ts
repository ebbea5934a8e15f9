/**
 * Apache `htdigest` password files: one `user:realm:HA1` line per user and realm, where HA1 is
 * `MD5(user ":" realm ":" password)` in lower-case hex (RFC 7616 §3.4.2 with MD5), so the file
 * holds no plain passwords.
 */
import type { AuthRequest } from '../scheme';
import type { DigestHash } from '../schemes/digest/algorithms';
import { isAscii, isHexOfLength, utf8OfOctets } from '../util/text';
import { colonFields, entryLines, readPasswordFile, readPasswordFileSync } from './file-text';
import {
  firstVersion,
  firstVersionSync,
  Reloading,
  reloadSettings,
  type LoadedVersion,
  type PasswordFileOptions,
  type ReloadOptions,
} from './reload';

/** A parsed htdigest file. */
export interface HtdigestFile {
  /**
   * The user names (in NFC) of each realm. A copy: changing it changes nothing. Not their HA1s,
   * which answer Digest as the password does: an object logged whole would give them away
   * (htpasswd's `users` says the format alone, for the same reason).
   */
  readonly realms: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * A `getHA1` for `digest()`: the user's HA1 for the realm when `hash` is MD5 (htdigest files
   * hold MD5 only; offer `MD5` or `MD5-sess`), else `undefined`. With `reload`, a promise of it
   * when the file is due to be looked at. A realm beyond ASCII must be configured as its UTF-8
   * bytes read as latin1 (`Buffer.from('réalm').toString('latin1')`), which this finds under the
   * file's `réalm`: clients hash the realm's bytes as sent, and the file's HA1s are over UTF-8.
   * Asked for the file's `réalm` itself, it throws a `TypeError` saying so.
   */
  getHA1(
    user: string,
    realm: string,
    hash: DigestHash,
    req?: AuthRequest,
  ): string | undefined | Promise<string | undefined>;
}

/**
 * Parses the text of an htdigest file. White space around a line is ignored; a byte order mark
 * at the start, empty lines and lines starting with `#` are skipped. For a user listed twice in one realm the first line counts,
 * as in Apache's mod_authn_file.
 *
 * @throws TypeError naming the line number (never its content) on a malformed line
 *
 * @example
 * const file = parseHtdigest('alice:api:64daccb98e690d1130b2f0a509f0d34f\n');
 * const scheme = digest({ getHA1: file.getHA1, algorithms: ['MD5'] });
 */
export function parseHtdigest(text: string): HtdigestFile {
  if (typeof text !== 'string') throw new TypeError('parseHtdigest(): text must be a string');
  const realms = new Map<string, Map<string, string>>();
  for (const [lineNumber, line] of entryLines(text, 'htdigest')) {
    // Fields after the hash are ignored, as Apache's mod_auth_digest does (`user:realm:HA1:comment`),
    // and a run of colons ends a field as one does there (`user:realm::HA1`). A missing field is
    // '' (`user:realm`: no hash, refused below).
    const [name, realm, ha1] = colonFields(line, 3) as [string, string, string];
    // digest() looks names up in NFC (RFC 7616 §4); the HA1 keeps the bytes the file was made from.
    const user = name.normalize('NFC');
    if (user === '' || !isHexOfLength(ha1, 32)) {
      throw new TypeError(
        `htdigest line ${lineNumber}: expected user:realm:32 hex digits (a ':' in a user name or realm cannot be looked up)`,
      );
    }
    let users = realms.get(realm);
    if (users === undefined) {
      users = new Map();
      realms.set(realm, users);
    }
    if (!users.has(user)) users.set(user, ha1.toLowerCase());
  }
  /** Realms asked for that the file does not hold, each warned about once. */
  const missing = new Set<string>();
  return Object.freeze({
    // Names only, in copies: getHA1 reads the maps above, which nothing outside may change.
    realms: new Map([...realms].map(([realm, users]) => [realm, new Set(users.keys())])),
    getHA1: (user: string, realm: string, hash: DigestHash): string | undefined => {
      if (hash !== 'MD5') return undefined;
      const typed = typedRealm(realm);
      if (typed === undefined && realms.has(realm) && !isAscii(realm)) {
        // Found, but its HA1s are over octets that clients never hash: every user would be
        // refused in silence. A failure instead, with the fix (it reaches next(err) and audit).
        throw new TypeError(
          `htdigest: the realm ${JSON.stringify(realm)} goes out as ISO-8859-1 octets, but the ` +
            "file's HA1s were made from its UTF-8 octets, and clients hash the octets they " +
            'receive: configure the realm as ' +
            `Buffer.from(${JSON.stringify(realm)}, 'utf8').toString('latin1')`,
        );
      }
      const users = realms.get(realm) ?? realms.get(typed ?? realm);
      // The commonest htdigest mistake (Apache's too): a realm spelt otherwise than in the file
      // refuses every user. Said once, as a warning: a realm may hold no one yet. Realms come
      // from the configuration, not from clients, so the set stays small.
      if (users === undefined && !missing.has(realm) && missing.size < MAX_MISSING_REALMS) {
        missing.add(realm);
        process.emitWarning(
          `htdigest: the file has no entry for the realm ${JSON.stringify(realm)}, so every ` +
            `user is refused there; its realms: ${describeRealms(realms)}`,
          { code: 'AUTHSCHEME_HTDIGEST_REALM' },
        );
      }
      return users?.get(user);
    },
  });
}

const MAX_MISSING_REALMS = 16;

/** The file's realms for a warning: quoted, the first few. */
function describeRealms(realms: ReadonlyMap<string, unknown>): string {
  if (realms.size === 0) return 'none';
  const names = [...realms.keys()].slice(0, 5).map((realm) => JSON.stringify(realm));
  return names.join(', ') + (realms.size > 5 ? `, and ${realms.size - 5} more` : '');
}

/**
 * The realm as a UTF-8 file spells it, for a realm given as its UTF-8 bytes read as latin1
 * (`'rÃ©alm'`): clients hash the realm's bytes as sent (RFC 7616 §3.4.2), Node sends a header's
 * characters as latin1 bytes, and `htdigest` hashed the realm's UTF-8 bytes, so only that spelling
 * of the realm reaches clients as the bytes the file's HA1s were made from. `undefined` otherwise.
 * A leading U+FEFF stays a character of the realm, as everywhere else (utf8OfOctets).
 */
function typedRealm(realm: string): string | undefined {
  let ascii = true;
  for (let i = 0; i < realm.length; i++) {
    const code = realm.charCodeAt(i);
    if (code > 0xff) return undefined;
    if (code > 0x7f) ascii = false;
  }
  return ascii ? undefined : utf8OfOctets(realm);
}

/**
 * Reads and parses an htdigest file (UTF-8), as written by Apache's `htdigest` tool. By default
 * the file is read once; with `reload`, a lookup at most once a second (`interval`) looks whether
 * the file changed and reads it again, so that a user deleted from it stops working. A file that
 * changed within the last 2.1 s may be in the middle of being written (`htdigest` truncates it,
 * then copies): it counts once a read 100 ms later finds the same bytes (up to 10 reads).
 *
 * @throws TypeError on a malformed line, bytes that are not UTF-8 or a file that is not a regular
 *   file of at most 16 MB; the file system's error when the file cannot be read
 *
 * @example
 * import { authenticate, digest, loadHtdigest } from 'authscheme';
 * const file = await loadHtdigest('/etc/app/htdigest', { reload: true });
 * app.use(authenticate({ realm: 'api', schemes: [digest({ getHA1: file.getHA1, algorithms: ['MD5'] })] }));
 */
export async function loadHtdigest(
  path: string,
  options?: PasswordFileOptions,
): Promise<HtdigestFile> {
  const settings = reloadSettings('loadHtdigest()', options);
  const read = (): Promise<string> => readPasswordFile(path, 'htdigest');
  const initial = await firstVersion(path, read, parseHtdigest);
  return settings === undefined ? initial.value : following(path, read, initial, settings);
}

/**
 * {@link loadHtdigest}, synchronously, for setup code that runs before the server starts. A file
 * changed within the last two seconds or so may be in the middle of being written: it is read
 * again 100 ms later (up to 10 reads) until two reads agree, the thread blocked meanwhile.
 */
export function loadHtdigestSync(path: string, options?: PasswordFileOptions): HtdigestFile {
  const settings = reloadSettings('loadHtdigestSync()', options);
  const initial = firstVersionSync(
    path,
    () => readPasswordFileSync(path, 'htdigest'),
    parseHtdigest,
  );
  if (settings === undefined) return initial.value;
  const read = (): Promise<string> => readPasswordFile(path, 'htdigest');
  return following(path, read, initial, settings);
}

/** A file whose getHA1 follows changes: at once between checks, else after the check. */
function following(
  path: string,
  read: () => Promise<string>,
  initial: LoadedVersion<HtdigestFile>,
  settings: Required<ReloadOptions>,
): HtdigestFile {
  const file = new Reloading(path, read, parseHtdigest, initial, settings);
  return Object.freeze({
    get realms() {
      return file.latest.realms;
    },
    getHA1(
      user: string,
      realm: string,
      hash: DigestHash,
    ): string | undefined | Promise<string | undefined> {
      const current = file.current();
      return current instanceof Promise
        ? current.then((loaded) => loaded.getHA1(user, realm, hash))
        : current.getHA1(user, realm, hash);
    },
  });
}
