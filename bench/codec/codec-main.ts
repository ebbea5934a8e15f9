/**
 * Child process: header codec micro-benchmarks, ours against the npm parsers, all in this one
 * process. Each case runs in batches until its time is up (bounded), three times; the median
 * ops/s is reported together with whether the parser's answer was right.
 */
import basicAuth from 'basic-auth';
import * as authHeader from 'auth-header';
import * as wwwAuthenticate from 'www-authenticate';
import { parseChallenges, parseCredentials } from '../../src/header';
import { decodeBase64Strict, decodeUtf8Strict } from '../../src/util/base64';
import { serveParent } from '../lib/child';
import { median } from '../lib/stats';
import type { CodecCase } from '../report/types';

const BASIC = `Basic ${Buffer.from('Aladdin:open sesame').toString('base64')}`;
// RFC 7616 §3.9.1's SHA-256 example response.
const DIGEST =
  'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", ' +
  'algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, ' +
  'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, ' +
  'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", ' +
  'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
// What a server offering SHA-256, MD5 and Basic sends (RFC 7616 §3.7), on one field line.
const THREE_CHALLENGES =
  'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, ' +
  'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", ' +
  'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, ' +
  'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", ' +
  'Basic realm="http-auth@example.org", charset="UTF-8"';

interface Case {
  name: string;
  implementation: string;
  ours: boolean;
  run: () => unknown;
  /** Judges the parser's result for this input. */
  check: (result: unknown) => { correct: boolean; note: string };
}

/** Ours for Basic: what the Basic scheme does before it looks at the password. */
function oursBasic(value: string): { name: string; pass: string } | undefined {
  const { token68 } = parseCredentials(value);
  if (token68 === undefined) return undefined;
  const bytes = decodeBase64Strict(token68);
  const text = bytes && decodeUtf8Strict(bytes);
  if (text === undefined) return undefined;
  const colon = text.indexOf(':');
  return colon === -1 ? undefined : { name: text.slice(0, colon), pass: text.slice(colon + 1) };
}

const basicCheck = (r: unknown): { correct: boolean; note: string } => {
  const v = r as { name?: string; pass?: string } | undefined;
  const correct = v?.name === 'Aladdin' && v.pass === 'open sesame';
  return { correct, note: correct ? 'user and password' : 'wrong result' };
};

const digestCheck = (r: unknown): { correct: boolean; note: string } => {
  const v = r as { params?: Record<string, unknown> } | undefined;
  const p = v?.params ?? {};
  const correct =
    p.username === 'Mufasa' &&
    p.uri === '/dir/index.html' &&
    p.nc === '00000001' &&
    p.qop === 'auth' &&
    p.response === '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1';
  return { correct, note: correct ? 'all directives' : 'wrong directives' };
};

const threeCheck = (r: unknown): { correct: boolean; note: string } => {
  if (Array.isArray(r)) {
    const list = r as { scheme: string; params: Record<string, string> }[];
    const correct =
      list.length === 3 &&
      list[0]?.params.algorithm === 'SHA-256' &&
      list[1]?.params.algorithm === 'MD5' &&
      list[2]?.scheme === 'Basic' &&
      list[2].params.charset === 'UTF-8' &&
      list[0].params.qop === 'auth, auth-int';
    return {
      correct,
      note: correct
        ? '3 challenges, each with its own parameters'
        : `${list.length} challenges, wrong parameters`,
    };
  }
  return {
    correct: false,
    note: 'one merged challenge: the parameters of all three mixed together',
  };
};

const CASES: Case[] = [
  {
    name: 'Basic credentials',
    implementation: 'authscheme',
    ours: true,
    run: () => oursBasic(BASIC),
    check: basicCheck,
  },
  {
    name: 'Basic credentials',
    implementation: 'basic-auth',
    ours: false,
    run: () => basicAuth.parse(BASIC),
    check: basicCheck,
  },
  {
    name: 'Digest credentials',
    implementation: 'authscheme',
    ours: true,
    run: () => parseCredentials(DIGEST),
    check: digestCheck,
  },
  {
    name: 'Digest credentials',
    implementation: 'auth-header',
    ours: false,
    run: () => authHeader.parse(DIGEST),
    check: digestCheck,
  },
  {
    name: 'WWW-Authenticate, 3 challenges',
    implementation: 'authscheme',
    ours: true,
    run: () => parseChallenges(THREE_CHALLENGES),
    check: threeCheck,
  },
  {
    name: 'WWW-Authenticate, 3 challenges',
    implementation: 'auth-header',
    ours: false,
    run: () => authHeader.parse(THREE_CHALLENGES),
    check: threeCheck,
  },
  {
    name: 'WWW-Authenticate, 3 challenges',
    implementation: 'www-authenticate',
    ours: false,
    run: () => new wwwAuthenticate.parsers.WWW_Authenticate(THREE_CHALLENGES),
    check: threeCheck,
  },
];

let sink = 0;

function opsPerSecond(fn: () => unknown, seconds: number): number {
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let ops = 0;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 1000; i++) if (fn() !== undefined) sink++;
    ops += 1000;
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - start) / 1e9);
}

function run(seconds: number): CodecCase[] {
  const measured = CASES.map((c) => {
    const verdict = c.check(c.run());
    opsPerSecond(c.run, Math.min(0.2, seconds)); // warm-up: let the JIT settle
    return { c, verdict, samples: [] as number[] };
  });
  // Interleave: each sample of each case, then the next sample.
  for (let sample = 0; sample < 3; sample++) {
    for (const m of measured) m.samples.push(opsPerSecond(m.c.run, seconds));
  }
  const out: CodecCase[] = measured.map(({ c, verdict, samples }) => ({
    name: c.name,
    implementation: c.implementation,
    ours: c.ours,
    opsPerSecond: median(samples),
    correct: verdict.correct,
    note: verdict.note,
    oursRatio: null,
  }));
  for (const o of out) {
    if (o.ours) continue;
    const ours = out.find((x) => x.ours && x.name === o.name);
    if (ours) o.oursRatio = ours.opsPerSecond / o.opsPerSecond;
  }
  if (sink < 0) process.stdout.write('');
  return out;
}

serveParent({ codec: (message) => ({ cases: run(Number(message.seconds)) }) });
process.send?.({ type: 'ready', pid: process.pid });
