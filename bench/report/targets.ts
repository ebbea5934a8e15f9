/** The issue's targets, judged against a run. */
import type { BenchReport, CodecCase, ScenarioResult, Target } from './types';
import { fixed, signed, thousands } from './format';

/**
 * A quick run (one round of one second) shows the figures but judges nothing: a verdict on that
 * little is noise, and it must not read like one.
 */
export function judgeTargets(
  scenarios: ScenarioResult[],
  codec: CodecCase[],
  mode: BenchReport['mode'] = 'full',
): Target[] {
  const byId = (id: string): ScenarioResult | undefined =>
    scenarios.find((s) => s.id === id && s.rounds.length > 0);
  const targets: Target[] = [];

  /** `floorId`: the least code with the same duties on the same stack (bench/http/floors.ts). */
  const overhead = (what: string, id: string, limit: number, floorId?: string): void => {
    const s = byId(id);
    const v = s?.overheadMicros ?? null;
    const floor = floorId === undefined ? null : (byId(floorId)?.overheadMicros ?? null);
    targets.push({
      what,
      goal: `≤ ${limit} µs CPU/request over the same server without auth`,
      measured:
        v === null
          ? 'not measured'
          : `${signed(v, 1)} µs${floor === null ? '' : ` (floor ${signed(floor, 1)} µs)`}`,
      met: v === null ? null : v <= limit,
    });
  };
  overhead('Basic overhead (node:http)', 'http/basic/ok/authscheme', 3);
  overhead(
    'Bearer custom validator overhead (node:http)',
    'http/bearer/ok/authscheme',
    3,
    'http/calibration/ok/bearer-floor',
  );
  overhead(
    'Digest SHA-256 overhead (node:http)',
    'http/digest/ok/authscheme',
    10,
    'http/calibration/ok/digest-floor',
  );
  overhead('JWT ES256 cached overhead (node:http)', 'http/jwt-cached/ok/authscheme', 5);
  // The issues quote their peers' overheads on Express (express-basic-auth +10 µs for Basic,
  // passport-http-bearer for Bearer, http-auth and passport-http for Digest): the same limits there.
  overhead('Basic overhead (Express)', 'express/basic/ok/authscheme', 3);
  overhead(
    'Bearer custom validator overhead (Express)',
    'express/bearer/ok/authscheme',
    3,
    'express/calibration/ok/bearer-floor',
  );
  overhead(
    'Digest SHA-256 overhead (Express)',
    'express/digest/ok/authscheme SHA-256',
    10,
    'express/calibration/ok/digest-floor',
  );
  overhead('JWT ES256 cached overhead (Express)', 'express/jwt-cached/ok/authscheme cached', 5);
  // The same two, mounted on the route, where Express's router adds no work for the guard.
  overhead(
    'Bearer custom validator overhead (Express, on the route)',
    'express/calibration/ok/bearer-route',
    3,
    'express/calibration/ok/bearer-floor-route',
  );
  overhead(
    'Digest SHA-256 overhead (Express, on the route)',
    'express/calibration/ok/digest-route',
    10,
    'express/calibration/ok/digest-floor-route',
  );

  const ratio = (what: string, id: string, limit: number): void => {
    const s = byId(id);
    // Judged on the CPU-based ratio: req/s swings with other load on a shared machine.
    const v = s?.cpuRatioToBaseline ?? null;
    targets.push({
      what,
      goal: `≥ ${limit.toFixed(2)}× bare Express`,
      measured:
        v === null
          ? 'not measured'
          : `${fixed(v, 3)}× by CPU (${fixed(s?.ratioToBaseline, 3)}× by req/s)`,
      met: v === null ? null : v >= limit,
    });
  };
  ratio('Basic on Express', 'express/basic/ok/authscheme', 0.97);
  ratio('Digest SHA-256 on Express', 'express/digest/ok/authscheme SHA-256', 0.93);
  ratio('JWT ES256 cached on Express', 'express/jwt-cached/ok/authscheme cached', 0.95);

  for (const s of scenarios) {
    const missing = s.peersNotCompared ?? [];
    if (!s.ours || s.stack !== 'express' || (s.bestPeer === null && missing.length === 0)) continue;
    const ratio = s.bestPeer === null ? null : s.cpuRatioToBestPeer;
    // Behind one peer is a miss whatever else was compared; ahead of those compared is not
    // "ahead of every peer" while one of the run could not be compared.
    const met = ratio === null ? null : ratio <= 1 ? false : missing.length > 0 ? null : true;
    targets.push({
      what: `Ahead of every peer: ${s.label}`,
      goal:
        s.bestPeer === null
          ? 'less server CPU/request than every peer'
          : `less server CPU/request than the best peer (${s.bestPeer})`,
      measured:
        (ratio === null
          ? 'not measured'
          : `${fixed(ratio, 2)}× by CPU (${fixed(s.ratioToBestPeer, 2)}× by req/s)`) +
        (missing.length > 0 ? `; not compared with ${missing.join(', ')}` : ''),
      met,
    });
  }

  for (const name of ['Digest credentials', 'WWW-Authenticate, 3 challenges']) {
    const ours = codec.find((c) => c.ours && c.name === name);
    targets.push({
      what: `Codec: ${name}`,
      goal: '≥ 1,000,000 correct parses/s',
      measured: ours
        ? `${thousands(ours.opsPerSecond)}/s${ours.correct ? '' : ' (WRONG RESULT)'}`
        : 'not measured',
      met: ours ? ours.correct && ours.opsPerSecond >= 1e6 : null,
    });
  }
  if (mode === 'quick') {
    return targets.map((t) => ({
      ...t,
      measured: t.met === null ? t.measured : `${t.measured} (quick run, not judged)`,
      met: null,
    }));
  }
  return targets;
}
