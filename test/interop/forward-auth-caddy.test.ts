/**
 * Digest, Basic and Bearer behind forward authentication: Caddy 2.6.2 (Debian's, which
 * scripts/provision.sh installs) guards an upstream with `forward_auth`, whose check is a GET to
 * the app's `/_auth/...` (the client's query string appended) with the client's header lines, its
 * method in `X-Forwarded-Method` and its target in `X-Forwarded-Uri`, both set by Caddy over any
 * the client sent; the app's `digest({ forwardedRequest })` reads them (docs/deployment.md).
 * Caddy hands the check's non-2xx response to the client as it is, every challenge line with it;
 * a 2xx's headers it drops (`copy_headers` copies them onto the request to the upstream), so the
 * check's `Authentication-Info` reaches the client only from `forward_auth` written out as the
 * `reverse_proxy` it stands for, with `copy_response_headers` (`/info/`). Caddy's `{uri}`, the
 * default `X-Forwarded-Uri`, is the target re-encoded (and without a `handle_path` prefix);
 * `{http.request.orig_uri}` is the target as sent (`/raw/`, `/strip-raw/`). Real clients (curl,
 * wget, authscheme/client) and raw requests talk to Caddy only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  basic,
  bearer,
  digest,
  formatCredentials,
  parseChallenges,
  type AuthRequest,
  type Challenge,
} from 'authscheme';
import { createAuthFetch, ServerAuthenticationError } from 'authscheme/client';
import { freePort } from '../helpers/free-port';
import { answer, expectedRspauth, parseInfo, type AnswerOptions } from '../schemes/digest/helpers';
import { raw, type Reply } from './helpers/differential';
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

const CADDY = '/usr/bin/caddy';
const TOKEN = 'forward-auth-token';

let root: string;
let caddy: ChildProcess | undefined;
let app: ForwardAuthApp;
let port: number;
let base: string; // http://127.0.0.1:<Caddy's port>

/** What Caddy's forward_auth sends the check: the client's method and target. */
const forwardedRequest = (req: AuthRequest) => ({
  method: req.headers['x-forwarded-method'] as string,
  target: req.headers['x-forwarded-uri'] as string,
});

/** The Caddyfile: `app` is the check's and the upstream's host:port. */
const caddyfile = (app: string): string => `{
	admin off
	auto_https off
	default_bind 127.0.0.1
	storage file_system ${root}/data
}
http://:${port} {
	# The check is the proxy's alone.
	respond /_auth/* 404

	# SHA-256, Basic and Bearer on one check: Caddy passes every challenge line on.
	forward_auth /files/* ${app} {
		uri /_auth/files
	}
	# The same, with the target as the client sent it (Caddy's {uri} is re-encoded).
	forward_auth /raw/* ${app} {
		uri /_auth/files
		header_up X-Forwarded-Uri {http.request.orig_uri}
	}
	# Mounted under a prefix Caddy strips: {uri} is the stripped target, orig_uri the client's.
	handle_path /strip/* {
		forward_auth ${app} {
			uri /_auth/files
		}
		reverse_proxy ${app}
	}
	handle_path /strip-raw/* {
		forward_auth ${app} {
			uri /_auth/files
			header_up X-Forwarded-Uri {http.request.orig_uri}
		}
		reverse_proxy ${app}
	}
	# MD5 alone, for wget: it answers the first challenge only.
	forward_auth /old/* ${app} {
		uri /_auth/md5
	}
	# forward_auth written out, to hand the check's Authentication-Info to the client.
	route /info/* {
		reverse_proxy ${app} {
			method GET
			rewrite /_auth/files
			header_up X-Forwarded-Method {method}
			header_up X-Forwarded-Uri {http.request.orig_uri}
			@ok status 2xx
			handle_response @ok {
				copy_response_headers {
					include Authentication-Info
				}
			}
		}
		reverse_proxy ${app}
	}
	reverse_proxy ${app}
}
`;

