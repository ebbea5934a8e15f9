/** Reading a password file's bytes as text: a regular file, bounded in size, strict UTF-8. */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { decodeUtf8Strict } from '../util/text';

/**
 * Read-only, and without waiting: opening a FIFO for reading would block until a writer comes,
 * before the check that it is not a regular file could run. Regular files read as usual.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** Longest file accepted, in bytes: a password file is small; a huge one is a mistake. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

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
    // Keeps a byte order mark: entryLines skips it, for the text handed to parse* as well.
    const text = decodeUtf8Strict(this.buffer.subarray(0, this.length));
    if (text === undefined) throw new TypeError(`${this.kind} file is not valid UTF-8`);
    return text;
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
 * backtracks quadratically over a long run of inner spaces); blank lines and `#` comments are
 * skipped. A byte order mark at the start of the text is skipped too, as the editors that write
 * one (Notepad) mean it, although Apache reads it as part of the first user's name, which no
 * client sends.
 *
 * Two things make Apache read a file differently from what it holds, and are refused here, with
 * the line's number (and for a continued line, the number of the line it continues), rather than
 * read another way: a line (continuations included) longer than Apache reads, where
 * mod_authn_file stops reading the file, so that the users after it are not found; and a NUL
 * byte, where Apache's line ends (`strlen`), dropping the rest of it.
 *
 * @param kind names the file in errors (`htpasswd`, `htdigest`)
 * @throws TypeError on a NUL byte or a line longer than {@link MAX_LINE_BYTES}
 */
export function* entryLines(
  text: string,
  kind: string,
): Generator<[lineNumber: number, line: string]> {
  const nul = text.indexOf('\0');
  if (nul !== -1) {
    throw new TypeError(
      `${kind} line ${lineNumberAt(text, nul)}: a NUL byte (Apache ends the line there)`,
    );
  }
  const bom = text.charCodeAt(0) === 0xfeff;
  // UTF-8 bytes, which Apache's limit counts: characters in the usual all-ASCII file.
  const ascii = Buffer.byteLength(text, 'utf8') === text.length;
  let lineNumber = 0;
  let start = bom ? 1 : 0;
  // The earlier pieces of a continued line, as [from, to) ranges of `text`, none empty: they are
  // copied once, when the line ends, so continuations cost no more than the line's length.
  const pieces: number[] = [];
  let kept = 0; // the UTF-8 bytes of those pieces
  let continued = false; // the line goes on (its pieces may all be empty)
  let from = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    const lineFeed = end !== -1;
    if (!lineFeed) end = text.length;
    lineNumber++;
    if (!continued) from = lineNumber;
    // Apache's ap_cfg_getline_core reads into MAX_LINE_BYTES with apr_file_gets, which stops one
    // byte short of it (for the NUL), after a line feed or at the end of the file; a line that
    // fills all that is too long (APR_ENOSPC), and mod_authn_file stops reading the file there.
    const read =
      kept +
      (ascii ? end - start : Buffer.byteLength(text.slice(start, end), 'utf8')) +
      (lineFeed ? 1 : 0) +
      (bom && start === 1 ? 3 : 0);
    if (lineFeed ? read > MAX_LINE_BYTES - 1 : read >= MAX_LINE_BYTES - 1) {
      // A continued line is counted from the line its entry starts on: say which.
      const counted = from < lineNumber ? `, counted from line ${from}, which it continues` : '';
      throw new TypeError(
        `${kind} line ${lineNumber}: longer than the ${MAX_LINE_BYTES - 2} bytes Apache reads${counted} (Apache stops reading the file there)`,
      );
    }
    // Apache 2.4's ap_cfg_getline_core: at a line feed, skip a CR before it, and a backslash
    // before that continues the line. It looks for them in all it has read, not in this line
    // only: an empty line after `\\` + line feed takes the backslash that was left (2.2 read
    // `\\` as an escaped backslash). A last line without a line feed keeps its `\`.
    if (lineFeed) {
      const back = codeFromEnd(text, pieces, start, end, 0) === 0x0d /* CR */ ? 1 : 0;
      if (codeFromEnd(text, pieces, start, end, back) === 0x5c /* \ */) {
        const inLine = Math.min(back + 1, end - start);
        dropFromEnd(pieces, back + 1 - inLine);
        if (end - inLine > start) pieces.push(start, end - inLine);
        kept = read - (back + 2); // less the line feed, the CR and the backslash: one byte each
        continued = true;
        start = end + 1;
        continue;
      }
    }
    let raw = text.slice(start, end);
    if (pieces.length > 0) {
      let joined = '';
      for (let i = 0; i < pieces.length; i += 2) joined += text.slice(pieces[i], pieces[i + 1]);
      raw = joined + raw;
      pieces.length = 0;
    }
    kept = 0;
    continued = false;
    start = end + 1;
    let first = 0;
    let stop = raw.length;
    while (first < stop && isSpace(raw.charCodeAt(first))) first++;
    while (stop > first && isSpace(raw.charCodeAt(stop - 1))) stop--;
    if (first === stop || raw.charCodeAt(first) === 0x23 /* # */) continue;
    yield [from, raw.slice(first, stop)];
  }
}

/**
 * The code unit `back` places (0 or 1) from the end of a line read so far: `pieces`, then
 * `text` from `start` to `end`; -1 if it is shorter.
 */
function codeFromEnd(
  text: string,
  pieces: readonly number[],
  start: number,
  end: number,
  back: number,
): number {
  if (end - start > back) return text.charCodeAt(end - 1 - back);
  back -= end - start;
  for (let i = pieces.length - 2; i >= 0; i -= 2) {
    const length = pieces[i + 1]! - pieces[i]!;
    if (back < length) return text.charCodeAt(pieces[i + 1]! - 1 - back);
    back -= length;
  }
  return -1;
}

/** Drops the last `count` code units of the earlier pieces of a line. */
function dropFromEnd(pieces: number[], count: number): void {
  while (count > 0) {
    const length = pieces[pieces.length - 1]! - pieces[pieces.length - 2]!;
    if (count < length) {
      pieces[pieces.length - 1]! -= count;
      return;
    }
    pieces.length -= 2;
    count -= length;
  }
}

/**
 * Apache's buffer for a line of a password file (mod_authn_file's `MAX_STRING_LEN`, 8 192): a
 * line of up to 8 190 bytes and its line feed fit, with the NUL that ends the string.
 */
const MAX_LINE_BYTES = 8192;

/** The 1-based number of the line that holds `text[at]`. */
function lineNumberAt(text: string, at: number): number {
  let count = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) count++;
  return count;
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
