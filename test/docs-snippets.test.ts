/**
 * Every ```ts block of README.md and docs/*.md, type-checked against the built package as a
 * consumer sees it: `authscheme`, `authscheme/jwt`, ... resolved through package.json's `exports`
 * to dist/ (the package's own name resolves to itself from inside it), Express's and Node's types,
 * `strict: true`. `npm test` builds dist/ before jest runs.
 *
 * Each block becomes an ES module of its own (`.mts`: top-level `await` is allowed, as in an ESM
 * project; the README says what CommonJS does instead), held in memory, and all of them are
 * checked in one program, except a block that augments the package's types (README's
 * `declare module 'authscheme'`), which would hold for every block: those go in a second program
 * (sharing the first's parsed declarations) with a module that imports the package and reads the field the
 * README declares. An error is reported at its line in the Markdown file.
 *
 * Many blocks are fragments. What they leave out comes from a prelude, by two rules only:
 * - A block without any `import` of its own is a fragment of the setup its page shows: it gets
 *   `import { … } from 'authscheme'` for each value of the root entry it names. A block that
 *   imports anything must import everything it uses (a reader copies that list).
 * - `preludes` below declares, for one block each, the names its prose defines or plainly means
 *   (the app, a user table, a lookup of the application's own). Never a name of this package or
 *   an option: a prelude must not make a wrong use of the API compile.
 * In docs/migrating.md the `// before` half of a block is another package's setup, not ours: it
 * is left out (its lines blanked) up to `// after`.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(__dirname, '..');

interface Snippet {
  /** Relative to the repository, e.g. `docs/bearer.md`. */
  file: string;
  /** Line of the Markdown file that holds the block's first line of code. */
  line: number;
  code: string;
}

/** The ```ts blocks of `file`, list items' indented ones included. */
function snippetsOf(file: string): Snippet[] {
  const lines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)```(?:ts|typescript)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const indent = open[1]!.length;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== '```') end++;
    if (end === lines.length) throw new Error(`${file}:${i + 1}: unclosed \`\`\`ts block`);
    const code = lines.slice(start, end).map((line) => line.slice(indent));
    snippets.push({ file, line: start + 1, code: code.join('\n') });
    i = end;
  }
  return snippets;
}

const files = [
  'README.md',
  ...fs
    .readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];
const snippets = files.flatMap(snippetsOf);

/** One block's prelude: the block of `file` that contains `contains`, and the names it means. */
interface Prelude {
  file: string;
  contains: string;
  /** name → its type: becomes `declare const name: type;`. */
  declare: Record<string, string>;
}

const app = "import('express').Express";
const handler = "import('express').RequestHandler";
const users = 'Record<string, string>';
/** A password check of the application's own, as Basic's `verify` takes it. */
const checkPassword = '(user: string, password: string) => Promise<string | false>';

