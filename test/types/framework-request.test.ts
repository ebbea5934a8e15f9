/**
 * Callbacks given the request, written for the framework they run on: `req` declared as
 * `express.Request` (or Connect's request) must compile under `strict` (strictFunctionTypes), as
 * at run time it is one; an un-annotated `req` must still be `AuthRequest`; a wrong return type
 * must still be refused. The checks are the compiler's (`npm run typecheck` compiles this file;
 * `@ts-expect-error` fails the build when the line below it compiles); the runtime test runs the
 * annotated callbacks on Express, where they call Express's own methods on `req`.
 */
import type { IncomingMessage as ConnectRequest } from 'connect';
import express, { type Request } from 'express';
import request from 'supertest';
import {
  authenticate,
  basic,
  bearer,
  digest,
  formatCredentials,
  parseChallenges,
  requireScopes,
  type AuthenticateOptions,
  type AuthRequest,
  type BasicVerify,
  type BearerVerify,
  type BodyOption,
  type FindUserByHash,
  type GetHA1,
  type GetPassword,
  type RawBodyReader,
} from 'authscheme';
import { negotiate, type NegotiateVerify } from 'authscheme/negotiate';
import { answer } from '../schemes/digest/helpers';

/** `true` only when A and B are the same type (`any` is neither AuthRequest nor its subtype). */
type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Every callback, `req` declared as Express's request. */
export const annotated = {
  authenticate: authenticate({
    schemes: [basic({ users: { a: 'b' } })],
    audit: (_outcome, req: Request) => void req.ip,
    omitChallenge: (req: Request) => req.get('sec-fetch-mode') === 'cors',
    body: (error, req: Request) => `${error.status} ${req.path}`,
  }),
  basic: basic({ verify: (user, _password, req: Request) => (req.ip ? user : false) }),
  bearer: bearer({ verify: async (token, req: Request) => (req.secure ? token : false) }),
  getPassword: digest({
    getPassword: (user, _realm, req: Request) => (req.ip ? user : null),
    findUserByHash: (hash, _realm, _hash, req: Request) => (req.ip ? hash : undefined),
    userhash: true,
    body: (req: Request) => req.body as Buffer | undefined,
  }),
  getHA1: digest({ getHA1: async (_user, _realm, _hash, req: Request) => req.get('x-ha1') }),
  negotiate: negotiate({
    servicePrincipal: 'HTTP@localhost',
    verify: (principal, req: Request) => (req.ip ? principal : false),
  }),
  requireScopes: requireScopes({ anyOf: ['read'], audit: (_outcome, req: Request) => req.ip }),
};

/** The same with Connect's request, and helpers typed by the exported callback types. */
const connectAudit: AuthenticateOptions['audit'] = (_outcome, req: ConnectRequest) =>
  void req.originalUrl;
const checkPassword: BasicVerify = (user, _password, req: Request) => (req.ip ? user : false);
const checkToken: BearerVerify = (token, req: ConnectRequest) => (req.originalUrl ? token : false);
const passwordOf: GetPassword = (_user, _realm, req: Request) => req.get('x-password');
const ha1Of: GetHA1 = (_user, _realm, _hash, req: Request) => req.get('x-ha1');
const userOf: FindUserByHash = (_userhash, _realm, _hash, req: Request) => req.get('x-user');
const rawBody: RawBodyReader = (req: Request) => req.body as Buffer | undefined;
const refusalBody: BodyOption = (_error, req: Request) => req.originalUrl;
const principalOf: NegotiateVerify = (principal, req: Request) => (req.ip ? principal : false);
export const helpers = [
  connectAudit,
  checkPassword,
  checkToken,
  passwordOf,
  ha1Of,
  userOf,
  rawBody,
  refusalBody,
  principalOf,
];

/** Un-annotated, `req` is still `AuthRequest`: not `any`, not Express's request. */
export const inferred = [
  authenticate({
    schemes: [
      basic({ verify: (user, _password, req) => (exact(req) ? user : false) }),
      bearer({ verify: (token, req) => (exact(req) ? token : false) }),
      digest({
        getPassword: (user, _realm, req) => (exact(req) ? user : null),
        findUserByHash: (userhash, _realm, _hash, req) => (exact(req) ? userhash : null),
        userhash: true,
        body: (req) => (exact(req) ? undefined : ''),
      }),
      negotiate({
        servicePrincipal: 'HTTP@localhost',
        verify: (principal, req) => (exact(req) ? principal : false),
      }),
    ],
    audit: (_outcome, req) => void exact(req),
    omitChallenge: (req) => exact(req),
    body: (_error, req) => String(exact(req)),
  }),
  digest({ getHA1: (_user, _realm, _hash, req) => (exact(req) ? undefined : '') }),
  requireScopes({ allOf: ['read'], audit: (_outcome, req) => void exact(req) }),
];

/** Compiles only when `req` is exactly `AuthRequest`. */
function exact<T>(_req: T, ..._same: Equal<T, AuthRequest> extends true ? [] : [never]): boolean {
  return true;
}

