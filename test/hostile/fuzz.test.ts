/**
 * A bounded fast-check fuzz of the whole middleware with Basic, Digest and Bearer mounted: random
 * header bytes, random schemes and random mixes of valid parts. Every response is 400, 401, 403 or
 * 407 (or Node's own 400/431), and a 2xx happens only for the right credentials.
 */
import fc from 'fast-check';
import { authenticate, basic, bearer, digest } from 'authscheme';
import {
  HIT,
  basicAuth,
  digestAnswer,
  digestHeader,
  rawGet,
  send,
  sendRaw,
  start,
  type Reply,
  type TestServer,
} from './helpers';

const GOOD_BASIC = basicAuth('alice', 'wonderland');
const GOOD_TOKEN = 'good-token-123';
let target: TestServer;

beforeAll(async () => {
  target = await start(
    authenticate({
      realm: 'fuzz',
      schemes: [
        digest({ users: { alice: 'wonderland' }, secret: 'z'.repeat(32) }),
        basic({ users: { alice: 'wonderland' } }),
        bearer({ verify: (token) => (token === GOOD_TOKEN ? 'alice' : false) }),
      ],
    }),
  );
});
afterAll(() => target.close());

const REFUSALS = [400, 401, 403, 407, 431];

/**
 * The test's own oracle (the value is generated, not hostile): a scheme named Basic or Bearer in
 * any case, one SP, optional whitespace, the good token68, optional whitespace (RFC 9110 §11.4).
 */
function namesGoodCredentials(value: string): boolean {
  const match = /^[ \t]*([^ \t]+) [ \t]*([^ \t]+)[ \t]*$/.exec(value);
  if (match === null) return false;
  const scheme = match[1]!.toLowerCase();
  return (
    (scheme === 'basic' && match[2] === GOOD_BASIC.slice('Basic '.length)) ||
    (scheme === 'bearer' && match[2] === GOOD_TOKEN)
  );
}

function check(reply: Reply, sent: string | undefined): void {
  const right = sent !== undefined && namesGoodCredentials(sent);
  if (reply.status >= 200 && reply.status < 300) {
    expect(right).toBe(true);
    expect(reply.headers[HIT]).toEqual(['yes']);
  } else {
    expect(REFUSALS).toContain(reply.status);
    expect(reply.headers[HIT]).toBeUndefined();
  }
}

const schemeName = fc.oneof(
  fc.constantFrom('Basic', 'basic', 'Digest', 'DIGEST', 'Bearer', 'bearer', 'Negotiate', ''),
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 8 }),
);
const latin1Text = fc.string({
  unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c === 0x7f ? 0x20 : c)),
  maxLength: 200,
});
const piece = fc.oneof(
  latin1Text,
  fc.constantFrom(
    GOOD_BASIC.slice(6),
    GOOD_TOKEN,
    'username="alice"',
    'realm="fuzz"',
    'nonce="x"',
    'uri="/"',
    'response="00"',
    'qop=auth',
    'nc=00000001',
    '__proto__=1',
    '"',
    '\\',
    ',',
    '=',
    '\t',
  ),
);
const fieldValue = fc.oneof(
  fc
    .tuple(schemeName, fc.array(piece, { maxLength: 6 }))
    .map(([s, parts]) => `${s} ${parts.join('')}`),
  fc
    .tuple(schemeName, fc.array(piece, { maxLength: 6 }))
    .map(([s, parts]) => `${s} ${parts.join(', ')}`),
  latin1Text,
  fc.constantFrom(GOOD_BASIC, `Bearer ${GOOD_TOKEN}`),
);

function sendable(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    out += (code < 0x20 && code !== 0x09) || code === 0x7f ? ' ' : value[i];
  }
  return out;
}

it('answers random field values through Node’s client with a refusal, or 2xx only for good credentials', async () => {
  await fc.assert(
    fc.asyncProperty(fieldValue, async (generated) => {
      // Node's client refuses control characters; the raw-socket property below sends those.
      const value = sendable(generated);
      const reply = await send(target, { Authorization: value });
      check(reply, value);
    }),
    { numRuns: 300 },
  );
});

it('answers random bytes on the wire with a refusal, never the handler', async () => {
  const bytes = fc.uint8Array({ minLength: 0, maxLength: 120 });
  await fc.assert(
    fc.asyncProperty(schemeName, bytes, async (name, raw) => {
      // No CR/LF, which would end the field line early (another case of its own).
      const cleaned = Buffer.from(raw.map((b) => (b === 0x0a || b === 0x0d ? 0x20 : b)));
      const line = Buffer.concat([Buffer.from(`Authorization: ${name} `, 'latin1'), cleaned]);
      const reply = await sendRaw(target, rawGet([line]));
      check(reply, undefined);
    }),
    { numRuns: 150 },
  );
});

it('answers Digest answers with one random directive changed with a refusal', async () => {
  const directive = fc.constantFrom(
    'username',
    'realm',
    'nonce',
    'uri',
    'response',
    'qop',
    'nc',
    'cnonce',
    'opaque',
    'algorithm',
  );
  await fc.assert(
    fc.asyncProperty(directive, latin1Text, async (name, value) => {
      const a = await digestAnswer(target, 'alice', 'wonderland');
      const header = digestHeader(a);
      const pattern = new RegExp(`(${name}=)(?:"([^"]*)"|([^,]*))`);
      const original = pattern.exec(header);
      const escaped = value.replace(/[\\"]/g, '\\$&');
      const changed = header.replace(pattern, `$1"${escaped}"`);
      const reply = await send(target, { Authorization: changed });
      // The same value, merely quoted, may rightly succeed; anything else must be refused.
      if (value === (original?.[2] ?? original?.[3])) {
        expect([200, ...REFUSALS]).toContain(reply.status);
      } else {
        expect(REFUSALS).toContain(reply.status);
        expect(reply.headers[HIT]).toBeUndefined();
      }
    }),
    { numRuns: 100 },
  );
});
