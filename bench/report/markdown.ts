/** `bench/results/latest.md`: the machine, the targets, the table, the codec, the flags. */
import { fixed, signed, thousands } from './format';
import type { BenchReport, ScenarioResult } from './types';

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function scenarioRow(s: ScenarioResult): string {
  const failed = s.failures?.length ?? 0;
  const flagged = s.rounds.filter((r) => r.flags.length > 0).length + failed;
  const name = s.ours ? `**${s.label}**` : s.label;
  if (!s.verification.ok) {
    return row([
      name,
      `not measured: verification failed (${s.verification.detail})`,
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
    ]);
  }
  return row([
    name,
    thousands(s.median.rps),
    fixed(s.median.p50Ms, 2),
    fixed(s.median.p99Ms, 2),
    fixed(s.median.cpuMicrosPerRequest, 1),
    s.group === 'baseline' ? '–' : signed(s.overheadMicros, 1),
    fixed(s.ratioToBaseline, 3),
    fixed(s.cpuRatioToBaseline, 3),
    (s.bestPeer === null
      ? '–'
      : `${fixed(s.ratioToBestPeer, 2)} / ${fixed(s.cpuRatioToBestPeer, 2)} (${s.bestPeer})`) +
      (s.peersNotCompared ? `; not compared: ${s.peersNotCompared.join(', ')}` : ''),
    `${flagged}/${s.rounds.length + failed}; median of ${s.medianOver}`,
  ]);
}

export function renderMarkdown(report: BenchReport): string {
  const m = report.machine;
  const lines: string[] = [];
  lines.push(`# authscheme benchmark (${report.mode} run)`, '');
  lines.push(
    `${m.date} · ${m.cpuModel}, ${m.cores} CPUs, ${m.memoryGiB} GiB · ${m.os} · Node ${m.node}`,
    '',
    `How the CPUs were shared: ${m.pinning}. ${m.connections} connections, ${m.rounds} round(s) of ` +
      `${m.durationSec} s per scenario after ${m.warmupSec} s of warm-up, scenarios interleaved ` +
      `(shuffled per round). Medians over the rounds in which no other process took the server's ` +
      `CPU, or over all rounds when every round was contended (last column).`,
    '',
  );
  lines.push('## Targets', '');
  lines.push(row(['Target', 'Goal', 'Measured', 'Met']));
  lines.push(row(['---', '---', '---', '---']));
  for (const t of report.targets) {
    lines.push(row([t.what, t.goal, t.measured, t.met === null ? '–' : t.met ? 'yes' : '**no**']));
  }
  lines.push('');
  const header = [
    'Scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    'server CPU µs/req',
    'overhead µs',
    '× bare (req/s)',
    '× bare (CPU)',
    '× best peer (req/s / CPU)',
    'flagged rounds',
  ];
  for (const [title, stack] of [
    ['Express 5 (peers beside ours)', 'express'],
    ['Plain node:http (our middleware alone)', 'http'],
  ] as const) {
    lines.push(`## ${title}`, '');
    lines.push(row(header));
    lines.push(row(header.map((_, i) => (i === 0 ? '---' : '---:'))));
    for (const s of report.scenarios.filter((x) => x.stack === stack)) lines.push(scenarioRow(s));
    lines.push('');
  }
  lines.push(
    '“overhead µs” is the scenario’s server CPU per request minus that of the unauthenticated ' +
      'server on the same stack, taken round by round and then the median (the machine drifts ' +
      'between rounds by more than the overheads measured); “× bare (CPU)” is the unauthenticated server’s CPU per request over ' +
      'the scenario’s (the throughput ratio when the server CPU is the limit, and steadier than ' +
      'req/s on a shared machine). “401” rows send no credentials and are compared with the ' +
      'unauthenticated 200. The best peer is the one using the least server CPU per request on ' +
      'the same scenario relative to this row, compared round by round like the baseline (the ' +
      'rounds both ran uncontended, then the median). Rounds in which more than 0.1% of the ' +
      'answers were wrong (status, body, a refused Digest nonce, connection errors) are flagged ' +
      'and left out of every median. Targets on ratios are judged on the CPU-based figure, since req/s moves ' +
      'with whatever else runs on the machine. Digest clients (two per connection, taken in turn) perform one ' +
      'handshake each, then reuse the nonce with nc counting up. The “1.2 KB of garbage” rows ' +
      'authenticate nothing: their guard only allocates about what our Bearer path allocates per ' +
      'request and hangs it on `req`; their overhead is what that much short-lived garbage costs on ' +
      'each stack (docs/bench.md, “Reading the numbers on Express”). The “req.auth set” rows do ' +
      'nothing but assign `req.auth` as an own property, as peers assign `req.user` (authscheme ' +
      'does so on node:http; on Express it uses an inherited accessor instead, see the README). ' +
      'The “prototype swap” rows run plain node:http with what Express 5 does to every request ' +
      'before any middleware (`Object.setPrototypeOf` on `req` and `res`), alone and with our ' +
      'Bearer behind it: they show how much of Express’s cost, and of the premium every ' +
      'middleware pays on Express, comes from that one step. The “Digest stand-in” rows answer ' +
      'the Digest client without checking anything (same handshake, same `Authentication-Info` ' +
      'and `Vary`): what Digest traffic costs a server before any verification. The “floor” ' +
      'rows are the least code with the duties the Bearer and Digest targets measure ' +
      '(bench/http/floors.ts: one token or one user, a duplicate-header check, `Vary`, and for ' +
      'Digest the response, `nc`, `uri` and `rspauth`; nothing handed over on `req`): no ' +
      'middleware with those duties can cost less on that stack.',
    '',
  );
  lines.push('## Header codec (one process, ops/s, median of 3)', '');
  lines.push(row(['Input', 'Parser', 'ops/s', 'correct result', 'ours ×']));
  lines.push(row(['---', '---', '---:', '---', '---:']));
  for (const c of report.codec) {
    lines.push(
      row([
        c.name,
        c.ours ? `**${c.implementation}**` : c.implementation,
        thousands(c.opsPerSecond),
        `${c.correct ? 'yes' : '**no**'}: ${c.note}`,
        c.oursRatio === null ? '–' : `${fixed(c.oursRatio, 2)}×`,
      ]),
    );
  }
  lines.push('');
  const flagged = report.scenarios.flatMap((s) =>
    [
      ...s.rounds
        .filter((r) => r.flags.length > 0)
        .map((r) => ({ round: r.round, text: r.flags.join('; ') })),
      ...(s.failures ?? []).map((f) => ({ round: f.round, text: `not measured: ${f.error}` })),
    ]
      .sort((a, b) => a.round - b.round)
      .map((r) => `- ${s.label}, round ${r.round}: ${r.text}`),
  );
  lines.push('## Flagged rounds', '');
  lines.push(
    flagged.length === 0
      ? 'None: no other process used the CPUs noticeably during any measurement.'
      : flagged.join('\n'),
  );
  lines.push('');
  if (report.notes.length > 0) {
    lines.push('## Notes', '', ...report.notes.map((n) => `- ${n}`), '');
  }
  return lines.join('\n');
}
