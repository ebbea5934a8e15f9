import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A server on 127.0.0.1 that answers `status` with a Content-Length of 100 and 10 bytes of that
 * body, then resets the connection once the client has the response's head (the server resets
 * the connection mid-body). `fetch` is the network's fetch, handing a response over only once
 * its body has failed: a client that then cancels the body sees its cancel() reject (undici's
 * `terminated`). Without that wait the reset may come after the cancel, and nothing is tested.
 */
export async function cutShortServer(
  status: number,
  headers: Record<string, string> = {},
): Promise<{ url: string; hits: () => number; fetch: typeof fetch; close: () => Promise<void> }> {
  const open = new Set<http.ServerResponse>();
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    // The request's body is read, so that the reset is not caused by an unread request.
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { ...headers, 'Content-Length': '100' });
      res.write('x'.repeat(10));
      open.add(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const networkFetch = globalThis.fetch;
  const cutFetch: typeof fetch = async (input, init) => {
    const response = await networkFetch(input, init);
    // The client has the head: now the connection goes.
    for (const res of open) res.socket?.destroy();
    open.clear();
    // A clone tees the body: the reset errors both branches.
    await response
      .clone()
      .arrayBuffer()
      .catch(() => undefined);
    return response;
  };
  return {
    url,
    hits: () => hits,
    fetch: cutFetch,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
