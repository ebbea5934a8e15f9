/**
 * Picking up changes to a password file while the server runs, as Apache does (it reads the file
 * on every request): a user deleted from the file stops working within `interval`.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { statSync, type Stats } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { optionNames, rejectUnknownOptions } from '../util/options';
import { ignoreRejection } from '../util/promise';

/** How a loaded password file follows changes to it. `true` takes the defaults. */
export interface ReloadOptions {
  /**
   * At most this often (ms; default 1000), a lookup first looks at the file's inode, size and
   * times, and reads the file again when any of them changed. New bytes, or a read that fails (a
   * file that is gone), count once a read 100 ms later finds the same under the same look, up to
   * 10 reads, and the lookups of that check wait for it (a file written in place, as `htpasswd`
   * does, may be half-written).
   */
  interval?: number | undefined;
  /**
   * Told when the file stops loading: a version that does not parse (a malformed line, say), or a
   * file that is gone or unreadable; once, until the reason changes. Until a version loads, every
   * lookup fails (the middleware fails closed). Default: a process warning
   * (`process.emitWarning`). A promise it returns is not awaited, and its rejection is ignored.
   */
  onError?: ((error: unknown) => void) | undefined;
}

/** The options of a password file loader. */
export interface PasswordFileOptions {
  /**
   * Follow changes to the file (see {@link ReloadOptions}). Default `false`: read it once. Either
   * way, the first read of a file changed within the last 2.1 s counts once a read 100 ms later
   * agrees, as a reload's new bytes do.
   */
  reload?: boolean | ReloadOptions | undefined;
}

const OPTION_NAMES = optionNames<PasswordFileOptions>()(['reload']);
const RELOAD_NAMES = optionNames<ReloadOptions>()(['interval', 'onError']);
const DEFAULT_INTERVAL = 1000;

/** The default `onError`: a process warning, so that a file that stopped loading is not silent. */
function warn(error: unknown): void {
  process.emitWarning(
    `authscheme: a password file no longer loads; every lookup fails until it does: ${error instanceof Error ? error.message : String(error)}`,
  );
}

/** The reload settings in `options`, or `undefined` to read the file once. */
export function reloadSettings(
  caller: string,
  options: PasswordFileOptions | undefined,
): Required<ReloadOptions> | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${caller}: options must be an object`);
  }
  rejectUnknownOptions(caller, options, OPTION_NAMES);
  const { reload } = options;
  if (reload === undefined || reload === false) return undefined;
  if (reload === true) return { interval: DEFAULT_INTERVAL, onError: warn };
  if (typeof reload !== 'object' || reload === null) {
    throw new TypeError(`${caller}: \`reload\` must be a boolean or an object`);
  }
  rejectUnknownOptions(`${caller}: reload`, reload, RELOAD_NAMES);
  const interval = reload.interval ?? DEFAULT_INTERVAL;
  if (!Number.isSafeInteger(interval) || interval < 0) {
    throw new TypeError(`${caller}: reload.interval must be an integer of ms, 0 or more`);
  }
  if (reload.onError !== undefined && typeof reload.onError !== 'function') {
    throw new TypeError(`${caller}: reload.onError must be a function`);
  }
  return { interval, onError: reload.onError ?? warn };
}

/** What the file system says of a file's version, looked at before its bytes are read. */
export interface FileLook {
  /** Any change to the file changes one of these, unless it falls in one tick of its timestamps. */
  readonly version: string;
  /** When it last changed: the later of its mtime and ctime. */
  readonly modifiedAt: number;
}

function lookOf(stats: Stats): FileLook {
  return {
    version: `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`,
    // Not the mtime alone: a tool that gives the file an old one (cp -p, rsync -t, tar) still
    // moves the ctime, which only the kernel sets, and a change within its tick must be seen.
    modifiedAt: Math.max(stats.mtimeMs, stats.ctimeMs),
  };
}

/** A look at the file at `path` now. */
async function lookAt(path: string): Promise<FileLook> {
  return lookOf(await stat(path));
}

/** {@link lookAt}, synchronously. */
function lookAtSync(path: string): FileLook {
  return lookOf(statSync(path));
}

/** A version of a file as loaded, with what was known of the file when it was read. */
export interface LoadedVersion<T> {
  value: T;
  text: string;
  look: FileLook;
  readAt: number;
}

/**
 * A file whose timestamps are this close to the moment it was read may change again within the
 * same tick of its file system's clock (seconds on some), size and inode unchanged (a new
 * password of the same length, written in place): until it is older, its bytes decide.
 */
const SAME_TICK_MS = 2000;

