/**
 * `npx tsx bench/profile.ts [--duration S] [server-id ...]`
 *
 * Runs our servers on plain node:http (default: Basic and Digest), drives each with wrk while V8's
 * CPU profiler (the one behind `node --cpu-prof`) samples the load window, and writes
 * bench/results/profile.md: the functions with the most
 * self time, per request, grouped into ours / Node / dependencies. The raw `.cpuprofile` files go
 * to node_modules/.cache/authscheme-profiles/ (open them in Chrome DevTools).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BenchChild, REPO_ROOT, killAllChildren, useBuild } from './lib/child';
import { compileForBench } from './lib/compile';
import { describeMachine, tasksetAvailable } from './lib/system';
import { JWT_PUBLIC_JWK_ENV, makeJwtMaterial } from './http/fixtures';
import { authSpec } from './http/run-http';
import { allScenarios } from './http/scenarios';
import type { ServerReady } from './http/server-main';
import type { ServerId } from './http/servers';
import { runWrk, type LoadSpec } from './http/wrk';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

interface Frame {
  name: string;
  where: string;
  category: 'authscheme' | 'node' | 'dependency' | 'other';
  selfMicros: number;
}

function categorise(url: string): Frame['category'] {
  if (url.includes('/src/')) return 'authscheme';
  if (url.startsWith('node:') || url === '') return 'node';
  if (url.includes('node_modules')) return 'dependency';
  return 'other';
}

/** Self time per function (all nodes of the same function summed). */
function selfTimes(profile: CpuProfile): Frame[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const frames = new Map<string, Frame>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url === '' ? '' : `${url.replace(`file://${REPO_ROOT}/`, '')}:${lineNumber + 1}`;
    const key = `${functionName}@${where}`;
    let frame = frames.get(key);
    if (!frame) {
      frame = {
        name: functionName || '(anonymous)',
        where,
        category: categorise(url),
        selfMicros: 0,
      };
      frames.set(key, frame);
    }
    frame.selfMicros += profile.timeDeltas[i] ?? 0;
  });
  return [...frames.values()].sort((a, b) => b.selfMicros - a.selfMicros);
}

/**
 * Time spent inside our code, inclusive: every sample with an authscheme frame on its stack,
 * and which functions (ours or Node's) that time went to.
 */
