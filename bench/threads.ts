/**
 * `npx tsx bench/threads.ts [--rounds N] <scenario id> ...`: where a saturated benchmark server's
 * CPU goes, by thread. The timed benchmark reads `process.cpuUsage()`, the whole process: the
 * JavaScript thread and V8's and libuv's helpers (garbage collection, compilation). This reads
 * `/proc/<pid>/task/*\/stat` around the same load (wrk, 50 connections, as bench/run.ts) and
 * splits each request's CPU into the main thread's user and system time and the helpers' time,
 * so that a gap between two servers can be placed (docs/bench.md, "Under load").
 *
 * Each round starts every server afresh (in a shuffled order), warms it for 2 s and measures
 * 4 s; the medians over the rounds are printed. Linux only (procfs); with taskset, server on CPU 1
 * and wrk on CPU 0, as bench/run.ts pins them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { BenchChild, REPO_ROOT, useBuild } from './lib/child';
import { compileForBench } from './lib/compile';
import { median, shuffled } from './lib/stats';
import { tasksetAvailable } from './lib/system';
import { JWT_PUBLIC_JWK_ENV, makeJwtMaterial } from './http/fixtures';
import { authSpec } from './http/run-http';
import { allScenarios } from './http/scenarios';
import type { ServerReady } from './http/server-main';
import { runWrk } from './http/wrk';

const USAGE = 'usage: npx tsx bench/threads.ts [--rounds N] <scenario id> ...';
/** Linux's USER_HZ: /proc reports CPU time in ticks of 10 ms. */
const MICROS_PER_TICK = 10_000;

interface ThreadTimes {
  mainUser: number;
  mainSystem: number;
  helpers: number;
}

/** CPU µs so far of `pid`'s main thread (user, system) and of all its other threads. */
function threadTimes(pid: number): ThreadTimes {
  const times: ThreadTimes = { mainUser: 0, mainSystem: 0, helpers: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
    } catch {
      continue; // a helper that ended meanwhile
    }
    // After "pid (comm) ", utime and stime are the 12th and 13th fields (proc(5)).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const user = Number(fields[11]) * MICROS_PER_TICK;
    const system = Number(fields[12]) * MICROS_PER_TICK;
    if (Number(tid) === pid) {
      times.mainUser = user;
      times.mainSystem = system;
    } else {
      times.helpers += user + system;
    }
  }
  return times;
}

interface Sample {
  user: number;
  system: number;
  requests: number;
}

const COLUMNS = ['process', 'main user', 'main system', 'helpers'] as const;
type Column = (typeof COLUMNS)[number];

function parseArgs(argv: string[]): { rounds: number; ids: string[] } {
  let rounds = 9;
  const ids: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rounds') {
      rounds = Number(argv[++i]);
      if (!Number.isInteger(rounds) || rounds < 1) throw new Error(USAGE);
    } else {
      ids.push(argv[i]!);
    }
  }
  if (ids.length === 0) throw new Error(USAGE);
  return { rounds, ids };
}

async function main(): Promise<void> {
  const { rounds, ids } = parseArgs(process.argv.slice(2));
  const scenarios = ids.map((id) => {
    const scenario = allScenarios().find((s) => s.id === id);
    if (scenario === undefined) throw new Error(`no scenario ${id} (bench/http/scenarios.ts)`);
    return scenario;
  });
  useBuild(compileForBench(REPO_ROOT));
  const jwt = await makeJwtMaterial();
  const pin = tasksetAvailable();
  const results = new Map(scenarios.map((s) => [s.id, new Map<Column, number[]>()]));
  for (let round = 1; round <= rounds; round++) {
    for (const scenario of shuffled(scenarios, round)) {
      const { child, ready } = await BenchChild.start<ServerReady>({
        name: scenario.server,
        script: 'http/server-main.ts',
        args: [scenario.server],
        cpu: 1,
        pin,
        env: { [JWT_PUBLIC_JWK_ENV]: JSON.stringify(jwt.publicJwk) },
      });
      try {
        const spec = {
          url: `http://127.0.0.1:${ready.port}/`,
          connections: 50,
          auth: authSpec(scenario, jwt),
          expectStatus: scenario.expect,
          cpu: pin ? 0 : undefined,
        };
        await runWrk({ ...spec, durationSec: 2 });
        const threadsBefore = threadTimes(child.pid);
        const before = await child.request<Sample>('sample', {}, 5000);
        const load = await runWrk({ ...spec, durationSec: 4 });
        const after = await child.request<Sample>('sample', {}, 5000);
        const threadsAfter = threadTimes(child.pid);
        // As bench/run.ts: a round with more than 0.1% wrong answers measured something else.
        if (load.unexpected > load.responses / 1000) {
          throw new Error(`${scenario.id}: ${load.unexpected} answers not as expected`);
        }
        const requests = after.requests - before.requests;
        const per = (micros: number): number => micros / requests;
        const row = results.get(scenario.id)!;
        const add = (column: Column, value: number): void => {
          row.set(column, [...(row.get(column) ?? []), value]);
        };
        add('process', per(after.user + after.system - before.user - before.system));
        add('main user', per(threadsAfter.mainUser - threadsBefore.mainUser));
        add('main system', per(threadsAfter.mainSystem - threadsBefore.mainSystem));
        add('helpers', per(threadsAfter.helpers - threadsBefore.helpers));
      } finally {
        await child.stop();
      }
    }
    process.stderr.write(`round ${round}/${rounds} done\n`);
  }
  console.log(`CPU µs per request, medians of ${rounds} rounds\n`);
  console.log(`| scenario | ${COLUMNS.join(' | ')} |`);
  console.log(`| --- |${COLUMNS.map(() => ' ---: |').join('')}`);
  for (const [id, row] of results) {
    const cells = COLUMNS.map((column) => median(row.get(column)!).toFixed(1));
    console.log(`| ${id} | ${cells.join(' | ')} |`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
