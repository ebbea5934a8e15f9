/**
 * The HTTP benchmark (bench/http/run-http.ts) with real server processes and wrk: a server that
 * does not start, or dies in the middle of a run, costs its scenario that round, not the run and
 * every result gathered so far.
 */
import { killAllChildren } from '../bench/lib/child';
import { makeJwtMaterial } from '../bench/http/fixtures';
import { runHttpBench, type HttpOptions } from '../bench/http/run-http';
import { allScenarios, type Scenario } from '../bench/http/scenarios';
import type { ServerId } from '../bench/http/servers';

jest.setTimeout(120_000);

const scenario = (id: string): Scenario => allScenarios().find((s) => s.id === id)!;
const BARE = scenario('http/baseline/ok/node:http');
const BEARER = scenario('http/bearer/ok/authscheme');

async function options(scenarios: Scenario[], rounds: number, log: (line: string) => void) {
  return {
    scenarios,
    rounds,
    durationSec: 1,
    warmupSec: 0,
    connections: 10,
    pin: false,
    serverCpu: 1,
    loadCpu: 0,
    jwt: await makeJwtMaterial(),
    log,
  } satisfies HttpOptions;
}

afterEach(() => killAllChildren());

it('reports a scenario whose server does not start (a peer package missing) and measures the rest', async () => {
  const broken: Scenario = {
    ...BEARER,
    id: 'http/bearer/ok/missing-peer',
    server: 'no-such-server' as ServerId,
  };
  const results = await runHttpBench(await options([BARE, broken], 1, () => undefined));
  const bare = results.find((r) => r.id === BARE.id)!;
  const missing = results.find((r) => r.id === broken.id)!;
  expect(bare.rounds).toHaveLength(1);
  expect(missing.verification.ok).toBe(false);
  expect(missing.verification.detail).toMatch(/did not start: .*unknown server id no-such-server/);
  expect(missing.rounds).toHaveLength(0);
  expect(missing.overheadMicros).toBeNull();
});

it('goes on when a server dies in the middle of a round, and says which round was lost', async () => {
  let killed = false;
  const results = await runHttpBench(
    await options([BARE, BEARER], 2, (line) => {
      // Right after the first measurement: the other scenario's server is gone when its turn
      // comes (every server of the round is killed; the next round starts fresh ones).
      if (!killed && line.startsWith('round 1/2 ')) {
        killed = true;
        killAllChildren();
      }
    }),
  );
  expect(killed).toBe(true);
  const failures = results.flatMap((r) => r.failures ?? []);
  expect(failures).toHaveLength(1);
  expect(failures[0]!.round).toBe(1);
  for (const r of results) expect(r.rounds.map((m) => m.round)).toContain(2);
  const bearer = results.find((r) => r.id === BEARER.id)!;
  expect(bearer.overheadMicros).not.toBeNull();
});
