/**
 * The chart (bench/report/svg.ts): a scenario with rounds but no ratio to its baseline (every
 * round had wrong answers, so none is paired) is not drawn as a measured 0.00×.
 */
import { summarise } from '../bench/http/run-http';
import { renderSvg } from '../bench/report/svg';
import type { BenchReport } from '../bench/report/types';
import { result, round } from './helpers/bench-results';

it('draws no bar and no 0.00 for a scenario without a ratio to its baseline', () => {
  const scenarios = summarise([
    result('http/baseline/ok/node:http', [round(1, 13)]),
    result('http/bearer/ok/authscheme', [
      round(1, 10, { unexpected: 20_000, flags: ['20000 responses not as expected'] }),
    ]),
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
