/**
 * How deep `value` nests as `[[[…]]]`, checking that every level is frozen (deeply nested claims
 * of a JWT or an introspection answer, frozen without recursion).
 */
export function frozenDepth(value: unknown): number {
  let level = value;
  let depth = 0;
  while (Array.isArray(level)) {
    expect(Object.isFrozen(level)).toBe(true);
    level = level[0];
    depth++;
  }
  return depth;
}
