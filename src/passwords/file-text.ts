/** Reading a password file's bytes as text: a regular file, bounded in size, strict UTF-8. */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * Read-only, and without waiting: opening a FIFO for reading would block until a writer comes,
 * before the check that it is not a regular file could run. Regular files read as usual.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** Longest file accepted, in bytes: a password file is small; a huge one is a mistake. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;
// Keeps a byte order mark: entryLines skips it, for the text handed to parse* as well.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The text of the password file at `path`. The size is checked before anything is read, and no
 * more than the limit is ever read (the file may grow meanwhile), so `/dev/zero` or a huge file
 * costs nothing: only regular files are accepted.
 *
 * @param kind names the file in errors (`htpasswd`, `htdigest`)
 * @throws TypeError when the file is not a regular file, is over 16 MB or is not UTF-8; the file
 *   system's error when it cannot be opened
 */
export async function readPasswordFile(path: string, kind: string): Promise<string> {
  const handle = await open(path, OPEN_FLAGS);
  try {
    const stat = await handle.stat();
    const reader = new BoundedReader(stat.isFile(), stat.size, kind);
    while (
      reader.add((await handle.read(reader.buffer, reader.length, reader.free, null)).bytesRead)
    );
    return reader.text();
  } finally {
    await handle.close();
  }
}

/** {@link readPasswordFile}, synchronously. */
export function readPasswordFileSync(path: string, kind: string): string {
  const fd = openSync(path, OPEN_FLAGS);
  try {
    const stat = fstatSync(fd);
    const reader = new BoundedReader(stat.isFile(), stat.size, kind);
    while (reader.add(readSync(fd, reader.buffer, reader.length, reader.free, null)));
    return reader.text();
  } finally {
    closeSync(fd);
  }
}

/** Collects a file's bytes, growing its buffer (the file may grow while read) up to the limit. */
class BoundedReader {
  buffer: Buffer;
  length = 0;

  constructor(
    regular: boolean,
    size: number,
    private readonly kind: string,
  ) {
    if (!regular) throw new TypeError(`${kind} file is not a regular file`);
    this.checkSize(size);
    // One byte more than the size announced, to see the end of the file in the same read.
    this.buffer = Buffer.allocUnsafe(size + 1);
  }

  /** Counts `bytesRead` into the buffer; `false` at the end of the file. */
  add(bytesRead: number): boolean {
    if (bytesRead === 0) return false;
    this.length += bytesRead;
    this.checkSize(this.length);
    if (this.length === this.buffer.length) {
      const larger = Buffer.allocUnsafe(Math.min(2 * this.buffer.length, MAX_FILE_BYTES + 1));
      this.buffer.copy(larger);
      this.buffer = larger;
    }
    return true;
  }

  /** Room left in the buffer. */
  get free(): number {
    return this.buffer.length - this.length;
  }

  text(): string {
    try {
      return utf8.decode(this.buffer.subarray(0, this.length));
    } catch {
      throw new TypeError(`${this.kind} file is not valid UTF-8`);
    }
  }

  private checkSize(size: number): void {
    if (size > MAX_FILE_BYTES) throw new TypeError(`${this.kind} file is larger than 16 MB`);
  }
}

/**
 * The lines of a password file that hold an entry, with their 1-based numbers, read as Apache's
 * `ap_cfg_getline` reads them (Apache 2.4): a line that ends in a backslash just before its line
 * feed goes on with the next (so a `#` comment that ends in one hides the line after it, as it
 * does from Apache); white space around a line is dropped (a loop, not `/\s+$/`, which
 * backtracks quadratically over a long run of inner spaces); blank lines and `#` comments are skipped. A byte order mark at the start of the text
 * is skipped too, as the editors that write one (Notepad) mean it, although Apache reads it as
 * part of the first user's name, which no client sends.
 */
export function* entryLines(text: string): Generator<[lineNumber: number, line: string]> {
  let lineNumber = 0;
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let pending = '';
  let pendingFrom = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNumber++;
    let last = end;
    if (last > start && text.charCodeAt(last - 1) === 0x0d /* CR */) last--;
    const from = pending === '' ? lineNumber : pendingFrom;
    // `\` just before a line feed (or CRLF): continued, even after another `\` (Apache 2.4's
    // ap_cfg_getline_core; 2.2 took `\\` as an escaped backslash). A last line without a line
    // feed keeps its `\`.
    const continued =
      end < text.length && last > start && text.charCodeAt(last - 1) === 0x5c; /* \ */
    const raw = pending + text.slice(start, continued ? last - 1 : last);
    start = end + 1;
    if (continued) {
      pending = raw;
      pendingFrom = from;
      continue;
    }
    pending = '';
    let first = 0;
    let stop = raw.length;
    while (first < stop && isSpace(raw.charCodeAt(first))) first++;
    while (stop > first && isSpace(raw.charCodeAt(stop - 1))) stop--;
    if (first === stop || raw.charCodeAt(first) === 0x23 /* # */) continue;
    yield [from, raw.slice(first, stop)];
  }
}

/** SP, HTAB, CR, FF, VT. */
function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0c || code === 0x0b;
}

/**
 * The first `count` colon-separated fields of `line`, as Apache's `ap_getword(…, ':')` reads them
 * in mod_authn_file and mod_auth_digest: a run of colons ends a field, so `user::hash` is a user
 * and a hash. A missing field is `''`; fields after `count` are ignored (a comment).
 */
export function colonFields(line: string, count: number): string[] {
  const fields: string[] = [];
  let at = 0;
  while (fields.length < count) {
    let end = line.indexOf(':', at);
    if (end === -1) end = line.length;
    fields.push(line.slice(at, end));
    at = end;
    while (line.charCodeAt(at) === 0x3a /* : */) at++;
  }
  return fields;
}
