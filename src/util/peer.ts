/**
 * An optional peer dependency, loaded when an adapter is set up rather than when it is imported:
 * importing `authscheme/jwt` or `authscheme/negotiate` never fails by itself, and a missing package
 * is a clear error from the setup call. (A failed load at import time would also meet a Node 20
 * bug: an ES module that catches the failed `import()` of a CommonJS module still crashes.)
 */
export function requirePeer<T>(name: string, adapter: string, install = `npm install ${name}`): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch (cause) {
    throw new Error(
      `${adapter} needs the optional peer dependency \`${name}\`, which could not be loaded: ${install}`,
      { cause },
    );
  }
}
