/**
 * Every server the HTTP benchmark drives, by id. Each is built inside its own process, so each
 * factory loads only what it needs (express-oauth2-jwt-bearer, for one, is only ever loaded in its
 * own server). All of them answer `GET /` with `ok` once the request is authenticated.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  DIGEST_SECRET,
  JWT_AUDIENCE,
  JWT_ISSUER,
  OPAQUE_TOKEN,
  PASSWORD,
  REALM,
  USER,
  publicJwkFromEnv,
} from './fixtures';
import { bearerFloor, bearerFloorWithAuth, digestFloor, digestFloorWithAuth } from './floors';

/** A Connect middleware, as each benchmark server mounts its guard. */
export type Connect = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

/**
 * The application behind every guard: what a real route does at the least. The guard is mounted
 * with `app.use`, or with `mount: 'route'` on the route itself (`app.get('/', guard, send)`), as
 * a single route is protected; there Express's router does no work of its own for the guard.
 */
function expressApp(
  guard?: RequestHandler | Connect,
  mount: 'use' | 'route' = 'use',
): RequestListener {
  const express = require('express') as typeof import('express');
  const app = express();
  app.disable('x-powered-by');
  const send = (_req: Request, res: Response): void => {
    res.send('ok');
  };
  if (!guard) app.get('/', send);
  else if (mount === 'use') app.use(guard as RequestHandler).get('/', send);
  else app.get('/', guard as RequestHandler, send);
  // Errors carrying a status and headers (express-oauth2-jwt-bearer refuses this way) are sent as
  // they are, without the stack trace Express's final handler would log for every request.
  app.use(
    (
      err: { status?: number; headers?: Record<string, string> },
      _req: Request,
      res: Response,
      _next: NextFunction,
    ) => {
      res.status(err.status ?? 500);
      if (err.headers) res.set(err.headers);
      res.end();
    },
  );
  return app;
}

