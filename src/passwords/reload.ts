/**
 * Picking up changes to a password file while the server runs, as Apache does (it reads the file
 * on every request): a user deleted from the file stops working within `interval`.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { statSync, type Stats } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { optionNames, rejectUnknownOptions } from '../util/options';

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
   * (`process.emitWarning`).
   */
  onError?: ((error: unknown) => void) | undefined;
}

/** The options of a password file loader. */
export interface PasswordFileOptions {
  /** Follow changes to the file (see {@link ReloadOptions}). Default `false`: read it once. */
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
export function lookAtSync(path: string): FileLook {
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
 * The first version of a file to follow. Looked at before it is read, so that a change in
 * between is seen at the next check.
 */
export async function firstVersion<T>(
  path: string,
  read: () => Promise<string>,
  parse: (text: string) => T | Promise<T>,
): Promise<LoadedVersion<T>> {
  const look = await lookAt(path);
  const readAt = Date.now();
  const text = await read();
  return { value: await parse(text), text, look, readAt };
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
      let reading = await this.reading(look);
      // New bytes, or none to be had, count once they hold still (QUIET_MS): lookups wait for
      // them, as for any check.
      for (let reads = 1; reads < SETTLE_READS && reading.digest !== this.digest; reads++) {
        await sleep(QUIET_MS);
        const again = await this.reading();
        const same = sameReading(reading, again);
        reading = again;
        if (same) break;
      }
      if (!reading.ok) throw reading.error;
      const { text, digest } = reading;
      version = digest;
      if (digest !== this.digest || this.failure !== undefined) {
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
      if (report !== this.reported) this.settings.onError(error);
      this.reported = report;
      throw error;
    }
  }

  /**
   * The file's bytes, read after a look at it (`look`, else a new one), or why they could not be
   * (with the look, when one was had: a read that fails, not UTF-8 say, fails on a file that may
   * be changing as much as one that succeeds).
   */
  private async reading(look?: FileLook): Promise<Reading> {
    try {
      look ??= await lookAt(this.path);
      const readAt = Date.now();
      const text = await this.read();
      return { ok: true, look, readAt, text, digest: digestOf(text) };
    } catch (error) {
      return { ok: false, look, error };
    }
  }
}

/** A look at a file and the bytes read after it, or the error that came instead. */
type Reading =
  | { ok: true; look: FileLook; readAt: number; text: string; digest: string }
  | { ok: false; look: FileLook | undefined; error: unknown; digest?: undefined };

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