/**
 * Bytes that differ from the version in use, or a read that fails, count once a read this long
 * after finds the same (and the file looks the same): the file may be in the middle of being
 * written in place. Apache's `htpasswd` truncates the file and copies the new version into it in
 * 8 KB writes, so a read meanwhile finds it empty, cut in a line or inside a UTF-8 character, and
 * would refuse users nobody changed, or every user.
 */
const QUIET_MS = 100;
/** Reads QUIET_MS apart before a file that keeps changing is taken as last read. */
const SETTLE_READS = 10;

/**
 * A first read of a file whose last change (the later of its mtime and ctime) is this recent, or
 * in the future, may have caught it being written in place: it counts once a read QUIET_MS later
 * agrees, as a reload's new bytes do. Not QUIET_MS alone: where timestamps tick coarsely (2 s for
 * FAT's mtime; a second on ext3, HFS+ and some NFS servers) a change made just now may show a time
 * up to SAME_TICK_MS old, so only a time older than both says the file has held still for QUIET_MS.
 * An older file is read once, as before: the quiet a second read would show has been seen already.
 */
export const RECENT_MS = SAME_TICK_MS + QUIET_MS;

/**
 * The first version of a file, read once when it last changed longer than RECENT_MS ago and did
 * not change while read, else once a read QUIET_MS later finds the same bytes under the same look
 * (at most SETTLE_READS reads, then the last): `htpasswd` may be copying a new version into it.
 * Looked at before it is read, so that a change in between is seen at the next check. A file that
 * cannot be looked at (gone) fails at once: nothing is being written there.
 */
export async function firstVersion<T>(
  path: string,
  read: () => Promise<string>,
  parse: (text: string) => T | Promise<T>,
): Promise<LoadedVersion<T>> {
  let reading = await readingOf(path, read, await lookAt(path));
  if (!settledAlready(reading, await lookAt(path).catch(() => undefined))) {
    reading = await settle(
      reading,
      () => readingOf(path, read),
      () => false,
    );
  }
  if (!reading.ok) throw reading.error;
  const { text, look, readAt } = reading;
  return { value: await parse(text), text, look, readAt };
}

/**
 * {@link firstVersion}, synchronously: the pauses between reads block the thread (Atomics.wait),
 * at most (SETTLE_READS - 1) × QUIET_MS, and only for a file changed within RECENT_MS. For setup
 * code that runs before the server starts, where nothing else waits.
 */
export function firstVersionSync<T>(
  path: string,
  read: () => string,
  parse: (text: string) => T,
): LoadedVersion<T> {
  let reading = readingOfSync(path, read, lookAtSync(path));
  let after: FileLook | undefined;
  try {
    after = lookAtSync(path);
  } catch {
    // Gone since: not settled.
  }
  if (!settledAlready(reading, after)) {
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let reads = 1; reads < SETTLE_READS; reads++) {
      Atomics.wait(pause, 0, 0, QUIET_MS);
      const again = readingOfSync(path, read);
      const same = sameReading(reading, again);
      reading = again;
      if (same) break;
    }
  }
  if (!reading.ok) throw reading.error;
  const { text, look, readAt } = reading;
  return { value: parse(text), text, look, readAt };
}

/**
 * A first reading that needs no second: the file last changed RECENT_MS or more before it was
 * read, and looks the same after (`after`): a writer that got on between the look and the read
 * (truncating, copying) moved its times.
 */
function settledAlready(reading: Reading, after: FileLook | undefined): boolean {
  const { look, readAt } = reading;
  if (look === undefined || readAt === undefined || after?.version !== look.version) return false;
  return readAt - look.modifiedAt >= RECENT_MS;
}

/**
 * Reads again, QUIET_MS apart, until `holds(reading)` (the version in use) or two readings agree
 * ({@link sameReading}), at most SETTLE_READS readings in all; the last.
 */
async function settle(
  first: Reading,
  again: () => Promise<Reading>,
  holds: (reading: Reading) => boolean,
): Promise<Reading> {
  let reading = first;
  for (let reads = 1; reads < SETTLE_READS && !holds(reading); reads++) {
    await sleep(QUIET_MS);
    const next = await again();
    const same = sameReading(reading, next);
    reading = next;
    if (same) break;
  }
  return reading;
}

/**
 * The latest version of a loaded file. `current()` answers at once between checks, and otherwise
 * with a promise that settles once the file has been looked at (and read again if it changed).
 * A version that does not load, or a file that cannot be read, fails every lookup (the middleware
 * fails closed) until a version loads: a user deleted in an edit that left a typo must not stay.
 */
