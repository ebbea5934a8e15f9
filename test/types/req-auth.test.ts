/**
 * The types users write against: `req.auth` on Express's Request (module augmentation), the
 * middleware's signature on Express and node:http, and verifier callbacks. The checks are the
 * compiler's (`npm run typecheck` compiles this file; `@ts-expect-error` fails the build when the
 * line below it compiles); the runtime test only makes sure the middleware these types describe
 * runs as typed.
 */
import http from 'node:http';
import http2, { type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import connect from 'connect';
import express from 'express';
import request from 'supertest';
import {
  authenticate,
  basic,
  bearer,
  digest,
  refuse,
  type AuthInfo,
  type AuthMiddleware,
  type AuthRequest,
  type BasicVerify,
  type Challenge,
  type Credentials,
  type DigestHash,
  type Identity,
  type RequestContext,
  type Scheme,
  type SchemeSetup,
  type VerifyResult,
} from 'authscheme';
import { jwtBearer } from 'authscheme/jwt';
import { negotiate } from 'authscheme/negotiate';

const guard: AuthMiddleware = authenticate({
  realm: 'r',
  schemes: [
    basic({ verify: (user, password) => (password === 'pw' ? { user, role: 'admin' } : false) }),
    bearer({ verify: async (token) => (token === 't' ? 'alice' : null) }),
  ],
});

const app = express();
app.use(guard);
app.get('/', (req, res) => {
  const auth: AuthInfo | undefined = req.auth;
  // @ts-expect-error req.auth may be undefined (a route may be reached without authenticate())
  const user: string = req.auth.user;
  void user;
  if (auth !== undefined) {
    const scheme: string = auth.scheme;
    const name: string = auth.user;
    // Scheme details beside `user` are unknown until narrowed.
    const role: unknown = auth['role'];
    // @ts-expect-error a detail is unknown, not string
    const roleText: string = auth['role'];
    void roleText;
    res.json({ scheme, name, role });
    return;
  }
  res.status(500).end();
});

// The same middleware is a plain node:http / Connect handler.
const server = http.createServer((req, res) => {
  guard(req, res, (err?: unknown) => {
    res.statusCode = err === undefined ? 200 : 500;
    res.end();
  });
});

// And a node:http2 compatibility-API handler, without a cast (test/middleware/http2.test.ts runs it).
export function http2Handler(req: Http2ServerRequest, res: Http2ServerResponse): void {
  guard(req, res, (err?: unknown) => {
    res.statusCode = err === undefined ? 200 : 500;
    res.end();
  });
}

// Connect: nothing augments IncomingMessage, so a handler reads req.auth by taking AuthRequest.
const connectApp = connect();
connectApp.use(guard);
connectApp.use((req: AuthRequest, res, next) => {
  const auth: AuthInfo | undefined = req.auth;
  if (auth === undefined) return next();
  res.end(auth.user);
});
connectApp.use((req, res) => {
  // @ts-expect-error Connect's own request type has no auth
  res.end(String(req.auth));
});

/** Connect's types know only node:http: under node:http2 the app is passed with a cast (README). */
export function connectOnHttp2(): http2.Http2Server {
  return http2.createServer(
    connectApp as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void,
  );
}

/** A row as an application types it: an interface, without an index signature. */
interface Account {
  user: string;
  role: 'admin' | 'reader';
}
class Session {
  constructor(readonly user: string) {}
}
const accounts = new Map<string, Account>([['bob', { user: 'bob', role: 'admin' }]]);

/** A token row whose `expiresAt` is not one `bearer()` reads. */
interface TokenRow {
  user: string;
  scopes: string;
  expiresAt: string;
}

/** Verifiers returning what applications have: typed by an interface or a class. */
export const typedRows = [
  basic({ verify: (user): Account | undefined => accounts.get(user) }),
  bearer({ verify: async (token) => (token === 't' ? new Session('alice') : false) }),
  // Bearer's own fields in every form it reads, in a literal and in a row typed by an interface.
  bearer({
    verify: async (token) => ({ user: token, scopes: 'a b', expiresAt: Date.now() + 60_000 }),
  }),
  bearer({
    verify: () => ({ user: 'u', scopes: ['a'] as readonly string[], expiresAt: new Date() }),
  }),
  bearer({ verify: (): Grant => ({ user: 'u', scopes: ['a'], expiresAt: new Date(), role: 'x' }) }),
  // A verifier typed with the root's Identity (introspection() returns one) still fits.
  bearer({ verify: async (): Promise<Identity> => ({ user: 'u' }) }),
];
interface Grant {
  user: string;
  scopes: string[];
  expiresAt: Date;
  role: string;
}

/**
 * Helpers written apart from the call, with the types the package exports: a password check, an
 * HA1 lookup by hash, a scheme as a class (whose methods get no contextual types from
 * `implements`, so each parameter needs a type of its own).
 */
const checkPassword: BasicVerify = async (user, password) => (password === 'pw' ? user : false);
const ha1Of = (user: string, hash: DigestHash): string | undefined =>
  hash === 'MD5' ? `${user}-md5` : undefined;
class HeaderKey implements Scheme {
  readonly name = 'HeaderKey';
  challenges(ctx: RequestContext): Challenge[] {
    return [{ scheme: this.name, params: { realm: ctx.realm } }];
  }
  verify(credentials: Credentials): VerifyResult {
    return credentials.token68 === 'k' ? { ok: true, user: 'svc' } : refuse();
  }
  setup(setup: SchemeSetup): void {
    if (setup.proxy) throw new TypeError('HeaderKey: not in proxy mode');
  }
}
export const helpers = authenticate({
  schemes: [
    new HeaderKey(),
    basic({ verify: checkPassword }),
    digest({ algorithms: ['MD5'], getHA1: (user, _realm, hash) => ha1Of(user, hash) }),
  ],
});

/**
 * Lists from a configuration written `as const` (readonly tuples) or typed `readonly`: every
 * option that takes a list takes those, as it reads and copies them.
 */
const config = {
  algorithms: ['SHA-256', 'MD5'],
  qop: ['auth'],
  domain: ['/api', '/admin'],
  issuers: ['https://a.example/', 'https://b.example/'],
  audiences: ['api'],
  jwtAlgorithms: ['ES256'],
  realms: ['EXAMPLE.COM'],
} as const;
const offered: readonly Scheme[] = [
  digest({
    users: { a: 'b' },
    algorithms: config.algorithms,
    qop: config.qop,
    domain: config.domain,
  }),
  jwtBearer({
    jwksUri: 'https://a.example/jwks',
    issuer: config.issuers,
    audience: config.audiences,
    algorithms: config.jwtAlgorithms,
  }),
  negotiate({
    servicePrincipal: 'HTTP@a.example',
    realms: config.realms,
    stripRealm: config.realms,
  }),
];
export const fromConfig = authenticate({ schemes: offered });

/** Calls that must not compile; never run. */
export function mustNotCompile(): void {
  // TypeScript types a lone `false` in an async arrow `Promise<boolean>` here (the expected return
  // type is a union, not a promise), so this stub needs `false as const`, as README and Identity
  // say. If a compiler version accepts it, those notes can go.
  // @ts-expect-error Promise<boolean>: `true` would be admitted too
  basic({ verify: async () => false });
  basic({ verify: async () => false as const });
  // @ts-expect-error a Basic verifier must not return a number
  basic({ verify: () => 42 });
  // @ts-expect-error `user` must be a string
  basic({ verify: () => ({ user: 42 }) });
  // @ts-expect-error an object needs `user`
  bearer({ verify: () => ({ name: 'alice' }) });
  // @ts-expect-error Bearer's `scopes` are a string or a list of strings
  bearer({ verify: async (token) => ({ user: token, scopes: 42 }) });
  // @ts-expect-error nor a list of anything else
  bearer({ verify: () => ({ user: 'alice', scopes: [1, 2] }) });
  // @ts-expect-error `expiresAt` is a Date or ms since the epoch
  bearer({ verify: () => ({ user: 'alice', expiresAt: '2030-01-01' }) });
  // @ts-expect-error the same for a row typed by an interface
  bearer({ verify: (): TokenRow => ({ user: 'alice', scopes: 'read', expiresAt: 'soon' }) });
  // @ts-expect-error authenticate() needs schemes
  authenticate({ realm: 'r' });
}

describe('the types users write against', () => {
  it('describe a middleware that runs on Express and node:http as typed', async () => {
    const basicPw = `Basic ${Buffer.from('bob:pw').toString('base64')}`;
    const res = await request(app).get('/').set('Authorization', basicPw);
    expect(res.body).toEqual({ scheme: 'Basic', name: 'bob', role: 'admin' });
    const plain = await request(server).get('/').set('Authorization', 'Bearer t');
    expect(plain.status).toBe(200);
  });
});
