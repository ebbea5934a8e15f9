/**
 * Parser abuse over real HTTP: long tokens, comma and parameter floods, broken quoting, control
 * characters, non-ASCII bytes, duplicate and prototype-named parameters. Every one is refused
 * (400 from the codec or from Node's own parser, 401 where it parses but names nothing valid),
 * the handler never runs, and the codec's time grows linearly with the input.
 */
import { authenticate, basic, bearer, digest, parseChallenges, parseCredentials } from 'authscheme';
import {
  challengeFlood,
  rawFieldLines,
  scalingInputs,
  sendableValues,
} from '../fixtures/hostile-headers';
import { HIT, expectRefused, rawGet, send, sendRaw, start, type TestServer } from './helpers';

let target: TestServer;

beforeAll(async () => {
  target = await start(
    authenticate({
      realm: 'hostile',
      schemes: [
        digest({ users: { alice: 'wonderland' }, secret: 'x'.repeat(32) }),
        basic({ users: { alice: 'wonderland' } }),
        bearer({ verify: (token) => (token === 'good-token' ? 'alice' : false) }),
      ],
    }),
  );
});
afterAll(() => target.close());

describe('hostile Authorization values sent by an HTTP client', () => {
  it.each(sendableValues.map((v) => [v.title, v.value] as const))(
    'refuses %s without running the handler',
    async (_title, value) => {
      const reply = await send(target, { Authorization: value });
      expectRefused(reply, [400, 401]);
      // The middleware answered (Node's parser accepts these): all three challenges, no-store.
      expect(reply.headers['www-authenticate']?.map((line) => line.split(' ')[0])).toEqual([
        'Digest',
        'Basic',
        'Bearer',
      ]);
      expect(reply.headers['cache-control']).toEqual(['no-store']);
    },
  );

  it('keeps a __proto__ parameter as data: the request is refused and nothing is polluted', async () => {
    const reply = await send(target, {
      Authorization: 'Digest __proto__="polluted", username="alice", realm="hostile"',
    });
    expectRefused(reply, [400, 401]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const parsed = parseCredentials('Digest __proto__="x", constructor="y"');
    expect(Object.getPrototypeOf(parsed.params)).toBeNull();
    expect(parsed.params['__proto__']).toBe('x');
    expect(parsed.params['constructor']).toBe('y');
  });
});

describe('hostile bytes only a raw socket sends', () => {
  it.each(rawFieldLines.map((v) => [v.title, v.value] as const))(
    'refuses %s (400/431 from Node, or 400/401 from the middleware)',
    async (_title, line) => {
      const reply = await sendRaw(target, rawGet([line]));
      expectRefused(reply, [400, 401, 431]);
      expect(reply.headers[HIT]).toBeUndefined();
    },
  );

  it('refuses a NUL byte between scheme and credentials', async () => {
    const reply = await sendRaw(
      target,
      rawGet([Buffer.from('Authorization: Basic\u0000YWxpY2U6d29uZGVybGFuZA==', 'latin1')]),
    );
    expectRefused(reply, [400, 401]);
  });

  it('refuses a request head over 16 KB with 431 before any middleware', async () => {
    const reply = await sendRaw(target, rawGet([`Authorization: Basic ${'Q'.repeat(17000)}`]));
    expect([400, 431]).toContain(reply.status);
    expect(reply.headers[HIT]).toBeUndefined();
  });
});

/** CPU time (µs) of `runs` calls of `fn`, exceptions included. */
function cpuTime(fn: () => void, runs: number): number {
  const before = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    try {
      fn();
    } catch {
      // Refusing is fine; only the time counts.
    }
  }
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe('the codec takes linear time', () => {
  // Both sizes well past the CPU's caches (an input of 64 KB fits them, one of 256 KB with its
  // thousands of parameters does not, which alone made some inputs look superlinear).
  const sizes = [256 * 1024, 1024 * 1024];
  const limits = { maxLength: 1 << 22, maxParams: 1 << 22, maxChallenges: 1 << 22 };

  it.each(scalingInputs.map((input) => [input.title, input.build] as const))(
    'a header of %s four times as long takes about four times as long, not sixteen (parseCredentials, parseChallenges)',
    (_title, build) => {
      for (const parse of [
        (s: string) => parseCredentials(s, limits),
        (s: string) => parseChallenges(s, limits),
      ]) {
        const inputs = sizes.map(build);
        cpuTime(() => parse(inputs[1]!), 4); // warm up the JIT on the largest input
        // Four times the input: linear time gives a ratio near 4, quadratic near 16, so 8 leaves
        // a factor of two either way. Other suites share the 2 cores (and their caches), which
        // can slow the largest input more than the smallest; the best of five attempts counts.
        let ratio = Infinity;
        for (let attempt = 0; attempt < 5 && ratio >= 8; attempt++) {
          const [small, large] = inputs.map((input) =>
            // Floor of 200 µs so that timer granularity on tiny times cannot fake a ratio.
            // The least of seven: noise (garbage collection, other processes) only adds time.
            Math.max(
              200,
              Math.min(...Array.from({ length: 7 }, () => cpuTime(() => parse(input), 4))),
            ),
          );
          ratio = large! / small!;
        }
        expect(ratio).toBeLessThan(8);
      }
    },
  );

  it('stops a flood of challenges at maxChallenges, whatever its length', () => {
    const raised = { maxLength: 1 << 22 };
    const times = sizes.map((size) => {
      const input = challengeFlood(size);
      expect(() => parseChallenges(input, raised)).toThrow('more challenges than maxChallenges');
      return median(
        Array.from({ length: 5 }, () => cpuTime(() => parseChallenges(input, raised), 4)),
      );
    });
    const [small, large] = times.map((t) => Math.max(t, 200)) as [number, number];
    expect(large / small).toBeLessThan(3);
  });
});
