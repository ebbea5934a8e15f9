/**
 * Apache `htpasswd` password files: one `user:hash` line per user, with the hash formats Apache's
 * `htpasswd` tool writes. Each format but `{SHA}` is checked by an optional peer dependency,
 * loaded only when the file holds that format; Apache MD5 and SHA crypt run on worker threads
 * (hash-threads.ts), bcrypt on libuv's.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { colonFields, entryLines, readPasswordFile } from './file-text';
import { hashThreads } from './hash-threads';
import { Slots, THREAD_POOL_SIZE } from '../util/slots';
import { shaCrypt } from './sha-crypt.cjs';
import { runtimeRequire } from '../util/peer';
import { firstVersion, Reloading, reloadSettings, type PasswordFileOptions } from './reload';

/** The hash formats accepted, by the `htpasswd` flag that writes them. */
export type HtpasswdFormat =
  /** `$2y$` (also `$2a$`, `$2b$`), `htpasswd -B`: the `bcrypt` or `bcryptjs` package. */
  | 'bcrypt'
  /** `$apr1$`, Apache's MD5 (`htpasswd -m`, the default): the `apache-md5` package. */
  | 'apr1'
  /** `$5$`, SHA-256 crypt (`htpasswd -2`): built in (sha-crypt.cjs). */
  | 'sha256-crypt'
  /** `$6$`, SHA-512 crypt (`htpasswd -5`): built in. */
  | 'sha512-crypt'
  /** `{SHA}`, unsalted SHA-1 (`htpasswd -s`): `node:crypto`. Weak: re-hash with `htpasswd -B`. */
  | 'sha1';

/** A parsed htpasswd file. */
export interface HtpasswdFile {
  /**
   * User name (in NFC, the form `basic()` hands over) → the format of its hash. The hashes
   * themselves are not exposed.
   */
  readonly users: ReadonlyMap<string, HtpasswdFormat>;
  /**
   * A `verify` for `basic()`: resolves to `user` when the password is right, else `false`. An
   * unknown user costs one check against a decoy hash, as much as a wrong password. Rejects when
   * a hash library fails, or with `ERR_AUTH_STORE_FAILURE` when too many checks wait or one waited
   * too long (the middleware then fails closed).
   */
  verify(user: string, password: string): Promise<string | false>;
}

/**
 * Longest password checked, in UTF-8 bytes; longer ones are refused without hashing. `htpasswd`
 * refuses passwords over 255 bytes, and SHA crypt's cost grows with the password's length.
 */
const MAX_PASSWORD_BYTES = 1024;

/**
 * The process's bcrypt checks (see util/slots.ts): half of libuv's pool (at least one thread),
 * 512 waiting per slot, at most 13 s each (by then the middleware's default timeout of 10 s has
 * answered). A flood of wrong passwords queued every compare on libuv's pool, which the process's
 * fs, dns.lookup and zlib share: a stat waited seconds behind it.
 */
const BCRYPT_SLOTS = Math.max(1, Math.floor(THREAD_POOL_SIZE / 2));
const bcryptSlots = new Slots({
  slots: BCRYPT_SLOTS,
  maxWaiting: 512 * BCRYPT_SLOTS,
  maxWaitMs: 13_000,
  waited: 'htpasswd: a bcrypt check waited more than {ms} ms',
  full: `htpasswd: more than ${512 * BCRYPT_SLOTS} bcrypt password checks waiting`,
});

