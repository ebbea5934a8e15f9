/**
 * Drives the HTTP benchmark: starts every server (pinned to the server CPU) and the load
 * generator (pinned to the other), checks each scenario answers what it must, then measures all
 * scenarios interleaved over several rounds, sampling CPU use of the server, the load generator
 * and the whole machine around each measurement.
 */
import { BenchChild } from '../lib/child';
import { median, shuffled } from '../lib/stats';
import { busyBetween, readCpuTimes } from '../lib/system';
import type { RoundMeasurement, ScenarioResult } from '../report/types';
import { OPAQUE_TOKEN, PASSWORD, USER, type JwtMaterial, JWT_PUBLIC_JWK_ENV } from './fixtures';
import type { AuthSpec, LoadResult, LoadSpec } from './load-main';
import { peerGroup, type Scenario } from './scenarios';
import type { ServerReady, ServerSample } from './server-main';
import type { ServerId } from './servers';

export interface HttpOptions {
  scenarios: Scenario[];
  rounds: number;
  durationSec: number;
  warmupSec: number;
  connections: number;
  /**
   * Fixed offered load for the plain node:http scenarios, requests/s. Ours and bare node:http then
   * run at the same rate, so their CPU per request is compared under the same batching; at full
   * speed autocannon, not the server, would be the limit there.
   */
  httpRate: number;
  pin: boolean;
  serverCpu: number;
  loadCpu: number;
  jwt: JwtMaterial;
  log(line: string): void;
}

interface RunningServer {
  child: BenchChild;
  port: number;
}

/** Other processes using more than this many cores during a run make the round doubtful. */
const OTHER_CORES_FLAG = 0.1;

export function authSpec(scenario: Scenario, jwt: JwtMaterial): AuthSpec {
  switch (scenario.client) {
    case 'none':
      return { kind: 'none' };
    case 'basic':
      return {
        kind: 'header',
        value: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
      };
    case 'bearer':
      return { kind: 'header', value: `Bearer ${OPAQUE_TOKEN}` };
    case 'jwt':
      return { kind: 'header', value: `Bearer ${jwt.token}` };
    case 'digest':
      return { kind: 'digest', user: USER, password: PASSWORD };
  }
}

async function startServers(
  ids: ServerId[],
  options: HttpOptions,
): Promise<Map<ServerId, RunningServer>> {
  const servers = new Map<ServerId, RunningServer>();
  // A few at a time: they all start on the server CPU.
  const queue = [...ids];
  const worker = async (): Promise<void> => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      const { child, ready } = await BenchChild.start<ServerReady>({
        name: `server ${id}`,
        script: 'http/server-main.ts',
        args: [id],
        cpu: options.serverCpu,
        pin: options.pin,
        env: { [JWT_PUBLIC_JWK_ENV]: JSON.stringify(options.jwt.publicJwk) },
      });
      servers.set(id, { child, port: ready.port });
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return servers;
}

async function load(loader: BenchChild, spec: LoadSpec): Promise<LoadResult> {
  const seconds = spec.durationSec ?? 10;
  const reply = await loader.request<{ result?: LoadResult } & LoadResult>(
    'run',
    { spec },
    (seconds + 30) * 1000,
  );
  return reply;
}

/** Checks a scenario answers as it must: every response the expected status, body and challenge. */
async function verify(
  scenario: Scenario,
  server: RunningServer,
  loader: BenchChild,
  options: HttpOptions,
): Promise<{ ok: boolean; detail: string }> {
  const result = await load(loader, {
    url: `http://127.0.0.1:${server.port}/`,
    connections: 2,
    amount: 40,
    auth: authSpec(scenario, options.jwt),
    expectStatus: scenario.expect,
  });
  const statuses = JSON.stringify(result.statuses);
  const problems: string[] = [];
  if (result.unexpected > 0) problems.push(`${result.unexpected} unexpected responses`);
  if (result.rehandshakes > 0) problems.push(`${result.rehandshakes} Digest responses refused`);
  if (result.errors > 0) problems.push(`${result.errors} errors`);
  const expected =
    scenario.expect === 200 ? result.responses - result.handshakes : result.responses;
  if ((result.statuses[String(scenario.expect)] ?? 0) < expected || expected < 30)
    problems.push('too few expected statuses');
  const ok = problems.length === 0;
  return {
    ok,
    detail: ok ? `statuses ${statuses}` : `${problems.join(', ')}; statuses ${statuses}`,
  };
}

