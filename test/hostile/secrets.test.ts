/**
 * No secret leaves: known passwords and tokens are pushed through every failure path, and none of
 * them (nor their base64 form) appears in a response body or header, in an error handed to
 * `next(err)` (message, stack, cause chain, headers), or in anything written to the console or
 * emitted as a process warning.
 */
import {
  authenticate,
  basic,
  bearer,
  digest,
  type AuthenticateOptions,
  type Scheme,
} from 'authscheme';
import { jwtVerifier } from 'authscheme/jwt';
import {
  basicAuth,
  digestAnswer,
  digestHeader,
  send,
  start,
  type Reply,
  type TestServer,
} from './helpers';

const PASSWORD = 'Pw-7f3a9c-SECRET';
const WRONG = 'Wrong-4be1d0-SECRET';
const TOKEN = 'Tok-9d82ee-SECRET';
const users = { alice: PASSWORD };
const SECRETS = [
  PASSWORD,
  WRONG,
  TOKEN,
  Buffer.from(`alice:${PASSWORD}`).toString('base64'),
  Buffer.from(`alice:${WRONG}`).toString('base64'),
];

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
const outputs: string[] = [];
const servers: TestServer[] = [];

beforeAll(() => {
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      outputs.push(args.map(String).join(' '));
    });
  }
  jest.spyOn(process, 'emitWarning').mockImplementation((warning: unknown, ...rest: unknown[]) => {
    outputs.push([warning, ...rest].map(String).join(' '));
  });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  jest.restoreAllMocks();
});

/** Everything an error exposes, down its cause chain. */
function describeError(err: unknown, depth = 0): string {
  if (depth > 5 || err === null || err === undefined) return '';
  if (typeof err !== 'object') return typeof err === 'string' ? err : JSON.stringify(err);
  const e = err as { message?: unknown; stack?: unknown; cause?: unknown; headers?: unknown };
  return [
    String(e.message),
    String(e.stack),
    JSON.stringify(e.headers ?? null),
    JSON.stringify(Object.entries(err)),
    describeError(e.cause, depth + 1),
  ].join('\n');
}

function expectNoSecret(where: string, text: string): void {
  for (const secret of SECRETS) {
    if (text.includes(secret)) throw new Error(`a secret appears in ${where}`);
  }
}

function checkReply(reply: Reply): void {
  expect(reply.status).toBeGreaterThanOrEqual(400);
  expectNoSecret('the body', reply.body);
  expectNoSecret('the headers', JSON.stringify(reply.headers));
}

const jwt = jwtVerifier({ secret: 'j'.repeat(32), issuer: 'i', audience: 'a' });
const schemeSets: [string, () => Scheme[], Partial<AuthenticateOptions>][] = [
  ['Basic users', () => [basic({ users })], {}],
  [
    'Basic verify that throws',
    () => [
      basic({
        verify: () => {
          throw new Error('lookup failed');
        },
      }),
    ],
    {},
  ],
  ['Basic verify that never answers', () => [basic({ verify: never })], { timeout: 100 }],
  ['Digest', () => [digest({ users, secret: 'd'.repeat(32) })], {}],
  [
    'Digest store failing',
    () => [
      digest({
        users,
        secret: 'd'.repeat(32),
        store: { use: () => Promise.reject(new Error('store down')) },
      }),
    ],
    {},
  ],
  ['Bearer table', () => [bearer({ verify: (t) => (t === TOKEN ? 'alice' : false) })], {}],
  ['Bearer JWT', () => [bearer({ verify: jwt })], {}],
  [
    'Bearer requiring a scope',
    () => [
      bearer({
        verify: (t) => (t === TOKEN ? { user: 'alice', scopes: [] } : false),
        requiredScopes: ['admin'],
      }),
    ],
    {},
  ],
  ['Bearer with query tokens', () => [bearer({ verify: () => false, allowQueryToken: true })], {}],
];

describe.each(['respond', 'next'] as const)('onFailure: %s', (onFailure) => {
  it.each(schemeSets)('%s: no failure path shows a secret', async (_title, schemes, options) => {
    const target = await start(
      authenticate({ realm: 's', schemes: schemes(), onFailure, ...options }),
    );
    servers.push(target);
    const requests: [Record<string, string | string[]>, string][] = [
      [{ Authorization: basicAuth('alice', WRONG) }, '/'],
      [{ Authorization: basicAuth('mallory', PASSWORD) }, '/'],
      [{ Authorization: `${basicAuth('alice', PASSWORD)}, x="` }, '/'],
      [{ Authorization: `Basic ${TOKEN}!` }, '/'],
      [{ Authorization: [basicAuth('alice', PASSWORD), basicAuth('alice', WRONG)] }, '/'],
      [{ Authorization: `Bearer ${TOKEN}x` }, '/'],
      [{ Authorization: `Bearer ${TOKEN} ${PASSWORD}` }, '/'],
      [{ Authorization: `Bearer ${WRONG}` }, `/?access_token=${TOKEN}`],
      [{}, `/?access_token=${TOKEN}&access_token=${WRONG}`],
      [{ Authorization: `Bearer token="${TOKEN}"` }, '/'],
      [{ Authorization: `Digest username="alice", password="${PASSWORD}"` }, '/'],
      [{ Authorization: `NotOffered ${TOKEN}` }, '/'],
      [
        { Authorization: `Basic ${Buffer.from(`alice:${PASSWORD}\u0000`).toString('base64')}` },
        '/',
      ],
    ];
    const a = await digestAnswer(target, 'alice', WRONG).catch(() => undefined);
    if (a !== undefined) requests.push([{ Authorization: digestHeader(a) }, '/']);
    const right = await digestAnswer(target, 'alice', PASSWORD).catch(() => undefined);
    if (right !== undefined)
      requests.push([{ Authorization: digestHeader({ ...right, uri: '/x' }) }, '/']);
    for (const [headers, path] of requests) checkReply(await send(target, headers, 'GET', path));
    if (onFailure === 'next') expect(target.errors.length).toBeGreaterThan(0);
    for (const err of target.errors)
      expectNoSecret('an error passed to next()', describeError(err));
    expectNoSecret('the console or process warnings', outputs.join('\n'));
  });
});

it('the leak detector itself catches a secret and its base64 form (the control)', () => {
  expect(() => expectNoSecret('a body', `oops ${PASSWORD} oops`)).toThrow('a secret appears');
  expect(() => expectNoSecret('a header', basicAuth('alice', WRONG))).toThrow('a secret appears');
});
