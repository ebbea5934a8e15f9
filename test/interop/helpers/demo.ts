/**
 * Starts the demo (and its proxy) in this process on free loopback ports for a test file.
 */
import { startDemo } from '../../../examples/demo/server';
import type { RunningDemo } from '../../../examples/demo/server';
import { DEMO_USER } from '../../../examples/demo/server';
import type { DigestCase, MatrixRecorder } from './matrix';

export { DEMO_PASSWORD, DEMO_USER } from '../../../examples/demo/server';
export { PROXY_USERS } from '../../../examples/proxy/server';

/** The demo on 127.0.0.1 with ports picked by the OS; URLs use 127.0.0.1 too (no ::1 detour). */
export function startTestDemo(): Promise<RunningDemo> {
  return startDemo({ port: 0, host: '127.0.0.1', publicHost: '127.0.0.1' });
}

export type { RunningDemo };

/** The running demo as the tests of a file see it (they leave closing it to the file's hooks). */
export type TestDemo = Pick<RunningDemo, 'demo' | 'origin' | 'proxyOrigin'>;

/**
 * The demo for a client's test file, with the hooks every client's file had: before its tests,
 * `label` names the client's matrix column (it may first check that the client is installed),
 * then the demo starts; after them, the demo stops and `matrix` is written.
 */
export function demoForThisFile(matrix: MatrixRecorder, label?: () => Promise<string>): TestDemo {
  let running: RunningDemo | undefined;
  beforeAll(async () => {
    if (label !== undefined) matrix.label = await label();
    running = await startTestDemo();
  });
  afterAll(async () => {
    await running?.close();
    await matrix.write();
  });
  const started = (): RunningDemo => {
    if (running === undefined) throw new Error('the demo is read before its beforeAll ran');
    return running;
  };
  return {
    get demo() {
      return started().demo;
    },
    get origin() {
      return started().origin;
    },
    get proxyOrigin() {
      return started().proxyOrigin;
    },
  };
}

/** What the demo's /via-proxy reports (`forwarded`) of a request the proxy example forwarded. */
export const VIA_PROXY = {
  via: '1.1 authscheme-proxy',
  /** The proxy strips the credentials meant for it (RFC 9110 §11.7.2). */
  proxyAuthorizationReachedOrigin: false,
} as const;

/**
 * A browser's answer to the demo's /digest/<algorithm> page, as a matrix cell: recorded, then
 * expected to be what the case says (the page with the algorithm, or the 401 page left alone).
 */
export function expectDigestPage(
  matrix: MatrixRecorder,
  { algorithm, row, works, note }: DigestCase,
  { status, text }: { status: number | undefined; text: string },
): void {
  const observed = status === 200 && text.includes(`Authenticated as ${DEMO_USER}.`);
  matrix.record(row, observed, observed ? undefined : note);
  expect({ status, observed }).toEqual({ status: works ? 200 : 401, observed: works });
  if (works) {
    expect(text).toContain(`algorithm=${algorithm}`);
    expect(text).toContain('"scheme": "Digest"');
  }
}
