/**
 * `npx tsx bench/ic-misses.ts`: counts, per request, the property lookups V8 cannot serve from its
 * inline caches in the whole Express app (bench/http/alone-main.ts, `app`), for each guard, and
 * writes the report to bench/results/ic-misses.md.
 *
 * Express swaps the prototype of every request and response, so each request has hidden classes
 * of its own and a megamorphic property lookup on it goes to V8's runtime (docs/bench.md). Those
 * lookups are most of what Express costs, and of what a middleware costs inside it. Timings of a
 * few µs move between processes; these counts do not. V8 logs every such lookup with `--log-ic`;
 * the script runs each guard twice, over n and 2n requests, and divides the difference, so that
 * start-up and warm-up cancel out.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './lib/child';
import { compileForBench } from './lib/compile';
import { describeMachine } from './lib/system';

const GUARDS = [
  'none',
  'empty',
  'bearer-floor',
  'ours-bearer',
  'digest-floor',
  'ours-digest',
] as const;

/** alone-main's `requests`: each run times three batches of it. */
const REQUESTS = 1000;

/** `kind key` → how many lookups of that key went to the runtime (`N->N`: megamorphic, missed). */
function countMisses(
  script: string,
  guard: string,
  requests: number,
  dir: string,
): Map<string, number> {
  const log = path.join(dir, `${guard}-${requests}.log`);
  execFileSync(
    process.execPath,
    [
      '--log-ic',
      '--no-logfile-per-isolate',
      `--logfile=${log}`,
      script,
      guard,
      'app',
      String(requests),
    ],
    { encoding: 'utf8' },
  );
  const counts = new Map<string, number>();
  // LoadIC,pc,time,line,column,old state,new state,map,key,modifier,slow reason
  for (const line of readFileSync(log, 'latin1').split('\n')) {
    if (!line.includes('IC,')) continue;
    const fields = line.split(',');
    if (fields[5] !== 'N' || fields[6] !== 'N') continue;
    const key = `${fields[0]} ${fields[8]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  rmSync(log);
  return counts;
}

function main(): void {
  const out = compileForBench(REPO_ROOT);
  const script = path.join(out, 'bench', 'http', 'alone-main.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'authscheme-ic-'));
  const perRequest = new Map<string, Map<string, number>>();
  try {
    for (const guard of GUARDS) {
      const small = countMisses(script, guard, REQUESTS, dir);
      const large = countMisses(script, guard, 2 * REQUESTS, dir);
      const rates = new Map<string, number>();
      for (const key of new Set([...small.keys(), ...large.keys()])) {
        // Three batches of REQUESTS more in the larger run.
        rates.set(key, ((large.get(key) ?? 0) - (small.get(key) ?? 0)) / (3 * REQUESTS));
      }
      perRequest.set(guard, rates);
      process.stderr.write(`${guard} done\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const total = (guard: string): number =>
    [...perRequest.get(guard)!.values()].reduce((sum, rate) => sum + rate, 0);
  const machine = describeMachine();
  const lines = [
    '# Property lookups missed per request in the whole Express app (bench/ic-misses.ts)',
    '',
    `${machine.date} · Node ${machine.node} · ${REQUESTS} and ${2 * REQUESTS} requests ×3 per guard`,
    '',
    'Megamorphic lookups V8 sent to its runtime, per request: in total, and over the app',
    'without any middleware ("none"). "empty" is a mounted middleware that only calls `next()`.',
    '',
    '| guard | missed lookups | over none |',
    '| --- | ---: | ---: |',
  ];
  for (const guard of GUARDS) {
    lines.push(
      `| ${guard} | ${total(guard).toFixed(2)} | +${(total(guard) - total('none')).toFixed(2)} |`,
    );
  }
  lines.push('', 'The keys whose count differs between guards:', '');
  lines.push(`| lookup | ${GUARDS.join(' | ')} |`, `| --- |${' ---: |'.repeat(GUARDS.length)}`);
  const keys = new Set(GUARDS.flatMap((guard) => [...perRequest.get(guard)!.keys()]));
  for (const key of [...keys].sort()) {
    const rates = GUARDS.map((guard) => perRequest.get(guard)!.get(key) ?? 0);
    if (Math.max(...rates) - Math.min(...rates) < 0.5) continue;
    lines.push(`| ${key} | ${rates.map((rate) => rate.toFixed(2)).join(' | ')} |`);
  }
  const report = `${lines.join('\n')}\n`;
  process.stdout.write(report);
  writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'ic-misses.md'), report);
}

main();
