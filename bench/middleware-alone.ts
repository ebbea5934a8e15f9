/**
 * `npx tsx bench/middleware-alone.ts [--rounds N] [--requests N]`: prints a report and writes it
 * to bench/results/middleware-alone.md.
 *
 * The middleware alone, in-process and without sockets: our Bearer and Digest and their floors
 * (bench/http/floors.ts) run over requests shaped as plain node:http makes them and as Express 5
 * hands them to its first middleware (bench/http/alone-main.ts). Only the guard is timed, so the
 * noise of the network and of the rest of the stack stays out: what remains is what the guard's
 * own code costs, and how much more it costs on Express-shaped requests.
 *
 * A third case times the whole Express app in-process, the guard in front of `res.send('ok')`, 50
 * requests at a time (the HTTP benchmark's connections): the Express targets' own measure (µs over
 * the same app without authentication) with everything but the sockets, garbage collection
 * included. It runs twice: the guard mounted with `app.use`, where Express's router charges every
 * layer some work of its own (the "empty" guard shows how much), and mounted on the route
 * (`app.get('/', guard, send)`), where it does not. Its figures move more from process to process than the guard's alone (V8's caches,
 * which Express's per-request hidden classes fill), but far less than the HTTP rounds'.
 *
 * What this leaves out, and the HTTP benchmark (`npm run bench`) measures: the work a guard moves
 * rather than adds (its first `res.setHeader` creates the header table Express's `res.send` would
 * create anyway), the request's parsing, and garbage collected after the batch. So it overstates
 * a guard's cost on Express a little; the differences between ours and the floors it shows are
 * the point. Each round runs every case in its own process (fresh JIT), in a shuffled order.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './lib/child';
import { compileForBench } from './lib/compile';
import { median, shuffled } from './lib/stats';
import { describeMachine, tasksetAvailable } from './lib/system';

const GUARDS = [
  'none',
  'empty',
  'ours-bearer',
  'bearer-floor',
  'ours-digest',
  'digest-floor',
] as const;
const SHAPES = ['plain', 'express', 'app', 'route'] as const;
const WHOLE_APP = ['app', 'route'] as const;

/** "empty" (a mounted middleware that only calls next()) differs from "none" only in the app. */
const measured = (guard: string, shape: string): boolean =>
  guard !== 'empty' || shape === 'app' || shape === 'route';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at === -1 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} takes a positive integer`);
  return value;
}

function main(): void {
  const rounds = option('--rounds', 9);
  const requests = option('--requests', 30_000);
  const out = compileForBench(REPO_ROOT);
  const script = path.join(out, 'bench', 'http', 'alone-main.js');
  const pin = tasksetAvailable() ? ['taskset', '-c', '1'] : [];
  const times = new Map<string, number[]>();
  const cases = GUARDS.flatMap((guard) =>
    SHAPES.filter((shape) => measured(guard, shape)).map((shape) => [guard, shape] as const),
  );
  for (let round = 0; round < rounds; round++) {
    for (const [guard, shape] of shuffled(cases, round + 1)) {
      const command = [...pin, process.execPath, script, guard, shape, String(requests)];
      const output = execFileSync(command[0]!, command.slice(1), { encoding: 'utf8' });
      const { nanos } = JSON.parse(output) as { nanos: number };
      const key = `${guard} ${shape}`;
      times.set(key, [...(times.get(key) ?? []), nanos]);
    }
    process.stderr.write(`round ${round + 1}/${rounds}\n`);
  }
  const micros = (guard: string, shape: string): number =>
    median(times.get(`${guard} ${shape}`)!) / 1000;
  const spread = (guard: string, shape: string): string => {
    const values = times.get(`${guard} ${shape}`)!.map((n) => n / 1000);
    return `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
  };
  const machine = describeMachine();
  const lines = [
    '# The guard alone (bench/middleware-alone.ts)',
    '',
    `${machine.date} · ${machine.cpuModel}, ${machine.cores} CPUs · ${machine.os} · Node ${machine.node}`,
    '',
    `µs per request, the guard alone: median of ${rounds} processes (range), ${requests} requests each.`,
    '',
    '| guard | plain node:http request | Express-shaped request | the whole Express app, ' +
      '`app.use` | the whole Express app, on the route |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const guard of GUARDS) {
    const cells = SHAPES.map((s) =>
      measured(guard, s) ? `${micros(guard, s).toFixed(2)} (${spread(guard, s)})` : '–',
    );
    lines.push(`| ${guard} | ${cells.join(' | ')} |`);
  }
  lines.push(
    '',
    'Ours over the floor, µs per request (round by round, then the median):',
    '',
    '| ours over the floor | plain | Express-shaped | the whole app, `app.use` | ' +
      'the whole app, on the route |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  // Differences are taken round by round, then the median: each round ran every case once, and
  // the machine drifts between rounds by more than the differences measured.
  const paired = (a: readonly number[], b: (round: number) => number): number =>
    median(a.map((nanos, round) => nanos - b(round))) / 1000;
  const runs = (guard: string, shape: string): readonly number[] => times.get(`${guard} ${shape}`)!;
  for (const scheme of ['bearer', 'digest']) {
    const cells = SHAPES.map((s) =>
      paired(runs(`ours-${scheme}`, s), (r) => runs(`${scheme}-floor`, s)[r]!).toFixed(2),
    );
    lines.push(`| ${scheme} | ${cells.join(' | ')} |`);
  }
  // The issues' Express targets: µs per request over the same app without authentication.
  // Both mounts against the same "none" app, as its runs under either name are one program.
  const noneApp = (round: number): number =>
    (runs('none', 'app')[round]! + runs('none', 'route')[round]!) / 2;
  const over = (guard: string, shape: (typeof WHOLE_APP)[number]): string => {
    const micro = paired(runs(guard, shape), noneApp);
    return `${micro < 0 ? '−' : '+'}${Math.abs(micro).toFixed(1)}`;
  };
  const row = (label: string, scheme: string, target: number): string =>
    `| ${label} | ${WHOLE_APP.map((s) => `${over(`ours-${scheme}`, s)} | ${over(`${scheme}-floor`, s)}`).join(' | ')} | ${target} |`;
  lines.push(
    '',
    'The whole Express app, µs per request over the same app without authentication ("none", ' +
      'its two mounts averaged; round by round, then the median):',
    '',
    '| scheme | ours, `app.use` | its floor, `app.use` | ours, on the route | its floor, on the route | target |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    row('Bearer, custom validator', 'bearer', 3),
    row('Digest SHA-256', 'digest', 10),
    '',
    'A middleware that only calls `next()` ("empty"): ' +
      `${over('empty', 'app')} µs with \`app.use\`, ${over('empty', 'route')} µs on the route.`,
  );
  const report = `${lines.join('\n')}\n`;
  process.stdout.write(report);
  writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'middleware-alone.md'), report);
}

main();
