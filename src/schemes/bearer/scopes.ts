/**
 * Scope lists (RFC 6749 §3.3): normalising what verifiers return and checking requirements.
 */
import { AuthschemeError } from '../../errors';
import { isNqchar } from './errors';

/**
 * Which scopes a request needs. A plain list or `{ allOf }` needs every scope; `{ anyOf }` needs
 * at least one. Not both keys: that is a `TypeError` at setup (`anyOf?: undefined` says so to the
 * compiler, which otherwise takes an object with both keys as either member of the union).
 */
export type ScopeRequirement =
  | readonly string[]
  | { readonly allOf: readonly string[]; readonly anyOf?: undefined }
  | { readonly anyOf: readonly string[]; readonly allOf?: undefined };

/** A validated, frozen requirement. */
export interface CompiledScopes {
  readonly mode: 'allOf' | 'anyOf';
  readonly scopes: readonly string[];
  /** The challenge's `scope` value (RFC 6750 §3): the scopes, space-separated. */
  readonly challengeValue: string;
}

/**
 * Checks a requirement at setup. RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), so
 * a scope with a space, quote, backslash or non-ASCII character is a `TypeError`.
 */
export function compileScopes(requirement: ScopeRequirement, what: string): CompiledScopes {
  let mode: 'allOf' | 'anyOf';
  let list: unknown;
  // Each key read once; one set to `undefined` is absent, as the types say (under
  // exactOptionalPropertyTypes too).
  const spec =
    typeof requirement === 'object' && requirement !== null && !Array.isArray(requirement)
      ? (requirement as { anyOf?: unknown; allOf?: unknown })
      : undefined;
  const anyOf = spec?.anyOf;
  const allOf = spec?.allOf;
  if (anyOf !== undefined && allOf !== undefined) {
    // From JavaScript, or a spec built elsewhere (the types refuse both keys in a literal); taking
    // one silently could drop the stricter one.
    throw new TypeError(`${what}: give either allOf or anyOf, not both`);
  }
  if (Array.isArray(requirement)) {
    mode = 'allOf';
    list = requirement;
  } else if (anyOf !== undefined) {
    mode = 'anyOf';
    list = anyOf;
  } else if (allOf !== undefined) {
    mode = 'allOf';
    list = allOf;
  } else {
    throw new TypeError(`${what}: expected a list of scopes, { allOf: [...] } or { anyOf: [...] }`);
  }
  if (!Array.isArray(list)) throw new TypeError(`${what}: the scopes must be an array of strings`);
  if (list.length === 0) throw new TypeError(`${what}: the list of scopes must not be empty`);
  const scopes: string[] = [];
  for (const scope of list as unknown[]) {
    if (typeof scope !== 'string' || !isNqchar(scope)) {
      throw new TypeError(
        `${what}: a scope must be printable ASCII without space, quote or backslash` +
          spaceSeparatedHint(scope, what, list as unknown[], mode),
      );
    }
    if (!scopes.includes(scope)) scopes.push(scope);
  }
  return Object.freeze({ mode, scopes: Object.freeze(scopes), challengeValue: scopes.join(' ') });
}

/**
 * For `'read write'`, written as the `scope` claim writes scopes: how to ask for each of them.
 * The call given is the whole requirement, the other entries kept (copied, a hint naming only
 * 'read' and 'write' would drop them). `{ anyOf }` of several entries gets none: 'admin' or
 * ('read' and 'write') has no one-list form.
 */
function spaceSeparatedHint(
  scope: unknown,
  what: string,
  list: readonly unknown[],
  mode: 'allOf' | 'anyOf',
): string {
  const words = wordsOf(scope);
  if (words === undefined || words.length < 2) return '';
  const plain = ` (one scope per entry, not '${scope as string}')`;
  if (mode === 'anyOf' && list.length > 1) return plain;
  const all: string[] = [];
  for (const entry of list) {
    const each = wordsOf(entry);
    // Another entry that is no scope (nor scopes): no call to give that would compile.
    if (each === undefined || (each.length === 1 && each[0] !== entry)) return plain;
    all.push(...each);
  }
  const quoted = all.map((word) => `'${word}'`).join(', ');
  const call = what === 'requireScopes' ? `requireScopes(${quoted})` : `[${quoted}]`;
  return ` (one scope per entry: ${call}, not '${scope as string}')`;
}

/** The space-separated scopes of `entry`, or undefined when it is not one or more of them. */
function wordsOf(entry: unknown): string[] | undefined {
  if (typeof entry !== 'string') return undefined;
  const words = entry.split(' ').filter((word) => word !== '');
  return words.length > 0 && words.every(isNqchar) ? words : undefined;
}

/** True when `granted` satisfies `required`. Scopes are case-sensitive (RFC 6749 §3.3). */
export function hasScopes(granted: readonly string[], required: CompiledScopes): boolean {
  return required.mode === 'allOf'
    ? required.scopes.every((scope) => granted.includes(scope))
    : required.scopes.some((scope) => granted.includes(scope));
}

/**
 * A verifier's `scopes`: a space-separated string (the `scope` claim) or a list of strings (the
 * `scp` claim); absent means none. Anything else is a programming error, so it throws.
 */
export function normaliseScopes(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return splitScopes(value);
  if (Array.isArray(value) && value.every((scope) => typeof scope === 'string')) {
    return value.filter((scope) => scope !== '');
  }
  throw new AuthschemeError(
    'ERR_AUTH_VERIFIER_RESULT',
    'A verifier’s `scopes` must be a space-separated string or a list of strings',
  );
}

/** Splits a space-separated scope string (RFC 6749 §3.3), dropping empty items. */
export function splitScopes(value: string): string[] {
  return value.split(' ').filter((scope) => scope !== '');
}
