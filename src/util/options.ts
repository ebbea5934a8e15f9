/**
 * Setup-time checks of options objects. JavaScript callers, and TypeScript ones passing an object
 * built elsewhere, get no excess-property check from the compiler: a misspelt option (`realms`,
 * `userHash`, `algorithm`) would be ignored in silence, and for an authentication library what
 * is ignored is often a protection.
 */
import { Readable } from 'node:stream';
import { isPromiseLike } from './promise';
import { isPaddedOrControl } from './text';

/**
 * The option names of `T`, checked by the compiler both ways: a name `T` lacks does not compile,
 * nor does a list that misses one of `T`'s names.
 */
export function optionNames<T>() {
  return <const K extends readonly (keyof T & string)[]>(
    names: K &
      ([Exclude<keyof T, K[number]>] extends [never]
        ? unknown
        : { missing: Exclude<keyof T, K[number]> }),
  ): ReadonlySet<string> => new Set<string>(names);
}

/**
 * Throws a TypeError naming the first own key of `options` that is not a known option, or that is
 * `null`. `unlisted`
 * names keys let through but not offered in the message (jwtBearer's `verify`, which it refuses
 * unless undefined).
 */
export function rejectUnknownOptions(
  caller: string,
  options: object,
  known: ReadonlySet<string>,
  unlisted: readonly string[] = [],
): void {
  for (const key of Object.keys(options)) {
    if (!known.has(key) && !unlisted.includes(key)) {
      throw new TypeError(
        `${caller}: unknown option \`${key}\` (the options are ${[...known].join(', ')})`,
      );
    }
    // One rule for every option: `null` is not "the default" (a configuration read from JSON,
    // which has no `undefined`, would otherwise fall back in silence, to a random secret or a
    // generated realm where it meant a value). Absent or `undefined` is the default.
    if ((options as Record<string, unknown>)[key] === null) {
      throw new TypeError(
        `${caller}: \`${key}\` is null: give a value, or leave the option out (or undefined) where it has a default`,
      );
    }
  }
}

/**
 * The named options of `options`, each read once by property access (an inherited or
 * getter-defined option counts, as it does when read in place), those undefined left out: a
 * snapshot, so that an option changed after setup escapes no check.
 */
export function readOptions(options: object, names: ReadonlySet<string>): Record<string, unknown> {
  const read: Record<string, unknown> = {};
  for (const name of names) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined) read[name] = value;
  }
  return read;
}

/** Throws unless each named option is absent (`undefined`) or a boolean. */
export function checkBooleanOptions(
  caller: string,
  options: object,
  names: readonly string[],
): void {
  checkEach(caller, options, names, (value) => typeof value === 'boolean', 'a boolean');
}

/**
 * Throws unless each named option is absent (`undefined`) or a non-empty string; with `exact`,
 * for names compared exactly (a claim name, a `typ`, a hint sent on), also without a control
 * character or surrounding white space: a line end or padding left from a file or variable would
 * match nothing, in silence.
 */
export function checkStringOptions(
  caller: string,
  options: object,
  names: readonly string[],
  exact = false,
): void {
  checkEach(
    caller,
    options,
    names,
    (value) => typeof value === 'string' && value !== '' && !(exact && isPaddedOrControl(value)),
    exact
      ? 'a non-empty string without control characters or surrounding white space'
      : 'a non-empty string',
  );
}

/**
 * Throws unless each named option is absent (`undefined`) or a number of milliseconds >= 0,
 * `Infinity` included (a lifetime); with `timer`, an integer from 1 to 2^31 - 1 (a delay handed to
 * a timer, which turns anything longer into 1 ms, and for which 0 times out at once).
 */
export function checkDurationOptions(
  caller: string,
  options: object,
  names: readonly string[],
  timer = false,
): void {
  checkEach(
    caller,
    options,
    names,
    (value) =>
      typeof value === 'number' &&
      (timer ? Number.isInteger(value) && value >= 1 && value <= 2 ** 31 - 1 : value >= 0),
    timer
      ? 'an integer number of milliseconds from 1 to 2^31 - 1'
      : 'a number of milliseconds >= 0',
  );
}

function checkEach(
  caller: string,
  options: object,
  names: readonly string[],
  valid: (value: unknown) => boolean,
  what: string,
): void {
  for (const name of names) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined && !valid(value)) {
      throw new TypeError(`${caller}: \`${name}\` must be ${what}`);
    }
  }
}

/**
 * What a setup message adds when the value is a promise: one not awaited (`loadHtpasswd(path)`,
 * node-redis's `connect()`, jose's key imports) fails a check whose own words ("must be a
 * function") do not say why.
 */
export function promiseNote(value: unknown): string {
  return isPromiseLike(value) ? ' (it is a promise: await it first)' : '';
}

/**
 * ` (\`name\` is undefined)` for the first of `names` that `options` has as an own key set to
 * `undefined`: the "give exactly one of" messages then name an option that was written but came
 * out undefined (`(loadHtpasswd(path)).verify` without the await), which reads as given.
 */
export function undefinedNote(options: object, names: readonly string[], quote = '`'): string {
  const name = names.find(
    (key) => Object.hasOwn(options, key) && (options as Record<string, unknown>)[key] === undefined,
  );
  return name === undefined ? '' : ` (${quote}${name}${quote} is undefined)`;
}

/**
 * Throws when a middleware factory was handed a request: it was mounted itself
 * (`app.use(authenticate)`), so Express calls it with each request, and the request's own fields
 * would be reported as unknown options on every request.
 */
export function rejectRequestAsOptions(caller: string, value: unknown, example: string): void {
  // node:http's and node:http2's requests are both readable streams; no options object is one.
  if (value instanceof Readable) {
    throw new TypeError(
      `${caller}() was called with a request: it was mounted itself (app.use(${caller})); ` +
        `mount the middleware it makes: ${example}`,
    );
  }
}

/**
 * An object literal's kind of object (its prototype is `Object.prototype` or `null`): a `Map` or
 * an array given as a record of users would be read as one, a Map as empty, an array by index.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * `Array.isArray` for an option typed as a readonly list: `Array.isArray` narrows to `any[]`,
 * which would turn the elements of a `readonly T[]` into `any`; this keeps them `T`.
 */
export function isList(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}
