import { optionNames, rejectUnknownOptions } from '../util/options';
import type { HeaderLimits } from './types';

const LIMIT_NAMES = optionNames<HeaderLimits>()(['maxLength', 'maxParams', 'maxChallenges']);

/**
 * The bounds the codec applies when the caller gives none. Node refuses request heads over 16 KB
 * by default (`maxHeaderSize`), so `maxLength` matches it; the codec still checks, because it also
 * runs on the client side and behind raised server limits.
 */
export const DEFAULT_LIMITS: Readonly<Required<HeaderLimits>> = Object.freeze({
  maxLength: 16384,
  maxParams: 64,
  maxChallenges: 32,
});

/** `limits` with every bound filled in; the defaults object itself when none were given. */
export function resolveLimits(limits: HeaderLimits | undefined): Readonly<Required<HeaderLimits>> {
  if (limits === undefined) return DEFAULT_LIMITS;
  // What this returned before (DEFAULT_LIMITS among them) comes back as it is: authenticate()
  // resolves its limits once, and the parsers then get them on every request.
  if (resolved.has(limits)) return limits as Readonly<Required<HeaderLimits>>;
  if (typeof limits !== 'object' || limits === null) {
    throw new TypeError('HeaderLimits must be an object');
  }
  rejectUnknownOptions('HeaderLimits', limits, LIMIT_NAMES);
  const result = Object.freeze({
    maxLength: bound(limits.maxLength, DEFAULT_LIMITS.maxLength, 'maxLength', 1),
    // 0 is a real choice here: credentials in token68 form only (Basic, Bearer), no Digest.
    maxParams: bound(limits.maxParams, DEFAULT_LIMITS.maxParams, 'maxParams', 0),
    maxChallenges: bound(limits.maxChallenges, DEFAULT_LIMITS.maxChallenges, 'maxChallenges', 1),
  });
  resolved.add(result);
  return result;
}

/** Results of {@link resolveLimits}, frozen, so that none can change after its check. */
const resolved = new WeakSet<object>([DEFAULT_LIMITS]);

function bound(value: number | undefined, fallback: number, name: string, least: 0 | 1): number {
  if (value === undefined) return fallback;
  // Every bound must be finite (a principle of the design): Infinity or NaN is a programming error.
  // A length or a challenge count of 0 refuses every header (often `Number('')` from an unset
  // variable), so those start at 1.
  if (!Number.isSafeInteger(value) || value < least) {
    throw new TypeError(
      `HeaderLimits.${name} must be a ${least === 0 ? 'non-negative' : 'positive'} integer`,
    );
  }
  return value;
}