const preludes: Prelude[] = [
  // README.md
  { file: 'README.md', contains: 'audit: ({ outcome', declare: { app, users } },
  { file: 'README.md', contains: '!(err instanceof AuthenticationError)', declare: { app } },
  {
    file: 'README.md',
    contains: "server.on('connect'",
    declare: { server: "import('node:http').Server", guard: "import('authscheme').AuthMiddleware" },
  },
  {
    file: 'README.md',
    contains: 'wss.handleUpgrade(req',
    declare: { server: "import('node:http').Server", guard: "import('authscheme').AuthMiddleware" },
  },
  {
    file: 'README.md',
    contains: 'await check(user, password)',
    declare: { check: '(user: string, password: string) => Promise<boolean>' },
  },
  // "store, // a NonceStore"
  {
    file: 'README.md',
    contains: '// a NonceStore',
    declare: { store: "import('authscheme').NonceStore" },
  },
  {
    file: 'README.md',
    contains: 'await lookup(token)',
    declare: {
      lookup: '(token: string) => Promise<{ user: string; scopes?: string[] } | undefined>',
      issuer: 'string',
      audience: 'string',
      app,
      handler,
    },
  },
  { file: 'README.md', contains: 'negotiate({', declare: { app, checkPassword } },
  { file: 'README.md', contains: "app.get('/basic/logout'", declare: { app, users } },
  // docs/bearer.md
  {
    file: 'docs/bearer.md',
    contains: 'db.tokens.find(token)',
    declare: {
      db: '{ tokens: { find(token: string): Promise<{ user: string; scopes: string[] } | undefined> } }',
    },
  },
  { file: 'docs/bearer.md', contains: "app.get('/a', requireScopes", declare: { app, handler } },
  {
    file: 'docs/bearer.md',
    contains: "app.get('/e', requireScopes",
    declare: { app, handler, audit: "import('authscheme').AuthenticateOptions['audit']" },
  },
  { file: 'docs/bearer.md', contains: 'jwtBearer({', declare: { app } },
  // docs/deployment.md
  { file: 'docs/deployment.md', contains: 'forwardedRequest: (req)', declare: { app, users } },
  // docs/digest.md
  {
    file: 'docs/digest.md',
    contains: 'db.accounts.find(user)',
    declare: {
      db: '{ accounts: { find(user: string): Promise<{ password: string; role: string; id: number } | undefined> } }',
    },
  },
  {
    file: 'docs/digest.md',
    contains: 'one store, two realms',
    declare: { users, admins: users, secret: 'string' },
  },
  {
    file: 'docs/digest.md',
    contains: 'express.raw(',
    declare: { app, express: "typeof import('express')", users },
  },
  // docs/header.md
  { file: 'docs/header.md', contains: 'parseChallenges(value,', declare: { value: 'string' } },
  // docs/migrating.md
  { file: 'docs/migrating.md', contains: 'basicAuth({ users', declare: { app } },
  {
    file: 'docs/migrating.md',
    contains: 'new BasicStrategy(',
    declare: { app, accounts: 'Record<string, { name: string; password: string; role: string }>' },
  },
  {
    file: 'docs/migrating.md',
    contains: 'getPassword: (username)',
    declare: { accounts: 'Record<string, { name: string; password: string; role: string }>' },
  },
  { file: 'docs/migrating.md', contains: 'auth.digest(', declare: { app, ha1: 'string' } },
  { file: 'docs/migrating.md', contains: 'jwtBearer({', declare: { app } },
  // docs/negotiate.md
  {
    file: 'docs/negotiate.md',
    contains: 'directory.lookup(principal)',
    declare: {
      directory: '{ lookup(principal: string): Promise<string | undefined> }',
      checkPassword,
    },
  },
  // docs/security.md
  { file: 'docs/security.md', contains: "server.on('checkContinue'", declare: { app, users } },
];

/** The values (not types) an entry point of the package exports, as its declarations list them. */
function valueExports(entry: string): Set<string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, { require?: { types?: string } }>;
  };
  const types = pkg.exports[entry]?.require?.types;
  if (types === undefined) throw new Error(`package.json: no require types for ${entry}`);
  const file = path.join(root, types);
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const names = new Set<string>();
  const exported = (node: ts.Node): boolean =>
    ts.canHaveModifiers(node) &&
    (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      const clause = statement.exportClause;
      if (statement.isTypeOnly || clause === undefined || !ts.isNamedExports(clause)) continue;
      for (const element of clause.elements) {
        if (!element.isTypeOnly) names.add(element.name.text);
      }
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) &&
      exported(statement) &&
      statement.name !== undefined
    ) {
      names.add(statement.name.text);
    } else if (ts.isVariableStatement(statement) && exported(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name)) names.add(declaration.name.text);
      }
    }
  }
  return names;
}

