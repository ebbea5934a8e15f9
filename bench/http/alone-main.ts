/**
 * One process of `bench/middleware-alone.ts`: runs one guard over many requests, in this process,
 * without sockets, and prints its time per request as JSON.
 *
 *   node alone-main.js <guard> <plain|express|app|route> <requests>
 *
 * The requests are real `IncomingMessage`/`ServerResponse` pairs, made before the clock starts.
 * With `express`, each pair first gets what Express 5 does to every request before the first
 * middleware (lib/application.js `handle`, router `handle`): `req.res`/`res.req`, the prototype
 * swap to the app's request and response, `res.locals`, then `req.next`, `baseUrl`,
 * `originalUrl` and `params`. Only the guard is timed. With `app`, the whole Express app is
 * timed, the guard mounted with `app.use` in front of `res.send('ok')` (see timeApp); with
 * `route`, the same app with the guard mounted on the route itself, `app.get('/', guard, send)`.
 */
import { createHash } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { OPAQUE_TOKEN, PASSWORD, REALM, USER } from './fixtures';
import { bearerFloor, digestFloor } from './floors';
import { oursBearer, oursDigest, type Connect } from './servers';

export const GUARDS: Record<string, () => Connect> = {
  none: () => (_req, _res, next) => next(),
  // Mounted in the app (unlike `none`): what any middleware costs there, whatever it does.
  empty: () => (_req, _res, next) => next(),
  'ours-bearer': oursBearer,
  'bearer-floor': bearerFloor,
  'ours-digest': oursDigest,
  'digest-floor': digestFloor,
};

function makeRequest(
  authorization: string | undefined,
  app: { request: object; response: object } | undefined,
): [IncomingMessage, ServerResponse] {
  const req = new IncomingMessage(null as never);
  req.method = 'GET';
  req.url = '/';
  const raw = ['Host', '127.0.0.1', 'User-Agent', 'wrk'];
  if (authorization !== undefined) raw.push('Authorization', authorization);
  (req as unknown as { _addHeaderLines(h: string[], n: number): void })._addHeaderLines(
    raw,
    raw.length,
  );
  const res = new ServerResponse(req);
  if (app !== undefined) {
    const r = req as IncomingMessage & Record<string, unknown>;
    const s = res as unknown as Record<string, unknown>;
    r.res = res;
    s.req = req;
    Object.setPrototypeOf(req, app.request);
    Object.setPrototypeOf(res, app.response);
    s.locals = Object.create(null);
    r.next = () => undefined;
    r.baseUrl = '';
    r.originalUrl = req.url;
    r.params = {};
  }
  return [req, res];
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Authorization values for `count` requests: one token, or a Digest nonce used with nc 1, 2, … */
function credentials(guard: Connect, digestGuard: boolean, count: number): string[] {
  if (!digestGuard) return Array.from({ length: count }, () => `Bearer ${OPAQUE_TOKEN}`);
  const [req, res] = makeRequest(undefined, undefined);
  guard(req, res, () => {
    throw new Error('a request without credentials went through');
  });
  const challenge = String(res.getHeader('WWW-Authenticate'));
  const nonce = /nonce="([^"]+)"/.exec(challenge)![1]!;
  const opaque = /opaque="([^"]+)"/.exec(challenge)?.[1];
  const ha1 = sha256(`${USER}:${REALM}:${PASSWORD}`);
  const ha2 = sha256('GET:/');
  const cnonce = '0123456789abcdef';
  return Array.from({ length: count }, (_, i) => {
    const nc = (i + 1).toString(16).padStart(8, '0');
    const response = sha256(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
    const value =
      `Digest username="${USER}", realm="${REALM}", nonce="${nonce}", uri="/", ` +
      `response="${response}", algorithm=SHA-256, qop=auth, nc=${nc}, cnonce="${cnonce}"` +
      (opaque === undefined ? '' : `, opaque="${opaque}"`);
    // A flat string, as Node hands header values over.
    return Buffer.from(value, 'latin1').toString('latin1');
  });
}

/** Requests in flight at once, as the HTTP benchmark's 50 connections keep them. */
const IN_FLIGHT = 50;

/**
 * The whole Express 5 app (the guard, unless `none`, in front of `res.send('ok')`: mounted with
 * `app.use`, or on the route) over requests as
 * node:http hands them to it: Express's own work, and what the guard costs inside it, without
 * sockets. Timed `IN_FLIGHT` requests at a time, so that as little stays alive as in a server.
 */
function timeApp(
  guard: Connect | undefined,
  mount: 'app' | 'route',
  values: string[],
  count: number,
): number {
  const express = require('express') as typeof import('express');
  const app = express();
  const send = (_req: unknown, res: import('express').Response): void => {
    res.send('ok');
  };
  if (guard === undefined) app.get('/', send);
  else if (mount === 'app') app.use(guard).get('/', send);
  else app.get('/', guard, send);
  const batch = (from: number): number => {
    let nanos = 0;
    for (let at = from; at < from + count; at += IN_FLIGHT) {
      const pairs = values.slice(at, at + IN_FLIGHT).map((value) => makeRequest(value, undefined));
      const start = process.hrtime.bigint();
      for (const [req, res] of pairs) app(req, res);
      nanos += Number(process.hrtime.bigint() - start);
      for (const [, res] of pairs) {
        if (res.statusCode !== 200 || !res.writableEnded) throw new Error('a request was refused');
      }
    }
    return nanos / count;
  };
  batch(0); // warm-up: the optimizing compiler settles
  batch(count);
  return batch(2 * count);
}

function main(): void {
  const [name = '', shape = '', countText = '30000'] = process.argv.slice(2);
  const make = GUARDS[name];
  const shapes = ['plain', 'express', 'app', 'route'];
  if (make === undefined || !shapes.includes(shape)) {
    throw new Error('usage: alone-main <guard> <plain|express|app|route> [requests]');
  }
  const count = Number(countText);
  const guard = make();
  if (shape === 'app' || shape === 'route') {
    const values = credentials(guard, name.includes('digest'), count * 3);
    const nanos = timeApp(name === 'none' ? undefined : guard, shape, values, count);
    process.stdout.write(`${JSON.stringify({ guard: name, shape, nanos })}\n`);
    return;
  }
  const app =
    shape === 'express'
      ? (require('express') as typeof import('express'))()
      : (undefined as { request: object; response: object } | undefined);
  const values = credentials(guard, name.includes('digest'), count * 3);
  let passed = 0;
  const next = (err?: unknown): void => {
    if (err !== undefined) throw err as Error;
    passed++;
  };
  const batch = (from: number): number => {
    const pairs = values.slice(from, from + count).map((value) => makeRequest(value, app));
    const start = process.hrtime.bigint();
    for (const [req, res] of pairs) guard(req, res, next);
    return Number(process.hrtime.bigint() - start) / count;
  };
  batch(0); // warm-up: the optimizing compiler settles
  batch(count);
  const nanos = batch(2 * count);
  if (passed !== 3 * count) throw new Error(`${name}: ${3 * count - passed} requests were refused`);
  process.stdout.write(`${JSON.stringify({ guard: name, shape, nanos })}\n`);
}

main();
