/** `value` and everything in it made read-only (a JWT payload or an introspection answer is JSON). */
export function deepFreeze<T>(value: T): T {
  // A stack of its own, not recursion: JSON.parse takes any depth, the call stack some 10,000.
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'object' && item !== null && !Object.isFrozen(item)) {
      Object.freeze(item);
      for (const key of Object.keys(item)) pending.push((item as Record<string, unknown>)[key]);
    }
  }
  return value;
}
