/**
 * The benchmark runs src/ as bench/lib/compile.ts transpiles it, with plain node: that build must
 * load, plain JavaScript modules of src/ included (SHA crypt, which htpasswd requires; the hash
 * worker). A bench that cannot start is found here rather than by `npm run bench`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { compileForBench } from '../bench/lib/compile';

it('compiles src/ for the benchmark into a build that loads and checks a SHA crypt entry', () => {
  // A folder of this test's own (.tmp is ignored by git): the bench's cache folder may be in use.
  const root = path.join(__dirname, '..');
  mkdirSync(path.join(root, '.tmp'), { recursive: true });
  const out = compileForBench(root, mkdtempSync(path.join(root, '.tmp', 'bench-compile-')));
  const script = `
    const { parseHtpasswd, authenticate, basic } = require(${JSON.stringify(path.join(out, 'src', 'index.js'))});
    authenticate({ schemes: [basic({ users: { a: 'b' } })] });
    parseHtpasswd('alice:$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5\\n')
      .then((file) => file.verify('alice', 'Hello world!'))
      .then((user) => { console.log(user); process.exit(0); });`;
  try {
    expect(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim()).toBe(
      'alice',
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
