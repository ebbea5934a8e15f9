/**
 * Basic credentials an attacker shapes (RFC 7617): lenient base64 in all its forms, missing
 * colons, empty parts, invalid UTF-8 and control characters. Only the exact, canonical encoding
 * of a known user and password is accepted.
 */
import { authenticate, basic } from 'authscheme';
import { HIT, basicAuth, expectChallenged, send, start, type TestServer } from './helpers';

const users = {
  alice: 'a?>?',
  carol: 'pass:with:colons',
  dora: 'w\u00f6nderland',
  erin: '?>?>?>?',
};
let target: TestServer;

beforeAll(async () => {
  target = await start(authenticate({ realm: 'basic', schemes: [basic({ users })] }));
});
afterAll(() => target.close());

const b64 = (bytes: Buffer | string): string =>
  (typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes).toString('base64');

// alice:a?>? is YWxpY2U6YT8+Pw== : it has a "+" and padding to abuse.
const canonical = b64('alice:a?>?');

it('accepts the canonical encoding (the control for every refusal below)', async () => {
  const reply = await send(target, { Authorization: `Basic ${canonical}` });
  expect(reply.status).toBe(200);
  expect(reply.headers[HIT]).toEqual(['yes']);
});

describe('lenient base64 is refused', () => {
  it.each([
    ['base64url alphabet', canonical.replace('+', '-')],
    ['missing padding', canonical.replace(/=+$/, '')],
    ['one padding character of two', canonical.slice(0, -1)],
    ['extra padding', `${canonical}==`],
    ['non-zero bits before the padding', canonical.replace('Pw==', 'Px==')],
    ['a character outside the alphabet but inside token68 (~)', `~${canonical.slice(1)}`],
    ['a dot inside', `${canonical.slice(0, 4)}.${canonical.slice(5)}`],
    ['an underscore for a slash', b64('alice:>>>?').replace('+', '_')],
  ])('%s', async (_title, token) => {
    const reply = await send(target, { Authorization: `Basic ${token}` });
    expectChallenged(reply, ['Basic']);
  });

  // erin:?>?>?>? is ZXJpbjo/Pj8+Pz4/ : 12 bytes, so no padding, and no re-encoding to compare
  // against. Only the alphabet check (RFC 4648 §4) refuses its base64url spelling.
  it('refuses the base64url spelling of credentials that need no padding', async () => {
    const unpadded = b64('erin:?>?>?>?');
    expect((await send(target, { Authorization: `Basic ${unpadded}` })).status).toBe(200);
    for (const token of [
      unpadded.replaceAll('+', '-').replaceAll('/', '_'),
      unpadded.replace('/', '_'),
      unpadded.replace('+', '-'),
    ]) {
      expectChallenged(await send(target, { Authorization: `Basic ${token}` }), ['Basic']);
    }
  });

  it('refuses characters outside token68, and padding in the middle, with 400', async () => {
    for (const token of [
      `${canonical.slice(0, 8)}!${canonical.slice(9)}`,
      `${canonical} x`,
      `${canonical.slice(0, 4)}==${canonical.slice(4)}`,
    ]) {
      const reply = await send(target, { Authorization: `Basic ${token}` });
      expect(reply.status).toBe(400);
      expect(reply.headers[HIT]).toBeUndefined();
      expect(reply.headers['www-authenticate']).toEqual(['Basic realm="basic", charset="UTF-8"']);
    }
  });
});

describe('decoded credentials', () => {
  it('accepts a colon in the password (only the first colon separates)', async () => {
    const reply = await send(target, { Authorization: basicAuth('carol', 'pass:with:colons') });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ auth: { scheme: 'Basic', user: 'carol' } });
  });

  it('accepts a UTF-8 password and refuses the same password in latin1', async () => {
    expect(
      (await send(target, { Authorization: basicAuth('dora', 'w\u00f6nderland') })).status,
    ).toBe(200);
    const latin1 = await send(target, { Authorization: `Basic ${b64('dora:w\u00f6nderland')}` });
    expectChallenged(latin1, ['Basic']);
  });

  it.each([
    ['no colon', b64('alicea?>?')],
    ['an empty user-id', b64(':a?>?')],
    ['an empty password', b64('alice:')],
    ['only a colon', b64(':')],
    ['a colon in the user-id (split at the first)', b64('ali:ce:a?>?')],
    ['invalid UTF-8 in the password', b64(Buffer.from([...Buffer.from('alice:'), 0xff, 0xfe]))],
    ['an overlong UTF-8 encoding', b64(Buffer.from([...Buffer.from('alice:a'), 0xc0, 0xbf]))],
    [
      'a lone surrogate encoded in UTF-8',
      b64(Buffer.from([...Buffer.from('alice:'), 0xed, 0xa0, 0x80])),
    ],
    ['a NUL in the password', b64('alice:a?>?\u0000')],
    ['a NUL in the user-id', b64('alice\u0000:a?>?')],
    ['a line feed after the password', b64('alice:a?>?\n')],
    ['a carriage return in the user-id', b64('al\rice:a?>?')],
    ['DEL in the password', b64('alice:a?>\u007f?')],
    ['a C1 control (U+0085) in UTF-8', b64(Buffer.from('alice:a?>?\u0085', 'utf8'))],
    ['a BOM before the user-id', b64(Buffer.from('\ufeffalice:a?>?', 'utf8'))],
    ['a user differing only in case', b64('Alice:a?>?')],
    ['a user with a trailing space', b64('alice :a?>?')],
    ['the password with a trailing space', b64('alice:a?>? ')],
    ['a prototype property as user', b64('__proto__:a?>?')],
    ['constructor as user', b64('constructor:')],
  ])('refuses %s with 401 and the challenge', async (_title, token) => {
    const reply = await send(target, { Authorization: `Basic ${token}` });
    expectChallenged(reply, ['Basic']);
    expect(reply.headers['www-authenticate']).toEqual(['Basic realm="basic", charset="UTF-8"']);
  });

  it('refuses Basic with no token and Basic with auth-params', async () => {
    for (const value of ['Basic', 'Basic ', 'Basic user="alice", password="a?>?"']) {
      const reply = await send(target, { Authorization: value });
      expectChallenged(reply, ['Basic']);
    }
  });
});
