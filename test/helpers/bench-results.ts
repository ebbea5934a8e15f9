/** Made-up benchmark rounds and results for the tests of bench/'s statistics and reports. */
import { unsummarised } from '../../bench/http/run-http';
import { allScenarios } from '../../bench/http/scenarios';
import type { RoundMeasurement, ScenarioResult } from '../../bench/report/types';

/** Round `n` of a server that used `cpu` µs per request, clean unless `extra` says otherwise. */
export function round(
  n: number,
  cpu: number,
  extra: Partial<RoundMeasurement> = {},
): RoundMeasurement {
  return {
    round: n,
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
    unexpected: 0,
    handshakes: 0,
    rehandshakes: 0,
    errors: 0,
    flags: [],
    ...extra,
  };
}

/** The scenario `id` with these rounds, not yet summarised. */
export function result(id: string, rounds: RoundMeasurement[]): ScenarioResult {
  const scenario = allScenarios().find((s) => s.id === id);
  if (scenario === undefined) throw new Error(`no scenario ${id}`);
  return unsummarised(scenario, { ok: true, detail: '' }, rounds);
}
