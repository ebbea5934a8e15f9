/**
 * Which field carries the credentials: two Authorization lines, Authorization beside
 * Proxy-Authorization (each mode reads only its own), schemes not offered and scheme spellings.
 */
import { authenticate, basic, type AuthenticateOptions } from 'authscheme';
import {
  HIT,
  basicAuth,
  expectChallenged,
  expectRefused,
  rawGet,
  send,
  sendRaw,
  startForThisFile,
  type Reply,
  type TestServer,
} from './helpers';
import { nodeRefusesPastHeaderLimit } from '../helpers/header-limit';

const users = { alice: 'wonderland' };
const good = basicAuth('alice', 'wonderland');
const bad = basicAuth('alice', 'nope');
const start = startForThisFile();
let origin: TestServer;
let proxy: TestServer;

async function make(options: Partial<AuthenticateOptions>): Promise<TestServer> {
  return start(authenticate({ realm: 'f', schemes: [basic({ users })], ...options }));
}

/**
 * The answer to a request past the server's maxHeadersCount: ours (400, with challenges) where Node
 * drops the lines past it, Node's own 431 where it refuses the request (see header-limit.ts).
 */
let pastLimit: 400 | 431;
function expectRefusedPastLimit(reply: Reply): void {
  expectRefused(reply, [pastLimit]);
  if (pastLimit === 400) expect(reply.headers['www-authenticate']).toBeDefined();
}

beforeAll(async () => {
  origin = await make({});
  proxy = await make({ proxy: true });
  pastLimit = (await nodeRefusesPastHeaderLimit()) ? 431 : 400;
});

describe('two field lines', () => {
  it.each([
    ['two good lines', [good, good]],
    ['a good line then a bad one', [good, bad]],
    ['a bad line then a good one', [bad, good]],
    ['a good line then an empty one', [good, '']],
  ])('refuses %s with 400', async (_title, lines) => {
    const reply = await send(origin, { Authorization: lines });
    expectRefused(reply, [400]);
    expect(reply.headers['cache-control']).toEqual(['no-store']);
  });

  it('refuses two lines whose names differ only in case (raw socket)', async () => {
    const reply = await sendRaw(
      origin,
      rawGet([`Authorization: ${good}`, `authorization: ${good}`]),
    );
    expectRefused(reply, [400]);
    // Field names are case-insensitive (RFC 9110 §5.1), every letter of them, A to Z.
    const shouted = await sendRaw(
      origin,
      rawGet([`Authorization: ${good}`, `AUTHORIZATION: ${good}`]),
    );
    expectRefused(shouted, [400]);
  });

  it('refuses two Proxy-Authorization lines in proxy mode', async () => {
    const reply = await send(proxy, { 'Proxy-Authorization': [good, good] });
    expectRefused(reply, [400]);
  });

  // Past the server's maxHeadersCount (default 1000 lines), Node 20 drops the further lines from
  // rawHeaders as well as from req.headers: a second line there cannot be seen, so a request
  // that long is refused rather than authenticated by its first line. Newer Node answers 431.
  const filler = (lines: number) => Array.from({ length: lines }, (_, i) => `x-${i}: y`);

  it("refuses a second line hidden past Node's 1000-line limit with 400 (or Node's 431)", async () => {
    const reply = await sendRaw(
      origin,
      rawGet([
        `Authorization: ${good}`,
        ...filler(1100),
        `Authorization: ${basicAuth('eve', 'x')}`,
      ]),
    );
    expectRefusedPastLimit(reply);
  });

  it('refuses a hidden second line on an HTTP/1 request line that claims HTTP/2.0', async () => {
    // Node's HTTP/1 parser takes "HTTP/2.0" in a request line and reports httpVersionMajor 2,
    // yet drops the lines past maxHeadersCount as for any HTTP/1 request.
    const bytes = rawGet([
      `Authorization: ${good}`,
      ...filler(1100),
      `Authorization: ${basicAuth('eve', 'x')}`,
    ])
      .toString('latin1')
      .replace(' HTTP/1.1\r\n', ' HTTP/2.0\r\n');
    const reply = await sendRaw(origin, bytes);
    expectRefusedPastLimit(reply);
  });

  it('refuses credentials on a request longer than the limit, whose end Node dropped', async () => {
    const reply = await sendRaw(origin, rawGet([`Authorization: ${good}`, ...filler(1100)]));
    expectRefusedPastLimit(reply);
  });

  it('accepts one line among many below the limit', async () => {
    const reply = await sendRaw(origin, rawGet([`Authorization: ${good}`, ...filler(900)]));
    expect(reply.status).toBe(200);
    expect(reply.headers[HIT]).toEqual(['yes']);
  });

  it("follows the server's own maxHeadersCount: lower, and none (0)", async () => {
    const low = await make({});
    low.server.maxHeadersCount = 40;
    const hidden = rawGet([
      `Authorization: ${good}`,
      ...filler(60),
      `Authorization: ${basicAuth('eve', 'x')}`,
    ]);
    expectRefusedPastLimit(await sendRaw(low, hidden));
    // Node hands lines over in batches of 31: a request that fits in one loses none, whatever
    // the limit; one that lost lines kept exactly one batch when the limit is below it.
    expect((await sendRaw(low, rawGet([`Authorization: ${good}`, ...filler(20)]))).status).toBe(
      200,
    );
    const lower = await make({});
    lower.server.maxHeadersCount = 20;
    const oneBatchKept = rawGet([
      `Authorization: ${good}`,
      ...filler(40),
      `Authorization: ${basicAuth('eve', 'x')}`,
    ]);
    expectRefusedPastLimit(await sendRaw(lower, oneBatchKept));
    const unlimited = await make({});
    unlimited.server.maxHeadersCount = 0;
    const many = rawGet([`Authorization: ${good}`, ...filler(1100)]);
    expect((await sendRaw(unlimited, many)).status).toBe(200);
    const twice = rawGet([`Authorization: ${good}`, ...filler(1100), `Authorization: ${good}`]);
    expectRefused(await sendRaw(unlimited, twice), [400]);
  });

  // With maxHeadersCount at one batch (31 lines), Node keeps exactly 62 names and values of a
  // longer request: as many as a request of 31 lines has, so a second line past them cannot be
  // ruled out, and the request is refused, not authenticated by its first line.
  it('refuses a request that reaches exactly a maxHeadersCount of one batch', async () => {
    const batch = await make({});
    batch.server.maxHeadersCount = 31;
    const hidden = rawGet([
      `Authorization: ${good}`,
      ...filler(40),
      `Authorization: ${basicAuth('eve', 'x')}`,
    ]);
    expectRefusedPastLimit(await sendRaw(batch, hidden));
  });

  // Node 20 drops no line of a request that fits in one batch of 31, whatever maxHeadersCount
  // says: 27 lines under a limit of 20 lost none, and are not refused as if they had. (Newer Node
  // counts every line, and answers 431.)
  it('accepts a request of one batch over a lower maxHeadersCount, where Node takes it', async () => {
    const lower = await make({});
    lower.server.maxHeadersCount = 20;
    const reply = await sendRaw(lower, rawGet([`Authorization: ${good}`, ...filler(24)]));
    if (pastLimit === 431) {
      expectRefused(reply, [431]);
      return;
    }
    expect(reply.status).toBe(200);
    expect(reply.headers[HIT]).toEqual(['yes']);
  });

  it('refuses one line holding two comma-joined credentials with 400', async () => {
    const reply = await send(origin, { Authorization: `${good}, ${good}` });
    expectRefused(reply, [400]);
  });
});

