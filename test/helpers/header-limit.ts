import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

let probed: Promise<boolean> | undefined;

/**
 * Whether this Node answers an HTTP/1 request of more header lines than the server's
 * `maxHeadersCount` with 431 itself, before any middleware: Node with the fix of CVE-2026-58044
 * (22.23.2, 24.18.1, 26.5.1 and later). Node 20 drops the lines past the limit unseen, and
 * authscheme refuses credentials on such a request (400). Probed on a bare server (a limit of 20,
 * 40 lines), so that a test asserts what the Node it runs on does.
 */
export function nodeRefusesPastHeaderLimit(): Promise<boolean> {
  probed ??= new Promise((resolve, reject) => {
    const server = http.createServer((_req, res) => res.end());
    server.maxHeadersCount = 20;
    server.listen(0, '127.0.0.1', () => {
      const lines = Array.from({ length: 40 }, (_, i) => `x-${i}: y\r\n`).join('');
      const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1', () =>
        socket.end(`GET / HTTP/1.1\r\nHost: x\r\n${lines}Connection: close\r\n\r\n`),
      );
      let reply = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (reply += chunk));
      socket.on('error', reject);
      socket.on('close', () => {
        server.close();
        const status = /^HTTP\/1\.1 (\d{3}) /.exec(reply)?.[1];
        if (status === '431') resolve(true);
        else if (status === '200') resolve(false);
        else reject(new Error(`header-limit probe: unexpected reply ${JSON.stringify(reply)}`));
      });
    });
  });
  return probed;
}