export class Reloading<T> {
  private value: T;
  private look: FileLook;
  private readAt: number;
  private digest: string;
  private checkedAt: number;
  private checking: Promise<T> | undefined;
  /** Why the current version cannot be used, while it cannot. */
  private failure: Error | undefined;
  /** The failure last told to `onError` (message and version). */
  private reported: string | undefined;

  constructor(
    private readonly path: string,
    private readonly read: () => Promise<string>,
    private readonly parse: (text: string) => T | Promise<T>,
    initial: LoadedVersion<T>,
    private readonly settings: Required<ReloadOptions>,
  ) {
    this.value = initial.value;
    this.look = initial.look;
    this.readAt = initial.readAt;
    this.digest = digestOf(initial.text);
    this.checkedAt = performance.now();
  }

  /** The version currently loaded, as last loaded (for properties read without a lookup). */
  get latest(): T {
    return this.value;
  }

  current(): T | Promise<T> {
    if (this.checking !== undefined) return this.checking;
    if (performance.now() - this.checkedAt < this.settings.interval) {
      return this.failure === undefined ? this.value : Promise.reject(this.failure);
    }
    const done = (): void => {
      this.checkedAt = performance.now();
      this.checking = undefined;
    };
    this.checking = this.check();
    this.checking.then(done, done);
    return this.checking;
  }

  private async check(): Promise<T> {
    // What a failure is reported as: its message, and for a version that does not parse, which
    // version (another typo on the same line is news).
    let version = '';
    try {
      let look: FileLook | undefined;
      try {
        look = await lookAt(this.path);
      } catch {
        // Said by the reading below, which looks again.
      }
      const settled = this.readAt - this.look.modifiedAt >= SAME_TICK_MS;
      if (this.failure === undefined && look?.version === this.look.version && settled) {
        return this.value;
      }
      // New bytes, or none to be had, count once they hold still (QUIET_MS): lookups wait for
      // them, as for any check.
      const reading = await settle(
        await readingOf(this.path, this.read, look),
        () => readingOf(this.path, this.read),
        (again) => again.digest === this.digest,
      );
      if (!reading.ok) throw reading.error;
      const { text, digest } = reading;
      version = digest;
      // The same bytes as the version loaded (after a failure too: `digest` moves only with
      // `value`) need no parse.
      if (digest !== this.digest) {
        this.value = await this.parse(text);
        this.digest = digest;
      }
      this.look = reading.look;
      this.readAt = reading.readAt;
      this.failure = undefined;
      this.reported = undefined;
      return this.value;
    } catch (error) {
      // Reported once until it changes (a typo, then a missing file); the file is read again at
      // every check until a version loads.
      this.failure = asError(error);
      const report = `${this.failure.message} ${version}`;
      // An async onError's rejection is ignored, as audit's is: left alone, it ended the process.
      if (report !== this.reported) ignoreRejection(this.settings.onError(error));
      this.reported = report;
      throw error;
    }
  }
}

/**
 * The bytes of the file at `path`, read after a look at it (`look`, else a new one), or why they could
 * not be (with the look, when one was had: a read that fails, not UTF-8 say, fails on a file that
 * may be changing as much as one that succeeds).
 */
async function readingOf(
  path: string,
  read: () => Promise<string>,
  look?: FileLook,
): Promise<Reading> {
  let readAt: number | undefined;
  try {
    look ??= await lookAt(path);
    readAt = Date.now();
    const text = await read();
    return { ok: true, look, readAt, text, digest: digestOf(text) };
  } catch (error) {
    return { ok: false, look, readAt, error };
  }
}

/** {@link readingOf}, synchronously. */
function readingOfSync(path: string, read: () => string, look?: FileLook): Reading {
  let readAt: number | undefined;
  try {
    look ??= lookAtSync(path);
    readAt = Date.now();
    const text = read();
    return { ok: true, look, readAt, text, digest: digestOf(text) };
  } catch (error) {
    return { ok: false, look, readAt, error };
  }
}

/** A look at a file and the bytes read after it, or the error that came instead. */
type Reading =
  | { ok: true; look: FileLook; readAt: number; text: string; digest: string }
  | {
      ok: false;
      look: FileLook | undefined;
      readAt: number | undefined;
      error: unknown;
      digest?: undefined;
    };

/**
 * The same bytes, or the same failure, under the same look twice: the file holds still. A
 * failure's message says nothing of where a copy in progress stood ("not valid UTF-8" at any
 * cut), so the look must not have moved either (none, for a file that is gone both times).
 */
function sameReading(a: Reading, b: Reading): boolean {
  if (a.look?.version !== b.look?.version) return false;
  if (!a.ok || !b.ok) {
    return !a.ok && !b.ok && asError(a.error).message === asError(b.error).message;
  }
  return a.digest === b.digest;
}

function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