/** The identifiers `code` names (references, not property names after a dot or before a colon). */
function namesIn(code: string): Set<string> {
  const source = ts.createSourceFile('x.mts', code, ts.ScriptTarget.Latest, true);
  const names = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) {
      const parent = node.parent;
      const isPropertyName =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        (ts.isQualifiedName(parent) && parent.right === node) ||
        ((ts.isPropertyAssignment(parent) ||
          ts.isPropertySignature(parent) ||
          ts.isPropertyDeclaration(parent) ||
          ts.isMethodDeclaration(parent) ||
          ts.isMethodSignature(parent)) &&
          parent.name === node);
      if (!isPropertyName) names.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

function hasImports(code: string): boolean {
  const source = ts.createSourceFile('x.mts', code, ts.ScriptTarget.Latest);
  return source.statements.some(ts.isImportDeclaration);
}

/** docs/migrating.md: blanks each `// before` half (another package's code) up to `// after`. */
function withoutBefore(snippet: Snippet): string {
  if (snippet.file !== 'docs/migrating.md') return snippet.code;
  let before = false;
  return snippet.code
    .split('\n')
    .map((line) => {
      if (/^\/\/ before\b/.test(line)) before = true;
      if (/^\/\/ after\b/.test(line)) before = false;
      return before ? '' : line;
    })
    .join('\n');
}

interface Checked {
  snippet: Snippet;
  /** Virtual file name of the module made of it. */
  fileName: string;
  preludeLines: number;
  text: string;
}

/** A block that augments the package's types (README's `declare module 'authscheme'`). */
const AUGMENTS = /^declare (module|global)\b/m;

function build(snippet: Snippet, index: number, rootValues: Set<string>): Checked {
  const code = withoutBefore(snippet);
  const lines: string[] = [];
  const names = namesIn(code);
  if (!hasImports(code)) {
    const used = [...rootValues].filter((name) => names.has(name)).sort();
    if (used.length > 0) lines.push(`import { ${used.join(', ')} } from 'authscheme';`);
  }
  for (const prelude of preludes) {
    if (prelude.file !== snippet.file || !snippet.code.includes(prelude.contains)) continue;
    for (const [name, type] of Object.entries(prelude.declare)) {
      lines.push(`declare const ${name}: ${type};`);
    }
  }
  const slug = snippet.file.replace(/[^A-Za-z0-9]+/g, '-');
  // An augmentation is what a reader puts in a declaration file of its own (`types.d.ts`), which
  // is a module only if it has an import or export (`moduleDetection` does not force those):
  // without one, `declare module 'authscheme'` declares a module of that name that hides the
  // package, instead of adding to it. So it is checked as such a file.
  const extension = AUGMENTS.test(code) ? '.d.mts' : '.mts';
  return {
    snippet,
    // Beside package.json, so that `authscheme` resolves to this package's exports.
    fileName: path.join(root, `.docs-snippet-${index}-${slug}-${snippet.line}${extension}`),
    preludeLines: lines.length,
    text: [...lines, code, ''].join('\n'),
  };
}

const options: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2023.d.ts'],
  module: ts.ModuleKind.Node16,
  moduleResolution: ts.ModuleResolutionKind.Node16,
  moduleDetection: ts.ModuleDetectionKind.Force,
  strict: true,
  esModuleInterop: true,
  noEmit: true,
  skipLibCheck: true,
  types: ['node'],
  typeRoots: [path.join(root, 'node_modules', '@types')],
};

const parsed = new Map<string, ts.SourceFile>();

/**
 * Type-checks `checked` in one program (`extra`: more modules of that program, not from the docs);
 * returns the errors as `file:line: error TSnnnn: text`, in the order of the blocks.
 */
function typeCheck(checked: Checked[], extra: Record<string, string> = {}): string[] {
  const texts = new Map<string, string>(checked.map((c) => [c.fileName, c.text]));
  for (const [name, text] of Object.entries(extra)) texts.set(path.join(root, name), text);
  const host = ts.createCompilerHost(options, true);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (name) => texts.has(name) || fileExists.call(host, name);
  host.readFile = (name) => texts.get(name) ?? readFile.call(host, name);
  host.getSourceFile = (name, languageVersion, onError, shouldCreate) => {
    const text = texts.get(name);
    if (text !== undefined) return ts.createSourceFile(name, text, languageVersion, true);
    // Declarations (Node's, Express's, the package's) are parsed once for both programs.
    let file = parsed.get(name);
    if (file === undefined) {
      file = getSourceFile.call(host, name, languageVersion, onError, shouldCreate);
      if (file !== undefined) parsed.set(name, file);
    }
    return file;
  };
  const program = ts.createProgram([...texts.keys()], options, host);
  const byName = new Map(checked.map((c, i) => [c.fileName, { c, i }]));
  const located = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const source = diagnostic.file;
    const found = source === undefined ? undefined : byName.get(source.fileName);
    if (source === undefined || found === undefined) {
      const where = source === undefined ? '' : `${path.relative(root, source.fileName)}: `;
      return { order: -1, text: `${where}error TS${diagnostic.code}: ${message}` };
    }
    const { c, i } = found;
    const line = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line - c.preludeLines;
    const where =
      line < 0
        ? `${c.snippet.file}:${c.snippet.line} (prelude)`
        : `${c.snippet.file}:${c.snippet.line + line}`;
    return {
      order: i * 1e6 + Math.max(line, 0),
      text: `${where}: error TS${diagnostic.code}: ${message}`,
    };
  });
  located.sort((a, b) => a.order - b.order);
  return located.map((l) => l.text);
}

