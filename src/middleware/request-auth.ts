/**
 * Handing the result over as `req.auth` without reshaping Express's requests.
 *
 * Express swaps the prototype of every request (`Object.setPrototypeOf(req, app.request)`,
 * expressjs/express#5998), and V8 then gives every property added to that request a hidden class
 * of its own. A plain `req.auth = …` costs about 3 µs per request on Express and under 1 µs on
 * plain node:http (bench/: the "req.auth set" calibration rows, docs/bench.md); the accessor below
 * measured about 1 µs on Express.
 *
 * So on Express, `auth` is defined once, as an accessor, on the request prototype that Express
 * shares between its apps (`express.request`, the object Express documents for extending
 * requests), and each request's value lives in a WeakMap keyed by the request. Reading it,
 * assigning it (ours or anyone's) and mounted sub-apps behave as with an own property; what
 * differs is that `req.auth` is inherited: `Object.keys(req)` does not list it and
 * `delete req.auth` does not remove it.
 *
 * Everywhere else (node:http, Connect) `req.auth` is an ordinary own property.
 */
import { IncomingMessage } from 'node:http';
import type { AuthInfo, AuthRequest } from '../scheme';

const values = new WeakMap<object, unknown>();

function getAuth(this: object): unknown {
  return values.get(this);
}

function setAuth(this: object, value: unknown): void {
  values.set(this, value);
}

/** The prototype of the last request seen: the checks below run once per prototype, not per request. */
let lastPrototype: unknown;
/** Whether `req.auth` on a request of that prototype, when not its own, is our accessor. */
let accessorInEffect = false;

/** `req.auth = auth`, with the accessor in place first when `req` is an Express request. */
export function assignAuth(req: AuthRequest, auth: AuthInfo): void {
  const prototype: unknown = Object.getPrototypeOf(req);
  if (prototype !== lastPrototype) {
    lastPrototype = prototype;
    defineOnExpressRequest(prototype);
    accessorInEffect = ourAccessorFirst(prototype);
  }
  // What the assignment would do, without it: on Express's requests, whose hidden classes are
  // all different, the assignment is a lookup V8 sends to its runtime (bench/ic-misses.ts);
  // `hasOwn` is not.
  if (accessorInEffect && !Object.hasOwn(req, 'auth')) values.set(req, auth);
  else req.auth = auth;
}

/** Whether the first `auth` on the prototype chain from `prototype` is our accessor. */
function ourAccessorFirst(prototype: unknown): boolean {
  for (let o = prototype; typeof o === 'object' && o !== null; o = Object.getPrototypeOf(o)) {
    const descriptor = Object.getOwnPropertyDescriptor(o, 'auth');
    if (descriptor !== undefined) return descriptor.set === setAuth;
  }
  return false;
}

/**
 * Express's `app.request` is an object with its own `app`, inheriting from `express.request`,
 * which inherits from IncomingMessage.prototype; a mounted sub-app's inherits from its parent's
 * (`app.request` of the parent) instead. The accessor goes on `express.request`, the end of that
 * chain, so that every app in the process sees it, whichever app authenticated first. Nothing is
 * defined when any object on the chain already has an `auth` of its own (another library's, or
 * the application's).
 */
function defineOnExpressRequest(prototype: unknown): void {
  if (typeof prototype !== 'object' || prototype === null || !Object.hasOwn(prototype, 'app')) {
    return;
  }
  let shared: unknown = Object.getPrototypeOf(prototype);
  // Down the chain of mounted apps' request objects, each with its own `app`.
  while (typeof shared === 'object' && shared !== null && Object.hasOwn(shared, 'app')) {
    shared = Object.getPrototypeOf(shared);
  }
  if (
    typeof shared !== 'object' ||
    shared === null ||
    // express.request: IncomingMessage.prototype itself fails this too (its own is Readable's).
    Object.getPrototypeOf(shared) !== IncomingMessage.prototype ||
    'auth' in prototype ||
    !Object.isExtensible(shared)
  ) {
    return;
  }
  Object.defineProperty(shared, 'auth', {
    configurable: true,
    enumerable: false,
    get: getAuth,
    set: setAuth,
  });
}
