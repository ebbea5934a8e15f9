/**
 * The benchmark's statistics (bench/http/run-http.ts `summarise`) on made-up rounds: overheads
 * and ratios paired by round, rounds with wrong answers left out.
 */
import { summarise, wrongAnswers } from '../bench/http/run-http';
import { judgeTargets } from '../bench/report/targets';
import type { ScenarioResult } from '../bench/report/types';
import { result, round } from './helpers/bench-results';

const BARE = 'express/baseline/ok/express';
const OURS = 'express/basic/ok/authscheme';
const HTTP_AUTH = 'express/basic/ok/http-auth';
const EXPRESS_BASIC_AUTH = 'express/basic/ok/express-basic-auth';

const byId = (results: ScenarioResult[], id: string): ScenarioResult =>
  results.find((r) => r.id === id)!;

it('takes the overhead as the median of the differences of each round, not the difference of medians', () => {
  const results = summarise([
    result(BARE, [round(1, 80), round(2, 100), round(3, 90)]),
    result(OURS, [round(1, 85), round(2, 104), round(3, 96)]),
  ]);
  const ours = byId(results, OURS);
  expect(ours.overheadMicros).toBe(5); // 5, 4, 6 (medians: 96 − 90 = 6)
  expect(ours.cpuRatioToBaseline).toBeCloseTo(80 / 85, 10); // 80/85, 100/104, 90/96
});

it('compares ours with a peer round by round, as with the baseline', () => {
  // The machine is 30% slower in round 2, and ours was contended in round 3, so its median comes
  // from rounds 1 and 2 (115) and the peer's from all three (104): by medians ours used 10% more
  // CPU than the peer, while in every round it used 4% less.
  const drift = [1, 1.3, 1];
  const results = summarise([
    result(
      BARE,
      drift.map((d, i) => round(i + 1, 80 * d)),
    ),
    result(
      OURS,
      drift.map((d, i) => round(i + 1, 100 * d, { contended: i === 2 })),
    ),
    result(
      HTTP_AUTH,
      drift.map((d, i) => round(i + 1, 104 * d)),
    ),
  ]);
  const ours = byId(results, OURS);
  expect(ours.median.cpuMicrosPerRequest).toBe(115);
  expect(byId(results, HTTP_AUTH).median.cpuMicrosPerRequest).toBe(104);
  expect(ours.bestPeer).toBe('http-auth');
  expect(ours.cpuRatioToBestPeer).toBeCloseTo(1.04, 10);
  expect(ours.ratioToBestPeer).toBeCloseTo(1.04, 10);
});

it('names as best peer the one ours is least ahead of, round by round', () => {
  const results = summarise([
    result(BARE, [round(1, 80), round(2, 110)]),
    result(OURS, [round(1, 100), round(2, 140)]),
    // The least CPU by medians (122 against 123.5), but 1.2 and 0.89 of ours: 1.04 in the median.
    result(HTTP_AUTH, [round(1, 120), round(2, 124)]),
    // 0.97 and 1.07 of ours: 1.02, the closer one.
    result(EXPRESS_BASIC_AUTH, [round(1, 97), round(2, 150)]),
  ]);
  const ours = byId(results, OURS);
  expect(ours.bestPeer).toBe('express-basic-auth');
  expect(ours.cpuRatioToBestPeer).toBeCloseTo((97 / 100 + 150 / 140) / 2, 10);
});

it('leaves rounds with wrong answers out of every median and pair', () => {
  const wrong = round(2, 60, { unexpected: 400 }); // 2% answered 401 instead of 200: cheap and wrong
  expect(wrongAnswers(wrong)).toBe(true);
  expect(wrongAnswers(round(1, 60, { unexpected: 20 }))).toBe(false); // 0.1%: flagged only
  expect(wrongAnswers(round(1, 60, { responses: 0 }))).toBe(true);
  expect(wrongAnswers(round(1, 60, { errors: 100 }))).toBe(true);
  const results = summarise([
    result(BARE, [round(1, 80), round(2, 80), round(3, 80)]),
    result(OURS, [round(1, 90), wrong, round(3, 92)]),
  ]);
  const ours = byId(results, OURS);
  expect(ours.median.cpuMicrosPerRequest).toBe(91);
  expect(ours.overheadMicros).toBe(11);
  expect(ours.medianOver).toBe('2 of 3 rounds (uncontended; 1 with wrong answers left out)');
});

