/**
 * The load generator: wrk (C, one thread, pinned to its own CPU), driven by the Lua scripts in
 * bench/http/wrk/. One wrk thread on one CPU sends several times what one Node server can answer,
 * so every server, bare node:http included, runs saturated and its CPU per request is read at full
 * load. Digest clients are played in Lua (wrk/digest.lua): a handshake per client, then the nonce
 * with `nc` counting up.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../lib/child';

/** How the load generator authenticates. */
export type AuthSpec =
  | { kind: 'none' }
  | { kind: 'header'; value: string }
  | { kind: 'digest'; user: string; password: string };

export interface LoadSpec {
  url: string;
  connections: number;
  /** Whole seconds (wrk's unit); at least 1. */
  durationSec: number;
  auth: AuthSpec;
  /** The status every measured response must have (Digest handshakes aside). */
  expectStatus: 200 | 401;
  /** Pin wrk to this CPU with taskset. */
  cpu?: number;
}

export interface LoadResult {
  /** Wall time of the run, seconds. */
  seconds: number;
  /** Responses received. */
  responses: number;
  /** Responses whose status (Digest: or body) was not the expected one, handshakes excluded. */
  unexpected: number;
  /** Digest: 401s that gave a client its first nonce. */
  handshakes: number;
  /** Digest: 401s on a nonce a client already held (refused or stale). */
  rehandshakes: number;
  /** Connection errors and timeouts. */
  errors: number;
  latencyMs: { p50: number; p99: number; mean: number };
  /** wrk's own CPU time (user + system), µs. */
  cpuMicros: number;
}

/** Digest clients per wrk thread: twice the connections, so a nonce's counts arrive in order. */
const DIGEST_CLIENTS_PER_CONNECTION = 2;

interface WrkReport {
  durationMicros: number;
  requests: number;
  errorStatuses: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  timeouts: number;
  p50Micros: number;
  p99Micros: number;
  meanMicros: number;
  ok: number;
  handshakes: number;
  refused: number;
  other: number;
}

const SCRIPTS = path.join(REPO_ROOT, 'bench', 'http', 'wrk');

/** Whether wrk is installed (scripts/provision.sh installs it). */
export function wrkAvailable(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore', timeout: 5000 }).error === undefined;
}

function wrkArgs(spec: LoadSpec): string[] {
  const args = [
    '-t1',
    `-c${spec.connections}`,
    // wrk takes whole seconds.
    `-d${Math.max(1, Math.round(spec.durationSec))}s`,
    '--timeout',
    '10s',
    '--latency',
  ];
  const { auth } = spec;
  if (auth.kind === 'digest') {
    const clients = String(spec.connections * DIGEST_CLIENTS_PER_CONNECTION);
    return [
      ...args,
      '-s',
      path.join(SCRIPTS, 'digest.lua'),
      spec.url,
      '--',
      auth.user,
      auth.password,
      clients,
    ];
  }
  if (auth.kind === 'header') args.push('-H', `Authorization: ${auth.value}`);
  return [...args, '-s', path.join(SCRIPTS, 'header.lua'), spec.url];
}

/**
 * Runs wrk once. bash's `times` reports wrk's CPU time when it exits: wrk is the shell's only
 * child, and Node has no rusage for the processes it spawns.
 */
export function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const command = spec.cpu === undefined ? ['wrk'] : ['taskset', '-c', String(spec.cpu), 'wrk'];
  const script = '"$@"; status=$?; times; exit $status';
  return new Promise((resolve, reject) => {
    const proc = spawn('bash', ['-c', script, 'wrk', ...command, ...wrkArgs(spec)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => proc.kill('SIGKILL'), (spec.durationSec + 30) * 1000);
    proc.once('error', reject);
    proc.once('close', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('wrk-result '));
      if (code !== 0 || line === undefined) {
        reject(new Error(`wrk failed (exit ${code}): ${stderr.trim() || stdout.trim()}`));
        return;
      }
      const report = JSON.parse(line.slice('wrk-result '.length)) as WrkReport;
      resolve(toResult(spec, report, childCpuMicros(stdout)));
    });
  });
}

/** The second line of `times`: children's user and system time, as `1m2.345s 0m0.678s`. */
function childCpuMicros(stdout: string): number {
  const lines = stdout.trim().split('\n');
  const children = lines[lines.length - 1] ?? '';
  let micros = 0;
  for (const part of children.trim().split(/\s+/)) {
    const m = /^(\d+)m([\d.]+)s$/.exec(part);
    if (m) micros += (Number(m[1]) * 60 + Number(m[2])) * 1e6;
  }
  return micros;
}

function toResult(spec: LoadSpec, r: WrkReport, cpuMicros: number): LoadResult {
  const digest = spec.auth.kind === 'digest';
  // wrk counts statuses above 399 as errors; that is how a 401 scenario's answers are counted.
  const unexpected = digest
    ? r.refused + r.other + (spec.expectStatus === 401 ? r.ok : 0)
    : spec.expectStatus === 200
      ? r.errorStatuses
      : r.requests - r.errorStatuses;
  return {
    seconds: r.durationMicros / 1e6,
    responses: r.requests,
    unexpected,
    handshakes: digest ? r.handshakes : 0,
    rehandshakes: digest ? r.refused : 0,
    errors: r.connectErrors + r.readErrors + r.writeErrors + r.timeouts,
    latencyMs: { p50: r.p50Micros / 1000, p99: r.p99Micros / 1000, mean: r.meanMicros / 1000 },
    cpuMicros,
  };
}
