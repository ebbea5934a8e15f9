/**
 * `npm run bench [-- --quick] [--only <text>] [--rounds N] [--duration S] [--warmup S]
 *   [--connections N] [--no-codec] [--no-http] [--out DIR] [--render-only]` (see USAGE)
 *
 * Runs the HTTP benchmark (every server in its own process, wrk as the load generator, pinned
 * apart with taskset when it exists) and the codec micro-benchmark, then writes
 * bench/results/latest.{json,md,svg}. See docs/bench.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BenchChild, REPO_ROOT, killAllChildren, useBuild } from './lib/child';
import { compileForBench } from './lib/compile';
import { describeMachine, tasksetAvailable } from './lib/system';
import { makeJwtMaterial } from './http/fixtures';
import { runHttpBench, summarise } from './http/run-http';
import { wrkAvailable } from './http/wrk';
import { allScenarios } from './http/scenarios';
import { renderMarkdown } from './report/markdown';
import { renderSvg } from './report/svg';
import { judgeTargets } from './report/targets';
import { UsageError, parseArgs } from './lib/args';
import type { BenchReport, CodecCase } from './report/types';

function log(line: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function runCodec(seconds: number, pin: boolean): Promise<CodecCase[]> {
  const { child } = await BenchChild.start({
    name: 'codec',
    script: 'codec/codec-main.ts',
    cpu: 1,
    pin,
  });
  try {
    const reply = await child.request<{ cases: CodecCase[] }>(
      'codec',
      { seconds },
      60_000 + seconds * 40_000,
    );
    return reply.cases;
  } finally {
    await child.stop();
  }
}

function writeReports(out: string, report: BenchReport): void {
  mkdirSync(out, { recursive: true });
  const markdown = renderMarkdown(report);
  writeFileSync(path.join(out, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(path.join(out, 'latest.md'), markdown);
  writeFileSync(path.join(out, 'latest.svg'), renderSvg(report));
  if (report.mode === 'full' && path.resolve(out) === DEFAULT_OUT) updateReadme(markdown);
}

const USAGE =
  'usage: npm run bench [-- --quick] [--only <text>]... [--rounds N] [--duration S] [--warmup S]\n' +
  '         [--connections N] [--no-codec] [--no-http] [--out DIR] [--render-only]';

const DEFAULT_OUT = path.join(REPO_ROOT, 'bench', 'results');
const README = path.join(REPO_ROOT, 'README.md');
const README_START = '<!-- bench:start -->';
const README_END = '<!-- bench:end -->';

/** Copies a full run's report into the README between its markers, headings one level down. */
function updateReadme(markdown: string): void {
  const readme = readFileSync(README, 'utf8');
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) return;
  const body = summariseFlags(
    markdown
      .replace(/^# .*\n\n/, '')
      .replace(/^## /gm, '#### ')
      .replace('](latest.svg)', '](bench/results/latest.svg)'),
  );
  writeFileSync(
    README,
    `${readme.slice(0, start + README_START.length)}\n${body}${readme.slice(end)}`,
  );
}

/**
 * The README keeps a count of the flagged rounds and links to the list in latest.md, which can run
 * to dozens of lines that would push the sections after it out of sight.
 */
function summariseFlags(body: string): string {
  const heading = '#### Flagged rounds\n\n';
  const start = body.indexOf(heading);
  if (start < 0) return body;
  const next = body.indexOf('\n#### ', start + heading.length);
  const end = next < 0 ? body.length : next + 1;
  const count = body
    .slice(start + heading.length, end)
    .split('\n')
    .filter((line) => line.startsWith('- ')).length;
  const summary =
    count === 0
      ? 'None: no other process used the CPUs noticeably during any measurement.'
      : `${count} of the rounds were flagged (another process took some of the server's CPU, or ` +
        'the server was not saturated); they are listed in ' +
        '[bench/results/latest.md](bench/results/latest.md#flagged-rounds).';
  return `${body.slice(0, start)}${heading}${summary}\n\n${body.slice(end)}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  if (process.argv.includes('--render-only')) {
    // Re-renders the Markdown and SVG from an existing latest.json (after a report change), its
    // medians, overheads and ratios recomputed from the rounds it holds.
    const report = JSON.parse(
      readFileSync(path.join(args.out, 'latest.json'), 'utf8'),
    ) as BenchReport;
    report.scenarios = summarise(report.scenarios);
    report.targets = judgeTargets(report.scenarios, report.codec, report.mode);
    writeReports(args.out, report);
    return;
  }
  // Every process runs compiled JavaScript with plain node, like a user's server.
  useBuild(compileForBench(REPO_ROOT));
  const machine = describeMachine();
  const pin = tasksetAvailable() && machine.cores >= 2;
  const pinning = pin
    ? 'servers pinned to CPU 1 and the load generator to CPU 0 with taskset (other processes on the machine were not excluded; see the flags)'
    : 'no pinning (taskset missing or a single CPU): servers, load generator and anything else shared all CPUs';
  log(`${machine.cpuModel}, ${machine.cores} CPUs, Node ${machine.node}; ${pinning}`);

  const notes: string[] = [];
  let scenarios: BenchReport['scenarios'] = [];
  if (args.http) {
    if (!wrkAvailable()) {
      throw new Error(
        'wrk is missing: `sudo bash scripts/provision.sh` installs it (Debian package wrk)',
      );
    }
    // Baselines always (overheads are taken against them); everything else as --only says.
    const selected = allScenarios().filter(
      (s) =>
        s.group === 'baseline' || args.only.length === 0 || args.only.some((o) => s.id.includes(o)),
    );
    scenarios = await runHttpBench({
      scenarios: selected,
      rounds: args.rounds,
      durationSec: args.durationSec,
      warmupSec: args.warmupSec,
      connections: args.connections,
      pin,
      serverCpu: 1,
      loadCpu: 0,
      jwt: await makeJwtMaterial(),
      log,
    });
  }
  let codec: CodecCase[] = [];
  if (args.codec) {
    log('codec micro-benchmarks');
    codec = await runCodec(args.codecSec, pin);
    for (const c of codec)
      log(
        `codec ${c.name} · ${c.implementation}: ${Math.round(c.opsPerSecond)} ops/s, ${c.correct ? 'correct' : 'WRONG'} (${c.note})`,
      );
  }
  if (scenarios.some((s) => s.rounds.some((r) => r.flags.some((f) => f.includes('saturated'))))) {
    notes.push(
      'Some rounds did not keep the server busy (see the flags): wrk on its one CPU was the ' +
        'limit there, so req/s understates the server; CPU µs/request is the figure to read.',
    );
  }
  const report: BenchReport = {
    mode: args.quick ? 'quick' : 'full',
    machine: {
      ...machine,
      pinning,
      connections: args.connections,
      rounds: args.rounds,
      durationSec: args.durationSec,
      warmupSec: args.warmupSec,
    },
    scenarios,
    codec,
    targets: judgeTargets(scenarios, codec, args.quick ? 'quick' : 'full'),
    notes,
  };
  writeReports(args.out, report);
  log(
    `wrote ${path.relative(REPO_ROOT, args.out)}/latest.{json,md,svg} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  for (const t of report.targets)
    log(
      `target ${t.met === null ? '–' : t.met ? 'met ' : 'MISS'} ${t.what}: ${t.measured} (${t.goal})`,
    );
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllChildren();
    process.exit(130);
  });
}

main().catch((error: unknown) => {
  killAllChildren();
  if (error instanceof UsageError) {
    process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
