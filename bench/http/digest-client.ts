/**
 * The client side of Digest (RFC 7616 §3.4) as the correctness check (check.ts) plays it: one
 * handshake, then the same nonce with `nc` counting up, as browsers and curl do. Under load,
 * wrk/digest.lua plays the same client in Lua. MD5 and SHA-256
 * (and their -sess forms) with `qop=auth`, which is what the servers under test offer.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  /** As the server spelled it; absent means MD5 (RFC 7616 §3.3). */
  algorithm?: string;
  qop?: string;
}

const HASHES: Record<string, 'md5' | 'sha256'> = {
  md5: 'md5',
  'md5-sess': 'md5',
  'sha-256': 'sha256',
  'sha-256-sess': 'sha256',
};

/**
 * Finds the first Digest challenge with an algorithm we can answer in one or more
 * `WWW-Authenticate` values. The input comes from the servers under test, not from strangers;
 * still, a linear scanner rather than a regex.
 */
export function pickDigestChallenge(
  field: string | string[] | undefined,
): DigestChallenge | undefined {
  if (field === undefined) return undefined;
  for (const value of Array.isArray(field) ? field : [field]) {
    for (const challenge of splitChallenges(value)) {
      if (challenge.scheme.toLowerCase() !== 'digest') continue;
      const { realm, nonce, opaque, algorithm, qop } = challenge.params;
      if (realm === undefined || nonce === undefined) continue;
      if (HASHES[(algorithm ?? 'MD5').toLowerCase()] === undefined) continue;
      return { realm, nonce, opaque, algorithm, qop };
    }
  }
  return undefined;
}

interface ParsedChallenge {
  scheme: string;
  params: Record<string, string | undefined>;
}

function splitChallenges(value: string): ParsedChallenge[] {
  const challenges: ParsedChallenge[] = [];
  let i = 0;
  const n = value.length;
  const skip = (): void => {
    while (i < n && (value[i] === ' ' || value[i] === '\t' || value[i] === ',')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && value[i] !== ' ' && value[i] !== '\t' && value[i] !== ',' && value[i] !== '=')
      i++;
    return value.slice(start, i);
  };
  let current: ParsedChallenge | undefined;
  for (let guard = 0; i < n && guard < n + 1; guard++) {
    skip();
    const start = i;
    const token = readToken();
    if (token === '') break;
    let j = i;
    while (j < n && (value[j] === ' ' || value[j] === '\t')) j++;
    if (value[j] === '=' && current !== undefined) {
      i = j + 1;
      while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
      let param = '';
      if (value[i] === '"') {
        i++;
        while (i < n && value[i] !== '"') {
          if (value[i] === '\\') i++;
          param += value[i] ?? '';
          i++;
        }
        i++;
      } else {
        const valueStart = i;
        while (i < n && value[i] !== ',' && value[i] !== ' ' && value[i] !== '\t') i++;
        param = value.slice(valueStart, i);
      }
      current.params[token.toLowerCase()] = param;
    } else {
      if (i === start) break;
      current = { scheme: token, params: Object.create(null) as Record<string, string> };
      challenges.push(current);
    }
  }
  return challenges;
}

function hash(algorithm: 'md5' | 'sha256', text: string): string {
  return createHash(algorithm).update(text).digest('hex');
}

/** One connection's Digest state: the current nonce and its count. */
export class DigestSession {
  private challenge: DigestChallenge | undefined;
  private nc = 0;
  private cnonce = '';
  private ha1 = '';
  private algorithm: 'md5' | 'sha256' = 'md5';

  constructor(
    private readonly user: string,
    private readonly password: string,
  ) {}

  get hasNonce(): boolean {
    return this.challenge !== undefined;
  }

  /** Takes a (new) challenge: the handshake, or a stale/refused nonce being replaced. */
  accept(challenge: DigestChallenge): void {
    this.challenge = challenge;
    this.nc = 0;
    this.cnonce = randomBytes(8).toString('hex');
    const name = (challenge.algorithm ?? 'MD5').toLowerCase();
    this.algorithm = HASHES[name] ?? 'md5';
    const base = hash(this.algorithm, `${this.user}:${challenge.realm}:${this.password}`);
    // RFC 7616 §3.4.2: the -sess variants fold nonce and cnonce into HA1 once per nonce.
    this.ha1 = name.endsWith('-sess')
      ? hash(this.algorithm, `${base}:${challenge.nonce}:${this.cnonce}`)
      : base;
  }

  /**
   * Moves to the `nextnonce` of an Authentication-Info value, if it has one (RFC 7616 §3.5: the
   * client should use it for its next request), as a client that stays longer than a nonce does.
   */
  followNextNonce(info: string | string[] | undefined): void {
    const next = typeof info === 'string' ? /nextnonce="([^"]+)"/.exec(info)?.[1] : undefined;
    if (next !== undefined && this.challenge !== undefined) {
      this.accept({ ...this.challenge, nonce: next });
    }
  }

  /** The Authorization value for the next request on this nonce (`nc` + 1). */
  authorization(method: string, uri: string): string {
    const challenge = this.challenge;
    if (challenge === undefined) throw new Error('no Digest challenge yet');
    this.nc++;
    const nc = this.nc.toString(16).padStart(8, '0');
    const ha2 = hash(this.algorithm, `${method}:${uri}`);
    const qop = challenge.qop === undefined ? undefined : 'auth';
    const response =
      qop === undefined
        ? hash(this.algorithm, `${this.ha1}:${challenge.nonce}:${ha2}`)
        : hash(this.algorithm, `${this.ha1}:${challenge.nonce}:${nc}:${this.cnonce}:${qop}:${ha2}`);
    let value =
      `Digest username="${this.user}", realm="${challenge.realm}", nonce="${challenge.nonce}", ` +
      `uri="${uri}", response="${response}"`;
    if (challenge.algorithm !== undefined) value += `, algorithm=${challenge.algorithm}`;
    if (qop !== undefined) value += `, qop=${qop}, nc=${nc}, cnonce="${this.cnonce}"`;
    if (challenge.opaque !== undefined) value += `, opaque="${challenge.opaque}"`;
    return value;
  }
}
