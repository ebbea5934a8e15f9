/** Reading a password file's bytes as text: bounded in size, strict UTF-8. */

/** Longest file accepted, in bytes: a password file is small; a huge one is a mistake. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The text of a password file.
 *
 * @param kind names the file in errors (`htpasswd`, `htdigest`)
 * @throws TypeError when the file is over 16 MB or is not UTF-8
 */
export function decodePasswordFile(bytes: Buffer, kind: string): string {
  if (bytes.length > MAX_FILE_BYTES) throw new TypeError(`${kind} file is larger than 16 MB`);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new TypeError(`${kind} file is not valid UTF-8`);
  }
}

/**
 * The lines of a password file that hold an entry, with their 1-based numbers. White space around
 * a line is dropped, as Apache's `ap_cfg_getline` does (a loop, not `/\s+$/`, which backtracks
 * quadratically over a long run of inner spaces); blank lines and `#` comments are skipped.
 */
export function* entryLines(text: string): Generator<[lineNumber: number, line: string]> {
  let lineNumber = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNumber++;
    let first = start;
    let last = end;
    start = end + 1;
    while (first < last && isSpace(text.charCodeAt(first))) first++;
    while (last > first && isSpace(text.charCodeAt(last - 1))) last--;
    if (first === last || text.charCodeAt(first) === 0x23 /* # */) continue;
    yield [lineNumber, text.slice(first, last)];
  }
}

/** SP, HTAB, CR, FF, VT. */
function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0c || code === 0x0b;
}