async function measure(
  scenario: Scenario,
  round: number,
  server: RunningServer,
  loader: BenchChild,
  options: HttpOptions,
): Promise<RoundMeasurement> {
  const url = `http://127.0.0.1:${server.port}/`;
  const auth = authSpec(scenario, options.jwt);
  const rate = scenario.stack === 'http' ? options.httpRate : undefined;
  if (options.warmupSec > 0) {
    await load(loader, {
      url,
      connections: options.connections,
      durationSec: options.warmupSec,
      rate,
      auth,
      expectStatus: scenario.expect,
    });
  }
  const ownBefore = process.cpuUsage();
  const machineBefore = readCpuTimes();
  const before = await server.child.request<ServerSample>('sample', {}, 5000);
  const result = await load(loader, {
    url,
    connections: options.connections,
    durationSec: options.durationSec,
    rate,
    auth,
    expectStatus: scenario.expect,
  });
  const after = await server.child.request<ServerSample>('sample', {}, 5000);
  const machineAfter = readCpuTimes();
  const own = process.cpuUsage(ownBefore);

  const serverMicros = after.user + after.system - (before.user + before.system);
  const requests = after.requests - before.requests;
  const seconds = result.seconds;
  const flags: string[] = [];
  let otherCores: number | null = null;
  let otherCoresOnServerCpu: number | null = null;
  let contended = false;
  if (machineBefore && machineAfter) {
    const busy = busyBetween(machineBefore, machineAfter);
    const ours = (serverMicros + result.cpuMicros + own.user + own.system) / 1e6;
    otherCores = Math.max(0, ((busy.all ?? 0) - ours) / seconds);
    if (options.pin) {
      otherCoresOnServerCpu = Math.max(
        0,
        ((busy[String(options.serverCpu)] ?? 0) - serverMicros / 1e6) / seconds,
      );
    }
    contended =
      otherCoresOnServerCpu !== null
        ? otherCoresOnServerCpu > OTHER_CORES_FLAG / 2
        : otherCores > OTHER_CORES_FLAG;
    if (otherCores > OTHER_CORES_FLAG)
      flags.push(`other processes used ${otherCores.toFixed(2)} cores`);
    if (otherCoresOnServerCpu !== null && otherCoresOnServerCpu > OTHER_CORES_FLAG / 2) {
      flags.push(`${(otherCoresOnServerCpu * 100).toFixed(0)}% of the server CPU went to others`);
    }
  }
  const unexpectedShare = result.unexpected / Math.max(1, result.responses);
  if (unexpectedShare > 0.001) flags.push(`${result.unexpected} responses not as expected`);
  if (result.errors > 0) flags.push(`${result.errors} connection errors`);
  const serverCores = serverMicros / 1e6 / seconds;
  const loadCores = result.cpuMicros / 1e6 / seconds;
  const rps = result.responses / seconds;
  if (rate !== undefined) {
    if (rps < rate * 0.95)
      flags.push(`fixed rate not sustained (${rps.toFixed(0)} of ${rate} req/s)`);
  } else if (serverCores + (otherCoresOnServerCpu ?? 0) < 0.85 && loadCores > 0.85) {
    // The server CPU idled while the load generator's was full: req/s measures autocannon here.
    flags.push(`server ${(serverCores * 100).toFixed(0)}% busy: load-generator bound`);
  }
  return {
    round,
    rps,
    p50Ms: result.latencyMs.p50,
    p99Ms: result.latencyMs.p99,
    cpuMicrosPerRequest: serverMicros / Math.max(1, requests),
    serverCores,
    loadCores,
    otherCores,
    otherCoresOnServerCpu,
    contended,
    responses: result.responses,
    unexpected: result.unexpected,
    handshakes: result.handshakes,
    rehandshakes: result.rehandshakes,
    errors: result.errors,
    flags,
  };
}

