/**
 * Drives many distinct requests at a real server, a few at a time over kept-alive connections:
 * the bounds suite (bounds.test.ts) floods each stateful structure with keys it has never seen.
 */
import http from 'node:http';

export interface Sent {
  status: number;
  headers: http.IncomingHttpHeaders;
}

/**
 * Sends `count` requests to `port`, `concurrency` at once; `make(i)` gives the i-th request's
 * path and headers, `check(i, reply)` sees each reply (a throw fails the run).
 */
export async function drive(
  port: number,
  count: number,
  make: (i: number) => { path?: string; headers?: http.OutgoingHttpHeaders },
  check: (i: number, reply: Sent) => void | Promise<void>,
  concurrency = 16,
): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const { path = '/', headers = {} } = make(i);
      const reply = await send(agent, port, path, headers);
      await check(i, reply);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
}

export function send(
  agent: http.Agent | undefined,
  port: number,
  path: string,
  headers: http.OutgoingHttpHeaders,
): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Sends `count` requests, `concurrency` at once, each on a connection of its own, for a server
 * that drops them (`socket hang up`): each ends with its response or its error.
 */
export async function driveDropped(
  port: number,
  count: number,
  make: (i: number) => http.OutgoingHttpHeaders,
  concurrency = 32,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const headers = make(next++);
      await new Promise<void>((resolve) => {
        const req = http.request({ host: '127.0.0.1', port, headers, agent: false }, (res) => {
          res.resume();
          res.on('close', resolve);
        });
        req.on('error', () => resolve());
        req.end();
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
