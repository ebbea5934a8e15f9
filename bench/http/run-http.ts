/**
 * Drives the HTTP benchmark: starts every server (pinned to the server CPU), checks each scenario
 * answers what it must, then measures all scenarios interleaved over several rounds with wrk
 * (pinned to the other CPU) at full load, sampling the CPU use of the server, of wrk and of the
 * whole machine around each measurement.
 */
import { BenchChild } from '../lib/child';
import { median, shuffled } from '../lib/stats';
import { busyBetween, readCpuTimes } from '../lib/system';
import type { RoundMeasurement, ScenarioResult } from '../report/types';
import { checkScenario } from './check';
import { OPAQUE_TOKEN, PASSWORD, USER, type JwtMaterial, JWT_PUBLIC_JWK_ENV } from './fixtures';
import { peerGroup, type Scenario } from './scenarios';
import type { ServerReady, ServerSample } from './server-main';
import { runWrk, type AuthSpec } from './wrk';

export interface HttpOptions {
  scenarios: Scenario[];
  rounds: number;
  durationSec: number;
  warmupSec: number;
  connections: number;
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

/**
 * One server process per scenario, keyed by scenario id: a server that kept state from another
 * scenario would measure that too (http-auth's Digest keeps every nonce it issued for an hour and
 * scans them all on each authenticated request, so after its 401 scenario, some 45,000 unanswered
 * challenges, an authenticated request cost it 15 times as much CPU). A server that does not start
 * (a peer package missing, a factory throwing) is reported under its scenario's id in `failed`;
 * the others run.
 */
async function startServers(
  scenarios: readonly Scenario[],
  options: HttpOptions,
): Promise<{ servers: Map<string, RunningServer>; failed: Map<string, string> }> {
  const servers = new Map<string, RunningServer>();
  const failed = new Map<string, string>();
  // A few at a time: they all start on the server CPU.
  const queue = [...scenarios];
  const worker = async (): Promise<void> => {
    for (let scenario = queue.shift(); scenario !== undefined; scenario = queue.shift()) {
      try {
        const { child, ready } = await BenchChild.start<ServerReady>({
          name: `server ${scenario.server} for ${scenario.id}`,
          script: 'http/server-main.ts',
          args: [scenario.server],
          cpu: options.serverCpu,
          pin: options.pin,
          env: { [JWT_PUBLIC_JWK_ENV]: JSON.stringify(options.jwt.publicJwk) },
        });
        servers.set(scenario.id, { child, port: ready.port });
      } catch (error) {
        failed.set(scenario.id, messageOf(error));
      }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return { servers, failed };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Checks a scenario answers as it must: every response the expected status, body and challenge. */
async function verify(
  scenario: Scenario,
  server: RunningServer | undefined,
  startFailure: string | undefined,
  options: HttpOptions,
): Promise<{ ok: boolean; detail: string }> {
  if (server === undefined) {
    return { ok: false, detail: `the server did not start: ${startFailure ?? 'unknown reason'}` };
  }
  let problems: string[];
  try {
    problems = await checkScenario(
      `http://127.0.0.1:${server.port}/`,
      authSpec(scenario, options.jwt),
      scenario.expect,
    );
  } catch (error) {
    problems = [`the check failed: ${messageOf(error)}`];
  }
  return problems.length === 0
    ? { ok: true, detail: `40 requests answered ${scenario.expect}` }
    : { ok: false, detail: problems.join(', ') };
}

async function measure(
  scenario: Scenario,
  round: number,
  server: RunningServer,
  options: HttpOptions,
): Promise<RoundMeasurement> {
  const spec = {
    url: `http://127.0.0.1:${server.port}/`,
    connections: options.connections,
    auth: authSpec(scenario, options.jwt),
    expectStatus: scenario.expect,
    cpu: options.pin ? options.loadCpu : undefined,
  };
  if (options.warmupSec > 0) await runWrk({ ...spec, durationSec: options.warmupSec });
  const ownBefore = process.cpuUsage();
  const machineBefore = readCpuTimes();
  const before = await server.child.request<ServerSample>('sample', {}, 5000);
  const result = await runWrk({ ...spec, durationSec: options.durationSec });
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
  if (serverCores + (otherCoresOnServerCpu ?? 0) < 0.9) {
    // Every figure assumes a saturated server; one that idled was waiting for wrk.
    flags.push(`server only ${(serverCores * 100).toFixed(0)}% busy: not saturated`);
  }
  const measurement: RoundMeasurement = {
    round,
    rps,
    p50Ms: result.latencyMs.p50,
    p99Ms: result.latencyMs.p99,
    cpuMicrosPerRequest: serverMicros / Math.max(1, requests),
    systemMicrosPerRequest: (after.system - before.system) / Math.max(1, requests),
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
  if (wrongAnswers(measurement)) flags.push('left out of the medians (wrong answers)');
  return measurement;
}

export async function runHttpBench(options: HttpOptions): Promise<ScenarioResult[]> {
  const { log } = options;
  let servers = new Map<string, RunningServer>();
  try {
    log(`starting ${options.scenarios.length} servers`);
    const started = await startServers(options.scenarios, options);
    servers = started.servers;
    const results = new Map<string, ScenarioResult>();
    // Correctness, not speed: every scenario is checked at once.
    const verifications = await Promise.all(
      options.scenarios.map((scenario) =>
        verify(scenario, servers.get(scenario.id), started.failed.get(scenario.id), options),
      ),
    );
    options.scenarios.forEach((scenario, i) => {
      const verification = verifications[i]!;
      log(`verify ${scenario.id}: ${verification.ok ? 'ok' : 'FAILED'} (${verification.detail})`);
      results.set(scenario.id, { ...unsummarised(scenario, verification, []), failures: [] });
    });
    const measurable = options.scenarios.filter((s) => results.get(s.id)!.verification.ok);
    // A server that fails to start or dies costs its scenario that round, not the whole run.
    const fail = (scenario: Scenario, round: number, why: string): void => {
      results.get(scenario.id)!.failures!.push({ round, error: why });
      log(`round ${round}/${options.rounds} ${scenario.id}: NOT MEASURED (${why})`);
    };
    let failedToStart = new Map<string, string>();
    for (let round = 1; round <= options.rounds; round++) {
      if (round > 1) {
        // Fresh processes every round: one process's JIT and heap layout can favour or handicap
        // it by a few µs per request for its whole life, which only new processes average out.
        await stopServers(servers);
        const restarted = await startServers(measurable, options);
        servers = restarted.servers;
        failedToStart = restarted.failed;
      }
      for (const scenario of shuffled(measurable, round * 7919)) {
        const server = servers.get(scenario.id);
        if (server === undefined) {
          fail(scenario, round, `the server did not start: ${failedToStart.get(scenario.id)}`);
          continue;
        }
        let m: RoundMeasurement;
        try {
          m = await measure(scenario, round, server, options);
        } catch (error) {
          fail(scenario, round, messageOf(error));
          // Whatever is left of it goes; the next round starts a fresh one.
          server.child.kill();
          continue;
        }
        results.get(scenario.id)!.rounds.push(m);
        log(
          `round ${round}/${options.rounds} ${scenario.id}: ${m.rps.toFixed(0)} req/s, ` +
            `${m.cpuMicrosPerRequest.toFixed(1)} µs CPU/req ` +
            `(${(m.systemMicrosPerRequest ?? NaN).toFixed(1)} in the kernel), p99 ${m.p99Ms.toFixed(2)} ms` +
            (m.flags.length ? `  [${m.flags.join('; ')}]` : ''),
        );
      }
    }
    return summarise([...results.values()]);
  } finally {
    await stopServers(servers);
  }
}

async function stopServers(servers: Map<string, RunningServer>): Promise<void> {
  await Promise.all([...servers.values()].map((s) => s.child.stop()));
  servers.clear();
}

/**
 * A round whose answers were not what the scenario measures (more than 0.1% of the responses of
 * the wrong status or body, Digest nonces refused, or connection errors), or that got no answer
 * at all, measured something else: it is flagged, and left out of every median.
 */
/** A scenario's result before {@link summarise}: its rounds, no figure yet. */
export function unsummarised(
  scenario: Scenario,
  verification: ScenarioResult['verification'],
  rounds: RoundMeasurement[],
): ScenarioResult {
  return {
    ...scenario,
    verification,
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

export function wrongAnswers(m: RoundMeasurement): boolean {
  return m.responses === 0 || (m.unexpected + m.errors) / m.responses > WRONG_ANSWERS_LIMIT;
}

const WRONG_ANSWERS_LIMIT = 0.001;

/**
 * Medians over the rounds, and overheads and ratios taken round by round (a scenario against its
 * baseline, or ours against a peer, measured in the same round) and then the median. Exported for
 * the tests and for `--render-only`, which recomputes them from a report's rounds.
 */
export function summarise(results: ScenarioResult[]): ScenarioResult[] {
  for (const r of results) {
    // Rounds with wrong answers are never used; rounds in which other processes took the server's
    // CPU are set aside when clean ones exist.
    const valid = r.rounds.filter((m) => !wrongAnswers(m));
    const clean = valid.filter((m) => !m.contended);
    const used = clean.length > 0 ? clean : valid;
    const wrong = r.rounds.length - valid.length;
    const setAside = wrong > 0 ? `; ${wrong} with wrong answers left out` : '';
    r.medianOver =
      valid.length === 0
        ? `no round: all ${r.rounds.length} had wrong answers`
        : clean.length > 0
          ? `${clean.length} of ${r.rounds.length} rounds (uncontended${setAside})`
          : `all ${valid.length} valid rounds of ${r.rounds.length} (every one contended${setAside})`;
    const pick = (f: (m: RoundMeasurement) => number): number => median(used.map(f));
    r.median = {
      rps: pick((m) => m.rps),
      p50Ms: pick((m) => m.p50Ms),
      p99Ms: pick((m) => m.p99Ms),
      cpuMicrosPerRequest: pick((m) => m.cpuMicrosPerRequest),
      serverCores: pick((m) => m.serverCores),
    };
    r.overheadMicros = null;
    r.ratioToBaseline = null;
    r.cpuRatioToBaseline = null;
    r.ratioToBestPeer = null;
    r.cpuRatioToBestPeer = null;
    r.bestPeer = null;
    delete r.peersNotCompared;
  }
  const baselineOf = (r: ScenarioResult): ScenarioResult | undefined =>
    results.find((b) => b.group === 'baseline' && b.server === r.baseline && b.rounds.length > 0);
  for (const r of results) {
    const base = baselineOf(r);
    const pairs = base === undefined ? [] : pairedRounds(r, base);
    if (pairs.length > 0) {
      // Paired by round: the machine's speed drifts between rounds more than the overheads
      // measured here, so each round's scenario is compared with that round's baseline.
      r.overheadMicros = median(
        pairs.map(([m, b]) => m.cpuMicrosPerRequest - b.cpuMicrosPerRequest),
      );
      r.ratioToBaseline = median(pairs.map(([m, b]) => m.rps / b.rps));
      r.cpuRatioToBaseline = median(
        pairs.map(([m, b]) => b.cpuMicrosPerRequest / m.cpuMicrosPerRequest),
      );
    }
    if (r.stack === 'express' && r.group !== 'baseline' && r.group !== 'calibration') {
      // Every peer of the run, measured or not: one that did not start, or answered wrong in every
      // round, cannot be compared, and then "ahead of every peer" is not known.
      const peers = results.filter(
        (p) =>
          !p.ours &&
          p.stack === 'express' &&
          p.group === peerGroup(r.group) &&
          p.path === r.path &&
          p.id !== r.id,
      );
      // Paired by round as well, for the same reason: each peer against this scenario in the
      // rounds both ran cleanly, then the median. The best peer is the one whose server CPU per
      // request is the least relative to this scenario's (the one to beat for "ahead of every
      // peer").
      const compared = peers.map((p) => {
        const both = pairedRounds(r, p);
        return {
          p,
          cpu: median(both.map(([m, q]) => q.cpuMicrosPerRequest / m.cpuMicrosPerRequest)),
          rps: median(both.map(([m, q]) => m.rps / q.rps)),
        };
      });
      const notCompared = compared.filter((c) => !Number.isFinite(c.cpu));
      if (notCompared.length > 0) r.peersNotCompared = notCompared.map((c) => c.p.implementation);
      const best = compared.filter((c) => Number.isFinite(c.cpu)).sort((a, b) => a.cpu - b.cpu)[0];
      if (best) {
        r.ratioToBestPeer = best.rps;
        r.cpuRatioToBestPeer = best.cpu;
        r.bestPeer = best.p.implementation;
      }
    }
  }
  return results;
}

/**
 * The rounds both scenarios ran with the right answers, uncontended in both when there are such
 * rounds.
 */
function pairedRounds(
  r: ScenarioResult,
  other: ScenarioResult,
): [RoundMeasurement, RoundMeasurement][] {
  const all: [RoundMeasurement, RoundMeasurement][] = [];
  for (const m of r.rounds) {
    const o = other.rounds.find((candidate) => candidate.round === m.round);
    if (o && !wrongAnswers(m) && !wrongAnswers(o)) all.push([m, o]);
  }
  const clean = all.filter(([m, o]) => !m.contended && !o.contended);
  return clean.length > 0 ? clean : all;
}
