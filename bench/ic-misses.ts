/**
 * `npx tsx bench/ic-misses.ts`: counts, per request, the property lookups V8 cannot serve from its
 * inline caches in the whole Express app (bench/http/alone-main.ts), for each guard mounted with
 * `app.use` (`app`) and on the route (`route`), and writes the report to
 * bench/results/ic-misses.md.
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

/** `app.use(guard)`, or `app.get('/', guard, send)`. */
const MOUNTS = ['app', 'route'] as const;

/** alone-main's `requests`: each run times three batches of it. */
const REQUESTS = 1000;

/** `kind key` → how many lookups of that key went to the runtime (`N->N`: megamorphic, missed). */
function countMisses(
  script: string,
  guard: string,
  mount: string,
  requests: number,
  dir: string,
): Map<string, number> {
  const log = path.join(dir, `${guard}-${mount}-${requests}.log`);
  execFileSync(
    process.execPath,
    [
      '--log-ic',
      '--no-logfile-per-isolate',
      `--logfile=${log}`,
      script,
      guard,
      mount,
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
  /** `guard mount` → lookup → misses per request. */
  const perRequest = new Map<string, Map<string, number>>();
  const cases = MOUNTS.flatMap((mount) => GUARDS.map((guard) => `${guard} ${mount}`));
  try {
    for (const name of cases) {
      const [guard = '', mount = ''] = name.split(' ');
      const small = countMisses(script, guard, mount, REQUESTS, dir);
      const large = countMisses(script, guard, mount, 2 * REQUESTS, dir);
      const rates = new Map<string, number>();
      for (const key of new Set([...small.keys(), ...large.keys()])) {
        // Three batches of REQUESTS more in the larger run.
        rates.set(key, ((large.get(key) ?? 0) - (small.get(key) ?? 0)) / (3 * REQUESTS));
      }
      perRequest.set(name, rates);
      process.stderr.write(`${name} done\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const total = (name: string): number =>
    [...perRequest.get(name)!.values()].reduce((sum, rate) => sum + rate, 0);
  const over = (name: string): string => {
    const extra = total(name) - total(`none ${name.split(' ')[1]}`);
    return `${extra < -0.005 ? '−' : '+'}${Math.abs(extra).toFixed(2)}`;
  };
  const machine = describeMachine();
  const lines = [
    '# Property lookups missed per request in the whole Express app (bench/ic-misses.ts)',
    '',
    `${machine.date} · Node ${machine.node} · ${REQUESTS} and ${2 * REQUESTS} requests ×3 per guard`,
    '',
    'Megamorphic lookups V8 sent to its runtime, per request: in total, and over the app',
    'without any middleware ("none"), for each guard mounted with `app.use(guard)` and on the',
    'route (`app.get(\'/\', guard, send)`). "empty" is a middleware that only calls `next()`.',
    '',
    '| guard | `app.use`: missed lookups | over none | on the route: missed lookups | over none |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const guard of GUARDS) {
    const cells = MOUNTS.map(
      (m) => `${total(`${guard} ${m}`).toFixed(2)} | ${over(`${guard} ${m}`)}`,
    );
    lines.push(`| ${guard} | ${cells.join(' | ')} |`);
  }
  lines.push('', 'The keys whose count differs between cases:', '');
  lines.push(`| lookup | ${cases.join(' | ')} |`, `| --- |${' ---: |'.repeat(cases.length)}`);
  const keys = new Set(cases.flatMap((name) => [...perRequest.get(name)!.keys()]));
  for (const key of [...keys].sort()) {
    const rates = cases.map((name) => perRequest.get(name)!.get(key) ?? 0);
    if (Math.max(...rates) - Math.min(...rates) < 0.5) continue;
    lines.push(`| ${key} | ${rates.map((rate) => rate.toFixed(2)).join(' | ')} |`);
  }
  const report = `${lines.join('\n')}\n`;
  process.stdout.write(report);
  writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'ic-misses.md'), report);
}

main();
