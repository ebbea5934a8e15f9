/**
 * One challenge (`WWW-Authenticate`, `Proxy-Authenticate`) or one set of credentials
 * (`Authorization`, `Proxy-Authorization`), RFC 9110 §11.3 and §11.4.
 *
 * - `scheme` keeps the spelling it had on the wire; compare it case-insensitively.
 * - `token68` is set when the challenge or credentials carry a token68 instead of parameters.
 * - `params` keys are lower-cased; values are unquoted and unescaped. The object has a null
 *   prototype, so a parameter named `__proto__` is data.
 */
export interface Challenge {
  scheme: string;
  token68?: string | undefined;
  params: Record<string, string>;
}

/** Credentials have the same shape as a challenge: a scheme with a token68 or parameters. */
export type Credentials = Challenge;

/** Bounds the codec enforces; every one is finite. */
export interface HeaderLimits {
  /** Longest field value accepted, in characters (all lines together). Default 16384. */
  maxLength?: number | undefined;
  /** Most parameters in one challenge or credentials. Default 64. */
  maxParams?: number | undefined;
  /** Most challenges in one `WWW-Authenticate` value (all lines together). Default 32. */
  maxChallenges?: number | undefined;
}