function insideOurs(profile: CpuProfile): { micros: number; frames: Frame[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Walking up from the sampled frame, the first frame that is ours or the bench's application
  // decides: the handler our middleware calls through next() (bench/http/servers) is not ours.
  const owner = new Map<number, boolean>();
  const hasOurs = (id: number): boolean => {
    const known = owner.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const url = node?.callFrame.url ?? '';
    const up = parent.get(id);
    let value: boolean;
    if (categorise(url) === 'authscheme') value = true;
    else if (url.includes('/bench/http/')) value = false;
    else value = up !== undefined && hasOurs(up);
    owner.set(id, value);
    return value;
  };
  const subset: CpuProfile = { nodes: profile.nodes, samples: [], timeDeltas: [] };
  let micros = 0;
  profile.samples.forEach((id, i) => {
    if (!hasOurs(id)) return;
    micros += profile.timeDeltas[i] ?? 0;
    subset.samples.push(id);
    subset.timeDeltas.push(profile.timeDeltas[i] ?? 0);
  });
  return { micros, frames: selfTimes(subset) };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // Every process runs compiled JavaScript with plain node, like a user's server.
  useBuild(compileForBench(REPO_ROOT));
  let duration = 5;
  const ids: ServerId[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--duration') duration = Number(argv[++i]);
    else ids.push(argv[i] as ServerId);
  }
  if (ids.length === 0) ids.push('ours-basic-http', 'ours-digest-http');
  const pin = tasksetAvailable() && describeMachine().cores >= 2;
  const dir = path.join(REPO_ROOT, 'node_modules', '.cache', 'authscheme-profiles');
  mkdirSync(dir, { recursive: true });
  const jwt = await makeJwtMaterial();
  const sections: string[] = [
    '# CPU profiles of our servers (plain node:http)',
    '',
    `${new Date().toISOString()} · ${describeMachine().cpuModel} · Node ${process.version} · ` +
      `${duration} s of load, 50 connections · V8 CPU profiler (as \`node --cpu-prof\`, 100 µs sampling) over the load window only · self time per function.`,
    '',
  ];
  for (const id of ids) {
    const scenario = allScenarios().find((s) => s.server === id && s.path === 'ok');
    if (!scenario) throw new Error(`no scenario for ${id}`);
    const file = path.join(dir, `${id}.cpuprofile`);
    const { child, ready } = await BenchChild.start<ServerReady>({
      name: `server ${id}`,
      script: 'http/server-main.ts',
      args: [id],
      cpu: 1,
      pin,
      env: { [JWT_PUBLIC_JWK_ENV]: JSON.stringify(jwt.publicJwk) },
    });
    const spec: LoadSpec = {
      url: `http://127.0.0.1:${ready.port}/`,
      connections: 50,
      durationSec: duration,
      auth: authSpec(scenario, jwt),
      expectStatus: 200,
      cpu: pin ? 0 : undefined,
    };
    await runWrk({ ...spec, durationSec: 1 });
    const start = await child.request<{ requests: number }>('profileStart', {}, 5000);
    const result = await runWrk(spec);
    const stop = await child.request<{ requests: number }>('profileStop', { file }, 30_000);
    await child.stop();
    const sample = { requests: stop.requests - start.requests };
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const frames = selfTimes(profile);
    const inside = insideOurs(profile);
    const total = frames.reduce((a, f) => a + f.selfMicros, 0);
    const perRequest = (micros: number): string => (micros / sample.requests).toFixed(2);
    const byCategory = new Map<string, number>();
    for (const f of frames)
      byCategory.set(f.category, (byCategory.get(f.category) ?? 0) + f.selfMicros);
    sections.push(
      `## ${id}`,
      '',
      `${sample.requests} requests (${result.unexpected} unexpected responses); sampled time ` +
        `${(total / 1000).toFixed(0)} ms. Self time per request by origin: ` +
        [...byCategory.entries()].map(([c, t]) => `${c} ${perRequest(t)} µs`).join(', ') +
        ' (the load window only; idle is time the server waited for the load generator).',
      '',
      '| self µs/req | share | function | where |',
      '| ---: | ---: | --- | --- |',
      ...frames
        .slice(0, 25)
        .map(
          (f) =>
            `| ${perRequest(f.selfMicros)} | ${((f.selfMicros / total) * 100).toFixed(1)}% | ` +
            `${f.category === 'authscheme' ? `**${f.name}**` : f.name} | ${f.where} |`,
        ),
      '',
      `Inside authscheme, inclusive (samples whose nearest owner on the stack is our code, not the application behind next()): ` +
        `${perRequest(inside.micros)} µs/request, spent in the list below. An upper bound: when V8 ` +
        'inlines the application’s handler into our frames, its response writing counts here too; ' +
        'the self times above and the comparison with bare node:http are the firmer figures.',
      '',
      ...inside.frames
        .slice(0, 25)
        .map(
          (f) =>
            `- ${perRequest(f.selfMicros)} µs/req \`${f.name}\` ${f.where.replace('node_modules/.cache/authscheme-bench/', '')}`,
        ),
      '',
      'Not on our stack but caused by us (e.g. extra response headers written later, garbage ' +
        'collection of what we allocate) shows up only in the comparison with bare node:http.',
      '',
    );
    process.stdout.write(
      `[profile] ${id}: ${sample.requests} requests, profile ${path.relative(REPO_ROOT, file)}\n`,
    );
  }
  writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'profile.md'), sections.join('\n'));
  process.stdout.write('[profile] wrote bench/results/profile.md\n');
}

main().catch((error: unknown) => {
  killAllChildren();
  process.stderr.write(
    `profile failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
