/**
 * Digest behind forward authentication: nginx 1.22 (Debian's, which scripts/provision.sh
 * installs) guards an upstream with `auth_request`, whose check is a GET to the app's `/_auth`
 * with the client's method and target in `X-Original-Method` and `X-Original-URI`; the app's
 * `digest({ forwardedRequest })` reads them (docs/deployment.md). Real clients (curl, wget) talk
 * to nginx only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digest, type AuthRequest, type DigestAlgorithm } from 'authscheme';
import { freePort } from '../helpers/free-port';
import {
  check,
  curl,
  curlDigestPost,
  startForwardAuthApp,
  USERS,
  waitForPort,
  type ForwardAuthApp,
} from './helpers/forward-auth';
import { run } from './helpers/run';

jest.setTimeout(30_000);

let root: string;
let nginx: ChildProcess | undefined;
let app: ForwardAuthApp | undefined;
let base: string; // http://127.0.0.1:<nginx port>

const forwardedRequest = (req: AuthRequest) => ({
  method: req.headers['x-original-method'] as string,
  target: req.headers['x-original-uri'] as string,
});

/** The check for one algorithm: nginx 1.22 passes on only the first challenge line of a 401. */
const digestCheck = (algorithm: DigestAlgorithm) =>
  check(digest({ users: USERS, algorithms: [algorithm], forwardedRequest }));

beforeAll(async () => {
  app = await startForwardAuthApp({ sha256: digestCheck('SHA-256'), md5: digestCheck('MD5') });
  const up = app.origin;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  root = mkdtempSync(join(tmpdir(), 'authscheme-forward-auth-'));
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((name) => `${name}_temp_path ${root};`)
    .join(' ');
  /** A guarded prefix whose check is `/_auth/<check>`. */
  const guarded = (prefix: string, check: string): string => `
    location ${prefix} {
      auth_request /_auth/${check};
      # The check's 200 carries Authentication-Info (rspauth) for the client.
      auth_request_set $info_${check} $upstream_http_authentication_info;
      add_header Authentication-Info $info_${check} always;
      proxy_pass ${up};
    }
    location = /_auth/${check} {
      internal;
      proxy_pass ${up};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
    }`;
  writeFileSync(
    join(root, 'nginx.conf'),
    `daemon off;
pid ${root}/nginx.pid;
error_log ${root}/error.log;
events {}
http {
  access_log off;
  ${temp}
  server {
    listen 127.0.0.1:${port};
    ${guarded('/files/', 'sha256')}
    ${guarded('/old/', 'md5')}
  }
}
`,
  );
  nginx = spawn('/usr/sbin/nginx', ['-c', join(root, 'nginx.conf'), '-p', root], {
    stdio: 'ignore',
  });
  await waitForPort(port);
});

afterAll(async () => {
  if (nginx !== undefined && nginx.exitCode === null) {
    const exited = new Promise((resolve) => nginx!.once('exit', resolve));
    nginx.kill('SIGTERM');
    await exited;
  }
  await app?.close();
  if (root !== undefined) {
    const log = readFileSync(join(root, 'error.log'), 'utf8');
    rmSync(root, { recursive: true, force: true });
    // nginx logs a failed check here ("auth request unexpected status: 400"): none is expected.
    expect(log).not.toMatch(/unexpected status/);
  }
});

describe('Digest behind nginx auth_request (forwardedRequest)', () => {
  it('curl --digest: GET with a query and POST with a body, each hashed over its own method and target', async () => {
    const get = await curl(['--digest', '-u', 'alice:wonderland', `${base}/files/a%20b?x=1&y=2`]);
    expect(get.status).toBe(200);
    expect(get.body).toBe('served GET /files/a%20b?x=1&y=2');
    expect(get.head).toMatch(/^Authentication-Info: .*rspauth="[0-9a-f]{64}"/im);

    const post = await curlDigestPost(`${base}/files/upload`);
    expect(post.status).toBe(200);
    expect(app!.served).toContain('POST /files/upload payload');
  });

  it('curl with a wrong password gets the 401 and its challenge, and nothing is served', async () => {
    const before = app!.served.length;
    const res = await curl(['--digest', '-u', 'alice:wrong', `${base}/files/secret`]);
    expect(res.status).toBe(401);
    expect(res.head).toMatch(/^WWW-Authenticate: Digest realm="files"/im);
    expect(app!.served.length).toBe(before);
  });

  it('wget (MD5 only) through the same setup', async () => {
    const { code, stdout } = await run('wget', [
      '-q',
      '-O',
      '-',
      '--user=alice',
      '--password=wonderland',
      `${base}/old/report.txt`,
    ]);
    expect(code).toBe(0);
    expect(stdout).toBe('served GET /old/report.txt');
  });
});
