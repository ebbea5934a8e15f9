/**
 * Child process: one benchmark server. Usage: `server-main.ts <server-id>`.
 * Listens on 127.0.0.1 (random port, printed), counts requests, and reports its own CPU time on
 * request so the orchestrator can compute CPU per request.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { serveParent } from '../lib/child';
import { SERVERS, type ServerId } from './servers';

export interface ServerReady {
  type: 'ready';
  port: number;
  pid: number;
}

export interface ServerSample {
  /** process.cpuUsage() in µs. */
  user: number;
  system: number;
  /** Requests received since start. */
  requests: number;
}

function main(): void {
  const id = process.argv[2] as ServerId | undefined;
  const factory = id === undefined ? undefined : SERVERS[id];
  if (!factory) throw new Error(`unknown server id ${String(id)}`);
  const listener = factory();
  let requests = 0;
  // The same one-increment wrapper sits in front of every server, baselines included.
  const server = createServer((req, res) => {
    requests++;
    listener(req, res);
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    let session: Session | undefined;
    serveParent({
      sample: (): ServerSample => {
        const cpu = process.cpuUsage();
        return { user: cpu.user, system: cpu.system, requests };
      },
      // V8's CPU profiler (what `node --cpu-prof` uses), limited to the load window.
      profileStart: async () => {
        session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 100 });
        await session.post('Profiler.start');
        return { requests };
      },
      profileStop: async (message) => {
        if (!session) throw new Error('no profile running');
        const { profile } = await session.post('Profiler.stop');
        session.disconnect();
        writeFileSync(String(message.file), JSON.stringify(profile));
        return { requests };
      },
    });
    process.send?.({ type: 'ready', port, pid: process.pid } satisfies ServerReady);
  });
}

try {
  main();
} catch (error) {
  process.send?.({ type: 'fatal', error: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
}
