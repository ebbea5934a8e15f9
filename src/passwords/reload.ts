/**
 * Picking up changes to a password file while the server runs, as Apache does (it reads the file
 * on every request): a user deleted from the file stops working within `interval`.
 */
import { stat } from 'node:fs/promises';
import { statSync, type Stats } from 'node:fs';
import { optionNames, rejectUnknownOptions } from '../util/options';

/** How a loaded password file follows changes to it. `true` takes the defaults. */
export interface ReloadOptions {
  /**
   * At most this often (ms; default 1000), a lookup first looks at the file's inode, size and
   * times, and reads the file again when any of them changed.
   */
  interval?: number;
  /**
   * Told of a new version that does not load (a malformed line, say, or a file caught half
   * written): the last good version stays in use meanwhile. A file that is gone or unreadable is
   * not that case: lookups then fail (the middleware fails closed) until it is back.
   */
  onError?: (error: unknown) => void;
}

/** The options of a password file loader. */
export interface PasswordFileOptions {
  /** Follow changes to the file (see {@link ReloadOptions}). Default `false`: read it once. */
  reload?: boolean | ReloadOptions;
}

const OPTION_NAMES = optionNames<PasswordFileOptions>()(['reload']);
const RELOAD_NAMES = optionNames<ReloadOptions>()(['interval', 'onError']);
const DEFAULT_INTERVAL = 1000;

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
  if (reload === true) return { interval: DEFAULT_INTERVAL, onError: () => undefined };
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
  return { interval, onError: reload.onError ?? (() => undefined) };
}

/** What identifies a version of a file: any change to the file changes one of these. */
function versionOf(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

/** The version of the file at `path` now. */
export async function fileVersion(path: string): Promise<string> {
  return versionOf(await stat(path));
}

/** {@link fileVersion}, synchronously. */
export function fileVersionSync(path: string): string {
  return versionOf(statSync(path));
}

/**
 * The latest version of a loaded file. `current()` answers at once between checks, and otherwise
 * with a promise that settles once the file has been looked at (and read again if it changed).
 */
export class Reloading<T> {
  private value: T;
  private version: string;
  private checkedAt: number;
  private checking: Promise<T> | undefined;
  /** Why the file cannot be read, while it cannot: lookups fail closed. */
  private unreadable: Error | undefined;

  constructor(
    private readonly path: string,
    private readonly load: () => Promise<T>,
    initial: T,
    initialVersion: string,
    private readonly settings: Required<ReloadOptions>,
  ) {
    this.value = initial;
    this.version = initialVersion;
    this.checkedAt = performance.now();
  }

  /** The version currently loaded, as last loaded (for properties read without a lookup). */
  get latest(): T {
    return this.value;
  }

  current(): T | Promise<T> {
    if (this.checking !== undefined) return this.checking;
    if (performance.now() - this.checkedAt < this.settings.interval) {
      if (this.unreadable !== undefined) return Promise.reject(this.unreadable);
      return this.value;
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
    let version: string;
    try {
      version = await fileVersion(this.path);
    } catch (error) {
      this.unreadable = asError(error);
      throw error;
    }
    this.unreadable = undefined;
    if (version === this.version) return this.value;
    try {
      this.value = await this.load();
      this.version = version;
    } catch (error) {
      if (typeof (error as { code?: unknown } | null)?.code === 'string') {
        // Gone or unreadable between the look and the read (ENOENT, EACCES): fail closed.
        this.unreadable = asError(error);
        throw error;
      }
      // A version that does not load: keep the last good one; the next check tries again (the
      // new version is not recorded).
      this.settings.onError(error);
    }
    return this.value;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
