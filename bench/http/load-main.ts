/**
 * Child process: the load generator (autocannon's programmatic API). Answers `run` requests from
 * the orchestrator; for Digest each connection performs the handshake once and then reuses the
 * nonce with `nc` counting up. It also checks every response: status, body and challenge.
 */
import autocannon from 'autocannon';
import type { EventEmitter } from 'node:events';
import { serveParent } from '../lib/child';
import { DigestSession, pickDigestChallenge } from './digest-client';

/** How the load generator authenticates. */
export type AuthSpec =
  | { kind: 'none' }
  | { kind: 'header'; value: string }
  | { kind: 'digest'; user: string; password: string };

export interface LoadSpec {
  url: string;
  connections: number;
  /** Seconds of load; or `amount` requests. */
  durationSec?: number;
  amount?: number;
  /** Fixed offered load, requests/s over all connections; absent: as fast as possible. */
  rate?: number;
  auth: AuthSpec;
  /** The status every measured response must have (the Digest handshake aside). */
  expectStatus: 200 | 401;
}

export interface LoadResult {
  /** Wall time of the run, seconds. */
  seconds: number;
  /** Responses received. */
  responses: number;
  /** Status → count, all responses. */
  statuses: Record<string, number>;
  /** Responses whose status, body or challenge was not the expected one (handshakes excluded). */
  unexpected: number;
  /** Digest: 401s answered with a fresh handshake at connection start. */
  handshakes: number;
  /** Digest: 401s on a nonce we already held (refused or stale), after which we handshook again. */
  rehandshakes: number;
  errors: number;
  timeouts: number;
  latencyMs: { p50: number; p99: number; mean: number };
  /** This process's CPU time during the run, µs. */
  cpuMicros: number;
}

type Tracker = Promise<autocannon.Result> & EventEmitter & { stop(): void };

/** autocannon keeps header names as the server spelled them. */
function challengeField(headers: Record<string, string | string[]>): string | string[] | undefined {
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === 'www-authenticate') return headers[name];
  }
  return undefined;
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  let handshakes = 0;
  let rehandshakes = 0;
  let unexpected = 0;
  const auth = spec.auth;
  const checkBody = (
    status: number,
    body: string,
    headers: Record<string, string | string[]>,
  ): void => {
    if (status !== spec.expectStatus) unexpected++;
    else if (status === 200 && body !== 'ok') unexpected++;
    else if (status === 401 && challengeField(headers) === undefined) unexpected++;
  };

  const options: autocannon.Options = {
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    timeout: 10,
  };
  if (spec.durationSec !== undefined) options.duration = spec.durationSec;
  if (spec.amount !== undefined) options.amount = spec.amount;
  if (spec.rate !== undefined) options.overallRate = spec.rate;

  if (auth.kind === 'digest') {
    // One session per connection: setupClient gives each client its own request closure.
    options.setupClient = (client) => {
      const session = new DigestSession(auth.user, auth.password);
      client.setRequests([
        {
          method: 'GET',
          path: '/',
          setupRequest: (request) => {
            const headers = { ...request.headers };
            if (session.hasNonce) headers.authorization = session.authorization('GET', '/');
            else delete headers.authorization;
            return { ...request, headers };
          },
          onResponse: (status, body, _context, headers) => {
            if (status === 401) {
              const challenge = pickDigestChallenge(challengeField(headers));
              if (session.hasNonce) rehandshakes++;
              else handshakes++;
              if (challenge) session.accept(challenge);
              else unexpected++;
              return;
            }
            checkBody(status, body, headers);
          },
        },
      ]);
    };
  } else {
    options.requests = [
      {
        method: 'GET',
        path: '/',
        headers: auth.kind === 'header' ? { authorization: auth.value } : {},
        onResponse: (status, body, _context, headers) => checkBody(status, body, headers),
      },
    ];
  }

  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const tracker = autocannon(options) as Tracker;
  // `on` returns the tracker, which is also a promise (awaited below).
  void tracker.on(
    'response',
    (_client: unknown, status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
      statuses[status] = (statuses[status] ?? 0) + 1;
    },
  );
  const result = await tracker;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
  // Digest's 401s that were not handshakes or stale-nonce retries are failures.
  return {
    seconds,
    responses: latencies.length,
    statuses,
    unexpected,
    handshakes,
    rehandshakes,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyMs: { p50: at(0.5), p99: at(0.99), mean },
    cpuMicros: cpu.user + cpu.system,
  };
}

serveParent({ run: (message) => run(message.spec as LoadSpec) });
process.send?.({ type: 'ready', pid: process.pid });