/** Plain `node:http`: the guard (if any) in front of a handler that writes `ok`. */
function plainHttp(guard?: Connect): RequestListener {
  const ok = (res: ServerResponse): void => {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end('ok');
  };
  if (!guard) return (_req, res) => ok(res);
  return (req, res) => {
    guard(req, res, (err) => {
      if (err) {
        res.statusCode = 500;
        res.end();
        return;
      }
      ok(res);
    });
  };
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/** What `http-auth-connect` does, written out so that no further package is needed. */
function httpAuthGuard(auth: import('http-auth').Auth): Connect {
  return (req, res, next) => {
    auth.isAuthenticated(req, (result) => {
      if (result instanceof Error) next(result);
      else if (!result.pass) auth.ask(res, result);
      else {
        (req as IncomingMessage & { user?: string }).user = result.user;
        next();
      }
    });
  };
}

// ---- ours ---------------------------------------------------------------------------------------

function oursBasic(): Connect {
  const { authenticate, basic } = require('../../src/index') as typeof import('../../src/index');
  return authenticate({ realm: REALM, schemes: [basic({ users: { [USER]: PASSWORD } })] });
}

export function oursDigest(): Connect {
  const { authenticate, digest } = require('../../src/index') as typeof import('../../src/index');
  return authenticate({
    realm: REALM,
    schemes: [
      digest({ users: { [USER]: PASSWORD }, algorithms: ['SHA-256'], secret: DIGEST_SECRET }),
    ],
  });
}

export function oursBearer(): Connect {
  const { authenticate, bearer } = require('../../src/index') as typeof import('../../src/index');
  return authenticate({
    realm: REALM,
    schemes: [bearer({ verify: (token) => (token === OPAQUE_TOKEN ? USER : false) })],
  });
}

function oursJwt(cache: boolean): Connect {
  const { authenticate, bearer } = require('../../src/index') as typeof import('../../src/index');
  const { jwtVerifier } =
    require('../../src/adapters/jwt') as typeof import('../../src/adapters/jwt');
  const verify = jwtVerifier({
    key: publicJwkFromEnv(),
    algorithms: ['ES256'],
    issuer: JWT_ISSUER,
    audience: JWT_AUDIENCE,
  });
  return authenticate({ realm: REALM, schemes: [bearer({ verify, cache })] });
}

// ---- calibration ---------------------------------------------------------------------------------

/**
 * Not authentication: a guard that allocates about what our Bearer path allocates per request
 * (16 small objects with a string each, in an array hung on the request) and does nothing else.
 * What it costs on a stack is what that much garbage costs there, whoever makes it.
 */
function garbageGuard(): Connect {
  // 8 pieces: about 1.2 KB, measured with V8's new-space counter, like our Bearer path.
  return (req, _res, next) => {
    const garbage: { index: number; text: string }[] = [];
    for (let index = 0; index < 8; index++) {
      garbage.push({ index, text: `piece ${index} of the request's garbage` + String(index) });
    }
    (req as IncomingMessage & { garbage?: unknown }).garbage = garbage;
    next();
  };
}

/**
 * Not authentication either: sets `req.auth` as `authenticate()` does for an accepted request, and
 * nothing else. What that one property costs on a stack is a floor under every middleware that
 * hands its result over on `req` (ours, and the peers' `req.user`).
 */
function authPropertyGuard(): Connect {
  return (req, _res, next) => {
    (req as IncomingMessage & { auth?: unknown }).auth = { scheme: 'Bearer', user: USER };
    next();
  };
}

/**
 * Not authentication: a stand-in that speaks Digest without checking anything. A request without
 * credentials gets a 401 with a fixed challenge shaped like ours (so the Digest client performs
 * its handshake); any other request passes, with an `Authentication-Info` and a `Vary` of the
 * sizes ours sends. What it costs is what Digest traffic costs a server before any verification:
 * larger requests, handshakes, two more response headers.
 */
function digestStandIn(): Connect {
  const challenge =
    `Digest realm="${REALM}", qop="auth", algorithm=SHA-256, nonce="${'n'.repeat(60)}", ` +
    `opaque="${'o'.repeat(22)}", charset=UTF-8`;
  const info = `qop=auth, rspauth="${'a'.repeat(64)}", cnonce="0123456789abcdef", nc=00000001`;
  return (req, res, next) => {
    if (req.headers.authorization === undefined) {
      res.statusCode = 401;
      res.setHeader('WWW-Authenticate', challenge);
      res.end();
      return;
    }
    res.setHeader('Authentication-Info', info);
    res.setHeader('Vary', 'Authorization');
    next();
  };
}

/**
 * Not authentication: plain node:http doing to every request what Express 5 does before any
 * middleware runs, `Object.setPrototypeOf` on `req` and `res` (expressjs/express#5998,
 * nodejs/node#37457). With `guard`, that guard runs after the swap, as it would on Express.
 */
function prototypeSwap(guard?: Connect): RequestListener {
  const http = require('node:http') as typeof import('node:http');
  const requestPrototype = Object.create(http.IncomingMessage.prototype) as object;
  const responsePrototype = Object.create(http.ServerResponse.prototype) as object;
  const listener = plainHttp(guard);
  return (req, res) => {
    Object.setPrototypeOf(req, requestPrototype);
    Object.setPrototypeOf(res, responsePrototype);
    listener(req, res);
  };
}

// ---- peers --------------------------------------------------------------------------------------

function expressBasicAuth(): Connect {
  const basicAuth = require('express-basic-auth') as typeof import('express-basic-auth');
  return basicAuth({ users: { [USER]: PASSWORD }, challenge: true, realm: REALM }) as Connect;
}

function passportBasic(): Connect {
  const passport = require('passport') as typeof import('passport');
  const { BasicStrategy } = require('passport-http') as typeof import('passport-http');
  passport.use(
    new BasicStrategy((user, password, done) =>
      done(null, user === USER && password === PASSWORD ? { name: user } : false),
    ),
  );
  return passport.authenticate('basic', { session: false }) as Connect;
}

function passportDigest(): Connect {
  const passport = require('passport') as typeof import('passport');
  const { DigestStrategy } = require('passport-http') as typeof import('passport-http');
  passport.use(
    new DigestStrategy(
      { qop: 'auth', realm: REALM },
      (user, done) => (user === USER ? done(null, { name: user }, PASSWORD) : done(null, false)),
      (_params, done) => done(null, true),
    ),
  );
  return passport.authenticate('digest', { session: false }) as Connect;
}

function passportBearer(): Connect {
  const passport = require('passport') as typeof import('passport');
  const { Strategy } = require('passport-http-bearer') as typeof import('passport-http-bearer');
  passport.use(
    new Strategy((token, done) => done(null, token === OPAQUE_TOKEN ? { name: USER } : false)),
  );
  return passport.authenticate('bearer', { session: false }) as Connect;
}

function httpAuthBasic(): Connect {
  const httpAuth = require('http-auth') as typeof import('http-auth');
  return httpAuthGuard(
    httpAuth.basic({ realm: REALM }, (user, password, callback) =>
      callback(user === USER && password === PASSWORD),
    ),
  );
}

function httpAuthDigest(): Connect {
  const httpAuth = require('http-auth') as typeof import('http-auth');
  const ha1 = md5(`${USER}:${REALM}:${PASSWORD}`);
  return httpAuthGuard(
    httpAuth.digest({ realm: REALM }, (user, callback) => callback(user === USER ? ha1 : '')),
  );
}

/** express-oauth2-jwt-bearer with the public key given locally (no JWKS fetch). */
function oauth2JwtBearer(): Connect {
  // Loaded loosely typed: its Express.Request augmentation (`auth`) clashes with ours.
  const { auth } = require('express-oauth2-jwt-bearer') as {
    auth(options: Record<string, unknown>): Connect;
  };
  return auth({
    issuer: JWT_ISSUER,
    audience: JWT_AUDIENCE,
    publicKey: publicJwkFromEnv(),
    tokenSigningAlg: 'ES256',
  });
}

/** Server id → factory. express-oauth2-jwt-bearer refuses through `next(err)`; Express's final
 * handler then sends the error's `status` and `headers` (its `WWW-Authenticate`). */
export const SERVERS = {
  'http-bare': () => plainHttp(),
  'express-bare': () => expressApp(),
  'ours-basic': () => expressApp(oursBasic()),
  'ours-digest': () => expressApp(oursDigest()),
  'ours-bearer': () => expressApp(oursBearer()),
  'ours-jwt': () => expressApp(oursJwt(false)),
  'ours-jwt-cached': () => expressApp(oursJwt(true)),
  'ours-basic-http': () => plainHttp(oursBasic()),
  'ours-digest-http': () => plainHttp(oursDigest()),
  'ours-bearer-http': () => plainHttp(oursBearer()),
  'ours-jwt-http': () => plainHttp(oursJwt(false)),
  'ours-jwt-cached-http': () => plainHttp(oursJwt(true)),
  'express-garbage': () => expressApp(garbageGuard()),
  'http-garbage': () => plainHttp(garbageGuard()),
  'express-auth-property': () => expressApp(authPropertyGuard()),
  'http-auth-property': () => plainHttp(authPropertyGuard()),
  'express-digest-standin': () => expressApp(digestStandIn()),
  'http-digest-standin': () => plainHttp(digestStandIn()),
  'express-bearer-floor': () => expressApp(bearerFloor()),
  'express-bearer-floor-auth': () => expressApp(bearerFloorWithAuth()),
  'http-bearer-floor-auth': () => plainHttp(bearerFloorWithAuth()),
  'http-bearer-floor': () => plainHttp(bearerFloor()),
  'express-digest-floor': () => expressApp(digestFloor()),
  'express-digest-floor-auth': () => expressApp(digestFloorWithAuth()),
  'http-digest-floor-auth': () => plainHttp(digestFloorWithAuth()),
  'express-empty': () => expressApp(((_req, _res, next) => next()) as Connect),
  'express-bearer-route': () => expressApp(oursBearer(), 'route'),
  'express-bearer-floor-route': () => expressApp(bearerFloor(), 'route'),
  'express-digest-route': () => expressApp(oursDigest(), 'route'),
  'express-digest-floor-route': () => expressApp(digestFloor(), 'route'),
  'http-digest-floor': () => plainHttp(digestFloor()),
  'http-swap': () => prototypeSwap(),
  'http-swap-bearer': () => prototypeSwap(oursBearer()),
  'express-basic-auth': () => expressApp(expressBasicAuth()),
  'passport-basic': () => expressApp(passportBasic()),
  'http-auth-basic': () => expressApp(httpAuthBasic()),
  'passport-digest': () => expressApp(passportDigest()),
  'http-auth-digest': () => expressApp(httpAuthDigest()),
  'passport-bearer': () => expressApp(passportBearer()),
  'oauth2-jwt-bearer': () => expressApp(oauth2JwtBearer()),
} satisfies Record<string, () => RequestListener>;

export type ServerId = keyof typeof SERVERS;
