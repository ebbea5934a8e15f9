/**
 * Compiles src/ and the bench's process scripts to CommonJS with TypeScript (transpile only; the
 * type check is `npm run typecheck`'s job) so that every benchmark process runs plain `node`, as a
 * user's server runs the published build: no tsx loader thread, no per-call export getters, no
 * `keepNames` wrappers inside the measurement.
 */
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** The nearest folder above `from` whose package.json is this package. */
export function findRepoRoot(from: string): string {
  let dir = from;
  for (let i = 0; i < 20; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
      };
      if (pkg.name === 'authscheme') return dir;
    } catch {
      // No package.json here; keep climbing.
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`no authscheme package.json above ${from}`);
}

function filesUnder(dir: string, wanted: (name: string) => boolean): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) files.push(...filesUnder(full, wanted));
    else if (wanted(entry)) files.push(full);
  }
  return files;
}

const tsFiles = (dir: string): string[] =>
  filesUnder(dir, (name) => name.endsWith('.ts') && !name.endsWith('.d.ts'));

/**
 * Writes the JavaScript under node_modules/.cache/authscheme-bench (inside the repository, so that
 * `require` finds the dev dependencies; ignored by git with node_modules), or under `out` (a
 * folder inside the repository of the caller's own, e.g. for a test). Returns that folder.
 */
export function compileForBench(
  repoRoot: string,
  out = path.join(repoRoot, 'node_modules', '.cache', 'authscheme-bench'),
): string {
  rmSync(out, { recursive: true, force: true });
  const sources = [
    ...tsFiles(path.join(repoRoot, 'src')),
    ...['lib', 'http', 'codec', 'report'].flatMap((d) => tsFiles(path.join(repoRoot, 'bench', d))),
  ];
  for (const file of sources) {
    const { outputText, diagnostics } = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      reportDiagnostics: true,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        isolatedModules: true,
      },
    });
    if (diagnostics && diagnostics.length > 0) {
      const text = ts.flattenDiagnosticMessageText(diagnostics[0]!.messageText, '\n');
      throw new Error(`cannot compile ${path.relative(repoRoot, file)}: ${text}`);
    }
    const target = path.join(out, path.relative(repoRoot, file)).replace(/\.ts$/, '.js');
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  // src/'s plain JavaScript modules (SHA crypt, which htpasswd requires; the hash worker) as they
  // are, beside the files that load them, as scripts/build.js puts them in dist/.
  for (const file of filesUnder(path.join(repoRoot, 'src'), (name) => /\.(cjs|mjs)$/.test(name))) {
    const target = path.join(out, path.relative(repoRoot, file));
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(file, target);
  }
  return out;
}
