/** The shape of `bench/results/latest.json`. */
import type { MachineDescription } from '../lib/system';
import type { Scenario } from '../http/scenarios';

export interface RoundMeasurement {
  round: number;
  /** Responses per second seen by the load generator. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Server CPU time (user + system) per request received, µs. */
  cpuMicrosPerRequest: number;
  /** The kernel's part of that (system time), µs; absent in results written before 3 Dec 2026. */
  systemMicrosPerRequest?: number;
  /** Server CPU use during the run, in cores (1 = one CPU fully busy). */
  serverCores: number;
  /** Load generator CPU use, in cores. */
  loadCores: number;
  /** CPU used by processes other than ours during the run, in cores, over all CPUs. */
  otherCores: number | null;
  /** The part of that on the server's CPU (when pinned), in cores. */
  otherCoresOnServerCpu: number | null;
  /** Other processes used the server's CPU (or, unpinned, the machine) noticeably. */
  contended: boolean;
  responses: number;
  unexpected: number;
  handshakes: number;
  rehandshakes: number;
  errors: number;
  /** Why this round's numbers are doubtful (empty when clean). */
  flags: string[];
}

export interface ScenarioResult extends Scenario {
  verification: { ok: boolean; detail: string };
  rounds: RoundMeasurement[];
  /** Rounds that could not be measured: the server did not start, died, or wrk failed. */
  failures?: { round: number; error: string }[];
  /** Which rounds the medians are taken over. */
  medianOver: string;
  median: {
    rps: number;
    p50Ms: number;
    p99Ms: number;
    cpuMicrosPerRequest: number;
    serverCores: number;
  };
  /** Server CPU µs/request minus the baseline's (same stack, no auth) in the same round; the median. */
  overheadMicros: number | null;
  /** Requests/s over the baseline's, round by round, then the median. */
  ratioToBaseline: number | null;
  /** Baseline CPU/request over this one: the throughput ratio when the server CPU is the limit. */
  cpuRatioToBaseline: number | null;
  /**
   * Requests/s over the best peer's on the same group and path (Express only), round by round,
   * then the median. The best peer: the least CPU/request relative to this scenario's.
   */
  ratioToBestPeer: number | null;
  /** The best peer's CPU/request over this one's, round by round, then the median (> 1: we use less CPU). */
  cpuRatioToBestPeer: number | null;
  bestPeer: string | null;
  /**
   * Peers of the run on the same group and path that could not be compared with this scenario
   * (their server did not start, or no round both ran with the right answers); absent when none.
   */
  peersNotCompared?: string[];
}

export interface CodecCase {
  name: string;
  implementation: string;
  ours: boolean;
  opsPerSecond: number;
  /** Whether the result was right for the input (several challenges kept apart, values exact). */
  correct: boolean;
  note: string;
  /** Ours over this implementation (only on peers). */
  oursRatio: number | null;
}

export interface Target {
  what: string;
  goal: string;
  measured: string;
  met: boolean | null;
}

export interface BenchReport {
  mode: 'quick' | 'full';
  machine: MachineDescription & {
    pinning: string;
    connections: number;
    rounds: number;
    durationSec: number;
    warmupSec: number;
  };
  scenarios: ScenarioResult[];
  codec: CodecCase[];
  targets: Target[];
  notes: string[];
}
