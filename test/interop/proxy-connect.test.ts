/**
 * Proxy authentication of tunnels: the proxy example (examples/proxy) takes `CONNECT host:port`,
 * which is how clients reach https origins through a proxy, behind
 * `authenticate({ proxy: true })`. Real clients (curl with --proxy-digest and --proxy-basic, wget,
 * Python's urllib, Java's HttpURLConnection, headless Chromium with proxy credentials) reach a TLS
 * origin through it; raw requests check the refusals. The origin counts the requests that reached
 * it, so a refused tunnel is seen to carry nothing. One test covers the example's plain-HTTP path
 * too: an origin that never answers is a 504.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { basic } from 'authscheme';
import { createProxyServer, listenProxy, PROXY_USERS } from '../../examples/proxy/server';
import { makeCertificate, type Certificate } from '../helpers/tls';
import { launchChromium } from './helpers/chromium';
import { compileJavaClient, type JavaClient, type JavaResponse } from './helpers/java';
import { directive, run } from './helpers/run';

const [proxyUser, proxyPassword] = Object.entries(PROXY_USERS)[0]!;

let certificate: Certificate;
let origin: https.Server;
let originUrl: string;
let originPort: number;
let proxy: Server;
let proxyUrl: string;
let proxyPort: number;
/** Requests that reached the origin, with whether a Proxy-Authorization came along. */
let reached: { url: string; proxyAuthorization: boolean }[] = [];
/** The CONNECT requests the proxy received: each one's scheme of Proxy-Authorization, or ''. */
let tunnels: string[] = [];

// A JVM run may take up to its own 30 s limit (helpers/java.ts) on a busy machine, and the
// test's other requests after it.
jest.setTimeout(60_000);

beforeAll(async () => {
  certificate = await makeCertificate();
  origin = https.createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
    reached.push({
      url: req.url ?? '',
      proxyAuthorization: req.headers['proxy-authorization'] !== undefined,
    });
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end('<p>through the tunnel</p>');
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originPort = (origin.address() as AddressInfo).port;
  originUrl = `https://127.0.0.1:${originPort}`;
  proxy = createProxyServer();
  // Beside the proxy's own handler: so that a test knows the client went through the proxy.
  proxy.on('connect', (req: IncomingMessage) => {
    tunnels.push((req.headers['proxy-authorization'] ?? '').split(' ')[0]!);
  });
  proxyPort = await listenProxy(proxy, 0);
  proxyUrl = `http://127.0.0.1:${proxyPort}`;
});

afterAll(async () => {
  await new Promise((resolve) => {
    proxy?.close(resolve);
    proxy?.closeAllConnections();
  });
  await new Promise((resolve) => {
    origin?.close(resolve);
    origin?.closeAllConnections();
  });
  await certificate?.remove();
});

beforeEach(() => {
  reached = [];
  tunnels = [];
});

describe('curl through the proxy to an https origin (CONNECT)', () => {
  function curl(...args: string[]) {
    return run('curl', [
      '--silent',
      '--show-error',
      '--verbose',
      '--cacert',
      certificate.certFile,
      '--proxy',
      proxyUrl,
      ...args,
      `${originUrl}/secret`,
    ]);
  }

  it.each(['--proxy-digest', '--proxy-basic'])(
    'opens the tunnel after %s authentication',
    async (flag) => {
      const result = await curl(flag, '--proxy-user', `${proxyUser}:${proxyPassword}`);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('<p>through the tunnel</p>');
      // For Digest the 407 came first, then the tunnel; curl sends Basic without being asked.
      if (flag === '--proxy-digest') expect(result.stderr).toMatch(/< HTTP\/1\.1 407/);
      expect(result.stderr).toMatch(/< HTTP\/1\.1 200 Connection Established/);
      if (flag === '--proxy-digest') {
        // RFC 7615 §4: the proxy's rspauth comes with the tunnel's 200.
        expect(result.stderr).toMatch(
          /< proxy-authentication-info: qop=auth, rspauth="[0-9a-f]{64}"/,
        );
      }
      expect(result.stderr).toMatch(
        flag === '--proxy-digest'
          ? new RegExp(`> Proxy-Authorization: Digest .*uri="127\\.0\\.0\\.1:${originPort}"`)
          : /> Proxy-Authorization: Basic /,
      );
      // The origin saw one request, inside TLS, without the proxy's credentials.
      expect(reached).toEqual([{ url: '/secret', proxyAuthorization: false }]);
      expect(tunnels).toEqual(flag === '--proxy-digest' ? ['', 'Digest'] : ['Basic']);
    },
  );

  it('gets no tunnel without proxy credentials, or with a wrong password', async () => {
    const none = await curl();
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/< HTTP\/1\.1 407/);
    expect(none.stderr).toMatch(/< Proxy-Authenticate: Digest realm="proxy"/);
    const wrong = await curl('--proxy-digest', '--proxy-user', `${proxyUser}:wrong`);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/< HTTP\/1\.1 407/);
    expect(reached).toEqual([]);
  });
});

