/**
 * `npx tsx bench/instructions.ts [--requests N] [--only text,text] [--peers] [--cache-sim] [--keep DIR]`: counts
 * the machine instructions each benchmark server executes per request, under valgrind's callgrind,
 * and writes bench/results/instructions.md. With `--cache-sim`, callgrind also simulates the CPU's
 * caches (its `--cache-sim=yes`, sized as this host's) and the report, written to
 * bench/results/cache-misses.md instead, gives the first-level cache misses per request too: what
 * the code and data a middleware touches cost the rest of the request, which the instruction
 * count does not show (docs/bench.md, "What the HTTP gap to the floors is not").
 *
 * Why: on Express a target of a few µs is smaller than what one round of the timed benchmark moves
 * by (docs/bench.md). An instruction count does not depend on what else the machine does: the same
 * server, client and requests give the same count within about half a percent. Each server
 * runs under callgrind with V8's `--predictable` (no background threads; seeded hashes and random
 * numbers), answers N requests one after another on one keep-alive connection to warm up, is
 * zeroed (`callgrind_control --zero`), answers N more, and is dumped. The client (this process)
 * is not counted. What callgrind counts is user space: the kernel's share of each request (the
 * socket calls, the same with or without authentication) is not in it.
 *
 * Counts are not times: how long an instruction takes differs between code (a hash runs several
 * per cycle, a runtime lookup fewer) and valgrind's CPU model hides some of the host's (SHA
 * extensions), so code that hashes counts more here than it costs. Differences of a few thousand
 * instructions between two builds can come from where things land in memory (V8's stub cache is
 * indexed by addresses): compare the same runs' rows, and repeat before believing a small one.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BenchChild, REPO_ROOT, useBuild } from './lib/child';
import { compileForBench } from './lib/compile';
import { describeMachine, valgrindAvailable } from './lib/system';
import { get } from './http/check';
import { DigestSession, pickDigestChallenge } from './http/digest-client';
import { JWT_PUBLIC_JWK_ENV, makeJwtMaterial, type JwtMaterial } from './http/fixtures';
import { authSpec } from './http/run-http';
import { allScenarios, type Scenario } from './http/scenarios';
import type { ServerReady } from './http/server-main';
import type { AuthSpec } from './http/wrk';

/** Seeded and single-threaded, so that two runs of one server execute the same instructions. */
const NODE_FLAGS = ['--predictable', '--hash-seed=1', '--random-seed=1'];

/** The calibration rows counted besides the baselines and ours: floors, route mounting. */
const CALIBRATIONS = new Set([
  'bearer-floor',
  'bearer-floor-auth',
  'digest-floor',
  'digest-floor-auth',
  'empty',
  'bearer-route',
  'bearer-floor-route',
  'digest-route',
  'digest-floor-route',
]);

/** Our scenarios → the floor with the same duties on the same stack and mount (floors.ts). */
const FLOORS: Record<string, string> = {
  'express/bearer/ok/authscheme': 'express/calibration/ok/bearer-floor',
  'express/calibration/ok/bearer-route': 'express/calibration/ok/bearer-floor-route',
  'express/digest/ok/authscheme SHA-256': 'express/calibration/ok/digest-floor',
  'express/calibration/ok/digest-route': 'express/calibration/ok/digest-floor-route',
  'http/bearer/ok/authscheme': 'http/calibration/ok/bearer-floor',
  'http/digest/ok/authscheme': 'http/calibration/ok/digest-floor',
};

