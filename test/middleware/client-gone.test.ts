/**
 * A client that leaves while an asynchronous verifier works (from a review): the success that
 * comes after does not run the application for nobody, and `audit` hears a refusal, not a
 * success no client was served. HTTP/1.1 (the socket closed) and HTTP/2 (the stream cancelled).
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { authenticate, bearer, type AuthOutcome } from 'authscheme';

/** A guard whose Bearer verifier answers `alice` once `release()` is called, and what it saw. */
function gatedGuard() {
  const outcomes: AuthOutcome[] = [];
  let release!: () => void;
  const verified = new Promise<void>((resolve) => (release = resolve));
  let asked!: () => void;
  const waiting = new Promise<void>((resolve) => (asked = resolve));
  const guard = authenticate({
    realm: 'gone',
    schemes: [
      bearer({
        verify: async (token) => {
          asked();
          await verified;
          return token === 'good' ? 'alice' : false;
        },
      }),
    ],
    audit: (outcome) => outcomes.push(outcome),
  });
  return { guard, outcomes, release, waiting };
}

/** Resolves once `outcomes` has one entry (the guard decided), or after 5 s. */
async function decided(outcomes: AuthOutcome[]): Promise<void> {
  for (let waited = 0; outcomes.length === 0 && waited < 5000; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await new Promise((resolve) => setTimeout(resolve, 50)); // room for a handler to run
}

describe('a client that leaves while its credentials are checked', () => {
  it('HTTP/1.1: the application does not run, and audit hears a refusal', async () => {
    const { guard, outcomes, release, waiting } = gatedGuard();
    let handled = 0;
    const errors: unknown[] = [];
    let sawClose!: () => void;
    const serverSawClose = new Promise<void>((resolve) => (sawClose = resolve));
    const server = http.createServer((req, res) => {
      res.once('close', sawClose);
      guard(req, res, (err?: unknown) => {
        if (err !== undefined) errors.push(err);
        else handled++;
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = net.connect(port, '127.0.0.1', () =>
        client.write(
          'POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 0\r\n\r\n',
        ),
      );
      client.on('error', () => undefined);
      await waiting;
      client.destroy();
      await serverSawClose;
      release();
      await decided(outcomes);
      expect(handled).toBe(0);
      expect(errors).toEqual([]);
      expect(outcomes).toEqual([
        expect.objectContaining({
          outcome: 'refused',
          scheme: 'Bearer',
          code: 'ERR_AUTH_INVALID_REQUEST',
          message: 'The client left while its credentials were checked',
        }),
      ]);
    } finally {
      server.close();
    }
  });

  it('HTTP/1.1: a client that stays is served, as before', async () => {
    const { guard, outcomes, release, waiting } = gatedGuard();
    const server = http.createServer((req, res) =>
      guard(req, res, () => res.end(`hello ${(req as { auth?: { user: string } }).auth?.user}`)),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = fetch(`http://127.0.0.1:${port}/`, {
        headers: { Authorization: 'Bearer good' },
      });
      await waiting;
      release();
      const res = await response;
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('hello alice');
      expect(outcomes).toEqual([expect.objectContaining({ outcome: 'success', user: 'alice' })]);
    } finally {
      server.close();
    }
  });

  it('HTTP/2: a cancelled stream does not run the application either', async () => {
    const { guard, outcomes, release, waiting } = gatedGuard();
    let handled = 0;
    let sawClose!: () => void;
    const serverSawClose = new Promise<void>((resolve) => (sawClose = resolve));
    const server = http2.createServer((req, res) => {
      res.once('close', sawClose);
      guard(req, res, (err?: unknown) => {
        if (err === undefined) handled++;
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      const stream = session.request({ ':path': '/', authorization: 'Bearer good' });
      stream.on('error', () => undefined);
      await waiting;
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await serverSawClose;
      release();
      await decided(outcomes);
      expect(handled).toBe(0);
      expect(outcomes).toEqual([
        expect.objectContaining({ outcome: 'refused', code: 'ERR_AUTH_INVALID_REQUEST' }),
      ]);
    } finally {
      session.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