it('reports nothing for a scenario whose every round had wrong answers', () => {
  const results = summarise([
    result(BARE, [round(1, 80)]),
    result(OURS, [round(1, 60, { unexpected: 20_000 })]),
  ]);
  const ours = byId(results, OURS);
  expect(ours.overheadMicros).toBeNull();
  expect(ours.cpuRatioToBaseline).toBeNull();
  expect(ours.median.cpuMicrosPerRequest).toBeNaN();
  expect(ours.medianOver).toBe('no round: all 1 had wrong answers');
});

it('does not judge ours ahead of every peer when a peer of the run was never compared', () => {
  // express-basic-auth's server did not start (a peer package missing): verification failed, no
  // rounds. Ours beat the one peer measured; "every peer" is not known.
  const missing = { ...result(EXPRESS_BASIC_AUTH, []), verification: { ok: false, detail: 'x' } };
  const results = summarise([
    result(BARE, [round(1, 80), round(2, 80)]),
    result(OURS, [round(1, 90), round(2, 90)]),
    result(HTTP_AUTH, [round(1, 99), round(2, 99)]),
    missing,
  ]);
  const ours = byId(results, OURS);
  expect(ours.bestPeer).toBe('http-auth');
  expect(ours.peersNotCompared).toEqual(['express-basic-auth']);
  const target = judgeTargets(results, []).find(
    (t) => t.what === `Ahead of every peer: ${ours.label}`,
  )!;
  expect(target.met).toBeNull();
  expect(target.measured).toBe(
    '1.10× by CPU (1.10× by req/s); not compared with express-basic-auth',
  );
});

it('still judges ours behind when a peer measured is ahead, whatever was not compared', () => {
  const results = summarise([
    result(BARE, [round(1, 80)]),
    result(OURS, [round(1, 100)]),
    result(HTTP_AUTH, [round(1, 95)]),
    // Every round answered wrong: no pair with ours.
    result(EXPRESS_BASIC_AUTH, [round(1, 60, { unexpected: 20_000 })]),
  ]);
  const ours = byId(results, OURS);
  expect(ours.peersNotCompared).toEqual(['express-basic-auth']);
  const target = judgeTargets(results, []).find(
    (t) => t.what === `Ahead of every peer: ${ours.label}`,
  )!;
  expect(target.met).toBe(false);
});

it('lists "ahead of every peer" as not measured when no peer of the run could be compared', () => {
  const bearer = 'express/bearer/ok/authscheme';
  const results = summarise([
    result(BARE, [round(1, 80)]),
    result(bearer, [round(1, 85)]),
    {
      ...result('express/bearer/ok/passport-http-bearer', []),
      verification: { ok: false, detail: 'x' },
    },
  ]);
  const ours = byId(results, bearer);
  expect(ours.bestPeer).toBeNull();
  const target = judgeTargets(results, []).find(
    (t) => t.what === `Ahead of every peer: ${ours.label}`,
  );
  expect(target).toBeDefined();
  expect(target!.met).toBeNull();
  expect(target!.measured).toBe('not measured; not compared with passport-http-bearer');
});

it('leaves out of the peers only those not in the run (--only)', () => {
  const results = summarise([result(BARE, [round(1, 80)]), result(OURS, [round(1, 85)])]);
  const ours = byId(results, OURS);
  expect(ours.peersNotCompared).toBeUndefined();
  expect(judgeTargets(results, []).some((t) => t.what.startsWith('Ahead of every peer'))).toBe(
    false,
  );
});