interface Options {
  requests: number;
  only: string[];
  peers: boolean;
  cacheSim: boolean;
  /**
   * Where to leave the callgrind dumps (`--keep DIR`), for callgrind_annotate; else removed. With
   * it each server also writes /tmp/perf-<pid>.map (node's `--perf-basic-prof`), which names the
   * JIT code that callgrind lists by address: which functions the misses fall in.
   */
  keep: string | undefined;
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    requests: 10_000,
    only: [],
    peers: false,
    cacheSim: false,
    keep: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--peers' || flag === '--cache-sim') {
      options[flag === '--peers' ? 'peers' : 'cacheSim'] = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${String(flag)} wants a value`);
    if (flag === '--requests') options.requests = Number(value);
    else if (flag === '--only') options.only = value.split(',');
    else if (flag === '--keep') options.keep = path.resolve(value);
    else throw new Error(`unknown option ${String(flag)}`);
  }
  if (!Number.isInteger(options.requests) || options.requests < 100)
    throw new Error('--requests wants a whole number of at least 100');
  return options;
}

function chosen(scenario: Scenario, options: Options): boolean {
  if (scenario.path !== 'ok') return false;
  if (options.only.length > 0) return options.only.some((text) => scenario.id.includes(text));
  // JWT without the cache is ES256 verification, whose count says more about valgrind's CPU
  // model than about us; it has no target.
  if (scenario.group === 'jwt') return false;
  if (scenario.group === 'baseline' || scenario.ours) return true;
  if (scenario.group === 'calibration') return CALIBRATIONS.has(scenario.id.split('/')[3] ?? '');
  return options.peers;
}

/** One client on one keep-alive connection, one request at a time; Digest keeps its nonce. */
class SequentialClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private readonly digest: DigestSession | undefined;

  constructor(
    private readonly url: string,
    private readonly auth: AuthSpec,
  ) {
    this.digest = auth.kind === 'digest' ? new DigestSession(auth.user, auth.password) : undefined;
  }

  async send(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      let authorization = this.auth.kind === 'header' ? this.auth.value : undefined;
      if (this.digest !== undefined) {
        if (!this.digest.hasNonce) {
          const challenge = pickDigestChallenge(
            (await get(this.agent, this.url, undefined)).challenge,
          );
          if (challenge === undefined) throw new Error(`${this.url}: no Digest challenge`);
          this.digest.accept(challenge);
        }
        authorization = this.digest.authorization('GET', '/');
      }
      const answer = await get(this.agent, this.url, authorization);
      if (answer.status !== 200) throw new Error(`${this.url}: status ${answer.status}`);
      // Under valgrind the run outlasts a nonce's five minutes; ours sends its successor in time.
      this.digest?.followNextNonce(answer.info);
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

async function startServer(
  scenario: Scenario,
  jwt: JwtMaterial,
  wrapper?: string[],
  keep = false,
): Promise<{ child: BenchChild; url: string }> {
  const { child, ready } = await BenchChild.start<ServerReady>(
    {
      name: scenario.server,
      script: 'http/server-main.ts',
      args: [scenario.server],
      pin: false,
      nodeFlags: keep ? [...NODE_FLAGS, '--perf-basic-prof'] : NODE_FLAGS,
      wrapper,
      env: { [JWT_PUBLIC_JWK_ENV]: JSON.stringify(jwt.publicJwk) },
    },
    120_000,
  );
  return { child, url: `http://127.0.0.1:${ready.port}/` };
}

/** Per request, in the second N requests: all instructions, and two parts of them. */
interface Counts {
  total: number;
  /** Inside V8's runtime functions for property lookups that missed its inline caches. */
  lookups: number;
  /** Inside the garbage collector. */
  gc: number;
  /** With --cache-sim: first-level misses, instruction (I1mr) and data (D1mr + D1mw). */
  misses: { instruction: number; data: number } | undefined;
}

