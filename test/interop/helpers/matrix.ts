/**
 * The interop matrix: every cell is recorded by a test, never written by hand.
 *
 * Each client's test file records its cells with a {@link MatrixRecorder}; in `afterAll` it writes
 * `docs/interop/<client>.json` and regenerates `docs/interop.md` from all the clients' files. The
 * regeneration runs under a lock directory, so test files finishing at the same time (jest runs
 * them in parallel workers) cannot interleave, and the output depends only on the JSON files, so
 * it is the same whatever order the files ran in.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const DATA_DIR = join(ROOT, 'docs', 'interop');
const MARKDOWN = join(ROOT, 'docs', 'interop.md');
const LOCK = join(ROOT, '.tmp', 'interop-matrix.lock');

/** Rows in display order; a row not listed here goes after them, alphabetically. */
export const ROWS = [
  'Basic',
  'Digest MD5',
  'Digest SHA-256',
  'Digest SHA-512-256',
  'Digest MD5-sess',
  'Digest SHA-256-sess',
  'Digest SHA-512-256-sess',
  'Bearer',
  'Bearer with a required scope',
  'Several schemes offered (Digest SHA-256 first)',
  'Proxy Basic (407)',
  'Proxy Digest (407)',
] as const;

export type Row = (typeof ROWS)[number];

/** Columns in display order; others go after them, alphabetically. */
const CLIENT_ORDER = [
  'curl',
  'wget',
  'python-urllib',
  'python-requests',
  'java-httpurlconnection',
  'chromium',
  'perl-lwp',
  'ruby',
];

export interface Cell {
  row: string;
  works: boolean;
  /** How the client was driven, or why it fails. */
  note?: string;
}

interface ClientFile {
  client: string;
  /** Column header, e.g. `curl 7.88.1`. */
  label: string;
  cells: Cell[];
}

export class MatrixRecorder {
  readonly #cells = new Map<string, Cell>();

  constructor(
    readonly client: string,
    public label: string,
  ) {}

  /** Records one cell; a row recorded twice keeps the last result. */
  record(row: Row, works: boolean, note?: string): void {
    this.#cells.set(row, note === undefined ? { row, works } : { row, works, note });
  }

  /**
   * Writes this client's JSON and regenerates the Markdown. Skipped when nothing was recorded
   * (e.g. the suite was filtered with -t), so that a partial run never erases a column.
   */
  async write(): Promise<void> {
    if (this.#cells.size === 0) return;
    const cells = [...this.#cells.values()].sort(
      (a, b) => rowIndex(a.row) - rowIndex(b.row) || a.row.localeCompare(b.row),
    );
    const file: ClientFile = { client: this.client, label: this.label, cells };
    await mkdir(DATA_DIR, { recursive: true });
    await withLock(async () => {
      await writeAtomically(
        join(DATA_DIR, `${this.client}.json`),
        `${JSON.stringify(file, null, 2)}\n`,
      );
      const markdown = await renderMatrix();
      await writeAtomically(MARKDOWN, markdown);
      await updateReadme(markdown);
    });
  }
}

const README = join(ROOT, 'README.md');
const README_START = '<!-- interop-matrix:start -->';
const README_END = '<!-- interop-matrix:end -->';

/** Copies the matrix (table and notes) into the README between its markers, when it has them. */
async function updateReadme(markdown: string): Promise<void> {
  const readme = await readFile(README, 'utf8');
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) return;
  const table = markdown.slice(markdown.indexOf('| Scheme |'));
  const updated = `${readme.slice(0, start + README_START.length)}\n${table}${readme.slice(end)}`;
  if (updated !== readme) await writeAtomically(README, updated);
}

function rowIndex(row: string): number {
  const index = (ROWS as readonly string[]).indexOf(row);
  return index < 0 ? ROWS.length : index;
}

function clientIndex(client: string): number {
  const index = CLIENT_ORDER.indexOf(client);
  return index < 0 ? CLIENT_ORDER.length : index;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function withLock(action: () => Promise<void>): Promise<void> {
  await mkdir(join(ROOT, '.tmp'), { recursive: true });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock older than 30 s belongs to a worker that died: take it over.
      const age = await stat(LOCK).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > 30_000) await rm(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`interop matrix: lock ${LOCK} held too long`);
      await sleep(25);
    }
  }
  try {
    await action();
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}

async function readClientFiles(): Promise<ClientFile[]> {
  const names = (await readdir(DATA_DIR)).filter((name) => name.endsWith('.json')).sort();
  const files: ClientFile[] = [];
  for (const name of names) {
    files.push(JSON.parse(await readFile(join(DATA_DIR, name), 'utf8')) as ClientFile);
  }
  return files.sort(
    (a, b) => clientIndex(a.client) - clientIndex(b.client) || a.client.localeCompare(b.client),
  );
}

const escapeCell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The Markdown of the whole matrix, from the JSON files only. */
export async function renderMatrix(): Promise<string> {
  const clients = await readClientFiles();
  const rows = [...new Set(clients.flatMap((file) => file.cells.map((cell) => cell.row)))].sort(
    (a, b) => rowIndex(a) - rowIndex(b) || a.localeCompare(b),
  );
  const notes: string[] = [];
  const noteNumber = (note: string): number => {
    const existing = notes.indexOf(note);
    if (existing >= 0) return existing + 1;
    notes.push(note);
    return notes.length;
  };
  const lines = [
    '# Interop matrix',
    '',
    '<!-- Generated by the interop suite (`npx jest --selectProjects interop`, test/interop/) from',
    '     docs/interop/*.json. Do not edit by hand: every cell is the result of one test. -->',
    '',
    'Which real clients, which nobody here wrote, authenticate against authscheme, per scheme and',
    'Digest algorithm. Each cell is one test in `test/interop/`: the client ran against the demo',
    '(`examples/demo`, `npm start`) or the forward proxy (`examples/proxy`) and the test recorded',
    'what happened. ✅ the client authenticated; ❌ it did not (the note says why); blank: not tested',
    '(the client has no such feature).',
    '',
    `| Scheme | ${clients.map((file) => escapeCell(file.label)).join(' | ')} |`,
    `|---|${clients.map(() => '---').join('|')}|`,
  ];
  for (const row of rows) {
    const cells = clients.map((file) => {
      const cell = file.cells.find((candidate) => candidate.row === row);
      if (cell === undefined) return '';
      const mark = cell.works ? '✅' : '❌';
      return cell.note === undefined ? mark : `${mark} [${noteNumber(cell.note)}]`;
    });
    lines.push(`| ${escapeCell(row)} | ${cells.join(' | ')} |`);
  }
  if (notes.length > 0) {
    lines.push('', 'Notes:', '');
    notes.forEach((note, index) => lines.push(`${index + 1}. ${note}`));
  }
  return `${lines.join('\n')}\n`;
}
