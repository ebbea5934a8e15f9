import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a logging server saw of one request, and what it answered. */
export interface LoggedRequest {
  method: string;
  /** As the client sent it (Express's mounted routers rewrite `req.url`). */
  url: string;
  authorization: string | undefined;
  status: number;
}

/**
 * Starts servers on 127.0.0.1 that log each answered request, all closed (their connections too)
 * after each test of the file that calls this at its top level.
 */
export function loggingServers(): (
  handler: (req: IncomingMessage, res: ServerResponse) => void,
) => Promise<{ url: string; log: LoggedRequest[] }> {
  const servers = closedAfterEach();
  return async (handler) => {
    const log: LoggedRequest[] = [];
    const server = createServer((req, res) => {
      res.on('finish', () =>
        log.push({
          method: req.method!,
          url: (req as { originalUrl?: string }).originalUrl ?? req.url!,
          authorization: req.headers.authorization,
          status: res.statusCode,
        }),
      );
      handler(req, res);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, log };
  };
}

/**
 * A list of servers closed, their connections too, after each test of the file that calls this at
 * its top level: push every server a test starts.
 */
export function closedAfterEach(): Server[] {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(
      servers.splice(0).map((server) => {
        server.closeAllConnections();
        return new Promise((done) => server.close(done));
      }),
    );
  });
  return servers;
}
