/**
 * The interop matrix: every cell is recorded by a test, never written by hand.
 *
 * Each client's test file records its cells with a {@link MatrixRecorder}; in `afterAll` it writes
 * `docs/interop/<client>.json` and regenerates `docs/interop.md` from all the clients' files. The
 * tests of `authscheme/client` against servers nobody here wrote do the same with a
 * {@link ServerMatrixRecorder} (`docs/interop/servers/<server>.json`, a second table). The
 * regeneration runs under a lock directory, so test files finishing at the same time (jest runs
 * them in parallel workers) cannot interleave, and the output depends only on the JSON files, so
 * it is the same whatever order the files ran in.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const DATA_DIR = join(ROOT, 'docs', 'interop');
const SERVERS_DIR = join(DATA_DIR, 'servers');
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

/** The Digest algorithms the demo serves (`/digest/<algorithm>`), a row each, in the rows' order. */
export const DIGEST_ALGORITHMS = [
  'MD5',
  'SHA-256',
  'SHA-512-256',
  'MD5-sess',
  'SHA-256-sess',
  'SHA-512-256-sess',
] as const;

export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

export interface DigestCase {
  algorithm: DigestAlgorithm;
  row: Row;
  /** What the client is expected to do with it. */
  works: boolean;
  /** Why it fails, for the matrix. */
  note?: string;
}

/**
 * A test case per Digest algorithm of the demo: the client works with those in `working` and,
 * for `note`'s reason, with none of the others.
 */
export function digestCases(working: readonly DigestAlgorithm[], note?: string): DigestCase[] {
  return DIGEST_ALGORITHMS.map((algorithm) => {
    const works = working.includes(algorithm);
    const row: Row = `Digest ${algorithm}`;
    return works || note === undefined
      ? { algorithm, row, works }
      : { algorithm, row, works, note };
  });
}

/** Rows of the servers table (authscheme/client against them), in display order. */
export const SERVER_ROWS = [
  'Basic',
  'Digest MD5',
  'Digest SHA-256',
  'Digest SHA-512-256',
  'Several algorithms offered (the strongest answered)',
  'userhash',
  'Non-ASCII user name (username*) and password',
  'Nonce reused, nc counting up',
  'Stale nonce (stale=true) retried',
  'nextnonce taken up',
  'Redirect inside the realm (each hop answered)',
  "Mutual authentication (rspauth; verifyServer: 'require')",
  'A realm with a nonce-secret',
  'Wrong password: the 401 back after one answer',
] as const;

export type ServerRow = (typeof SERVER_ROWS)[number];

/** Columns in display order; others go after them, alphabetically. */
const CLIENT_ORDER: readonly string[] = [
  'curl',
  'wget',
  'python-urllib',
  'python-requests',
  'java-httpurlconnection',
  'chromium',
  'firefox',
  'perl-lwp',
  'ruby',
];
const SERVER_ORDER: readonly string[] = ['apache', 'lighttpd'];

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

export class MatrixRecorder<R extends string = Row> {
  readonly #cells = new Map<string, Cell>();

  constructor(
    readonly client: string,
    public label: string,
    /** Where its file goes: `docs/interop/` for a client, `docs/interop/servers/` for a server. */
    readonly dataDir: string = DATA_DIR,
    readonly rows: readonly string[] = ROWS,
  ) {}

  /** Records one cell; a row recorded twice keeps the last result. */
  record(row: R, works: boolean, note?: string): void {
    this.#cells.set(row, note === undefined ? { row, works } : { row, works, note });
  }

  /**
   * Writes this client's JSON and regenerates the Markdown. Skipped when nothing was recorded
   * (e.g. the suite was filtered with -t), so that a partial run never erases a column.
   */
  async write(): Promise<void> {
    if (this.#cells.size === 0) return;
    const cells = [...this.#cells.values()].sort(
      (a, b) =>
        rowIndex(this.rows, a.row) - rowIndex(this.rows, b.row) || a.row.localeCompare(b.row),
    );
    const file: ClientFile = { client: this.client, label: this.label, cells };
    await mkdir(this.dataDir, { recursive: true });
    await withLock(async () => {
      await writeAtomically(
        join(this.dataDir, `${this.client}.json`),
        `${JSON.stringify(file, null, 2)}\n`,
      );
      const markdown = await renderMatrix();
      await writeAtomically(MARKDOWN, markdown);
      await updateReadme(markdown);
    });
  }
}

/** The cells of `authscheme/client` against one server (a column of the servers table). */
export class ServerMatrixRecorder extends MatrixRecorder<ServerRow> {
  constructor(server: string, label: string) {
    super(server, label, SERVERS_DIR, SERVER_ROWS);
  }
}

const README = join(ROOT, 'README.md');
const README_START = '<!-- interop-matrix:start -->';
const README_END = '<!-- interop-matrix:end -->';

/**
 * Copies the clients' matrix (table and notes) into the README between its markers, when it has
 * them. The servers table stays in docs/interop.md: the README's client section points to it.
 */
async function updateReadme(markdown: string): Promise<void> {
  const readme = await readFile(README, 'utf8');
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) return;
  const servers = markdown.indexOf(`\n${SERVERS_HEADING}\n`);
  const table = markdown.slice(markdown.indexOf('| Scheme |'), servers < 0 ? undefined : servers);
  const updated = `${readme.slice(0, start + README_START.length)}\n${table}${readme.slice(end)}`;
  if (updated !== readme) await writeAtomically(README, updated);
}

