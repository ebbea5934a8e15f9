/**
 * entryLines() against a transcription of how Apache httpd 2.4 reads a password file, over random
 * files: continuations, CR, white space, comments, multi-byte characters and lines near the
 * 8 192-byte buffer. The model below follows the C code byte for byte, so that the ranges and byte
 * counts of src/passwords/file-text.ts are checked against the plain algorithm they stand for.
 */
import fc from 'fast-check';
import { entryLines } from '../../src/passwords/file-text';

const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const MAX_STRING_LEN = 8192; // mod_authn_file's buffer, HUGE_STRING_LEN

/** apr_isspace: SP, HTAB, LF, VT, FF, CR. */
const isSpace = (byte: number): boolean => byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);

/** `stoppedFrom`: the line the entry that did not fit starts on (`stoppedAt` unless continued). */
type Read = { lines: [number, string][]; stoppedAt?: number; stoppedFrom?: number };

/**
 * mod_authn_file's loop (`while (!ap_cfg_getline(l, MAX_STRING_LEN, f))`, skipping `#` and blank
 * lines) over ap_cfg_getline_core's getstr branch (server/util.c), with apr_file_gets reading up to
 * a line feed into the room left; `stoppedAt` is the line at which it fails with APR_ENOSPC.
 * Files here hold no NUL, so strlen() is the length of what was read.
 */
function apacheReads(file: Buffer): Read {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const lines: [number, string][] = [];
  let at = 0; // the file position
  let lineNumber = 0;
  const buf = Buffer.alloc(MAX_STRING_LEN);
  /** apr_file_gets(cbuf, size): up to size - 1 bytes, through the first line feed; 0 at EOF. */
  const gets = (cbuf: number, size: number): number => {
    let n = 0;
    while (n < size - 1 && at < file.length) {
      const byte = file[at++]!;
      buf[cbuf + n++] = byte;
      if (byte === LF) break;
    }
    return n;
  };
  for (;;) {
    const first = lineNumber + 1;
    let cbuf = 0;
    let cbufsize = MAX_STRING_LEN;
    let length: number; // strlen(buf) once the line is read
    for (;;) {
      lineNumber++;
      const n = gets(cbuf, cbufsize);
      if (n === 0) {
        if (cbuf !== 0) {
          length = cbuf;
          break;
        }
        return { lines };
      }
      let cp = cbuf + n;
      length = cp;
      if (cp > 0 && buf[cp - 1] === LF) {
        cp--;
        if (cp > 0 && buf[cp - 1] === CR) cp--;
        if (cp > 0 && buf[cp - 1] === BACKSLASH) {
          cp--;
          cbufsize -= cp - cbuf;
          cbuf = cp;
          continue;
        }
      } else if (cp >= MAX_STRING_LEN - 1) {
        return { lines, stoppedAt: lineNumber, stoppedFrom: first };
      }
      break;
    }
    // cfg_trim_line
    let start = 0;
    let end = length;
    while (start < end && isSpace(buf[start]!)) start++;
    while (end > start && isSpace(buf[end - 1]!)) end--;
    if (start === end || buf[start] === 0x23 /* # */) continue;
    lines.push([first, decoder.decode(buf.subarray(start, end))]);
  }
}

function oursReads(text: string): Read {
  try {
    return { lines: [...entryLines(text, 'htpasswd')] };
  } catch (error) {
    const message = (error as Error).message;
    const match = /^htpasswd line (\d+): longer than/.exec(message);
    if (match === null) throw error;
    const from = /, counted from line (\d+), which it continues/.exec(message);
    const stoppedAt = Number(match[1]);
    return { lines: [], stoppedAt, stoppedFrom: from === null ? stoppedAt : Number(from[1]) };
  }
}

