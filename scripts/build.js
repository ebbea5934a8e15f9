#!/usr/bin/env node
// Builds dist/: CommonJS with declarations from tsc, plus thin ESM wrappers (.mjs/.d.mts) that
// re-export the CommonJS build, so both `import` and `require` get the same module instance (no
// dual-package hazard: one AuthenticationError class, one nonce store).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const pkg = require(path.join(root, 'package.json'));

fs.rmSync(dist, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', 'dist/cjs'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);

// The worker and the SHA crypt it shares with the main thread are plain JavaScript that tsc does
// not emit: copied beside their users.
for (const file of ['passwords/hash-worker.mjs', 'passwords/sha-crypt.cjs']) {
  fs.copyFileSync(path.join(root, 'src', file), path.join(dist, 'cjs', file));
}

for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') continue; // ./package.json
  const cjs = path.join(root, target.require.default);
  const esm = path.join(root, target.import.default);
  const esmTypes = path.join(root, target.import.types);
  const names = Object.keys(require(cjs)).filter(
    (name) => name !== '__esModule' && name !== 'default',
  );
  const fromEsm = (file) => {
    const rel = path.relative(path.dirname(esm), file).split(path.sep).join('/');
    return rel.startsWith('.') ? rel : `./${rel}`;
  };
  fs.mkdirSync(path.dirname(esm), { recursive: true });
  fs.writeFileSync(
    esm,
    `// ESM entry for authscheme${subpath === '.' ? '' : subpath.slice(1)}: re-exports the CommonJS build.\n` +
      `import cjs from '${fromEsm(cjs)}';\n` +
      `export const { ${names.join(', ')} } = cjs;\n`,
  );
  const cjsTypes = path.join(root, target.require.types);
  fs.writeFileSync(esmTypes, `export * from '${fromEsm(cjsTypes).replace(/\.d\.ts$/, '.js')}';\n`);
}
console.log('built dist/cjs and dist/esm');
