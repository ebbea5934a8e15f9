/**
 * The demo's access tokens: random, short-lived, kept in memory (bounded). A real deployment
 * would use an authorization server and `authscheme/jwt`; this store keeps `npm start`
 * dependency-free.
 */
import { createHash, randomBytes } from 'node:crypto';

/** What a demo token stands for. */
export interface IssuedToken {
  user: string;
  scopes: string[];
  expiresAt: number;
}

const MAX_TOKENS = 1000;

/** Scopes the demo hands out. */
export const DEMO_SCOPES = ['read', 'admin'] as const;

export class DemoTokenStore {
  // Keyed by the token's SHA-256, so that a lookup's timing reveals nothing about stored tokens.
  readonly #tokens = new Map<string, IssuedToken>();
  readonly #pinned = new Map<string, IssuedToken>();

  constructor(readonly lifetimeSeconds = 3600) {}

  /**
   * Issues a new token (base64url, 256 random bits). The oldest token goes when the store is full.
   * A `pinned` token (the landing page's read token) neither expires nor is evicted: the page and
   * the start-up log show it for as long as the demo runs.
   */
  issue(
    user: string,
    scopes: readonly string[],
    options: { pinned?: boolean } = {},
  ): { token: string; expiresIn: number } {
    const token = randomBytes(32).toString('base64url');
    if (options.pinned) {
      this.#pinned.set(digestOf(token), { user, scopes: [...scopes], expiresAt: Infinity });
      return { token, expiresIn: this.lifetimeSeconds };
    }
    if (this.#tokens.size >= MAX_TOKENS) {
      const oldest = this.#tokens.keys().next().value;
      if (oldest !== undefined) this.#tokens.delete(oldest);
    }
    this.#tokens.set(digestOf(token), {
      user,
      scopes: [...scopes],
      expiresAt: Date.now() + this.lifetimeSeconds * 1000,
    });
    return { token, expiresIn: this.lifetimeSeconds };
  }

  /** The identity for `bearer({ verify })`: `{ user, scopes }`, or `false` if unknown or expired. */
  verify(token: string): { user: string; scopes: string[] } | false {
    const key = digestOf(token);
    const entry = this.#pinned.get(key) ?? this.#tokens.get(key);
    if (entry === undefined) return false;
    if (entry.expiresAt <= Date.now()) {
      this.#tokens.delete(key);
      return false;
    }
    return { user: entry.user, scopes: [...entry.scopes] };
  }
}

function digestOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
