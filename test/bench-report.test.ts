/**
 * The benchmark's judgement of the issues' targets (bench/report/targets.ts), on made-up results:
 * every target reads a row the benchmark has, with the issue's limit.
 */
import { allScenarios } from '../bench/http/scenarios';
import { judgeTargets } from '../bench/report/targets';
import type { CodecCase, ScenarioResult } from '../bench/report/types';
import { round } from './helpers/bench-results';

/** Every scenario of the benchmark, measured, `overhead` µs over its baseline. */
function results(overhead: (id: string) => number): ScenarioResult[] {
  return allScenarios().map((s) => {
    const base = s.stack === 'express' ? 80 : 13;
    const cpu = base + (s.group === 'baseline' ? 0 : overhead(s.id));
    return {
      ...s,
      verification: { ok: true, detail: '' },
      rounds: [round(1, cpu)],
      medianOver: '1 of 1 rounds (uncontended)',
      median: { rps: 1e6 / cpu, p50Ms: 1, p99Ms: 2, cpuMicrosPerRequest: cpu, serverCores: 1 },
      overheadMicros: cpu - base,
      ratioToBaseline: base / cpu,
      cpuRatioToBaseline: base / cpu,
      ratioToBestPeer: s.ours ? 1.1 : null,
      cpuRatioToBestPeer: s.ours ? 1.1 : null,
      bestPeer: s.ours ? 'a peer' : null,
    };
  });
}

const codec: CodecCase[] = ['Digest credentials', 'WWW-Authenticate, 3 challenges'].map((name) => ({
  name,
  implementation: 'authscheme',
  ours: true,
  opsPerSecond: 2e6,
  correct: true,
  note: '',
  oursRatio: null,
}));

it('judges every target against a row the benchmark measures', () => {
  const targets = judgeTargets(
    results(() => 1),
    codec,
  );
  const unmeasured = targets.filter((t) => t.met === null).map((t) => t.what);
  expect(unmeasured).toEqual([]);
});

it("judges Basic's 3 µs on Express as well as on node:http (issue 5 quotes express-basic-auth's +10 µs there)", () => {
  const targets = judgeTargets(
    results((id) => (id === 'express/basic/ok/authscheme' ? 4.6 : 1)),
    codec,
  );
  const basic = targets.filter((t) => t.what.startsWith('Basic overhead'));
  expect(basic.map((t) => [t.what, t.met])).toEqual([
    ['Basic overhead (node:http)', true],
    ['Basic overhead (Express)', false],
  ]);
  expect(basic[1]!.goal).toContain('≤ 3 µs');
  expect(basic[1]!.measured).toBe('+4.6 µs');
});

it("uses the issues' limits: µs over no auth, and ratios to bare Express", () => {
  const targets = judgeTargets(
    results(() => 1),
    codec,
  );
  const goal = (what: string): string => targets.find((t) => t.what === what)!.goal;
  expect(goal('Bearer custom validator overhead (Express)')).toContain('≤ 3 µs');
  expect(goal('Digest SHA-256 overhead (Express)')).toContain('≤ 10 µs');
  expect(goal('JWT ES256 cached overhead (Express)')).toContain('≤ 5 µs');
  expect(goal('Basic on Express')).toBe('≥ 0.97× bare Express');
  expect(goal('Digest SHA-256 on Express')).toBe('≥ 0.93× bare Express');
  expect(goal('JWT ES256 cached on Express')).toBe('≥ 0.95× bare Express');
});

it('judges nothing on a quick run (one round of one second), but still shows the figures', () => {
  const targets = judgeTargets(
    results(() => 1),
    codec,
    'quick',
  );
  expect(targets.filter((t) => t.met !== null)).toEqual([]);
  const basic = targets.find((t) => t.what === 'Basic overhead (node:http)')!;
  expect(basic.measured).toBe('+1.0 µs (quick run, not judged)');
});
