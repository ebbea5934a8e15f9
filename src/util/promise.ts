/** True for anything with a callable `then`: a verifier may return a value or a promise. */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * Catches the rejection of `value` when it is a promise whose outcome nobody awaits (a hook's, or
 * a callback's that should have answered synchronously): unhandled, it would end the process.
 */
export function ignoreRejection(value: unknown): void {
  if (isPromiseLike(value)) Promise.resolve(value).catch(() => undefined);
}
