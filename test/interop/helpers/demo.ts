/**
 * Starts the demo (and its proxy) in this process on free loopback ports for a test file.
 */
import { startDemo } from '../../../examples/demo/server';
import type { RunningDemo } from '../../../examples/demo/server';

export { DEMO_PASSWORD, DEMO_USER } from '../../../examples/demo/server';
export { PROXY_USERS } from '../../../examples/proxy/server';

/** The demo on 127.0.0.1 with ports picked by the OS; URLs use 127.0.0.1 too (no ::1 detour). */
export function startTestDemo(): Promise<RunningDemo> {
  return startDemo({ port: 0, host: '127.0.0.1', publicHost: '127.0.0.1' });
}

export type { RunningDemo };
