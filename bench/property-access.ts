/**
 * `npx tsx bench/property-access.ts`
 *
 * What one property read costs on a request, with and without what Express 5 does to every
 * request before any middleware runs: `Object.setPrototypeOf(req, app.request)`, then a few
 * properties added (`req.res`, `req.next`, `req.baseUrl`, …). After the swap, V8 gives each added
 * property a new hidden class for that one object (docs/bench.md), so no two requests share a
 * map, and a read from a middleware finds nothing cached: every first read of a name on a request
 * goes through V8's lookup from scratch.
 *
 * Each case reads one property from each of many fresh requests, once, as a middleware does, by
 * name (`req.rawHeaders`) and by key (`req[RAW_HEADERS]`): a keyed read whose inline cache has
 * seen too many hidden classes is looked up by V8's generated code, a named one by its runtime.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';

const REQUESTS = 100_000;
const app = express();

function request(swap: boolean): IncomingMessage {
  const req = new IncomingMessage(null as never);
  req.headers = { authorization: 'Bearer x' };
  req.rawHeaders = ['Authorization', 'Bearer x'];
  const res = new ServerResponse(req);
  const extended = req as IncomingMessage & Record<string, unknown>;
  extended.res = res;
  if (swap) Object.setPrototypeOf(req, app.request);
  // What Express's router adds next (before the swap, for the plain case: same properties).
  extended.next = () => undefined;
  extended.baseUrl = '';
  extended.originalUrl = '/';
  extended.params = {};
  return req;
}

// Keys in variables: `req[RAW_HEADERS]` compiles to a keyed read, as in src/middleware/request.ts.
const HEADERS = 'headers';
const RAW_HEADERS = 'rawHeaders';
const ORIGINAL_METHOD = 'originalMethod';
const BASE_URL = 'baseUrl';

const reads: [string, (req: IncomingMessage & Record<string, unknown>) => unknown][] = [
  ['req.headers (an accessor of IncomingMessage)', (req) => req.headers],
  ['req[HEADERS], keyed', (req) => req[HEADERS]],
  ['req.rawHeaders (own)', (req) => req.rawHeaders],
  ['req[RAW_HEADERS], keyed', (req) => req[RAW_HEADERS]],
  ['req.originalMethod (absent: the whole chain)', (req) => req.originalMethod],
  ['req[ORIGINAL_METHOD], keyed', (req) => req[ORIGINAL_METHOD]],
  [
    'Object.hasOwn(req, ORIGINAL_METHOD), then keyed',
    (req) => (Object.hasOwn(req, ORIGINAL_METHOD) ? req[ORIGINAL_METHOD] : undefined),
  ],
  ['req.baseUrl (own, added after the swap)', (req) => req.baseUrl],
  ['req[BASE_URL], keyed', (req) => req[BASE_URL]],
];

function measure(swap: boolean, read: (req: IncomingMessage & Record<string, unknown>) => unknown) {
  const requests = Array.from(
    { length: REQUESTS },
    () => request(swap) as IncomingMessage & Record<string, unknown>,
  );
  let sink = 0;
  for (let i = 0; i < 1000; i++) sink += read(requests[i]!) === undefined ? 0 : 1;
  const start = process.hrtime.bigint();
  for (let i = 1000; i < REQUESTS; i++) sink += read(requests[i]!) === undefined ? 0 : 1;
  const nanos = Number(process.hrtime.bigint() - start) / (REQUESTS - 1000);
  return { nanos, sink };
}

console.log('ns per first read of a property, per request (median of 3)');
console.log('| read | plain node:http request | after Express’s prototype swap |');
console.log('| --- | ---: | ---: |');
for (const [name, read] of reads) {
  const row = [false, true].map((swap) => {
    const runs = [0, 1, 2].map(() => measure(swap, read).nanos).sort((a, b) => a - b);
    return runs[1]!.toFixed(0);
  });
  console.log(`| ${name} | ${row[0]} | ${row[1]} |`);
}
