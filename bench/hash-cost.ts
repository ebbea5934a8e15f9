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
 * It first counts those hashes: each guard on a node:http server in this process, `crypto.hash`
 * wrapped, a warm client sending requests on one nonce. Instructions per hash are the difference
 * between two callgrind runs of the same loop (a few and many iterations), so that Node's
 * start-up cancels out.
 */
import { spawnSync } from 'node:child_process';
import crypto, { hash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DigestSession, pickDigestChallenge } from './http/digest-client';
import { PASSWORD, USER } from './http/fixtures';
import { digestFloor } from './http/floors';
import { oursDigest, type Connect } from './http/servers';
import { valgrindAvailable } from './lib/system';

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

/**
 * The `crypto.hash` calls `guard` makes per request once warm: a handshake, 20 requests on its
 * nonce, then 100 counted. The guard and floor import `hash` from node:crypto, and this CommonJS
 * build reads it from the module at each call, so replacing it here sees theirs.
 */
async function hashesPerRequest(guard: Connect): Promise<number> {
  const server = createServer((req, res) => guard(req, res, () => res.end('ok')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const original = crypto.hash;
  let calls = 0;
  try {
    const session = new DigestSession(USER, PASSWORD);
    const challenge = pickDigestChallenge((await fetch(url)).headers.get('www-authenticate') ?? '');
    if (challenge === undefined) throw new Error('no Digest challenge');
    session.accept(challenge);
    const request = async (): Promise<void> => {
      const authorization = session.authorization('GET', '/');
      const res = await fetch(url, { headers: { authorization } });
      if (res.status !== 200) throw new Error(`status ${res.status}`);
    };
    for (let i = 0; i < 20; i++) await request();
    crypto.hash = ((...args: Parameters<typeof hash>) => {
      calls++;
      return original(...args);
    }) as typeof hash;
    for (let i = 0; i < 100; i++) await request();
  } finally {
    crypto.hash = original;
    server.close();
  }
  return calls / 100;
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

async function main(): Promise<void> {
  const ours = await hashesPerRequest(oursDigest());
  const floor = await hashesPerRequest(digestFloor());
  console.log(`crypto.hash calls per warm Digest SHA-256 request: ours ${ours}, floor ${floor}`);
  console.log(`one crypto.hash('sha256', ${LINE.length} bytes, 'hex'), Node ${process.version}`);
  const nanos = nanosPerHash();
  console.log(`timed: ${nanos.toFixed(0)} ns per hash (median of 5 rounds of 200 000)`);
  if (!valgrindAvailable()) {
    console.log('counted: valgrind is not installed (Debian: apt-get install valgrind)');
    return;
  }
  const few = 1_000;
  const many = 51_000;
  const instructions = (collected(many) - collected(few)) / (many - few);
  console.log(
    `counted: ${(instructions / 1000).toFixed(1)}k instructions per hash ` +
      `(${(instructions / nanos).toFixed(0)} per ns timed)`,
  );
}

const child = process.argv.indexOf('--child');
if (child !== -1) loop(Number(process.argv[child + 1]));
else void main();
