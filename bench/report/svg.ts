/**
 * `bench/results/latest.svg`: one horizontal bar per scenario, its requests/s as a ratio to the
 * unauthenticated server of its stack. Ours in colour, peers in grey; a tick marks the CPU-based
 * ratio. Written by hand: no chart dependency.
 */
import { escapeXml, fixed } from './format';
import type { BenchReport, ScenarioResult } from './types';

const WIDTH = 960;
const LABEL_WIDTH = 330;
const ROW = 22;
const BAR = 14;
const MAX_RATIO = 1.2;

export function renderSvg(report: BenchReport): string {
  const rows: ({ kind: 'title'; text: string } | { kind: 'bar'; s: ScenarioResult })[] = [];
  for (const [title, stack] of [
    ['Express 5: ratio to bare Express (req/s)', 'express'],
    ['Plain node:http: ratio to bare node:http (req/s)', 'http'],
  ] as const) {
    rows.push({ kind: 'title', text: title });
    for (const s of report.scenarios) {
      if (s.stack === stack && s.rounds.length > 0) rows.push({ kind: 'bar', s });
    }
  }
  const top = 70;
  const plotWidth = WIDTH - LABEL_WIDTH - 70;
  const height = top + rows.length * ROW + 66;
  const x = (ratio: number): number =>
    LABEL_WIDTH + (Math.min(ratio, MAX_RATIO) / MAX_RATIO) * plotWidth;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="bold">authscheme vs peers: throughput relative to no authentication (higher is better)</text>`,
    `<text x="16" y="44" fill="#555">${escapeXml(`${report.machine.date.slice(0, 10)} · ${report.machine.cpuModel} · ${report.machine.cores} CPUs · Node ${report.machine.node} · ${report.mode} run, median of ${report.machine.rounds} round(s) · | = CPU-based ratio`)}</text>`,
  );
  // Grid.
  for (let tick = 0; tick <= MAX_RATIO + 1e-9; tick += 0.2) {
    const gx = x(tick).toFixed(1);
    out.push(
      `<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${top + rows.length * ROW}" stroke="${Math.abs(tick - 1) < 1e-9 ? '#333' : '#ddd'}" stroke-width="${Math.abs(tick - 1) < 1e-9 ? 1.5 : 1}"/>`,
      `<text x="${gx}" y="${top + rows.length * ROW + 16}" text-anchor="middle" fill="#555">${tick.toFixed(1)}×</text>`,
    );
  }
  rows.forEach((r, i) => {
    const y = top + i * ROW;
    if (r.kind === 'title') {
      out.push(`<text x="16" y="${y + 15}" font-weight="bold">${escapeXml(r.text)}</text>`);
      return;
    }
    const { s } = r;
    // No ratio (no round paired with the baseline, e.g. every round answered wrong): no bar, and
    // no 0.00 that would read as a measurement.
    const measured = s.ratioToBaseline !== null && Number.isFinite(s.ratioToBaseline);
    const ratio = measured ? s.ratioToBaseline! : 0;
    const colour = s.group === 'baseline' ? '#495057' : s.ours ? '#0b7285' : '#adb5bd';
    const flagged = s.rounds.some((m) => m.flags.length > 0) || (s.failures?.length ?? 0) > 0;
    out.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y + 15}" text-anchor="end"${s.ours ? ' font-weight="bold"' : ''}>${escapeXml(s.label)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y + (ROW - BAR) / 2}" width="${Math.max(0, x(ratio) - LABEL_WIDTH).toFixed(1)}" height="${BAR}" fill="${colour}"><title>${escapeXml(`${s.label}: ${fixed(s.ratioToBaseline, 3)}× req/s, ${fixed(s.cpuRatioToBaseline, 3)}× by CPU, ${fixed(s.median.cpuMicrosPerRequest, 1)} µs CPU/req`)}</title></rect>`,
      `<text x="${(x(ratio) + 6).toFixed(1)}" y="${y + 15}" fill="#222">${measured ? fixed(ratio, 2) : 'not measured'}${flagged ? ' *' : ''}</text>`,
    );
    if (s.cpuRatioToBaseline !== null && Number.isFinite(s.cpuRatioToBaseline)) {
      const cx = x(s.cpuRatioToBaseline).toFixed(1);
      out.push(
        `<line x1="${cx}" y1="${y + 2}" x2="${cx}" y2="${y + ROW - 2}" stroke="#000" stroke-width="2"/>`,
      );
    }
  });
  out.push(
    `<text x="16" y="${height - 28}" fill="#555">${escapeXml('Teal: authscheme. Grey: peer packages. Dark: no authentication. Bars are capped at 1.2×; the number is exact.')}</text>`,
    `<text x="16" y="${height - 12}" fill="#555">${escapeXml('* = at least one round flagged: other processes used the CPU, or the server was not saturated (see latest.md).')}</text>`,
    '</svg>',
  );
  return out.join('\n') + '\n';
}