export async function runHttpBench(options: HttpOptions): Promise<ScenarioResult[]> {
  const { log } = options;
  const ids = [...new Set(options.scenarios.map((s) => s.server))];
  const { child: loader } = await BenchChild.start({
    name: 'load generator',
    script: 'http/load-main.ts',
    cpu: options.loadCpu,
    pin: options.pin,
  });
  let servers = new Map<ServerId, RunningServer>();
  try {
    log(`starting ${ids.length} servers`);
    servers = await startServers(ids, options);
    const results = new Map<string, ScenarioResult>();
    // Correctness, not speed: every scenario is checked at once.
    const verifications = await Promise.all(
      options.scenarios.map((scenario) =>
        verify(scenario, servers.get(scenario.server)!, loader, options),
      ),
    );
    options.scenarios.forEach((scenario, i) => {
      const verification = verifications[i]!;
      log(`verify ${scenario.id}: ${verification.ok ? 'ok' : 'FAILED'} (${verification.detail})`);
      results.set(scenario.id, {
        ...scenario,
        verification,
        rounds: [],
        medianOver: '',
        median: { rps: NaN, p50Ms: NaN, p99Ms: NaN, cpuMicrosPerRequest: NaN, serverCores: NaN },
        overheadMicros: null,
        ratioToBaseline: null,
        cpuRatioToBaseline: null,
        ratioToBestPeer: null,
        cpuRatioToBestPeer: null,
        bestPeer: null,
      });
    });
    const measurable = options.scenarios.filter((s) => results.get(s.id)!.verification.ok);
    for (let round = 1; round <= options.rounds; round++) {
      for (const scenario of shuffled(measurable, round * 7919)) {
        const m = await measure(scenario, round, servers.get(scenario.server)!, loader, options);
        results.get(scenario.id)!.rounds.push(m);
        log(
          `round ${round}/${options.rounds} ${scenario.id}: ${m.rps.toFixed(0)} req/s, ` +
            `${m.cpuMicrosPerRequest.toFixed(1)} µs CPU/req, p99 ${m.p99Ms.toFixed(2)} ms` +
            (m.flags.length ? `  [${m.flags.join('; ')}]` : ''),
        );
      }
    }
    return summarise([...results.values()]);
  } finally {
    await Promise.all([loader.stop(), ...[...servers.values()].map((s) => s.child.stop())]);
  }
}

function summarise(results: ScenarioResult[]): ScenarioResult[] {
  for (const r of results) {
    // Rounds in which other processes took the server's CPU are set aside when clean ones exist.
    const clean = r.rounds.filter((m) => !m.contended);
    const used = clean.length > 0 ? clean : r.rounds;
    r.medianOver =
      clean.length > 0
        ? `${clean.length} of ${r.rounds.length} rounds (uncontended)`
        : `all ${r.rounds.length} rounds (every one contended)`;
    const pick = (f: (m: RoundMeasurement) => number): number => median(used.map(f));
    r.median = {
      rps: pick((m) => m.rps),
      p50Ms: pick((m) => m.p50Ms),
      p99Ms: pick((m) => m.p99Ms),
      cpuMicrosPerRequest: pick((m) => m.cpuMicrosPerRequest),
      serverCores: pick((m) => m.serverCores),
    };
  }
  const baselineOf = (r: ScenarioResult): ScenarioResult | undefined =>
    results.find((b) => b.group === 'baseline' && b.server === r.baseline && b.rounds.length > 0);
  for (const r of results) {
    if (r.rounds.length === 0) continue;
    const base = baselineOf(r);
    if (base) {
      r.overheadMicros = r.median.cpuMicrosPerRequest - base.median.cpuMicrosPerRequest;
      r.ratioToBaseline = r.median.rps / base.median.rps;
      r.cpuRatioToBaseline = base.median.cpuMicrosPerRequest / r.median.cpuMicrosPerRequest;
    }
    if (r.stack === 'express' && r.group !== 'baseline') {
      const peers = results.filter(
        (p) =>
          !p.ours &&
          p.stack === 'express' &&
          p.group === peerGroup(r.group) &&
          p.path === r.path &&
          p.rounds.length > 0 &&
          p.id !== r.id,
      );
      // The best peer is the one with the least server CPU per request (steadier than req/s).
      const best = peers.sort(
        (a, b) => a.median.cpuMicrosPerRequest - b.median.cpuMicrosPerRequest,
      )[0];
      if (best) {
        r.ratioToBestPeer = r.median.rps / best.median.rps;
        r.cpuRatioToBestPeer = best.median.cpuMicrosPerRequest / r.median.cpuMicrosPerRequest;
        r.bestPeer = best.implementation;
      }
    }
  }
  return results;
}