function rowIndex(rows: readonly string[], row: string): number {
  const index = rows.indexOf(row);
  return index < 0 ? rows.length : index;
}

function columnIndex(order: readonly string[], client: string): number {
  const index = order.indexOf(client);
  return index < 0 ? order.length : index;
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

async function readClientFiles(dir: string, order: readonly string[]): Promise<ClientFile[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: ClientFile[] = [];
  for (const name of names) {
    files.push(JSON.parse(await readFile(join(dir, name), 'utf8')) as ClientFile);
  }
  return files.sort(
    (a, b) =>
      columnIndex(order, a.client) - columnIndex(order, b.client) ||
      a.client.localeCompare(b.client),
  );
}

const escapeCell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

const SERVERS_HEADING = '## authscheme/client against other servers';

/**
 * The lines of one table (`first` its header cell) and of its notes, numbered from `notes`'s
 * length on: the notes of both tables share one numbering, so that each [n] is unique.
 */
function renderTable(
  first: string,
  files: ClientFile[],
  rowOrder: readonly string[],
  notes: string[],
): string[] {
  const start = notes.length;
  const rows = [...new Set(files.flatMap((file) => file.cells.map((cell) => cell.row)))].sort(
    (a, b) => rowIndex(rowOrder, a) - rowIndex(rowOrder, b) || a.localeCompare(b),
  );
  const noteNumber = (note: string): number => {
    const existing = notes.indexOf(note, start);
    if (existing >= 0) return existing + 1;
    notes.push(note);
    return notes.length;
  };
  const lines = [
    `| ${first} | ${files.map((file) => escapeCell(file.label)).join(' | ')} |`,
    `|---|${files.map(() => '---').join('|')}|`,
  ];
  for (const row of rows) {
    const cells = files.map((file) => {
      const cell = file.cells.find((candidate) => candidate.row === row);
      if (cell === undefined) return '';
      const mark = cell.works ? '✅' : '❌';
      return cell.note === undefined ? mark : `${mark} [${noteNumber(cell.note)}]`;
    });
    lines.push(`| ${escapeCell(row)} | ${cells.join(' | ')} |`);
  }
  if (notes.length > start) {
    lines.push('', 'Notes:', '');
    notes.slice(start).forEach((note, index) => lines.push(`${start + index + 1}. ${note}`));
  }
  return lines;
}

/** The Markdown of the whole matrix, from the JSON files only. */
export async function renderMatrix(): Promise<string> {
  const clients = await readClientFiles(DATA_DIR, CLIENT_ORDER);
  const servers = await readClientFiles(SERVERS_DIR, SERVER_ORDER);
  const notes: string[] = [];
  const lines = [
    '# Interop matrix',
    '',
    '<!-- Generated by the interop suite (`npx jest --selectProjects interop`, test/interop/) from',
    '     docs/interop/*.json and docs/interop/servers/*.json. Do not edit by hand: every cell is',
    '     the result of one test. -->',
    '',
    'Which real clients, which nobody here wrote, authenticate against authscheme, per scheme and',
    'Digest algorithm. Each cell is one test in `test/interop/`: the client ran against the demo',
    '(`examples/demo`, `npm start`) or the forward proxy (`examples/proxy`) and the test recorded',
    'what happened. ✅ the client authenticated; ❌ it did not (the note says why); blank: not tested',
    '(the client has no such feature, or its test does not cover it).',
    '',
    ...renderTable('Scheme', clients, ROWS, notes),
  ];
  if (servers.length > 0) {
    lines.push(
      '',
      SERVERS_HEADING,
      '',
      'The other way round: `authscheme/client` (`createAuthFetch`) against servers nobody here',
      'wrote. Each cell is one test in `test/interop/client-<server>.test.ts`, which started the',
      'server on 127.0.0.1 with its own configuration and password files. ✅ the client did it (for',
      'a wrong password: it gave the server’s 401 back after one answer); ❌ it could not (the note',
      'says why); blank: not tested (the server has no such feature, or its test does not cover it).',
      '',
      ...renderTable('Feature', servers, SERVER_ROWS, notes),
    );
  }
  return `${lines.join('\n')}\n`;
}
