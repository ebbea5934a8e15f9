/**
 * The chart (bench/report/svg.ts): a scenario with rounds but no ratio to its baseline (every
 * round had wrong answers, so none is paired) is not drawn as a measured 0.00×.
 */
import { summarise } from '../bench/http/run-http';
import { allScenarios } from '../bench/http/scenarios';
import { renderSvg } from '../bench/report/svg';
import type { BenchReport, RoundMeasurement, ScenarioResult } from '../bench/report/types';

function round(cpu: number, unexpected = 0): RoundMeasurement {
  return {
    round: 1,
    rps: 1e6 / cpu,
    p50Ms: 1,
    p99Ms: 2,
    cpuMicrosPerRequest: cpu,
    serverCores: 1,
    loadCores: 0.5,
    otherCores: 0,
    otherCoresOnServerCpu: 0,
    contended: false,
    responses: 20_000,
    unexpected,
    handshakes: 0,
    rehandshakes: 0,
    errors: 0,
    flags: unexpected > 0 ? [`${unexpected} responses not as expected`] : [],
  };
}

function result(id: string, rounds: RoundMeasurement[]): ScenarioResult {
  return {
    ...allScenarios().find((s) => s.id === id)!,
    verification: { ok: true, detail: '' },
    rounds,
    medianOver: '',
    median: { rps: NaN, p50Ms: NaN, p99Ms: NaN, cpuMicrosPerRequest: NaN, serverCores: NaN },
    overheadMicros: null,
    ratioToBaseline: null,
    cpuRatioToBaseline: null,
    ratioToBestPeer: null,
    cpuRatioToBestPeer: null,
    bestPeer: null,
  };
}

it('draws no bar and no 0.00 for a scenario without a ratio to its baseline', () => {
  const scenarios = summarise([
    result('http/baseline/ok/node:http', [round(13)]),
    result('http/bearer/ok/authscheme', [round(10, 20_000)]),
  ]);
  const report = {
    mode: 'quick',
    machine: { date: '2026-12-01T00:00:00.000Z', cpuModel: 'x', cores: 2, node: 'v20', rounds: 1 },
    scenarios,
    codec: [],
    targets: [],
    notes: [],
  } as unknown as BenchReport;
  const svg = renderSvg(report);
  const label = 'node:http Bearer · authscheme';
  const lines = svg.split('\n');
  const at = lines.findIndex((l) => l.includes(`>${label}</text>`));
  expect(at).toBeGreaterThan(-1);
  const row = lines.slice(at, at + 3).join('\n');
  expect(row).not.toMatch(/>0\.00/);
  expect(row).toMatch(/>not measured \*</);
});
