/**
 * An optional peer dependency, loaded when an adapter is set up rather than when it is imported:
 * importing `authscheme/jwt` or `authscheme/negotiate` never fails by itself, and a missing package
 * is a clear error from the setup call. (A failed load at import time would also meet a Node 20
 * bug: an ES module that catches the failed `import()` of a CommonJS module still crashes.)
 */
export function requirePeer<T>(name: string, adapter: string, install = `npm install ${name}`): T {
  try {
    return runtimeRequire(name) as T;
  } catch (cause) {
    throw new Error(
      `${adapter} needs the optional peer dependency \`${name}\`, which could not be loaded: ${install}`,
      { cause },
    );
  }
}

declare const __non_webpack_require__: NodeJS.Require | undefined;

/**
 * Node's `require` of a package named at run time. In a webpack bundle, `require(name)` is
 * webpack's own, which knows only the modules it bundled (an optional peer is never one of them):
 * there `__non_webpack_require__` is Node's.
 */
export function runtimeRequire(name: string): unknown {
  return typeof __non_webpack_require__ === 'function'
    ? __non_webpack_require__(name)
    : // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(name);
}
