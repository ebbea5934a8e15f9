/**
 * The types users write against: `req.auth` on Express's Request (module augmentation), the
 * middleware's signature on Express and node:http, and verifier callbacks. The checks are the
 * compiler's (`npm run typecheck` compiles this file; `@ts-expect-error` fails the build when the
 * line below it compiles); the runtime test only makes sure the middleware these types describe
 * runs as typed.
 */
import http from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import express from 'express';
import request from 'supertest';
import { authenticate, basic, bearer, type AuthInfo, type AuthMiddleware } from 'authscheme';

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

/** A row as an application types it: an interface, without an index signature. */
interface Account {
  user: string;
  role: 'admin' | 'reader';
}
class Session {
  constructor(readonly user: string) {}
}
const accounts = new Map<string, Account>([['bob', { user: 'bob', role: 'admin' }]]);

/** Verifiers returning what applications have: typed by an interface or a class. */
export const typedRows = [
  basic({ verify: (user): Account | undefined => accounts.get(user) }),
  bearer({ verify: async (token) => (token === 't' ? new Session('alice') : false) }),
];

/** Calls that must not compile; never run. */
export function mustNotCompile(): void {
  // @ts-expect-error a Basic verifier must not return a number
  basic({ verify: () => 42 });
  // @ts-expect-error `user` must be a string
  basic({ verify: () => ({ user: 42 }) });
  // @ts-expect-error an object needs `user`
  bearer({ verify: () => ({ name: 'alice' }) });
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