/** Calls that must not compile; never run. */
export function mustNotCompile(): void {
  // @ts-expect-error an un-annotated req is no express.Request
  basic({ verify: (user, _password, req) => (req.ip ? user : false) });
  // @ts-expect-error nor a type that is no request at all
  basic({ verify: (user, _password, req: string) => req + user });
  // @ts-expect-error nor a request type whose fields disagree with node's
  bearer({ verify: (token, req: { headers: string }) => req.headers + token });
  // @ts-expect-error nor another parameter of a type it is not
  digest({ getHA1: (_user, _realm, hash: number, _req: Request) => String(hash) });
  // @ts-expect-error omitChallenge returns a boolean
  authenticate({ schemes: [], omitChallenge: (req: Request) => req.get('x-spa') });
  // @ts-expect-error body returns a string
  authenticate({ schemes: [], body: (_error, req: Request) => req.body as Buffer });
  // @ts-expect-error a Basic verifier must not return a number
  basic({ verify: (_user, _password, _req: Request) => 42 });
  // @ts-expect-error nor a Bearer verifier an object without `user`
  bearer({ verify: (_token, req: Request) => ({ name: req.ip }) });
  // @ts-expect-error getPassword returns a password, not a number
  digest({ getPassword: (_user, _realm, _req: Request) => 42 });
  // @ts-expect-error getHA1 returns hex, not a number
  digest({ getHA1: async (_user, _realm, _hash, _req: Request) => 42 });
  // @ts-expect-error findUserByHash returns a user name
  digest({ findUserByHash: (_userhash, _realm, _hash, _req: Request) => 42, getHA1: () => null });
  // @ts-expect-error the body reader returns a Buffer or a string
  digest({ users: {}, body: (_req: Request) => 42 });
  // @ts-expect-error a Negotiate verifier must not return a number
  negotiate({ servicePrincipal: 'HTTP@localhost', verify: (_principal, _req: Request) => 42 });
  // @ts-expect-error the same for a helper typed apart
  const wrong: BasicVerify = (_user, _password, _req: Request) => 42;
  void wrong;
}

describe('callbacks written for Express', () => {
  const SECRET = 'framework-request-secret-32-bytes!';

  function app(): express.Express {
    const app = express();
    const audited: string[] = [];
    app.use(
      authenticate({
        realm: 'api',
        schemes: [
          // Each callback calls a method only Express's request has.
          basic({
            verify: (user, password, req: Request) =>
              password === 'pw' ? { user, tenant: req.get('x-tenant') } : false,
          }),
          digest({
            secret: SECRET,
            getPassword: (user, _realm, req: Request) =>
              user === 'alice'
                ? { password: 'pw', details: { tenant: req.get('x-tenant') } }
                : null,
          }),
          bearer({
            verify: (token, req: Request) =>
              token === 't' ? { user: 'svc', tenant: req.get('x-tenant') } : false,
          }),
        ],
        audit: (outcome, req: Request) => audited.push(`${outcome.outcome} ${req.path}`),
        body: (error, req: Request) => `${error.status} for ${req.path}`,
      }),
    );
    app.get('/audited', (_req, res) => res.json(audited));
    app.get(
      '/scoped',
      requireScopes({
        allOf: ['admin'],
        audit: (outcome, req: Request) => audited.push(`${outcome.code} ${req.path}`),
      }),
      (_req, res) => res.end(),
    );
    app.get('/{*rest}', (req, res) => res.json(req.auth));
    return app;
  }

  it('hand them Express’s request, as their types say', async () => {
    const server = app();
    const tenant = { 'X-Tenant': 'acme' };
    const basicAuth = `Basic ${Buffer.from('bob:pw').toString('base64')}`;
    const byBasic = await request(server).get('/a').set(tenant).set('Authorization', basicAuth);
    expect(byBasic.body).toEqual({ scheme: 'Basic', user: 'bob', tenant: 'acme' });

    const byBearer = await request(server).get('/b').set(tenant).set('Authorization', 'Bearer t');
    expect(byBearer.body).toEqual({ scheme: 'Bearer', user: 'svc', tenant: 'acme', scopes: [] });

    const challenged = await request(server).get('/c');
    expect(challenged.text).toBe('401 for /c');
    const challenge = parseChallenges(
      challenged.headers['www-authenticate'] as string | string[],
    ).find((c) => c.scheme === 'Digest')!;
    const credentials = answer(challenge, { user: 'alice', password: 'pw', uri: '/c' });
    const byDigest = await request(server)
      .get('/c')
      .set(tenant)
      .set('Authorization', formatCredentials(credentials));
    expect(byDigest.body).toMatchObject({ scheme: 'Digest', user: 'alice', tenant: 'acme' });

    const unscoped = await request(server).get('/scoped').set('Authorization', 'Bearer t');
    expect(unscoped.status).toBe(403);

    const audited = await request(server).get('/audited').set('Authorization', 'Bearer t');
    expect(audited.body).toEqual([
      'success /a',
      'success /b',
      'refused /c',
      'success /c',
      'success /scoped',
      'ERR_AUTH_INSUFFICIENT_SCOPE /scoped',
      'success /audited',
    ]);
  });
});
