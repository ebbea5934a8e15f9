/**
 * Runs JavaClient.java (beside this file): the JDK's java.net.HttpURLConnection with a
 * java.net.Authenticator, several independent sessions per JVM. The program is compiled once per
 * test file into a temporary directory: a JVM then starts in a fraction of a second, where the
 * single-file source launcher (`java JavaClient.java`) compiles it again on every run (about a
 * second each).
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJson, run } from './run';

const SOURCE = join(__dirname, 'JavaClient.java');
const JVMS = '/usr/lib/jvm';

/**
 * Debian's JDK 17 (`java-17-openjdk-<arch>`, which scripts/provision.sh installs), by its path: the
 * tests record what JDK 17 does, and another JDK on PATH (Temurin 25 on some machines) does
 * otherwise (no MD5 by default, SHA-512-256 known).
 */
function jdk17(): string {
  const name = readdirSync(JVMS).find((entry) => /^java-17-openjdk-[a-z0-9_]+$/.test(entry));
  if (name === undefined) {
    throw new Error(`no JDK 17 in ${JVMS} (scripts/provision.sh installs openjdk-17-jdk-headless)`);
  }
  return join(JVMS, name, 'bin');
}

/** One session: its own Authenticator, so nothing carries over from another session. */
export interface JavaSession {
  id: string;
  /** What the Authenticator answers to a 401. */
  user?: string;
  password?: string;
  /** `http://host:port` of a forward proxy, and what the Authenticator answers to its 407. */
  proxy?: string;
  proxyUser?: string;
  proxyPassword?: string;
  /** Sent by hand as `Authorization: Bearer …`; `@token` sends the last `access_token` received. */
  bearer?: string;
  /** A PEM certificate that https origins are trusted with. */
  ca?: string;
  /** In order: `GET url`, or `POST url body` (a form-encoded body). */
  requests: string[];
}

/** One request the JDK sent, read from its own debug log, and what came back. */
export interface JavaExchange {
  /** The request line, e.g. `GET /basic HTTP/1.1`. */
  request: string;
  authorization: string | null;
  proxyAuthorization: string | null;
  status: number | null;
  /** The WWW-Authenticate or Proxy-Authenticate lines of the answer. */
  challenges: string[];
  /** Its Authentication-Info (or Proxy-Authentication-Info) field. */
  info: string | null;
}

/** One call of the application: getResponseCode(), after whatever the JDK did on its own. */
export interface JavaResponse {
  method: string;
  url: string;
  status: number;
  body: string;
  /** Every request the JDK sent for this call, in order. */
  exchanges: JavaExchange[];
  /** The Authenticator's calls during this call. */
  asked: Array<{ type: 'SERVER' | 'PROXY'; scheme: string; realm: string }>;
}

export interface JavaSessionResult {
  id: string;
  responses: JavaResponse[];
  /** The exception that ended the session (class: message), with its call's exchanges. */
  error?: string;
  exchanges?: JavaExchange[];
}

export interface JavaClient {
  /** e.g. `17.0.15` */
  version: string;
  /**
   * Runs the sessions in one JVM, with `jvmArgs` (system properties) before the class and `env`
   * added to its environment (e.g. KRB5CCNAME, which the JDK's Kerberos reads).
   */
  run(
    sessions: JavaSession[],
    jvmArgs?: string[],
    env?: Record<string, string>,
  ): Promise<Map<string, JavaSessionResult>>;
  remove(): Promise<void>;
}

function encode(session: JavaSession): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(session)) {
    if (key === 'requests')
      for (const request of value as string[]) form.append('request', request);
    else if (value !== undefined) form.append(key, String(value));
  }
  return form.toString();
}

/** Compiles JavaClient.java with JDK 17's `javac`. */
export async function compileJavaClient(): Promise<JavaClient> {
  const bin = jdk17();
  const java = join(bin, 'java');
  const version = await run(java, ['-version']);
  // `openjdk version "17.0.15" 2025-04-15`, on stderr.
  const number = /version "([^"]+)"/.exec(version.stderr)?.[1];
  if (version.code !== 0 || number === undefined) {
    throw new Error(`java is not runnable (scripts/provision.sh installs it): ${version.stderr}`);
  }
  const classes = await mkdtemp(join(tmpdir(), 'authscheme-java-'));
  const compiled = await run(join(bin, 'javac'), ['-d', classes, SOURCE], { timeoutMs: 60_000 });
  if (compiled.code !== 0) {
    await rm(classes, { recursive: true, force: true });
    throw new Error(`javac failed: ${compiled.stderr}`);
  }
  return {
    version: number,
    async run(sessions, jvmArgs = [], env = {}) {
      const result = await run(
        java,
        [...jvmArgs, '-cp', classes, 'JavaClient', ...sessions.map(encode)],
        { timeoutMs: 30_000, env },
      );
      const results = new Map<string, JavaSessionResult>();
      for (const line of result.stdout.split('\n').filter((text) => text !== '')) {
        const parsed = parseJson(line) as JavaSessionResult | undefined;
        if (parsed !== undefined) results.set(parsed.id, parsed);
      }
      if (results.size !== sessions.length) {
        throw new Error(
          `JavaClient answered ${results.size} of ${sessions.length} sessions: ${result.stderr}`,
        );
      }
      return results;
    },
    remove: () => rm(classes, { recursive: true, force: true }),
  };
}

/** The JSON body the demo answered with, parsed; `undefined` when it was not JSON. */
export function bodyOf(response: JavaResponse | undefined): Record<string, unknown> | undefined {
  return response === undefined ? undefined : parseJson(response.body);
}

/** `user` of the demo's `req.auth` echo. */
export function userOf(response: JavaResponse | undefined): unknown {
  return (bodyOf(response)?.auth as { user?: unknown } | undefined)?.user;
}