beforeAll(async () => {
  app = await startForwardAuthApp({
    files: check(
      digest({ users: USERS, algorithms: ['SHA-256'], forwardedRequest }),
      basic({ users: USERS }),
      bearer({ verify: (token) => (token === TOKEN ? 'robot' : false) }),
    ),
    md5: check(digest({ users: USERS, algorithms: ['MD5'], forwardedRequest })),
  });
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  root = mkdtempSync(join(tmpdir(), 'authscheme-forward-auth-caddy-'));
  // Caddy writes nothing outside the temp dir (its data, config and home there).
  const env = {
    HOME: root,
    XDG_DATA_HOME: join(root, 'data'),
    XDG_CONFIG_HOME: join(root, 'config'),
  };
  writeFileSync(join(root, 'Caddyfile'), caddyfile(app.origin.replace('http://', '')));
  // Caddy 2.6.2 autosaves a Caddyfile's config: adapt it, and run the JSON with persist off.
  const adapted = await run(
    CADDY,
    ['adapt', '--config', join(root, 'Caddyfile'), '--adapter', 'caddyfile'],
    { env },
  );
  if (adapted.code !== 0) throw new Error(`caddy adapt: ${adapted.stderr}`);
  const config = JSON.parse(adapted.stdout);
  config.admin = { disabled: true, config: { persist: false } };
  writeFileSync(join(root, 'caddy.json'), JSON.stringify(config));
  const log = openSync(join(root, 'caddy.log'), 'w');
  caddy = spawn(CADDY, ['run', '--config', join(root, 'caddy.json')], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'ignore', log],
  });
  closeSync(log);
  const exited = new Promise<string>((resolve) =>
    caddy!.once('exit', (code) => resolve(`exited with ${code}`)),
  );
  const started = await Promise.race([waitForPort(port).then(() => 'listening'), exited]);
  if (started !== 'listening') {
    throw new Error(`caddy ${started}: ${readFileSync(join(root, 'caddy.log'), 'utf8')}`);
  }
});

afterAll(async () => {
  if (caddy?.pid !== undefined && caddy.exitCode === null) {
    const exited = new Promise((resolve) => caddy!.once('exit', resolve));
    process.kill(caddy.pid, 'SIGTERM');
    await exited;
  }
  await app?.close();
  if (root !== undefined) {
    const autosaved = existsSync(join(root, 'config', 'caddy', 'autosave.json'));
    rmSync(root, { recursive: true, force: true });
    expect(autosaved).toBe(false);
  }
});

/** A raw GET to Caddy with `headers` (`Name: value` lines). */
function get(target: string, ...headers: string[]): Promise<Reply> {
  return raw(
    port,
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      headers.map((h) => `${h}\r\n`).join('') +
      'Connection: close\r\n\r\n',
  );
}

/** The header lines named `name` of a response head. */
const lines = (head: string, name: string): string[] =>
  head
    .split('\r\n')
    .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((l) => l.slice(name.length + 1).trim());

/** The Digest challenge Caddy passes on from the check for `target`. */
async function digestChallenge(target: string): Promise<Challenge> {
  const res = await get(target);
  expect(res.status).toBe(401);
  const found = lines(res.headers, 'WWW-Authenticate')
    .flatMap((l) => parseChallenges(l))
    .find((c) => c.scheme === 'Digest');
  if (found === undefined) throw new Error(`no Digest challenge: ${res.headers}`);
  return found;
}

/** A raw GET of `target` with a Digest answer computed over `options` (uri, method). */
async function getWithDigest(
  target: string,
  options: Partial<AnswerOptions> = {},
  ...headers: string[]
): Promise<{ res: Reply; authorization: string; rspauth: string }> {
  const c = await digestChallenge(target);
  const sent: AnswerOptions = { user: 'alice', password: 'wonderland', uri: target, ...options };
  const authorization = formatCredentials(answer(c, sent));
  const res = await get(target, `Authorization: ${authorization}`, ...headers);
  return { res, authorization, rspauth: expectedRspauth(c, sent) };
}

/** The header lines the check got for the last request whose X-Forwarded-Uri was `target`. */
function checkFor(target: string): Record<string, string[]> {
  const found = app.checks.filter((c) => {
    const i = c.rawHeaders.findIndex((h) => h.toLowerCase() === 'x-forwarded-uri');
    return i >= 0 && c.rawHeaders[i + 1] === target;
  });
  const last = found.at(-1);
  if (last === undefined) throw new Error(`no check for ${target}`);
  const byName: Record<string, string[]> = { ':request': [`${last.method} ${last.url}`] };
  for (let i = 0; i < last.rawHeaders.length; i += 2) {
    (byName[last.rawHeaders[i]!.toLowerCase()] ??= []).push(last.rawHeaders[i + 1]!);
  }
  return byName;
}

