/**
 * Child process: header codec micro-benchmarks, ours against the npm parsers, all in this one
 * process. Each case runs in batches until its time is up (bounded), three times; the median
 * ops/s is reported together with whether the parser's answer was right.
 */
import { serveParent } from '../lib/child';
import { median } from '../lib/stats';
import type { CodecCase } from '../report/types';
import { CASES } from './cases';

let sink = 0;

function opsPerSecond(fn: () => unknown, seconds: number): number {
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let ops = 0;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 1000; i++) if (fn() !== undefined) sink++;
    ops += 1000;
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - start) / 1e9);
}

function run(seconds: number): CodecCase[] {
  const measured = CASES.map((c) => {
    const verdict = c.check(c.run());
    opsPerSecond(c.run, Math.min(0.2, seconds)); // warm-up: let the JIT settle
    return { c, verdict, samples: [] as number[] };
  });
  // Interleave: each sample of each case, then the next sample.
  for (let sample = 0; sample < 3; sample++) {
    for (const m of measured) m.samples.push(opsPerSecond(m.c.run, seconds));
  }
  const out: CodecCase[] = measured.map(({ c, verdict, samples }) => ({
    name: c.name,
    implementation: c.implementation,
    ours: c.ours,
    opsPerSecond: median(samples),
    correct: verdict.correct,
    note: verdict.note,
    oursRatio: null,
  }));
  for (const o of out) {
    if (o.ours) continue;
    const ours = out.find((x) => x.ours && x.name === o.name);
    if (ours) o.oursRatio = ours.opsPerSecond / o.opsPerSecond;
  }
  if (sink < 0) process.stdout.write('');
  return out;
}

serveParent({ codec: (message) => ({ cases: run(Number(message.seconds)) }) });
process.send?.({ type: 'ready', pid: process.pid });