// What makes lines: the separators and white space Apache looks at, characters of 1 to 4 bytes,
// and long runs that bring a line near the buffer's size.
const piece = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'b', ':', '#', ' ', '\t', '\x0b', '\x0c') },
  { weight: 6, arbitrary: fc.constantFrom('\\', '\r', '\n', '\\\n', '\\\r\n', '\\\\\n', '\n\n') },
  { weight: 3, arbitrary: fc.constantFrom('é', '€', '😀') },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('x', 'é', '€', '😀'), fc.integer({ min: 1000, max: 8200 }))
      .map(([char, bytes]) => char.repeat(Math.ceil(bytes / Buffer.byteLength(char)))),
  },
);
// A byte order mark is skipped here and read by Apache: it is left out of the start.
const file = fc.array(piece, { maxLength: 60 }).map((pieces) => pieces.join(''));

/**
 * Compares the two readings of `text`; where Apache stops, ours refuses the file at that line (the
 * entries before it do not matter). Returns whether Apache stopped.
 */
function sameReading(text: string): boolean {
  const apache = apacheReads(Buffer.from(text));
  const ours = oursReads(text);
  if (apache.stoppedAt !== undefined) {
    expect([ours.stoppedAt, ours.stoppedFrom]).toEqual([apache.stoppedAt, apache.stoppedFrom]);
  } else {
    expect(ours).toEqual(apache);
  }
  return apache.stoppedAt !== undefined;
}

it('reads the entries Apache 2.4 reads, and refuses a file where Apache stops reading', () => {
  const outcomes = { stopped: 0, read: 0, entries: 0 };
  fc.assert(
    fc.property(file, (text) => {
      if (sameReading(text)) outcomes.stopped++;
      else outcomes.read++;
      outcomes.entries += oursReads(text).lines.length;
    }),
    { numRuns: 5000 },
  );
  // Both outcomes came up often, and files with entries: the comparison was not one-sided.
  expect(outcomes.stopped).toBeGreaterThan(100);
  expect(outcomes.read).toBeGreaterThan(100);
  expect(outcomes.entries).toBeGreaterThan(1000);
});

it('agrees with the model on lines a few bytes either side of the limit', () => {
  // Exhaustively near the boundary: a line of 8 185 to 8 195 bytes, continued or not, with CR.
  const outcomes: boolean[] = [];
  for (let bytes = 8185; bytes <= 8195; bytes++) {
    for (const [head, tail] of [
      ['', '\n'],
      ['', '\r\n'],
      ['', ''],
      ['a:\\\n', '\n'],
      ['a:\\\r\n', '\n'],
      ['#\\\\\n\n', '\n'],
      ['😀\\\n', '\n'],
    ] as const) {
      const text = `${head}${'x'.repeat(bytes - Buffer.byteLength(head))}${tail}b:1`;
      outcomes.push(sameReading(text));
    }
  }
  expect(outcomes.filter(Boolean).length).toBeGreaterThan(20);
  expect(outcomes.filter((stopped) => !stopped).length).toBeGreaterThan(20);
});

it('stops where Apache stops with a byte order mark, whose 3 bytes Apache reads in the first line', () => {
  // The entries differ by design (Apache reads the mark as part of the first user's name): only
  // where each stops is compared. The first line starts within a few bytes of the limit.
  const outcomes = { stopped: 0, read: 0 };
  const marked = fc
    .tuple(fc.integer({ min: 8180, max: 8195 }), file)
    .map(([bytes, body]) => `\ufeff${'x'.repeat(bytes - 3)}${body}`);
  fc.assert(
    fc.property(marked, (text) => {
      const stoppedAt = apacheReads(Buffer.from(text)).stoppedAt;
      expect(oursReads(text).stoppedAt).toBe(stoppedAt);
      if (stoppedAt === undefined) outcomes.read++;
      else outcomes.stopped++;
    }),
    { numRuns: 2000 },
  );
  expect(outcomes.stopped).toBeGreaterThan(50);
  expect(outcomes.read).toBeGreaterThan(50);
});