/** Self-and-callee instructions of functions whose names start so (recursive entries excluded). */
const LOOKUP_MISSES = /^\S+ \S*v8::internal::Runtime_(Keyed)?(Load|Store)IC_Miss\(/;
const GC = /^\S+ \S*v8::internal::Heap::CollectGarbage\(/;

function inclusive(dump: string, pattern: RegExp): number {
  // Ir alone: with --cache-sim a line holds a column per event.
  const listing = execFileSync(
    'callgrind_annotate',
    ['--inclusive=yes', '--threshold=100', '--show=Ir', dump],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  let sum = 0;
  for (const line of listing.split('\n')) {
    // "  565,268,493 (31.16%)  ???:v8::internal::Runtime_LoadIC_Miss(int, …) [/usr/bin/node]"
    const trimmed = line.trim().replace(/\s+\(\s*[\d.]+%\)\s+/, ' ');
    if (pattern.test(trimmed) && !/\)'\d+ \[/.test(trimmed)) {
      sum += Number(trimmed.slice(0, trimmed.indexOf(' ')).replaceAll(',', ''));
    }
  }
  return sum;
}

async function countInstructions(
  scenario: Scenario,
  jwt: JwtMaterial,
  options: Options,
  dir: string,
): Promise<Counts> {
  const { requests } = options;
  const out = path.join(dir, scenario.server);
  const { child, url } = await startServer(
    scenario,
    jwt,
    [
      'valgrind',
      '--quiet',
      '--tool=callgrind',
      ...(options.cacheSim ? ['--cache-sim=yes'] : []),
      `--callgrind-out-file=${out}`,
    ],
    options.keep !== undefined,
  );
  const client = new SequentialClient(url, authSpec(scenario, jwt));
  try {
    await client.send(requests);
    execFileSync('callgrind_control', ['--zero', String(child.pid)], { stdio: 'ignore' });
    await client.send(requests);
    execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' });
  } finally {
    client.close();
    await child.stop();
  }
  // The dump on request is `<out>.1`; `<out>` itself is what ran after it (the exit).
  const dump = path.join(dir, `${scenario.server}.1`);
  const totals = eventTotals(readFileSync(dump, 'latin1'), dump);
  const event = (name: string): number => {
    const value = totals.get(name);
    if (value === undefined) throw new Error(`${scenario.server}: no ${name} in ${dump}`);
    return value / requests;
  };
  return {
    total: event('Ir'),
    lookups: inclusive(dump, LOOKUP_MISSES) / requests,
    gc: inclusive(dump, GC) / requests,
    misses: options.cacheSim
      ? { instruction: event('I1mr'), data: event('D1mr') + event('D1mw') }
      : undefined,
  };
}

/** A dump's `events:` names with its `summary:` totals (one number each, Ir first). */
function eventTotals(text: string, dump: string): Map<string, number> {
  const names = /^events: (.+)$/m.exec(text)?.[1]?.trim().split(' ');
  const values = /^summary: (.+)$/m.exec(text)?.[1]?.trim().split(' ').map(Number);
  if (names === undefined || values === undefined || names.length !== values.length) {
    throw new Error(`no events and summary lines in ${dump}`);
  }
  return new Map(names.map((name, i) => [name, values[i]!]));
}

/** Runs `work` over `items`, `width` at a time (callgrind runs one core per server). */
async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<void>) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

const thousands = (n: number): string => `${(n / 1000).toFixed(1)}k`;
const signed = (n: number): string => `${n < 0 ? '−' : '+'}${thousands(Math.abs(n))}`;
const signedCount = (n: number): string => `${n < 0 ? '−' : '+'}${Math.round(Math.abs(n))}`;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!valgrindAvailable()) {
    throw new Error('valgrind is not installed (Debian: apt-get install valgrind)');
  }
  useBuild(compileForBench(REPO_ROOT));
  const jwt = await makeJwtMaterial();
  const scenarios = allScenarios().filter((scenario) => chosen(scenario, options));
  const dir =
    options.keep === undefined
      ? mkdtempSync(path.join(tmpdir(), 'authscheme-callgrind-'))
      : (mkdirSync(options.keep, { recursive: true }), options.keep);
  const counts = new Map<string, Counts>();
  try {
    await inParallel(scenarios, 2, async (scenario) => {
      counts.set(scenario.id, await countInstructions(scenario, jwt, options, dir));
      process.stderr.write(`${scenario.id}: ${thousands(counts.get(scenario.id)!.total)}\n`);
    });
  } finally {
    if (options.keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
  const byServer = new Map<string, number>(
    scenarios.map((s) => [s.server, counts.get(s.id)!.total]),
  );
  const floorCounts = (scenario: Scenario): Counts | undefined => {
    const floor = FLOORS[scenario.id];
    return floor === undefined ? undefined : counts.get(floor);
  };
  const machine = describeMachine();
  const lines = [
    options.cacheSim
      ? '# Instructions and first-level cache misses per request (bench/instructions.ts --cache-sim)'
      : '# Instructions per request (bench/instructions.ts)',
    '',
    `${machine.date} · ${machine.cpuModel} · Node ${machine.node} · valgrind callgrind, ` +
      `node ${NODE_FLAGS.join(' ')} · ${options.requests} requests to warm up, ${options.requests} counted`,
    '',
    'User-space instructions each server executed per request, one request at a time on one',
    'keep-alive connection; "over bare" is over the same stack without authentication, "over',
    'floor" over the least code with the same duties (bench/http/floors.ts). "Missed lookups" are',
    "the instructions inside V8's runtime for property lookups its inline caches could not serve",
    '(`Runtime_LoadIC_Miss`, `Runtime_StoreIC_Miss`, keyed ones included), "GC" those inside',
    '`Heap::CollectGarbage`. "bare ÷ this" is',
    "a ratio of instructions, not of time: the kernel's share of each request is not counted, and",
    "an instruction's cost differs between code (bench/instructions.ts).",
    ...(options.cacheSim
      ? [
          '',
          "With `--cache-sim`, valgrind's simulation of this host's first-level caches: misses per",
          'request in the instruction cache (I1) and the data cache (D1, reads and writes), with the',
          "difference to the floor's. A miss there costs some ten cycles or more on a real CPU",
          '(the next level answers it), where an instruction averages under one.',
        ]
      : []),
    '',
    `| scenario | instructions | over bare | over floor | of which missed lookups | of which GC | bare ÷ this |${options.cacheSim ? ' I1 misses (over floor) | D1 misses (over floor) |' : ''}`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: |${options.cacheSim ? ' ---: | ---: |' : ''}`,
  ];
  const missesCell = (count: number | undefined, floor: number | undefined): string =>
    count === undefined
      ? ''
      : ` ${Math.round(count)}${floor === undefined ? '' : ` (${signedCount(count - floor)})`} |`;
  for (const scenario of scenarios) {
    const { total, lookups, gc, misses } = counts.get(scenario.id)!;
    const bare = byServer.get(scenario.baseline);
    const floor = floorCounts(scenario);
    lines.push(
      `| ${scenario.id} | ${thousands(total)} | ${bare === undefined ? '' : signed(total - bare)} | ` +
        `${floor === undefined ? '' : signed(total - floor.total)} | ${thousands(lookups)} | ` +
        `${thousands(gc)} | ${bare === undefined ? '' : (bare / total).toFixed(3)} |` +
        missesCell(misses?.instruction, floor?.misses?.instruction) +
        missesCell(misses?.data, floor?.misses?.data),
    );
  }
  const report = `${lines.join('\n')}\n`;
  process.stdout.write(report);
  const file = options.cacheSim ? 'cache-misses.md' : 'instructions.md';
  writeFileSync(path.join(REPO_ROOT, 'bench', 'results', file), report);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