describe('the TypeScript in README.md and docs/*.md', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(root, 'dist', 'cjs', 'index.d.ts'))) {
      throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    }
  });

  it('finds the blocks', () => {
    expect(snippets.length).toBeGreaterThan(30);
  });

  it('has one block for each prelude, naming what it declares, none of it from the package', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    const ours = Object.keys(pkg.exports)
      .filter((entry) => entry !== './package.json')
      .flatMap((entry) => [...valueExports(entry)]);
    expect(ours).toEqual(expect.arrayContaining(['authenticate', 'jwtBearer', 'negotiate']));
    const problems: string[] = [];
    for (const prelude of preludes) {
      const matches = snippets.filter(
        (s) => s.file === prelude.file && s.code.includes(prelude.contains),
      );
      if (matches.length !== 1) {
        problems.push(`${prelude.file}: ${matches.length} blocks contain ${prelude.contains}`);
        continue;
      }
      const names = namesIn(withoutBefore(matches[0]!));
      for (const name of Object.keys(prelude.declare)) {
        if (!names.has(name)) problems.push(`${prelude.file}: ${name} is not used by its block`);
        if (ours.includes(name)) problems.push(`${prelude.file}: ${name} is the package's own`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('type-checks against the built package (strict)', () => {
    const rootValues = valueExports('.');
    const checked = snippets.map((snippet, i) => build(snippet, i, rootValues));
    // Augmentations hold for a whole program: the other blocks see the package as it is.
    const augmenting = checked.filter((c) => AUGMENTS.test(c.text));
    const plain = checked.filter((c) => !augmenting.includes(c));
    const first = typeCheck(plain);
    // An augmentation needs the rest of a program that imports the package (TypeScript refuses
    // to augment a module nothing imports); this one also reads the field README's declares, as
    // the README says: `req.auth?.role` is a `string | undefined`.
    const rest = `import type { Request } from 'express';
import type {} from 'authscheme';
export const role = (req: Request): string | undefined => req.auth?.role;
`;
    const second =
      augmenting.length === 0 ? [] : typeCheck(augmenting, { '.docs-snippet-augmented.mts': rest });
    expect([...first, ...second]).toEqual([]);
  });
});

describe("README's table of error codes", () => {
  const codes = [
    ...fs
      .readFileSync(path.join(root, 'src', 'errors.ts'), 'utf8')
      .matchAll(/^\s*\| '(ERR_AUTH_[A-Z_]+)';?$/gm),
  ].map((match) => match[1]!);
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('\n## Errors\n'),
    readme.indexOf('\n## ', readme.indexOf('\n## Errors\n') + 1),
  );
  /** Code → meaning, from the rows `| \`ERR_AUTH_…\` | status | meaning |`. */
  const rows = new Map(
    [...section.matchAll(/^\| `(ERR_AUTH_[A-Z_]+)` \| [^|]+ \| (.+) \|$/gm)].map((match) => [
      match[1]!,
      match[2]!,
    ]),
  );

  it('reads the codes of AuthErrorCode', () => {
    expect(codes).toContain('ERR_AUTH_INVALID_CREDENTIALS');
    expect(codes).toContain('ERR_AUTH_VERIFIER_RESULT');
  });

  it('gives every code a row of its own, with its status and meaning, and no code that is not one', () => {
    expect([...rows.keys()].sort()).toEqual([...codes].sort());
    for (const meaning of rows.values()) expect(meaning.trim().length).toBeGreaterThan(10);
  });
});
