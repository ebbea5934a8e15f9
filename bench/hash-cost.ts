/**
 * `npx tsx bench/hash-cost.ts`
 *
 * What one of Digest's per-request hashes costs, timed natively and counted under valgrind's
 * callgrind, to read the Digest rows of bench/instructions.ts by. A Digest SHA-256 request that
 * reuses its nonce hashes twice once warm, in our guard and in its floor alike (the `response` to
 * check and the `rspauth` to send; HA1, HA2 and the nonce's signature are cached): each is one
 * `crypto.hash('sha256', …, 'hex')` of a line like the one below. Valgrind's CPU model lacks the
 * SHA extensions, so a hash counts more instructions than its time is worth next to the rest of a
 * request; this script says by how much.
 *
 * Instructions per hash are the difference between two callgrind runs of the same loop (a few and
 * many iterations), so that Node's start-up cancels out.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { hash } from 'node:crypto';

// `${HA1}:${nonce}:${nc}:${cnonce}:auth:${HA2}`, with our nonce's length (60) and the benchmark
// client's cnonce (16 hex digits): 221 bytes, four SHA-256 blocks.
const LINE = `${'a'.repeat(64)}:${'n'.repeat(60)}:00000001:0123456789abcdef:auth:${'b'.repeat(64)}`;

function loop(count: number): number {
  let sink = 0;
  for (let i = 0; i < count; i++) sink += hash('sha256', LINE, 'hex').length;
  return sink;
}

function nanosPerHash(): number {
  const count = 200_000;
  loop(count); // warm-up
  const runs = [0, 1, 2, 3, 4].map(() => {
    const start = process.hrtime.bigint();
    loop(count);
    return Number(process.hrtime.bigint() - start) / count;
  });
  return runs.sort((a, b) => a - b)[2]!;
}

/** Instructions callgrind collects for a whole `node` running `count` hashes. */
function collected(count: number): number {
  // `--import tsx` as `npx tsx` would, with its compile cache off so that both runs compile this
  // file (a cache filled by the first run would leave the compiling in one count only). Valgrind
  // writes its summary to stderr.
  const { stderr } = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      '--callgrind-out-file=/dev/null',
      process.execPath,
      '--predictable',
      '--import',
      'tsx',
      process.argv[1]!,
      '--child',
      String(count),
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, TSX_DISABLE_CACHE: '1' },
    },
  );
  const match = /Collected : (\d+)/.exec(stderr);
  if (match === null) throw new Error(`no callgrind summary in: ${stderr}`);
  return Number(match[1]);
}

function hasValgrind(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const child = process.argv.indexOf('--child');
if (child !== -1) {
  loop(Number(process.argv[child + 1]));
} else {
  console.log(`one crypto.hash('sha256', ${LINE.length} bytes, 'hex'), Node ${process.version}`);
  const nanos = nanosPerHash();
  console.log(`timed: ${nanos.toFixed(0)} ns per hash (median of 5 rounds of 200 000)`);
  if (hasValgrind()) {
    const few = 1_000;
    const many = 51_000;
    const instructions = (collected(many) - collected(few)) / (many - few);
    console.log(
      `counted: ${(instructions / 1000).toFixed(1)}k instructions per hash ` +
        `(${(instructions / nanos).toFixed(0)} per ns timed)`,
    );
  } else {
    console.log('counted: valgrind is not installed (Debian: apt-get install valgrind)');
  }
}