describe('wget and Python through the proxy to an https origin (CONNECT)', () => {
  it('wget sends its proxy credentials (Basic) with the CONNECT and gets through', async () => {
    const result = await run('wget', [
      '--quiet',
      '--output-document=-',
      `--ca-certificate=${certificate.certFile}`,
      '--execute=use_proxy=on',
      `--execute=https_proxy=${proxyUrl}`,
      `--proxy-user=${proxyUser}`,
      `--proxy-password=${proxyPassword}`,
      `${originUrl}/secret`,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('<p>through the tunnel</p>');
    expect(reached).toEqual([{ url: '/secret', proxyAuthorization: false }]);
    expect(tunnels).toEqual(['Basic']);
  });

  it("Python's urllib sends the proxy URL's credentials (Basic) with the CONNECT", async () => {
    // ProxyHandler takes the credentials from the proxy URL and puts them on the tunnel request.
    const script = [
      'import ssl, sys, urllib.request',
      'proxy, url, cafile = sys.argv[1:4]',
      'context = ssl.create_default_context(cafile=cafile)',
      'opener = urllib.request.build_opener(',
      '    urllib.request.ProxyHandler({"https": proxy}),',
      '    urllib.request.HTTPSHandler(context=context))',
      'with opener.open(url, timeout=10) as response:',
      '    print(response.status, response.read().decode())',
    ].join('\n');
    const withCredentials = `http://${proxyUser}:${proxyPassword}@127.0.0.1:${proxyPort}`;
    const result = await run('python3', [
      '-c',
      script,
      withCredentials,
      `${originUrl}/secret`,
      certificate.certFile,
    ]);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('200 <p>through the tunnel</p>');
    expect(reached).toEqual([{ url: '/secret', proxyAuthorization: false }]);
    expect(tunnels).toEqual(['Basic']);
  });
});

describe("Java's HttpURLConnection through the proxy to an https origin (CONNECT)", () => {
  let java: JavaClient;
  let basicProxy: Server;
  let basicProxyUrl: string;

  beforeAll(async () => {
    java = await compileJavaClient();
    basicProxy = createProxyServer({ schemes: [basic({ users: { ...PROXY_USERS } })] });
    basicProxyUrl = `http://127.0.0.1:${await listenProxy(basicProxy, 0)}`;
    // javac may take up to its 60 s (helpers/java.ts): past 30 s under load on two cores.
  }, 90_000);

  afterAll(async () => {
    await java?.remove();
    await new Promise((resolve) => {
      basicProxy?.close(resolve);
      basicProxy?.closeAllConnections();
    });
  });

  const session = (id: string, proxy: string) => ({
    id,
    proxy,
    proxyUser,
    proxyPassword,
    ca: certificate.certFile,
    requests: [`GET ${originUrl}/secret`, `GET ${originUrl}/secret`],
  });

  it('answers the 407 on CONNECT with Digest (uri host:port), then sends it up front with nc=2', async () => {
    const results = await java.run([session('digest', proxyUrl)]);
    const { responses, error } = results.get('digest')!;
    expect(error).toBeUndefined();
    expect(responses.map((r) => [r.status, r.body])).toEqual([
      [200, '<p>through the tunnel</p>'],
      [200, '<p>through the tunnel</p>'],
    ]);
    const [first, second] = responses as [JavaResponse, JavaResponse];
    expect(first.exchanges.map((e) => [e.request, e.status])).toEqual([
      [`CONNECT 127.0.0.1:${originPort} HTTP/1.1`, 407],
      [`CONNECT 127.0.0.1:${originPort} HTTP/1.1`, 200],
      ['GET /secret HTTP/1.1', 200],
    ]);
    const answer = first.exchanges[1]!.proxyAuthorization;
    expect(directive(answer, 'uri')).toBe(`127.0.0.1:${originPort}`);
    // The second tunnel: Proxy-Authorization up front, the same nonce, the next count.
    expect(second.exchanges[0]!.status).toBe(200);
    expect(directive(second.exchanges[0]!.proxyAuthorization, 'nonce')).toBe(
      directive(answer, 'nonce'),
    );
    expect(directive(second.exchanges[0]!.proxyAuthorization, 'nc')).toBe('00000002');
    expect(tunnels).toEqual(['', 'Digest', 'Digest']);
    expect(reached).toEqual([
      { url: '/secret', proxyAuthorization: false },
      { url: '/secret', proxyAuthorization: false },
    ]);
  });

  it('does not answer Basic on CONNECT (jdk.http.auth.tunneling.disabledSchemes=Basic) unless told to', async () => {
    // The JDK's conf/net.properties disables Basic for tunnels: the 407 reaches the application
    // and the Authenticator is never asked. An empty property lifts that.
    const [byDefault, lifted] = await Promise.all([
      java.run([session('basic', basicProxyUrl)]),
      java.run([session('basic', basicProxyUrl)], ['-Djdk.http.auth.tunneling.disabledSchemes=']),
    ]);
    const refused = byDefault.get('basic')!.responses;
    expect(refused.map((r) => r.status)).toEqual([407, 407]);
    expect(refused.flatMap((r) => r.asked)).toEqual([]);
    const admitted = lifted.get('basic')!.responses;
    expect(admitted.map((r) => r.status)).toEqual([200, 200]);
    expect(admitted[0]!.asked).toEqual([{ type: 'PROXY', scheme: 'basic', realm: 'proxy' }]);
    expect(admitted[1]!.exchanges[0]!.proxyAuthorization).toMatch(/^Basic /);
    expect(reached).toEqual([
      { url: '/secret', proxyAuthorization: false },
      { url: '/secret', proxyAuthorization: false },
    ]);
  });
});

describe('CONNECT refusals, sent as raw bytes', () => {
  /** Sends `head` to the proxy and reads until it closes the connection. */
  function connectRaw(head: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(proxyPort, '127.0.0.1', () => socket.write(head));
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.on('end', () => resolve(received));
      socket.on('error', reject);
      socket.setTimeout(5000, () => socket.destroy(new Error('the proxy did not close')));
    });
  }

  const basicCredentials = `Basic ${Buffer.from(`${proxyUser}:${proxyPassword}`).toString('base64')}`;

  it('answers 407 with every challenge and closes, so the client asks again on a new connection', async () => {
    const answer = await connectRaw(`CONNECT 127.0.0.1:${originPort} HTTP/1.1\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 407 /);
    expect(answer).toMatch(/\r\nProxy-Authenticate: Digest realm="proxy"/);
    expect(answer).toMatch(/\r\nProxy-Authenticate: Basic realm="proxy"/);
    expect(answer).toMatch(/\r\nConnection: close\r\n/);
  });

  it('refuses two Proxy-Authorization lines with 400, a foreign target with 403, a bad one with 400', async () => {
    const twice = await connectRaw(
      `CONNECT 127.0.0.1:${originPort} HTTP/1.1\r\n` +
        `Proxy-Authorization: ${basicCredentials}\r\nProxy-Authorization: ${basicCredentials}\r\n\r\n`,
    );
    expect(twice).toMatch(/^HTTP\/1\.1 400 /);
    const foreign = await connectRaw(
      `CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: ${basicCredentials}\r\n\r\n`,
    );
    expect(foreign).toMatch(/^HTTP\/1\.1 403 /);
    const noPort = await connectRaw(
      `CONNECT 127.0.0.1 HTTP/1.1\r\nProxy-Authorization: ${basicCredentials}\r\n\r\n`,
    );
    expect(noPort).toMatch(/^HTTP\/1\.1 400 /);
    // RFC 9110 §9.3.6: an invalid port is refused with 400, not tried (which would be a 502).
    const portZero = await connectRaw(
      `CONNECT 127.0.0.1:0 HTTP/1.1\r\nProxy-Authorization: ${basicCredentials}\r\n\r\n`,
    );
    expect(portZero).toMatch(/^HTTP\/1\.1 400 /);
    expect(reached).toEqual([]);
  });

  it('answers 502 when the target does not accept the connection', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const answer = await connectRaw(
      `CONNECT 127.0.0.1:${closed} HTTP/1.1\r\nProxy-Authorization: ${basicCredentials}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 502 /);
  });
});