describe('Authorization and Proxy-Authorization', () => {
  it('an origin server ignores Proxy-Authorization', async () => {
    const reply = await send(origin, { 'Proxy-Authorization': good });
    expectChallenged(reply, ['Basic']);
    const both = await send(origin, { Authorization: bad, 'Proxy-Authorization': good });
    expectChallenged(both, ['Basic']);
    const ok = await send(origin, { Authorization: good, 'Proxy-Authorization': bad });
    expect(ok.status).toBe(200);
  });

  it('a proxy ignores Authorization (answering 407 with Proxy-Authenticate)', async () => {
    const cases: Record<string, string>[] = [
      { Authorization: good },
      { Authorization: good, 'Proxy-Authorization': bad },
    ];
    for (const headers of cases) {
      const reply = await send(proxy, headers);
      expectRefused(reply, [407]);
      expect(reply.headers['proxy-authenticate']).toEqual(['Basic realm="f", charset="UTF-8"']);
      expect(reply.headers['www-authenticate']).toBeUndefined();
      expect(reply.headers['cache-control']).toEqual(['no-store']);
    }
    const ok = await send(proxy, { Authorization: bad, 'Proxy-Authorization': good });
    expect(ok.status).toBe(200);
    expect(ok.headers.vary).toEqual(['Proxy-Authorization']);
  });
});

describe('scheme names', () => {
  it.each([
    'Bearer abc',
    'Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXag',
    'NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==',
    'Digest username="alice"',
    'Basic2 YWxpY2U6d29uZGVybGFuZA==',
    'Basi YWxpY2U6d29uZGVybGFuZA==',
    'X-Basic YWxpY2U6d29uZGVybGFuZA==',
  ])('answers a scheme not offered (%s) with 401 and the offered challenge', async (value) => {
    expectChallenged(await send(origin, { Authorization: value }), ['Basic']);
  });

  it.each(['basic', 'BASIC', 'bAsIc'])('matches %s case-insensitively', async (name) => {
    const reply = await send(origin, { Authorization: good.replace('Basic', name) });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ auth: { scheme: 'Basic', user: 'alice' } });
  });

  it.each([
    ['a dotted capital I (UTF-8 bytes)', 'BAS\u00c4\u00b0C'],
    ['a long s (UTF-8 bytes)', 'Ba\u00c5\u00bfic'],
    ['a Kelvin-sign lookalike (UTF-8 bytes)', '\u00e2\u0084\u00aaasic'],
  ])('does not fold %s into Basic', async (_title, name) => {
    const reply = await sendRaw(
      origin,
      rawGet([`Authorization: ${name} YWxpY2U6d29uZGVybGFuZA==`]),
    );
    expectRefused(reply, [400, 401]);
    expect(reply.headers[HIT]).toBeUndefined();
  });
});
