/**
 * What the Negotiate tests with a real KDC share (test/adapters/negotiate.test.ts, negotiate-audit,
 * negotiate-firefox.test.ts): the server of ./negotiate-server.ts started in its own process, and
 * readers of the SPNEGO tokens a client and the server exchange.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Kdc } from './kdc';

export interface NegotiateServer {
  child: ChildProcess;
  exited: Promise<void>;
  port: number;
  /** The HTTP/2 (TLS) port, when NEGOTIATE_TLS_KEY and NEGOTIATE_TLS_CERT were given. */
  h2Port: number | undefined;
  /** SIGTERM, then SIGKILL after 2 s; resolves once the process exited. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts ./negotiate-server.ts in its own process with the realm in its environment (and its
 * replay-cache directory, which every such process shares) and `env` (NEGOTIATE_KEYTAB, and
 * optionally NEGOTIATE_TLS_KEY and NEGOTIATE_TLS_CERT); resolves once it listens.
 */
export async function startNegotiateServer(
  kdc: Kdc,
  env: Record<string, string>,
): Promise<NegotiateServer> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'negotiate-server.ts')],
    {
      cwd: path.join(__dirname, '..', '..'),
      env: { ...process.env, ...kdc.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const [port, h2Port] = await new Promise<[number, number | undefined]>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 40_000);
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      // `listening <port>` or `listening <port> h2 <port>`, a whole line.
      const match = /listening (\d+)(?: h2 (\d+))?\n/.exec(out);
      if (match !== null) {
        clearTimeout(timer);
        resolve([Number(match[1]), match[2] === undefined ? undefined : Number(match[2])]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${err}`));
    });
  });
  return {
    child,
    exited,
    port,
    h2Port,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** DER-encoded OIDs (tag, length, value). */
export const OID = {
  spnego: Buffer.from('06062b0601050502', 'hex'),
  ntlm: Buffer.from('060a2b06010401823702020a', 'hex'),
  krb5: Buffer.from('06092a864886f712010202', 'hex'),
  /** 1.2.840.48018.1.2.2, the Kerberos OID Windows's SSPI lists first (its old, mis-encoded krb5). */
  msKrb5: Buffer.from('06092a864882f712010202', 'hex'),
  /** 1.3.6.1.4.1.311.2.2.30, NegoEx, which Windows lists after Kerberos. */
  negoex: Buffer.from('060a2b06010401823702021e', 'hex'),
};

/**
 * The fields of the SPNEGO NegTokenResp (RFC 4178 §4.2.2) in a `Negotiate <token>` line, by
 * context tag: 0 negState, 1 supportedMech, 2 responseToken (the mechanism's own: here the Kerberos
 * AP-REP that a client checks for mutual authentication), 3 mechListMIC. Empty for anything else.
 */
export function negTokenRespFields(line: string | null | undefined): number[] {
  const bytes = Buffer.from(line?.replace(/^Negotiate /, '') ?? '', 'base64');
  const read = (at: number): { tag: number; start: number; end: number } => derAt(bytes, at);
  const outer = read(0);
  if (outer.tag !== 0xa1 || outer.end !== bytes.length) return [];
  const sequence = read(outer.start);
  if (sequence.tag !== 0x30) return [];
  const tags: number[] = [];
  for (let at = sequence.start; at < sequence.end; at = read(at).end) tags.push(bytes[at]! & 0x1f);
  return tags;
}

/** The DER element at `at`: its tag and where its contents start and end (definite lengths). */
export function derAt(bytes: Buffer, at: number): { tag: number; start: number; end: number } {
  let length = bytes[at + 1] ?? 0;
  let start = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + bytes[start + i]!;
    start += octets;
  }
  return { tag: bytes[at] ?? 0, start, end: start + length };
}

/** `token` (base64) starts as a GSS-API initial context token of the mechanism `oid` (DER). */
export function initialTokenOf(token: string | null | undefined, oid: Buffer): boolean {
  const bytes = Buffer.from(token?.replace(/^Negotiate /, '') ?? '', 'base64');
  if (bytes[0] !== 0x60) return false;
  const lengthOctets = bytes[1]! & 0x80 ? 1 + (bytes[1]! & 0x7f) : 1;
  return bytes.subarray(1 + lengthOctets, 1 + lengthOctets + oid.length).equals(oid);
}