describe('plain-HTTP forwarding: an origin that does not answer', () => {
  it('gets 504 once upstreamTimeout has passed (RFC 9110 §15.6.5), not 502', async () => {
    // Accepts connections and never answers.
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const impatient = createProxyServer({ upstreamTimeout: 200 });
    const port = await listenProxy(impatient, 0);
    try {
      const silentPort = (silent.address() as AddressInfo).port;
      const result = await run('curl', [
        '--silent',
        '--output',
        '/dev/null',
        '--write-out',
        '%{http_code}',
        '--proxy',
        `http://127.0.0.1:${port}`,
        '--proxy-user',
        `${proxyUser}:${proxyPassword}`,
        '--proxy-basic',
        `http://127.0.0.1:${silentPort}/`,
      ]);
      expect(result.stdout).toBe('504');
    } finally {
      await new Promise((resolve) => {
        impatient.close(resolve);
        impatient.closeAllConnections();
      });
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('CONNECT sockets are closed, whatever the client or the target does', () => {
  /** A TCP target that keeps half-closed connections open, as an HTTP server does. */
  let target: net.Server;
  let targetPort: number;
  let accepted: net.Socket[] = [];
  /** A proxy whose verifier waits until the test lets it answer. */
  let slowProxy: Server;
  let slowPort: number;
  let verifying: (() => void) | undefined;
  let release: (() => void) | undefined;

  const basicCredentials = `Basic ${Buffer.from(`${proxyUser}:${proxyPassword}`).toString('base64')}`;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** How many connections `server` holds open. */
  const openConnections = (server: net.Server): Promise<number> =>
    new Promise((resolve, reject) =>
      server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
    );

  /**
   * Waits until `server` holds no connection; fails after `ms` (it closes in milliseconds; the
   * bound is for a connection left open, with room for a busy machine).
   */
  async function closedWithin(server: net.Server, ms = 10_000): Promise<void> {
    const until = Date.now() + ms;
    while ((await openConnections(server)) > 0) {
      if (Date.now() > until) throw new Error('the connection was left open');
      await sleep(20);
    }
  }

  beforeAll(async () => {
    target = net.createServer({ allowHalfOpen: true }, (socket) => {
      accepted.push(socket);
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetPort = (target.address() as AddressInfo).port;
    slowProxy = createProxyServer({
      schemes: [
        basic({
          verify: async (user, password) => {
            await new Promise<void>((resolve) => {
              release = resolve;
              verifying?.();
            });
            return user === proxyUser && password === proxyPassword ? user : false;
          },
        }),
      ],
    });
    slowPort = await listenProxy(slowProxy, 0);
  });

  afterAll(async () => {
    await new Promise((resolve) => {
      slowProxy?.close(resolve);
      slowProxy?.closeAllConnections();
    });
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => target?.close(resolve));
  });

  beforeEach(() => {
    for (const socket of accepted) socket.destroy();
    accepted = [];
  });

  it.each([
    ['a 407 (no credentials)', 407],
    ['a 502 (the target refuses)', 502],
  ])('closes its side after %s even when the client keeps its own open', async (_title, status) => {
    // For the 502, a port nothing listens on, and credentials so that the proxy tries it.
    let port = originPort;
    let fields = '';
    if (status === 502) {
      port = await new Promise<number>((resolve) => {
        const probe = net.createServer().listen(0, '127.0.0.1', () => {
          const { port: free } = probe.address() as AddressInfo;
          probe.close(() => resolve(free));
        });
      });
      fields = `Proxy-Authorization: ${basicCredentials}\r\n`;
    }
    // allowHalfOpen: the client reads the answer and its end, and never closes on its own.
    const client = net.connect({ port: proxyPort, host: '127.0.0.1', allowHalfOpen: true });
    client.on('error', () => undefined);
    let received = '';
    client.setEncoding('latin1');
    client.on('data', (chunk: string) => (received += chunk));
    const ended = new Promise((resolve) => client.on('end', resolve));
    client.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\n${fields}\r\n`);
    try {
      await ended;
      expect(received).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      // Node's own server closes after a `Connection: close` answer; so must the proxy.
      await closedWithin(proxy);
    } finally {
      client.destroy();
    }
  });

  it.each([
    ['opens nothing to the target', 'CONNECT 127.0.0.1:{port} HTTP/1.1'],
    ['forwards nothing', 'GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}'],
  ])('%s for a client that left while its credentials were checked', async (_title, head) => {
    const checking = new Promise<void>((resolve) => (verifying = resolve));
    const request = head.replaceAll('{port}', String(targetPort));
    const client = net.connect(slowPort, '127.0.0.1', () =>
      client.write(`${request}\r\nProxy-Authorization: ${basicCredentials}\r\n\r\n`),
    );
    client.on('error', () => undefined);
    await checking;
    client.destroy();
    await closedWithin(slowProxy);
    release!();
    await sleep(200);
    expect(accepted.length).toBe(0);
    expect(await openConnections(slowProxy)).toBe(0);
  });

  /**
   * A CONNECT with credentials through the proxy on `port` to the TCP target, once the proxy has
   * answered and the target has accepted: the client, what it has received so far, and its close.
   */
  async function openTunnel(port: number) {
    const client = net.connect(port, '127.0.0.1', () =>
      client.write(
        `CONNECT 127.0.0.1:${targetPort} HTTP/1.1\r\nProxy-Authorization: ${basicCredentials}\r\n\r\n`,
      ),
    );
    client.on('error', () => undefined);
    const seen = { received: '', closedAt: 0 };
    client.setEncoding('latin1');
    client.on('data', (chunk: string) => (seen.received += chunk));
    const closed = new Promise<void>((resolve) =>
      client.on('close', () => {
        seen.closedAt = Date.now();
        resolve();
      }),
    );
    while (!seen.received.endsWith('\r\n\r\n') || accepted.length === 0) await sleep(10);
    expect(seen.received).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n/);
    return { client, seen, closed };
  }

  it('closes a tunnel idle for tunnelIdleTimeout at both ends, and keeps a busy one open', async () => {
    // The proxy's idle timer and the test's pauses run in one process: after a stall longer than
    // the idle timeout less a pause, both are due and the idle timer fires before the proxy reads
    // the byte the test just sent. A pause of a tenth of the idle timeout leaves 900 ms for that.
    const IDLE_MS = 1000;
    const idleProxy = createProxyServer({ tunnelIdleTimeout: IDLE_MS });
    const idlePort = await listenProxy(idleProxy, 0);
    const { client, seen, closed } = await openTunnel(idlePort);
    try {
      // Busy: a byte every 100 ms for 2 s, twice the idle timeout.
      let lastByte = 0;
      for (let i = 0; i < 20; i++) {
        client.write('x');
        lastByte = Date.now();
        await sleep(IDLE_MS / 10);
      }
      expect(seen.closedAt).toBe(0);
      await closed;
      expect(seen.closedAt - lastByte).toBeGreaterThanOrEqual(IDLE_MS - 50);
      // The target's side was closed too (it keeps half-closed sockets itself, as HTTP servers do).
      const upstream = accepted[0]!;
      const ended = new Promise((resolve) => upstream.once('end', resolve));
      upstream.resume(); // reads the bytes the client sent, then the end
      await ended;
      await closedWithin(idleProxy);
    } finally {
      client.destroy();
      await new Promise((resolve) => idleProxy.close(resolve));
    }
  });

  it('sends nothing of its own into an established tunnel when the target resets it', async () => {
    const { seen, closed } = await openTunnel(proxyPort);
    const head = seen.received;
    accepted[0]!.write('from the target');
    while (!seen.received.endsWith('from the target')) await sleep(10);
    accepted[0]!.resetAndDestroy();
    await closed;
    // The bytes after the 200 are the target's; a 502 there would be read as tunnel data.
    expect(seen.received).toBe(`${head}from the target`);
  });

  it('closes a tunnel whose target closed first, though the client keeps its side open', async () => {
    // A client that keeps its half open after the FIN, as clients may.
    const client = net.connect({ port: proxyPort, host: '127.0.0.1', allowHalfOpen: true }, () =>
      client.write(
        `CONNECT 127.0.0.1:${targetPort} HTTP/1.1\r\nProxy-Authorization: ${basicCredentials}\r\n\r\n`,
      ),
    );
    client.on('error', () => undefined);
    let received = '';
    client.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const ended = new Promise((resolve) => client.once('end', resolve));
    try {
      while (!received.endsWith('\r\n\r\n') || accepted.length === 0) await sleep(10);
      expect(received).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n/);
      accepted[0]!.end(); // the target is done: FIN to the client
      await ended;
      // The proxy does not wait for the client's half: it closes the connection itself.
      await closedWithin(proxy);
    } finally {
      client.destroy();
    }
  });

  it('normalises CONNECT hosts as absolute-form ones before isAllowedTarget judges them', async () => {
    const seenHosts: string[] = [];
    const judging = createProxyServer({
      isAllowedTarget: (url) => {
        seenHosts.push(url.hostname);
        return url.hostname !== '127.0.0.1';
      },
    });
    const port = await listenProxy(judging, 0);
    try {
      for (const host of ['2130706433', '0x7f000001', '0177.0.0.1']) {
        const answer = await new Promise<string>((resolve) => {
          const client = net.connect(port, '127.0.0.1', () =>
            client.write(
              `CONNECT ${host}:${targetPort} HTTP/1.1\r\nProxy-Authorization: ${basicCredentials}\r\n\r\n`,
            ),
          );
          let text = '';
          client.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
          client.on('close', () => resolve(text));
          client.on('error', () => undefined);
        });
        expect(answer).toMatch(/^HTTP\/1\.1 403 /);
      }
      expect(seenHosts).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
      expect(accepted).toHaveLength(0);
    } finally {
      judging.closeAllConnections();
      await new Promise((resolve) => judging.close(resolve));
    }
  });
});

describe('the proxy forwarding plain HTTP', () => {
  const basicCredentials = `Basic ${Buffer.from(`${proxyUser}:${proxyPassword}`).toString('base64')}`;

  it('re-frames a chunked body on a GET, so that the origin reads no second request in it', async () => {
    const requests: string[] = [];
    const origin = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const port = (origin.address() as AddressInfo).port;
    try {
      const hidden = 'GET /admin HTTP/1.1\r\nHost: internal\r\n\r\n';
      const reply = await new Promise<string>((resolve) => {
        const client = net.connect(proxyPort, '127.0.0.1', () =>
          client.write(
            `GET http://127.0.0.1:${port}/s HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
              `Proxy-Authorization: ${basicCredentials}\r\nTransfer-Encoding: chunked\r\n` +
              `Connection: close\r\n\r\n${hidden.length.toString(16)}\r\n${hidden}\r\n0\r\n\r\n`,
          ),
        );
        let text = '';
        client.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        client.on('close', () => resolve(text));
        client.on('error', () => undefined);
      });
      expect(reply).toMatch(/^HTTP\/1\.1 200 /);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(requests).toEqual(['GET /s']);
    } finally {
      origin.closeAllConnections();
      await new Promise((resolve) => origin.close(resolve));
    }
  });

  it("keeps the guard's Cache-Control: private and Vary over the origin's own (a cache in front)", async () => {
    const origin = http.createServer((_req, res) => {
      res.writeHead(200, {
        'Cache-Control': 'public, max-age=600, s-maxage=600',
        Vary: 'Accept-Encoding',
      });
      res.end('cacheable');
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const port = (origin.address() as AddressInfo).port;
    try {
      const reply = await new Promise<IncomingMessage>((resolve, reject) => {
        http
          .get(
            {
              host: '127.0.0.1',
              port: proxyPort,
              path: `http://127.0.0.1:${port}/page`,
              headers: { 'Proxy-Authorization': basicCredentials, Host: `127.0.0.1:${port}` },
            },
            resolve,
          )
          .on('error', reject);
      });
      reply.resume();
      expect(reply.statusCode).toBe(200);
      expect(reply.headers['cache-control']).toBe('max-age=600, private');
      expect(reply.headers.vary).toBe('Accept-Encoding, Proxy-Authorization');
    } finally {
      origin.closeAllConnections();
      await new Promise((resolve) => origin.close(resolve));
    }
  });

  it('forwards the path as the client wrote it, and asks for a body only once admitted', async () => {
    const paths: string[] = [];
    const origin = http.createServer((req, res) => {
      paths.push(req.url ?? '');
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const port = (origin.address() as AddressInfo).port;
    const exchange = (head: string, body = ''): Promise<string> =>
      new Promise((resolve) => {
        const client = net.connect(proxyPort, '127.0.0.1', () => client.write(head));
        let text = '';
        client.on('data', (chunk: Buffer) => {
          text += chunk.toString('latin1');
          // The body goes only after an interim 100 (RFC 9110 §10.1.1).
          if (body !== '' && text.includes('100 Continue')) client.write(body);
        });
        client.on('close', () => resolve(text));
        client.on('error', () => undefined);
      });
    try {
      const raw = `/pub/%2e%2e/admin?q=a%2Fb`;
      const reply = await exchange(
        `GET http://127.0.0.1:${port}${raw} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
          `Proxy-Authorization: ${basicCredentials}\r\nConnection: close\r\n\r\n`,
      );
      expect(reply).toMatch(/^HTTP\/1\.1 200 /);
      expect(paths).toEqual([raw]);
      // Without credentials: the 407 comes first, no 100 Continue.
      const refused = await exchange(
        `POST http://127.0.0.1:${port}/e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n` +
          `Expect: 100-continue\r\nConnection: close\r\n\r\n`,
      );
      expect(refused).toMatch(/^HTTP\/1\.1 407 /);
      const admitted = await exchange(
        `POST http://127.0.0.1:${port}/e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n` +
          `Proxy-Authorization: ${basicCredentials}\r\nExpect: 100-continue\r\n` +
          `Connection: close\r\n\r\n`,
        'hello',
      );
      expect(admitted).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    } finally {
      origin.closeAllConnections();
      await new Promise((resolve) => origin.close(resolve));
    }
  });

  it('drops the upstream request when the client leaves during the response', async () => {
    let originClosed!: () => void;
    const closedAtOrigin = new Promise<void>((resolve) => (originClosed = resolve));
    const origin = http.createServer((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('x'), 50);
      res.on('close', () => {
        clearInterval(timer);
        originClosed();
      });
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const port = (origin.address() as AddressInfo).port;
    try {
      const client = net.connect(proxyPort, '127.0.0.1', () =>
        client.write(
          `GET http://127.0.0.1:${port}/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
            `Proxy-Authorization: ${basicCredentials}\r\n\r\n`,
        ),
      );
      client.on('error', () => undefined);
      await new Promise((resolve) => client.once('data', resolve));
      client.destroy();
      // It closes in milliseconds; 10 s (room for a busy machine) means it was left open.
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        closedAtOrigin.then(() => 'closed'),
        new Promise(
          (resolve) => (timer = setTimeout(() => resolve('still open after 10 s'), 10_000)),
        ),
      ]).finally(() => clearTimeout(timer));
      expect(outcome).toBe('closed');
    } finally {
      origin.closeAllConnections();
      await new Promise((resolve) => origin.close(resolve));
    }
  });
});

describe('Chromium through the proxy to an https origin (CONNECT)', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('answers the 407 on CONNECT with its proxy credentials and loads the page', async () => {
    const context = await browser.newContext({
      proxy: { server: proxyUrl, username: proxyUser, password: proxyPassword },
      ignoreHTTPSErrors: true,
    });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${originUrl}/secret`);
      expect(response?.status()).toBe(200);
      expect(await page.textContent('p')).toBe('through the tunnel');
    } finally {
      await context.close();
    }
    expect(reached).toContainEqual({ url: '/secret', proxyAuthorization: false });
    // The first CONNECT went without credentials; Chromium answered the 407 with Digest.
    expect(tunnels[0]).toBe('');
    expect(tunnels).toContain('Digest');
  });
});