describe('Digest behind Caddy 2.6.2 forward_auth (forwardedRequest)', () => {
  it('curl --digest: GET with a query and POST with a body, each hashed over its own method and target', async () => {
    const got = await curl(['--digest', '-u', 'alice:wonderland', `${base}/files/a%20b?x=1&y=2`]);
    expect(got.status).toBe(200);
    expect(got.body).toBe('served GET /files/a%20b?x=1&y=2');
    // forward_auth drops the check's 2xx headers: no Authentication-Info for the client.
    expect(got.head).not.toMatch(/^Authentication-Info:/im);
    // What the check got: a GET to the uri, with the client's query, method and target.
    const seen = checkFor('/files/a%20b?x=1&y=2');
    expect(seen[':request']).toEqual(['GET /_auth/files?x=1&y=2']);
    expect(seen['x-forwarded-method']).toEqual(['GET']);
    expect(seen.authorization?.[0]).toMatch(/^Digest .*uri="\/files\/a%20b\?x=1&y=2"/);

    const post = await curlDigestPost(`${base}/files/upload`);
    expect(post.status).toBe(200);
    expect(app.served).toContain('POST /files/upload payload');
    const posted = checkFor('/files/upload');
    expect(posted[':request']).toEqual(['GET /_auth/files']);
    expect(posted['x-forwarded-method']).toEqual(['POST']);
    // No body goes to the check.
    expect(posted['content-length']).toBeUndefined();
  });

  it('the check’s Authentication-Info reaches the client through forward_auth written out with copy_response_headers', async () => {
    const res = await curl(['--digest', '-u', 'alice:wonderland', `${base}/info/report?v=2`]);
    expect(res.status).toBe(200);
    expect(res.body).toBe('served GET /info/report?v=2');
    expect(res.head).toMatch(/^Authentication-Info: .*rspauth="[0-9a-f]{64}"/im);

    // And its rspauth is the one for the client's own uri.
    const { res: rawRes, rspauth } = await getWithDigest('/info/a?b=c');
    expect(rawRes.status).toBe(200);
    const info = lines(rawRes.headers, 'Authentication-Info');
    expect(info).toHaveLength(1);
    expect(parseInfo(info[0]!).rspauth).toBe(rspauth);

    // authscheme/client's mutual authentication needs it: plain forward_auth cannot give it.
    const strict = createAuthFetch(
      { username: 'alice', password: 'wonderland' },
      { verifyServer: 'require' },
    );
    const proven = await strict(`${base}/info/strict`);
    expect(proven.status).toBe(200);
    expect(await proven.text()).toBe('served GET /info/strict');
    const unproven = strict(`${base}/files/strict`);
    await expect(unproven).rejects.toBeInstanceOf(ServerAuthenticationError);
    await expect(unproven).rejects.toThrow(/sent no rspauth/);
  });

  it('a wrong password gets the check’s 401 as it is: every challenge line, Cache-Control, and nothing served', async () => {
    const before = app.served.length;
    const res = await curl(['--digest', '-u', 'alice:wrong', `${base}/files/secret`]);
    expect(res.status).toBe(401);
    const challenges = lines(res.head, 'WWW-Authenticate');
    expect(challenges).toHaveLength(3);
    expect(challenges[0]).toMatch(/^Digest realm="files", .*algorithm=SHA-256/);
    expect(challenges[1]).toMatch(/^Basic realm="files"/);
    expect(challenges[2]).toMatch(/^Bearer realm="files"/);
    expect(lines(res.head, 'Cache-Control')).toEqual(['no-store']);
    // The app's response itself (Caddy adds its Server line).
    expect(lines(res.head, 'X-Powered-By')).toEqual(['Express']);
    expect(res.body).toBe('Unauthorized');
    expect(app.served.length).toBe(before);
  });

  it('a replayed Authorization is refused', async () => {
    const before = app.served.length;
    const { res, authorization } = await getWithDigest('/files/once');
    expect(res.status).toBe(200);
    const again = await get('/files/once', `Authorization: ${authorization}`);
    expect(again.status).toBe(401);
    expect(app.served.length).toBe(before + 1);
  });

  it('Caddy sets X-Forwarded-Method and X-Forwarded-Uri over the client’s own: an answer for another request does not pass', async () => {
    const before = app.served.length;
    // Computed for /files/public, sent to /files/secret, naming /files/public itself.
    const c = await digestChallenge('/files/secret');
    const forOther = formatCredentials(
      answer(c, { user: 'alice', password: 'wonderland', uri: '/files/public' }),
    );
    const res = await get(
      '/files/secret',
      `Authorization: ${forOther}`,
      'X-Forwarded-Uri: /files/public',
      'X-Forwarded-Method: GET',
    );
    // The check's 400 (uri is not the target), passed on as it is.
    expect(res.status).toBe(400);
    const seen = checkFor('/files/secret');
    expect(seen['x-forwarded-uri']).toEqual(['/files/secret']);

    // Computed for PUT, sent as a GET that names PUT.
    const { res: put } = await getWithDigest(
      '/files/secret',
      { method: 'PUT' },
      'X-Forwarded-Method: PUT',
    );
    expect(put.status).toBe(401);
    expect(checkFor('/files/secret')['x-forwarded-method']).toEqual(['GET']);
    // Caddy sets its X-Forwarded-For, -Proto and -Host too (no trusted_proxies).
    const spoofed = await get(
      '/files/secret',
      'X-Forwarded-For: 203.0.113.9',
      'X-Forwarded-Host: evil',
    );
    expect(spoofed.status).toBe(401);
    const last = checkFor('/files/secret');
    expect(last['x-forwarded-for']).toEqual(['127.0.0.1']);
    expect(last['x-forwarded-host']).toEqual([`127.0.0.1:${port}`]);
    expect(last['x-forwarded-proto']).toEqual(['http']);
    expect(app.served.length).toBe(before);
  });

  it('Caddy’s {uri} re-encodes a target ({, }, |, ^): 400, unless X-Forwarded-Uri is {http.request.orig_uri}', async () => {
    // curl sends a | as it is.
    const plain = await curl(['-g', '--digest', '-u', 'alice:wonderland', `${base}/files/a|b`]);
    expect(plain.status).toBe(400);
    expect(checkFor('/files/a%7Cb')['authorization']?.[0]).toMatch(/ uri="\/files\/a\|b"/);
    const asIs = await curl(['-g', '--digest', '-u', 'alice:wonderland', `${base}/raw/a|b`]);
    expect(asIs.status).toBe(200);
    expect(asIs.body).toBe('served GET /raw/a%7Cb');

    const before = app.served.length;
    const { res } = await getWithDigest('/files/a{b}|c^?q={x}');
    expect(res.status).toBe(400);
    expect(checkFor('/files/a%7Bb%7D%7Cc%5E?q={x}')['x-forwarded-method']).toEqual(['GET']);
    expect(app.served.length).toBe(before);

    const { res: asSent } = await getWithDigest('/raw/a{b}|c^?q={x}');
    expect(asSent.status).toBe(200);
    expect(checkFor('/raw/a{b}|c^?q={x}')['x-forwarded-method']).toEqual(['GET']);
    expect(app.served).toEqual([...app.served.slice(0, before), 'GET /raw/a%7Bb%7D%7Cc%5E?q={x} ']);
  });

  it('behind handle_path, {uri} is the stripped target (400), {http.request.orig_uri} the client’s', async () => {
    const stripped = await curl(['--digest', '-u', 'alice:wonderland', `${base}/strip/doc?v=1`]);
    expect(stripped.status).toBe(400);
    expect(checkFor('/doc?v=1')[':request']).toEqual(['GET /_auth/files?v=1']);
    const kept = await curl(['--digest', '-u', 'alice:wonderland', `${base}/strip-raw/doc?v=1`]);
    expect(kept.status).toBe(200);
    expect(kept.body).toBe('served GET /doc?v=1');
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

  it('the check path is not reachable through Caddy', async () => {
    const res = await get('/_auth/files', 'X-Forwarded-Uri: /files/x', 'X-Forwarded-Method: GET');
    expect(res.status).toBe(404);
  });
});

describe('Basic and Bearer behind Caddy 2.6.2 forward_auth', () => {
  it('curl with Basic credentials', async () => {
    const res = await curl(['--basic', '-u', 'alice:wonderland', `${base}/files/basic`]);
    expect(res.status).toBe(200);
    expect(res.body).toBe('served GET /files/basic');
    const wrong = await curl(['--basic', '-u', 'alice:wrong', `${base}/files/basic`]);
    expect(wrong.status).toBe(401);
  });

  it('curl with a Bearer token', async () => {
    const res = await curl(['-H', `Authorization: Bearer ${TOKEN}`, `${base}/files/bearer`]);
    expect(res.status).toBe(200);
    expect(res.body).toBe('served GET /files/bearer');
    const wrong = await curl(['-H', 'Authorization: Bearer nope', `${base}/files/bearer`]);
    expect(wrong.status).toBe(401);
    expect(wrong.head).toMatch(/^WWW-Authenticate: Bearer realm="files", error="invalid_token"/im);
  });
});