const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;
// Apache's MD5 takes any salt of 1 to 8 characters up to the `$` (`openssl passwd -apr1 -salt
// 'a!b'` writes one, `htpasswd -v` accepts it): printable ASCII here, which apache-md5 reads alike.
const APR1 = /^\$apr1\$[!-#%-~]{1,8}\$[./0-9A-Za-z]{22}$/;
// Salt of at most 16 characters; rounds in glibc's range, written canonically.
const SHA_CRYPT =
  /^\$([56])\$(?:rounds=([1-9]\d{3,8})\$)?[./0-9A-Za-z]{1,16}\$([./0-9A-Za-z]{43}|[./0-9A-Za-z]{86})$/;
// 20 bytes in canonical base64: the last character's two spare bits are 0. Apache compares the
// text, so a hash with them set matches no password there; decoded, it would match one here.
const SHA1 = /^\{SHA\}[A-Za-z0-9+/]{26}[AEIMQUYcgkosw048]=$/;
const DES = /^[./0-9A-Za-z]{13}$/;

/**
 * The costliest hashes loaded. A check cannot be stopped once it runs, and a user's hash is work
 * anyone who knows the name can ask for: bcrypt at cost 31 held one of bcrypt's slots for more
 * than a day, SHA crypt at 999,999,999 rounds a hash thread for half an hour or more, while every
 * other check waited and failed. bcrypt: 17, the most `htpasswd -C` writes (some 6 s a check,
 * within the middleware's default 10 s timeout). SHA crypt: 1,000,000 rounds, 200 times the
 * default (2 to 4 s in sha-crypt.cjs; passlib writes 656,000 by default); `htpasswd -r` writes up
 * to 999,999,999.
 */
const MAX_BCRYPT_COST = 17;
const MAX_SHA_CRYPT_ROUNDS = 1_000_000;

const REHASH = 're-hash the password with `htpasswd -B`';

/** Checks a password (as UTF-8) against one hash of its format. */
type Check = (password: string, hash: string) => boolean | Promise<boolean>;

interface Entry {
  hash: string;
  format: HtpasswdFormat;
}

/**
 * Parses the text of an htpasswd file and loads the libraries its formats need. A byte order
 * mark at the start, empty lines and lines starting with `#` are skipped; spaces and tabs around a line are ignored, and so are
 * fields after the hash (`user:hash:comment`), and a run of colons separates as one does
 * (`user::hash`), as in Apache's mod_authn_file. For a user listed twice the first line counts.
 *
 * @throws TypeError naming the line number (never its content) on a malformed line, an
 *   unrecognised hash, a DES crypt or plain-text password (not supported: re-hash with
 *   `htpasswd -B`), or a bcrypt cost above 17 or SHA crypt above 1,000,000 rounds (a check that
 *   long is work anyone could ask for); Error naming the package to install when a format's
 *   library is missing
 *
 * @example
 * const file = await parseHtpasswd('alice:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n');
 * const scheme = basic({ verify: file.verify });
 */
export async function parseHtpasswd(text: string): Promise<HtpasswdFile> {
  if (typeof text !== 'string') throw new TypeError('parseHtpasswd(): text must be a string');
  const entries = new Map<string, Entry>();
  for (const [lineNumber, line] of entryLines(text, 'htpasswd')) {
    // Split as Apache's ap_getword does: a run of colons ends a field (`user::hash` works there).
    const [user, hash] = colonFields(line, 2) as [string, string];
    if (user === '' || hash === '') {
      throw new TypeError(`htpasswd line ${lineNumber}: expected user:hash`);
    }
    const format = formatOf(hash, lineNumber);
    // basic() hands over user names in NFC (RFC 7617 §2.1): a name written in another form (NFD,
    // as macOS may produce) is found under its NFC form.
    const name = user.normalize('NFC');
    // Bcrypt's `$2y$` (Apache's, PHP's) is `$2b$` (OpenBSD's) under another name; the native
    // `bcrypt` package knows only the latter. So is `$2a$` (bcryptjs', Spring's, Ruby's) as Apache
    // computes it, where the native package keeps OpenBSD's old `$2a$` bug: a password of 255
    // bytes or more had its length wrap at 256, refused when right, and (a repeating one) matched
    // by another.
    if (!entries.has(name)) {
      const renamed = hash.startsWith('$2y$') || hash.startsWith('$2a$');
      entries.set(name, { hash: renamed ? `$2b$${hash.slice(4)}` : hash, format });
    }
  }

  const checks = new Map<HtpasswdFormat, Check>();
  for (const { format } of entries.values()) {
    if (!checks.has(format)) checks.set(format, await loadCheck(format));
  }
  const decoy = decoyOf(entries);
  const users = new Map<string, HtpasswdFormat>();
  for (const [user, entry] of entries) users.set(user, entry.format);

  const verify = async (user: string, password: string): Promise<string | false> => {
    if (typeof user !== 'string' || typeof password !== 'string') return false;
    if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return false;
    const entry = entries.get(user);
    const checked = entry ?? decoy;
    if (checked === undefined) return false; // an empty file: nothing to compare, nothing to leak
    const ok = await checks.get(checked.format)!(password, checked.hash);
    return ok && entry !== undefined ? user : false;
  };
  return Object.freeze({ users, verify });
}

/**
 * Reads and parses an htpasswd file (UTF-8), as written by Apache's `htpasswd` tool. By default
 * the file is read once; with `reload`, a lookup at most once a second (`interval`) looks whether
 * the file changed and reads it again, so that a user deleted from it stops working. A file that
 * changed within the last 2.1 s may be in the middle of being written (`htpasswd` truncates it,
 * then copies): it counts once a read 100 ms later finds the same bytes (up to 10 reads).
 *
 * @throws TypeError on a malformed line, an unsupported hash, bytes that are not UTF-8 or a file
 *   that is not a regular file of at most 16 MB; Error when a format's library is missing; the
 *   file system's error when the file cannot be read
 *
 * @example
 * import { authenticate, basic, loadHtpasswd } from 'authscheme';
 * const file = await loadHtpasswd('/etc/app/htpasswd', { reload: true });
 * app.use(authenticate({ realm: 'api', schemes: [basic({ verify: file.verify })] }));
 */
export async function loadHtpasswd(
  path: string,
  options?: PasswordFileOptions,
): Promise<HtpasswdFile> {
  const settings = reloadSettings('loadHtpasswd()', options);
  const read = (): Promise<string> => readPasswordFile(path, 'htpasswd');
  const initial = await firstVersion(path, read, parseHtpasswd);
  if (settings === undefined) return initial.value;
  const file = new Reloading(path, read, parseHtpasswd, initial, settings);
  return Object.freeze({
    get users() {
      return file.latest.users;
    },
    async verify(user: string, password: string): Promise<string | false> {
      return (await file.current()).verify(user, password);
    },
  });
}

function formatOf(hash: string, lineNumber: number): HtpasswdFormat {
  if (BCRYPT.test(hash)) {
    if (Number(hash.slice(4, 6)) > MAX_BCRYPT_COST) {
      throw new TypeError(
        `htpasswd line ${lineNumber}: bcrypt cost above ${MAX_BCRYPT_COST}: re-hash the password with \`htpasswd -B\` (cost ${MAX_BCRYPT_COST} at most)`,
      );
    }
    return 'bcrypt';
  }
  if (APR1.test(hash)) return 'apr1';
  const sha = SHA_CRYPT.exec(hash);
  if (sha !== null && sha[3]!.length === (sha[1] === '5' ? 43 : 86)) {
    if (sha[2] !== undefined && Number(sha[2]) > MAX_SHA_CRYPT_ROUNDS) {
      throw new TypeError(
        `htpasswd line ${lineNumber}: SHA crypt with more than ${MAX_SHA_CRYPT_ROUNDS} rounds: re-hash the password with \`htpasswd -5 -r\` (${MAX_SHA_CRYPT_ROUNDS} at most)`,
      );
    }
    return sha[1] === '5' ? 'sha256-crypt' : 'sha512-crypt';
  }
  if (SHA1.test(hash)) return 'sha1';
  // `$…$` and `{…}` name a scheme; `*` and `!` are crypt's failure and lock markers.
  if (/^[${*!]/.test(hash)) throw new TypeError(`htpasswd line ${lineNumber}: unrecognised hash`);
  if (/^[ \t]/.test(hash)) {
    throw new TypeError(`htpasswd line ${lineNumber}: unrecognised hash (white space after ':'?)`);
  }
  if (DES.test(hash)) {
    throw new TypeError(`htpasswd line ${lineNumber}: DES crypt is not supported: ${REHASH}`);
  }
  throw new TypeError(
    `htpasswd line ${lineNumber}: a plain-text password is not supported: ${REHASH}`,
  );
}

/**
 * The first entry of the most common format and cost: an unknown user costs what most users
 * cost. Not the costliest entry: one user with a very slow hash would make every guessed name pay
 * for it (work for anyone to ask for), and every other user stand out. Equal timing for every
 * user needs one format and one cost throughout.
 */
function decoyOf(entries: ReadonlyMap<string, Entry>): Entry | undefined {
  const counts = new Map<string, number>();
  let decoy: Entry | undefined;
  let most = 0;
  for (const entry of entries.values()) {
    const kind = costKind(entry);
    const count = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, count);
    if (count > most) {
      most = count;
      if (decoy === undefined || costKind(decoy) !== kind) decoy = firstOf(entries, kind);
    }
  }
  return decoy;
}

function firstOf(entries: ReadonlyMap<string, Entry>, kind: string): Entry | undefined {
  for (const entry of entries.values()) if (costKind(entry) === kind) return entry;
  return undefined;
}

/** A format with its cost: bcrypt's cost factor, SHA crypt's rounds (5000 when not written). */
function costKind({ format, hash }: Entry): string {
  switch (format) {
    case 'bcrypt':
      return `bcrypt ${hash.slice(4, 6)}`;
    case 'sha256-crypt':
    case 'sha512-crypt':
      return `${format} ${/^\$[56]\$rounds=(\d+)\$/.exec(hash)?.[1] ?? '5000'}`;
    default:
      return format;
  }
}

async function loadCheck(format: HtpasswdFormat): Promise<Check> {
  switch (format) {
    case 'sha1':
      return (password, hash) =>
        timingSafeEqual(
          createHash('sha1').update(password, 'utf8').digest(),
          Buffer.from(hash.slice(5), 'base64'),
        );
    case 'bcrypt': {
      let compare: unknown;
      try {
        compare = member(await importOptional('bcrypt'), 'compare');
      } catch {
        // The native package is missing (or has no build for this platform): the pure-JS one.
        compare = member(
          await importPeer(
            'bcryptjs',
            'bcrypt',
            'npm install bcryptjs',
            'the `bcrypt` or `bcryptjs` package',
          ),
          'compare',
        );
      }
      const bcryptCompare = asFunction<(password: string, hash: string) => Promise<boolean>>(
        compare,
        'bcrypt',
      );
      // The asynchronous compare: the synchronous one would block the event loop. Bounded
      // (bcryptSlots): libuv's threads, where `bcrypt` hashes, serve the process's file I/O too.
      return async (password, hash) =>
        (await bcryptSlots.run(() => bcryptCompare(password, hash))) === true;
    }
    case 'apr1': {
      const apacheMd5 = asFunction<(password: string, salt: string) => string>(
        member(await importPeer('apache-md5', 'apr1', 'npm install apache-md5'), 'default'),
        'apache-md5',
      );
      // apache-md5 hashes each character's low byte: give it the UTF-8 bytes, as htpasswd does.
      return async (password, hash) =>
        equalStrings(
          await hashThreads.hash(
            'apache-md5',
            apacheMd5,
            Buffer.from(password, 'utf8').toString('latin1'),
            hash,
          ),
          hash,
        );
    }
    case 'sha256-crypt':
    case 'sha512-crypt': {
      return async (password, hash) =>
        equalStrings(
          await hashThreads.hash(
            'sha-crypt',
            shaCrypt,
            password,
            hash.slice(0, hash.lastIndexOf('$')),
          ),
          hash,
        );
    }
  }
}

function equalStrings(computed: string, expected: string): boolean {
  const a = Buffer.from(computed, 'latin1');
  const b = Buffer.from(expected, 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Loads a peer dependency, or throws an Error saying how to install it. */
async function importPeer(
  name: string,
  what: string,
  install: string,
  packages = `the \`${name}\` package`,
): Promise<unknown> {
  try {
    return await importOptional(name);
  } catch (err) {
    throw new Error(
      `htpasswd: the file has ${what} hashes, which need ${packages}: \`${install}\``,
      { cause: err },
    );
  }
}

/**
 * `import()` of a package, so that ESM-only ones load from the CommonJS build. In a `vm` context
 * without ESM support (jest without `--experimental-vm-modules`) `import()` throws: there
 * `require()` is the loader.
 */
async function importOptional(name: string): Promise<unknown> {
  try {
    // Left alone by webpack, which would otherwise replace it with its own module table.
    return await import(/* webpackIgnore: true */ name);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (
      code !== 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG' &&
      code !== 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING'
    ) {
      throw err;
    }
    return runtimeRequire(name);
  }
}

/** A named export, from an ES module's namespace or a CommonJS module (whole or as `default`). */
function member(module: unknown, name: string): unknown {
  if (typeof module === 'function' && name === 'default') return module;
  const record = module as Record<string, unknown> | null;
  const value = record?.[name];
  if (value !== undefined) return value;
  const fallback = record?.default as Record<string, unknown> | undefined;
  return name === 'default' ? fallback : fallback?.[name];
}

function asFunction<T>(value: unknown, name: string): T {
  if (typeof value !== 'function') throw new Error(`htpasswd: \`${name}\` has an unexpected API`);
  return value as T;
}
