/**
 * Audit 76: basic() and the header codec. Each test fails on the code it was written against.
 */
import request from 'supertest';
import express from 'express';
import {
  authenticate,
  basic,
  decodeExtValue,
  formatAuthParams,
  formatChallenge,
  formatCredentials,
  AuthHeaderSyntaxError,
} from 'authscheme';

describe('audit 76: ext-values the formatters write are UTF-8 (RFC 8187 §3.2.1, docs/header.md)', () => {
  // docs/header.md: "parameter names ending in `*` must hold an RFC 8187 ext-value in UTF-8
  // (§3.2.1: producers MUST use UTF-8)" and "the formatters write UTF-8 only". The charset label
  // is checked, the bytes are not: these are no UTF-8, and decodeExtValue refuses what was written.
  it.each([
    ['a lone continuation byte', "UTF-8''%FF"],
    ['an overlong encoding of "/"', "UTF-8''%C0%AF"],
    ['a surrogate encoded in UTF-8', "UTF-8''%ED%A0%80"],
    ['a truncated sequence', "UTF-8''%E2%82"],
  ])('refuses %s labelled UTF-8', (_label, value) => {
    expect(() => decodeExtValue(value)).toThrow(AuthHeaderSyntaxError);
    expect(() => formatChallenge({ scheme: 'Foo', params: { 'title*': value } })).toThrow(
      TypeError,
    );
    expect(() => formatCredentials({ scheme: 'Digest', params: { 'username*': value } })).toThrow(
      TypeError,
    );
    expect(() => formatAuthParams({ 'x*': value })).toThrow(TypeError);
  });
});

describe('audit 76: README "Basic (RFC 7617)": a value that is not a token68', () => {
  // README said: "a value that is not even a token68 (a space or `!` inside, padding in the
  // middle) is a field that does not parse: 400, as for any scheme". With one "=" in the middle
  // and a token after it the field parses, as an auth-param (RFC 9110 §11.4), and Basic answers
  // 401 (as for any Basic credentials with auth-params); the README now says so.
  function app(): express.Express {
    const server = express();
    server.use(authenticate({ realm: 'r', schemes: [basic({ users: { ab: 'abc' } })] }));
    server.get('/', (req, res) => res.json(req.auth));
    return server;
  }

  it.each([
    [
      'padding in the middle',
      `Basic ${Buffer.from('ab').toString('base64')}${Buffer.from('abc').toString('base64')}`,
    ], // YWI=YWJj
    ['"!" inside, after padding', 'Basic YWI=!'],
  ])('answers %s with 401 when it parses as an auth-param', async (_label, header) => {
    const res = await request(app()).get('/').set('Authorization', header);
    expect(res.status).toBe(401);
  });
});
