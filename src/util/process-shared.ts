/**
 * State that every copy of the package in one process must see alike (a dependency's own copy in
 * its node_modules, a bundle: each has module-level variables of its own; the ESM entry re-exports
 * the CommonJS build, so those two are one). The value is kept on `globalThis` under a registered
 * symbol, made by the first copy that asks for it: a name stands for one shape of value, and
 * another shape needs another name.
 */
export function processShared<T extends object>(name: string, create: () => T): T {
  const key = Symbol.for(name);
  const registry = globalThis as unknown as Record<symbol, T | undefined>;
  const found = registry[key];
  if (found !== undefined) return found;
  const created = create();
  Object.defineProperty(globalThis, key, { value: created });
  return created;
}
