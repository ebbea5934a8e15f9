/**
 * Differential testing against Apache httpd 2.4 (Debian's `apache2`, which scripts/provision.sh
 * installs): the same hand-made Authorization (and Proxy-Authorization) fields go, byte for byte
 * over a raw socket, to Apache and to authenticate() with the same users and realms. Apache runs
 * mod_auth_digest (MD5 and qop=auth only: it has no SHA-256) with AuthDigestNcCheck On over an
 * htdigest file, mod_auth_basic over an htpasswd file, and, in a second instance, a forward proxy
 * (mod_proxy, CONNECT) guarded by Digest. Each Digest case answers a fresh challenge of each
 * server with valid or mutated directives (names, case, duplicates, quoting, escapes, uri forms,
 * nc, cnonce, qop, algorithm, nonce, separators); Basic cases mutate the base64 and its split.
 * A case records the status, stale=true, and whether rspauth is RFC 7616 §3.5's.
 *
 * Every case must get Apache's answer, except those in DIFFERENT, each with the reason (an RFC,
 * README or docs/digest.md) and our answer; Apache's own answer there is not asserted.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { authenticate, basic, digest } from 'authscheme';
import { startApache, type Apache } from './helpers/apache';
import {
  addF,
  bytes,
  challenge,
  dropF,
  fill,
  quoteF,
  renameF,
  send,
  ser,
  setF,
  u8,
  type Challenge,
  type Field,
  type Reply,
  type Target,
} from './helpers/differential';

jest.setTimeout(30_000);

const md5 = (s: Buffer | string): string => createHash('md5').update(s).digest('hex');

const DREALM = 'digest-realm';
const BREALM = 'basic-realm';
const DIGEST_USERS: Record<string, string> = {
  alice: 'secret',
  jörg: 'pw',
  'a"b': 'pw',
  'a\\b': 'pw',
};
const BASIC_USERS: Record<string, string> = {
  alice: 'secret',
  bob: 'pa:ss',
  jörg: 'pw',
  carol: 'x'.repeat(300),
  dave: 'pässword',
  erin: '??>>',
};

interface DigestSpec {
  /** Request target sent (default /digest/). `{ORIGIN}` is replaced by the server's origin. */
  target?: string;
  method?: string;
  user?: string;
  password?: string;
  /** Realm hashed (default: the challenge's). */
  hashRealm?: string;
  /** The realm echoed and the one hashed, made from the challenge's (octets as characters). */
  echoRealmOf?: (realm: string) => string;
  hashRealmOf?: (realm: string) => string;
  nc?: string;
  cnonce?: string;
  qop?: string;
  uri?: string;
  /** What is hashed for each, when it differs from what is sent. */
  hashQop?: string;
  hashUri?: string;
  hashNc?: string;
  hashUser?: string;
  nonce?: (n: string) => string;
  /** Omit qop/nc/cnonce from the hash (RFC 2069). */
  rfc2069?: boolean;
  /** The method on the request line, when it is not the one hashed. */
  sendMethod?: string;
  path?: string;
  hashCnonce?: string;
  edit?: (fields: Field[]) => Field[];
  serialize?: (fields: Field[]) => string;
}

function digestField(ch: Challenge, s0: DigestSpec, t?: Target): string {
  const sub = (x?: string) => (x === undefined || t === undefined ? x : fill(t, x));
  const s = {
    ...s0,
    uri: sub(s0.uri),
    target: sub(s0.target),
    hashUri: sub(s0.hashUri),
    path: sub(s0.path),
  };
  const user = s.user ?? 'alice';
  const password = s.password ?? DIGEST_USERS[user] ?? 'pw';
  const method = s.method ?? 'GET';
  const uri = s.uri ?? s.target ?? s.path ?? '/digest/';
  const nc = s.nc ?? '00000001';
  const cnonce = s.cnonce ?? 'abcdef0123456789';
  const qop = s.qop ?? 'auth';
  const nonce = s.nonce ? s.nonce(ch.nonce) : ch.nonce;
  const hashRealm = s.hashRealm ?? (s.hashRealmOf ?? ((r: string) => r))(ch.realm);
  const ha1 = md5(bytes(`${u8(s.hashUser ?? user)}:${hashRealm}:${u8(password)}`));
  const ha2 = md5(bytes(`${method}:${s.hashUri ?? uri}`));
  const response = s.rfc2069
    ? md5(`${ha1}:${nonce}:${ha2}`)
    : md5(`${ha1}:${nonce}:${s.hashNc ?? nc}:${s.hashCnonce ?? cnonce}:${s.hashQop ?? qop}:${ha2}`);
  const rspHa2 = md5(bytes(`:${s.hashUri ?? uri}`));
  const rspauth = md5(
    `${ha1}:${nonce}:${s.hashNc ?? nc}:${s.hashCnonce ?? cnonce}:${s.hashQop ?? qop}:${rspHa2}`,
  );
  let fields: Field[] = [
    ['username', u8(user).replace(/["\\]/g, '\\$&'), true],
    ['realm', (s.echoRealmOf ?? ((r: string) => r))(ch.realm), true],
    ['nonce', nonce, true],
    ['uri', uri, true],
    ['algorithm', 'MD5', false],
    ['response', response, true],
    ['qop', qop, false],
    ['nc', nc, false],
    ['cnonce', cnonce, true],
  ];
  if (ch.opaque !== undefined) fields.push(['opaque', ch.opaque, true]);
  if (s.rfc2069) fields = fields.filter(([n]) => !['qop', 'nc', 'cnonce'].includes(n));
  if (s.edit) fields = s.edit(fields);
  const ser =
    s.serialize ??
    ((fs: Field[]) => fs.map(([n, v, q]) => (q ? `${n}="${v}"` : `${n}=${v}`)).join(', '));
  const field = `Digest ${ser(fields)}`;
  expectedRspauth.set(field, rspauth);
  return field;
}

const expectedRspauth = new Map<string, string>();

const STALE = -1;
const NO_RSPAUTH = -3;
const WRONG_RSPAUTH = -4;

/**
 * The status, then STALE for a challenge with stale=true; after a success WRONG_RSPAUTH for an
 * rspauth that is not RFC 7616 §3.5's over what was sent, and for ours NO_RSPAUTH when there is
 * none (Apache sends none on a proxied response or an error page).
 */
function outcome(t: Target, field: string, r: Reply): number[] {
  const out = [r.status];
  if (/^(?:Proxy|WWW)-Authenticate:.*stale=true/im.test(r.headers)) out.push(STALE);
  if (r.status < 300 || r.status === 404) {
    const got = /^(?:Proxy-)?Authentication-Info:.*rspauth="?([0-9a-f]+)/im.exec(r.headers)?.[1];
    if (got === undefined) {
      if (t.name === 'ours') out.push(NO_RSPAUTH);
    } else if (got !== expectedRspauth.get(field)) out.push(WRONG_RSPAUTH);
  }
  return out;
}

interface Case {
  name: string;
  /** Sent to the two forward proxies, not the origins. */
  proxy?: boolean;
  /** The requests of the case, on one server; returns the statuses. */
  run: (t: Target) => Promise<number[]>;
}

const cases: Case[] = [];

/** One Digest request after a fresh challenge on `path`. */
function dcase(name: string, spec: DigestSpec, path = '/digest/'): void {
  cases.push({
    name: `digest: ${name}`,
    run: async (t) => {
      const ch = await challenge(t, path);
      const field = digestField(ch, { path, ...spec }, t);
      const r = await send(t, spec.target ?? path, field, spec.sendMethod ?? spec.method);
      return outcome(t, field, r);
    },
  });
}

/** A right answer to a fresh challenge, sent as `make` rewrites it into field lines. */
function dfield(name: string, make: (field: string) => string | string[]): void {
  cases.push({
    name: `digest: ${name}`,
    run: async (t) => {
      const ch = await challenge(t, '/digest/');
      return [(await send(t, '/digest/', make(digestField(ch, {}, t)))).status];
    },
  });
}

/** Several requests on one nonce. */
function dseq(name: string, specs: DigestSpec[], wait = 0, path = '/digest/'): void {
  cases.push({
    name: `digest: ${name}`,
    run: async (t) => {
      const ch = await challenge(t, path);
      const out: number[] = [];
      for (const spec of specs) {
        if (wait) await new Promise((r) => setTimeout(r, wait));
        const field = digestField(ch, { path, ...spec }, t);
        const r = await send(t, spec.target ?? path, field, spec.method);
        out.push(...outcome(t, field, r));
      }
      return out;
    },
  });
}

function bcase(name: string, value: string | string[], target = '/basic/'): void {
  cases.push({
    name: `basic: ${name}`,
    run: async (t) => [(await send(t, target, value)).status],
  });
}

// ---- Digest corpus ----
dcase('valid', {});
dcase('valid, index.html', { target: '/digest/index.html' });
dcase('valid, query', { target: '/digest/index.html?a=1&b=2' });
dcase('wrong password', { password: 'nope' });
dcase('unknown user', { user: 'mallory', password: 'x' });
dcase('UTF-8 user jörg', { user: 'jörg' });
dcase('latin1 user jörg (hash latin1)', {
  user: 'jörg',
  edit: setF('username', 'j\xf6rg'),
  hashUser: 'j\xf6rg',
});
dcase('user a"b escaped', { user: 'a"b' });
dcase('user a\\b escaped', { user: 'a\\b' });
dcase('username token (unquoted)', { edit: quoteF('username', false) });
dcase('username with escaped letters a\\lice', { edit: setF('username', 'a\\lice') });
dcase('username upper-case ALICE', { edit: setF('username', 'ALICE'), hashUser: 'ALICE' });
dcase('username empty', { edit: setF('username', ''), hashUser: '' });
dcase('username* ext-value', {
  edit: (fs) => renameF('username', 'username*')(setF('username', "UTF-8''alice", false)(fs)),
});
for (const n of [
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
])
  dcase(`missing ${n}`, { edit: dropF(n) });
for (const n of [
  'username',
  'realm',
  'nonce',
  'uri',
  'response',
  'nc',
  'cnonce',
  'qop',
  'algorithm',
])
  dcase(`directive name upper-case ${n.toUpperCase()}`, { edit: renameF(n, n.toUpperCase()) });
dfield('scheme lower-case digest', (f) => f.replace(/^Digest/, 'digest'));
dfield('scheme DIGEST', (f) => f.replace(/^Digest/, 'DIGEST'));
dfield('two Authorization fields (valid, bogus)', (f) => [f, 'Digest username="x"']);
dfield('Basic then valid Digest in one field list', (f) => ['Basic YWxpY2U6c2VjcmV0', f]);
dcase('duplicate username, other second', { edit: addF(['username', 'mallory', true]) });
dcase('duplicate username, other first', { edit: addF(['username', 'mallory', true], true) });
dcase('duplicate uri, identical', { edit: (fs) => [...fs, fs.find((f) => f[0] === 'uri')!] });
dcase('duplicate response, wrong first', { edit: addF(['response', '0'.repeat(32), true], true) });
dcase('duplicate realm, wrong first', { edit: addF(['realm', 'other', true], true) });
dcase('duplicate nc, other value first', { edit: addF(['nc', '00000009', false], true) });
dcase('unknown param', { edit: addF(['foo', 'bar', true]) });
dcase('unknown param before', { edit: addF(['foo', 'bar', true], true) });
dcase('wrong uri path', { target: '/digest/', uri: '/digest/index.html' });
dcase('uri without query', { target: '/digest/index.html?a=1', uri: '/digest/index.html' });
dcase('uri only query differs', {
  target: '/digest/index.html?a=1',
  uri: '/digest/index.html?a=2',
});
dcase('uri absolute-form, target origin-form', {
  target: '/digest/',
  uri: 'http://127.0.0.1:PORT/digest/',
});
dcase('uri absolute wrong port', { target: '/digest/', uri: 'http://127.0.0.1:1/digest/' });
dcase('uri absolute, https', { target: '/digest/', uri: 'https://127.0.0.1:PORT/digest/' });
dcase('target absolute, uri origin-form', { target: '{ORIGIN}/digest/', uri: '/digest/' });
dcase('target absolute, uri absolute', { target: '{ORIGIN}/digest/', uri: '{ORIGIN}/digest/' });
dcase('uri percent-encoded letter', { target: '/digest/index.html', uri: '/digest/%69ndex.html' });
dcase('target percent-encoded, uri plain', {
  target: '/digest/%69ndex.html',
  uri: '/digest/index.html',
});
dcase('uri upper-case path', { target: '/digest/index.html', uri: '/DIGEST/index.html' });
dcase('uri with dot segment', { target: '/digest/index.html', uri: '/digest/./index.html' });
dcase('uri *', { target: '/digest/', uri: '*' });
dcase('uri empty', { target: '/digest/', uri: '' });
dcase('uri relative', { target: '/digest/index.html', uri: 'index.html' });
dcase('uri with fragment', { target: '/digest/index.html', uri: '/digest/index.html#x' });
dcase('uri trailing space', { target: '/digest/', uri: '/digest/ ' });
dcase('wrong realm (hashed and sent)', { hashRealm: 'other', edit: setF('realm', 'other') });
dcase('realm upper-case', { hashRealm: 'DIGEST-REALM', edit: setF('realm', 'DIGEST-REALM') });
dcase('realm right, hashed wrong', { hashRealm: 'other' });
dcase('realm token unquoted', { edit: quoteF('realm', false) });
dcase('opaque wrong', { edit: setF('opaque', 'deadbeef') });
dcase('nc 00000000', { nc: '00000000' });
dcase('nc 00000002 first', { nc: '00000002' });
dcase('nc ffffffff', { nc: 'ffffffff' });
dcase('nc upper-case hex 0000000A', { nc: '0000000A' });
dcase('nc short 1', { nc: '1' });
dcase('nc 9 digits', { nc: '000000001' });
dcase('nc non-hex', { nc: '0000000g' });
dcase('nc quoted', { edit: quoteF('nc', true) });
dcase('nc hex prefix 0x1', { nc: '0x000001' });
dcase('nc sent 00000001 hashed 1', { nc: '00000001', hashNc: '1' });
dcase('cnonce empty', { cnonce: '' });
dcase('cnonce with space', { cnonce: 'a b' });
dcase('cnonce unquoted token', { edit: quoteF('cnonce', false) });
dcase('cnonce very long (4000)', { cnonce: 'c'.repeat(4000) });
dcase('qop quoted', { edit: quoteF('qop', true) });
dcase('qop AUTH (hashed AUTH)', { qop: 'AUTH' });
dcase('qop AUTH (hashed auth)', { qop: 'AUTH', hashQop: 'auth' });
dcase('qop auth-int', { qop: 'auth-int' });
dcase('qop auth,auth-int', { qop: 'auth,auth-int', edit: quoteF('qop', true) });
dcase('qop bogus', { qop: 'bogus' });
dcase('qop empty', { qop: '', edit: quoteF('qop', true) });
dcase('RFC 2069 (no qop, nc, cnonce)', { rfc2069: true });
dcase('no qop but nc/cnonce present', {
  rfc2069: true,
  edit: (fs) => [...fs, ['nc', '00000001', false], ['cnonce', 'x', true]],
});
for (const a of ['md5', 'Md5', '"MD5"', 'MD5-sess', 'SHA-256', 'bogus', ''])
  dcase(`algorithm ${a}`, {
    edit: (fs) =>
      fs.map((f) =>
        f[0] === 'algorithm' ? ['algorithm', a.replace(/"/g, ''), a.startsWith('"')] : f,
      ),
  });
dcase('forged nonce (one char)', {
  nonce: (n) => n.slice(0, 10) + (n[10] === 'A' ? 'B' : 'A') + n.slice(11),
});
dcase('forged nonce (last char)', {
  nonce: (n) => n.slice(0, -1) + (n.endsWith('A') ? 'B' : 'A'),
});
dcase('nonce truncated', { nonce: (n) => n.slice(0, -2) });
dcase('nonce empty', { nonce: () => '' });
dcase('nonce huge (8000)', { nonce: () => 'A'.repeat(8000) });
dcase('response upper-case hex', {
  edit: (fs) => fs.map((f) => (f[0] === 'response' ? [f[0], f[1].toUpperCase(), f[2]] : f)),
});
dcase('response unquoted', { edit: quoteF('response', false) });
dcase('response too short', {
  edit: (fs) => fs.map((f) => (f[0] === 'response' ? [f[0], f[1].slice(1), f[2]] : f)),
});
dcase('method HEAD', { method: 'HEAD' });
dcase('HEAD sent, GET hashed', { sendMethod: 'HEAD' });
dcase('POST sent, GET hashed', { sendMethod: 'POST' });
// whitespace / commas
dcase('no space after comma', { serialize: ser(',') });
dcase('spaces around =', { serialize: ser(', ', ' = ') });
dcase('tab separators', { serialize: ser(',\t') });
dcase('double commas', { serialize: ser(',, ') });
dcase('leading comma', { serialize: (fs) => ', ' + ser(', ')(fs) });
dcase('trailing comma', { serialize: (fs) => ser(', ')(fs) + ',' });
dcase('no commas (space only)', { serialize: ser(' ') });
dcase('semicolons', { serialize: ser('; ') });
dcase('quoted value with escaped quote in cnonce', { cnonce: 'a\\"b' });
dcase('escaped quote in cnonce, hashed unescaped', { cnonce: 'a\\"b', hashCnonce: 'a"b' });
dcase('escaped letter in cnonce, hashed unescaped', { cnonce: 'a\\bc', hashCnonce: 'abc' });
dcase('escaped letter in realm', { edit: setF('realm', 'digest\\-realm') });
dcase('escaped letter in nonce', {
  edit: (fs) => fs.map((f) => (f[0] === 'nonce' ? [f[0], `\\${f[1]}`, true] : f)),
});
dcase('uri %7e vs %7E', { target: '/digest/%7e', uri: '/digest/%7E' });
dcase('target with empty query', { target: '/digest/?', uri: '/digest/' });
dcase('target with empty query, uri same', { target: '/digest/?' });
dcase('uri absolute, host upper-case', {
  target: '/digest/',
  uri: 'http://127.0.0.1:PORT/digest/'.replace('http', 'HTTP'),
});
dcase('uri absolute, other host', { target: '/digest/', uri: 'http://example.com:PORT/digest/' });
dcase('uri absolute, no port', { target: '/digest/', uri: 'http://127.0.0.1/digest/' });
dcase('very long username (5000)', { user: 'u'.repeat(5000), password: 'x' });
dcase('userhash=false', { edit: addF(['userhash', 'false', false]) });
dcase('userhash=true (not offered)', { edit: addF(['userhash', 'true', false]) });
dcase('username and username* both', { edit: addF(['username*', "UTF-8''alice", false]) });
dcase('charset=UTF-8 from client', { edit: addF(['charset', 'UTF-8', false]) });
dcase('two spaces after scheme', { serialize: (fs) => ' ' + ser(', ')(fs) });
dcase('uri absolute with userinfo', { target: '/digest/', uri: 'http://u@127.0.0.1:PORT/digest/' });
dcase('uri absolute, empty port', { target: '/digest/', uri: 'http://127.0.0.1:/digest/' });
dcase('target absolute other host, uri origin-form', {
  target: 'http://other.example/digest/',
  uri: '/digest/',
});
dcase('target absolute other host, uri absolute same', { target: 'http://other.example/digest/' });
dcase('uri query percent-decoded', {
  target: '/digest/index.html?a=%41',
  uri: '/digest/index.html?a=A',
});
dcase('uri %2F for /', { target: '/digest/index.html', uri: '/digest%2Findex.html' });
dcase('uri double slash', { target: '/digest//index.html', uri: '/digest/index.html' });
dcase('username with tab', {
  user: 'al\tice',
  edit: setF('username', 'al\tice'),
  hashUser: 'al\tice',
  password: 'x',
});
dcase('algorithm MD5 with trailing space in quotes', { edit: setF('algorithm', 'MD5 ', true) });
dcase('qop " auth" quoted with space', { qop: ' auth', edit: quoteF('qop', true) });
dcase('response with spaces inside quotes', {
  edit: (fs) => fs.map((f) => (f[0] === 'response' ? [f[0], ` ${f[1]} `, true] : f)),
});
for (const v of [
  'Digest',
  'Digest abc',
  'Digest abc=',
  'Bearer x',
  'Basic YWxpY2U6c2VjcmV0',
  '',
  ' ',
  'Digest ,',
])
  cases.push({
    name: `digest: field ${JSON.stringify(v)}`,
    run: async (t) => [(await send(t, '/digest/', v)).status],
  });
dcase('abs target, uri with explicit :80', {
  target: 'http://other.example/digest/',
  uri: 'http://other.example:80/digest/',
});
dcase('abs target :80, uri without port', {
  target: 'http://other.example:80/digest/',
  uri: 'http://other.example/digest/',
});
dcase('abs target upper-case host', {
  target: 'http://OTHER.example/digest/',
  uri: 'http://other.example/digest/',
});
dcase('abs target, uri https', {
  target: '{ORIGIN}/digest/',
  uri: 'https://127.0.0.1:PORT/digest/',
});
dcase('abs target, uri other port', {
  target: '{ORIGIN}/digest/',
  uri: 'http://127.0.0.1:1/digest/',
});
dcase('target with fragment, uri same', { target: '/digest/#x' });
dcase('target with fragment, uri without', { target: '/digest/#x', uri: '/digest/' });
dcase('target raw UTF-8 path', { target: '/digest/\xc3\xa4' });
dseq('nc 1, 100, 50 (inside our window)', [
  { nc: '00000001' },
  { nc: '00000064' },
  { nc: '00000032' },
]);
dseq('nc 1, 100, 30 (below our window)', [
  { nc: '00000001' },
  { nc: '00000064' },
  { nc: '0000001e' },
]);
dcase('70 unknown params', {
  edit: (fs) => [...fs, ...Array.from({ length: 70 }, (_, i): Field => [`x${i}`, 'y', false])],
});
dcase('forged nonce and wrong uri', {
  nonce: (n) => n.slice(0, -1) + (n.endsWith('A') ? 'B' : 'A'),
  uri: '/x',
});
dcase('wrong password and wrong uri', { password: 'bad', uri: '/x' });
dcase('wrong realm and wrong uri', { hashRealm: 'other', edit: setF('realm', 'other'), uri: '/x' });
dcase('unknown algorithm and wrong uri', { edit: setF('algorithm', 'SHA-256'), uri: '/x' });
dcase('missing cnonce and wrong uri', { edit: dropF('cnonce'), uri: '/x' });
dseq('expired nonce and wrong uri', [{ uri: '/x' }], 2500, '/short/');
dseq('expired nonce, unknown user', [{ user: 'mallory', password: 'x' }], 2500, '/short/');
// nc sequences
dseq('nc 1,2,3', [{ nc: '00000001' }, { nc: '00000002' }, { nc: '00000003' }]);
dseq('nc 1,1 (replay)', [{ nc: '00000001' }, { nc: '00000001' }]);
dseq('nc 1,3 (skip)', [{ nc: '00000001' }, { nc: '00000003' }]);
dseq('nc 2,1 (decrease)', [{ nc: '00000002' }, { nc: '00000001' }]);
dseq('nc 1, then 1 other cnonce', [{ nc: '00000001' }, { nc: '00000001', cnonce: 'other' }]);
dseq('nc 1, then 2 wrong password', [{ nc: '00000001' }, { nc: '00000002', password: 'bad' }]);
dseq('nc 1 wrong password, then 1 right', [
  { nc: '00000001', password: 'bad' },
  { nc: '00000001' },
]);
dseq('nc 1 wrong uri (400), then 2', [
  { nc: '00000001', target: '/digest/', uri: '/x' },
  { nc: '00000002' },
]);
dseq('nc 1, then ffffffff', [{ nc: '00000001' }, { nc: 'ffffffff' }]);
dseq('nc 1 at index, 2 at other path', [
  { nc: '00000001' },
  { nc: '00000002', target: '/digest/index.html' },
]);
dseq('expired nonce (right password)', [{}], 2500, '/short/');
dseq('expired nonce (wrong password)', [{ password: 'bad' }], 2500, '/short/');
// A realm beyond ASCII: Apache sends AuthName's UTF-8 octets; ours is given them as latin1
// characters (README, "A realm beyond ASCII"), so both send the same octets.
const ZREALM = 'Zürich';
/** `Zürich` from its UTF-8 octets: what a client that decodes the realm as UTF-8 echoes in latin1. */
const decoded = (r: string): string => Buffer.from(r, 'latin1').toString('utf8');
const asLatin1 = (r: string): string => Buffer.from(decoded(r), 'latin1').toString('latin1');
dcase('UTF-8 realm: echoed and hashed as received', {}, '/z/');
dcase('UTF-8 realm: jörg', { user: 'jörg' }, '/z/');
dcase('UTF-8 realm: hashed double-encoded', { hashRealmOf: u8 }, '/z/');
dcase('UTF-8 realm: echoed double-encoded', { echoRealmOf: u8 }, '/z/');
dcase('UTF-8 realm: echoed and hashed double-encoded', { echoRealmOf: u8, hashRealmOf: u8 }, '/z/');
dcase(
  'UTF-8 realm: echoed and hashed as latin1',
  { echoRealmOf: asLatin1, hashRealmOf: asLatin1 },
  '/z/',
);
dcase('UTF-8 realm: hashed as latin1', { hashRealmOf: asLatin1 }, '/z/');
dcase('UTF-8 realm: echoed as latin1', { echoRealmOf: asLatin1 }, '/z/');
cases.push({
  name: "digest: another location's nonce, in this realm",
  run: async (t) => {
    const ch = await challenge(t, '/short/');
    return [(await send(t, '/digest/', digestField({ ...ch, realm: DREALM }, {}, t))).status];
  },
});

// ---- Forward proxy (Proxy-Authorization, 407) ----
function pcase(name: string, spec: DigestSpec, method = 'GET', path = 'http://{BACKEND}/p'): void {
  cases.push({
    name: `proxy: ${name}`,
    proxy: true,
    run: async (t) => {
      const ch = await challenge(t, path, method);
      const field = digestField(ch, { path, method, ...spec }, t);
      const r = await send(t, spec.target ?? path, field, method);
      return outcome(t, field, r);
    },
  });
}
pcase('valid GET, absolute uri', {});
pcase('GET, origin-form uri', { uri: '/p' });
pcase('GET, uri other host', { uri: 'http://other.example/p' });
pcase('GET, uri other path', { uri: 'http://{BACKEND}/q' });
pcase('GET, wrong password', { password: 'bad' });
pcase('GET, uri scheme https', { uri: 'https://{BACKEND}/p' });
pcase('GET, uri host:port only', { uri: '{BACKEND}' });
pcase('CONNECT valid', {}, 'CONNECT', '{BACKEND}');
pcase('CONNECT wrong password', { password: 'bad' }, 'CONNECT', '{BACKEND}');
pcase('CONNECT uri absolute http', { uri: 'http://{BACKEND}/' }, 'CONNECT', '{BACKEND}');
pcase('CONNECT uri absolute no slash', { uri: 'http://{BACKEND}' }, 'CONNECT', '{BACKEND}');
pcase('CONNECT uri /', { uri: '/' }, 'CONNECT', '{BACKEND}');
pcase('CONNECT uri host only', { uri: '127.0.0.1' }, 'CONNECT', '{BACKEND}');
pcase('CONNECT uri other port', { uri: '127.0.0.1:1' }, 'CONNECT', '{BACKEND}');
pcase('CONNECT uri localhost vs 127.0.0.1', { uri: 'localhost:{PORTB}' }, 'CONNECT', '{BACKEND}');
pcase('CONNECT hashed as GET', { method: 'GET' }, 'CONNECT', '{BACKEND}');
cases.push({
  name: 'proxy: credentials in Authorization, not Proxy-Authorization',
  proxy: true,
  run: async (t) => {
    const ch = await challenge(t, 'http://{BACKEND}/p');
    const field = digestField(ch, { uri: 'http://{BACKEND}/p' }, t);
    return [(await send({ ...t, proxy: undefined }, fill(t, 'http://{BACKEND}/p'), field)).status];
  },
});
cases.push({
  name: 'proxy: nc replay',
  proxy: true,
  run: async (t) => {
    const ch = await challenge(t, 'http://{BACKEND}/p');
    const field = digestField(ch, { path: 'http://{BACKEND}/p' }, t);
    const a = await send(t, 'http://{BACKEND}/p', field);
    const b = await send(t, 'http://{BACKEND}/p', field);
    return [...outcome(t, field, a), ...outcome(t, field, b)];
  },
});

// ---- Basic corpus ----
const b64 = (s: string, enc: BufferEncoding = 'utf8') => Buffer.from(s, enc).toString('base64');
bcase('valid', `Basic ${b64('alice:secret')}`);
bcase('wrong password', `Basic ${b64('alice:nope')}`);
bcase('unknown user', `Basic ${b64('mallory:secret')}`);
bcase('colon in password', `Basic ${b64('bob:pa:ss')}`);
bcase('colon in password, first part only', `Basic ${b64('bob:pa')}`);
bcase('UTF-8 user', `Basic ${b64('jörg:pw')}`);
bcase('latin1 user', `Basic ${b64('jörg:pw', 'latin1')}`);
bcase('UTF-8 password', `Basic ${b64('dave:pässword')}`);
bcase('latin1 password', `Basic ${b64('dave:pässword', 'latin1')}`);
bcase('long password 300', `Basic ${b64(`carol:${'x'.repeat(300)}`)}`);
bcase('very long value (12000)', `Basic ${b64(`alice:${'x'.repeat(9000)}`)}`);
bcase('empty user', `Basic ${b64(':secret')}`);
bcase('empty password', `Basic ${b64('alice:')}`);
bcase('no colon', `Basic ${b64('alicesecret')}`);
bcase('empty credentials', 'Basic ');
bcase('scheme only', 'Basic');
bcase('scheme lower-case', `basic ${b64('alice:secret')}`);
bcase('scheme upper-case', `BASIC ${b64('alice:secret')}`);
bcase('two spaces', `Basic  ${b64('alice:secret')}`);
bcase('tab separator', `Basic\t${b64('alice:secret')}`);
bcase('trailing space', `Basic ${b64('alice:secret')} `);
const noPad = b64('alice:secre'); // 'alice:secre' is 11 bytes → one '='
bcase('padding present (control, wrong pw)', `Basic ${noPad}`);
bcase('missing padding', `Basic ${b64('alice:secret1').replace(/=+$/, '')}`);
bcase('missing padding (1 pad) — wrong pw', `Basic ${noPad.replace(/=+$/, '')}`);
{
  const v = b64('alice:secret1'); // 13 bytes: two pad chars
  bcase('missing padding, right pw (13 bytes)', `Basic ${v.replace(/=+$/, '')}`);
}
bcase('extra padding', `Basic ${b64('alice:secret')}==`);
bcase(
  'whitespace inside base64',
  `Basic ${b64('alice:secret').slice(0, 4)} ${b64('alice:secret').slice(4)}`,
);
bcase('base64url alphabet', `Basic ${b64('alice:secret').replace(/\+/g, '-').replace(/\//g, '_')}`);
{
  // 'alice:secret' is 12 bytes: no padding. Use user 'bob' pass 'pa:ss' (9 bytes) — no padding either.
  // Non-canonical: 'alice:secret' + 'x' → 13 bytes, '==' padding, last char before pad has 4 unused bits.
  const v = Buffer.from('alice:secretx').toString('base64'); // ...eA==
  const alt = v.slice(0, -3) + String.fromCharCode(v.charCodeAt(v.length - 3) + 1) + '==';
  bcase('non-canonical unused bits (wrong pw anyway)', `Basic ${alt}`);
}
bcase('trailing garbage after base64', `Basic ${b64('alice:secret')}!!`);
bcase('auth-param form', `Basic foo=bar`);
bcase('token68 with two =', `Basic ${b64('alice:secret')}==`);
bcase('CTL in password (tab)', `Basic ${b64('alice:sec\tret')}`);
bcase('NUL in user', `Basic ${b64('alice\0:secret')}`);
bcase('two Authorization fields (valid, junk)', [
  `Basic ${b64('alice:secret')}`,
  'Basic Zm9vOmJhcg==',
]);
bcase('two Authorization fields (junk, valid)', [
  'Basic Zm9vOmJhcg==',
  `Basic ${b64('alice:secret')}`,
]);
bcase('comma-joined two credentials', `Basic ${b64('alice:secret')}, Basic Zm9vOmJhcg==`);
bcase('Basic then Digest field', [`Basic ${b64('alice:secret')}`, 'Digest username="x"']);
bcase('jörg valid (padded)', 'Basic asO2cmc6cHc=');
bcase('jörg missing padding', 'Basic asO2cmc6cHc');
bcase('jörg non-canonical unused bits', 'Basic asO2cmc6cHd=');
bcase('jörg extra padding', 'Basic asO2cmc6cHc==');
bcase('erin valid (+/)', `Basic ${b64('erin:??>>')}`);
bcase('erin base64url', `Basic ${b64('erin:??>>').replace(/\+/g, '-').replace(/\//g, '_')}`);
bcase('padding only', 'Basic ====');
bcase('base64 of empty', 'Basic =');
bcase('very long user (6000)', `Basic ${b64(`${'u'.repeat(6000)}:x`)}`);
bcase('valid then extra word', `Basic ${b64('alice:secret')} extra`);
bcase('valid then comma', `Basic ${b64('alice:secret')},`);
bcase('Digest field on Basic route', 'Digest username="alice"');
bcase('Bearer on Basic route', 'Bearer abc');
bcase('empty field', '');
bcase('Basic with auth-params', 'Basic realm="basic-realm"');
bcase('Basic token68 then param', `Basic ${b64('alice:secret')}, a=b`);
bcase('NUL in password after right one', `Basic ${b64('alice:secret\0junk')}`);
bcase('CR in password', `Basic ${b64('alice:secret\r')}`);
bcase('user with space', `Basic ${b64(' alice:secret')}`);

interface Result {
  name: string;
  apache: number[];
  ours: number[];
}

let root: string;
let apache: Apache | undefined;
let apacheProxy: Apache | undefined;
let proxyServer: Server | undefined;
const PREALM = 'proxy-realm';
let server: Server | undefined;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'authscheme-diff-'));
  for (const dir of ['basic', 'digest', 'short', 'z']) {
    mkdirSync(join(root, 'htdocs', dir), { recursive: true });
    writeFileSync(join(root, 'htdocs', dir, 'index.html'), `${dir} ok\n`);
  }
  const lines = Object.entries(BASIC_USERS).map(([u, p]) => {
    return `${u}:{SHA}${createHash('sha1').update(p, 'utf8').digest('base64')}`;
  });
  writeFileSync(join(root, 'htpasswd'), Buffer.from(`${lines.join('\n')}\n`, 'utf8'));
  const dlines = Object.entries(DIGEST_USERS).flatMap(([u, p]) =>
    [DREALM, 'short-realm', 'proxy-realm', ZREALM].map(
      (r) => `${u}:${r}:${md5(Buffer.from(`${u}:${r}:${p}`, 'utf8'))}`,
    ),
  );
  writeFileSync(join(root, 'htdigest'), Buffer.from(`${dlines.join('\n')}\n`, 'utf8'));
  const loc = (path: string, type: string, realm: string, file: string, extra: string[] = []) => [
    `<Location ${path}>`,
    `  AuthType ${type}`,
    `  AuthName "${realm}"`,
    ...(type === 'Digest' ? [`  AuthDigestDomain ${path}`, '  AuthDigestNcCheck On'] : []),
    `  AuthUserFile ${file}`,
    ...extra,
    '  Require valid-user',
    '</Location>',
  ];
  apache = await startApache(
    root,
    ['authn_core', 'authn_file', 'authz_user', 'auth_basic', 'auth_digest'],
    [
      'AuthDigestShmemSize 1048576',
      ...loc('/basic/', 'Basic', BREALM, `${root}/htpasswd`),
      ...loc('/digest/', 'Digest', DREALM, `${root}/htdigest`),
      ...loc('/z/', 'Digest', ZREALM, `${root}/htdigest`),
      ...loc('/short/', 'Digest', 'short-realm', `${root}/htdigest`, [
        '  AuthDigestNonceLifetime 1',
      ]),
    ],
  );
  mkdirSync(join(root, 'proxy'));
  apacheProxy = await startApache(
    join(root, 'proxy'),
    [
      'authn_core',
      'authn_file',
      'authz_user',
      'auth_digest',
      'proxy',
      'proxy_http',
      'proxy_connect',
    ],
    [
      'ProxyRequests On',
      'AllowCONNECT 1-65535',
      '<Proxy "*">',
      '  AuthType Digest',
      `  AuthName "${PREALM}"`,
      '  AuthDigestNcCheck On',
      `  AuthUserFile ${root}/htdigest`,
      '  Require valid-user',
      '</Proxy>',
    ],
  );
  const proxyGuard = authenticate({
    proxy: true,
    realm: PREALM,
    schemes: [digest({ users: DIGEST_USERS, algorithms: ['MD5'], secret: 'y'.repeat(32) })],
  });
  proxyServer = createServer((req, res) => {
    proxyGuard(req, res, (err?: unknown) => {
      if (err) res.writeHead(500).end();
      else res.end('ok');
    });
  });
  proxyServer.on('connect', (req: IncomingMessage, socket: net.Socket) => {
    socket.on('error', () => socket.destroy());
    const res = new ServerResponse(req);
    res.assignSocket(socket);
    res.shouldKeepAlive = false;
    res.on('finish', () => socket.end(() => socket.destroy()));
    proxyGuard(req, res, (err?: unknown) => {
      if (err) return void res.writeHead(500).end();
      res.detachSocket(socket);
      const info = res.getHeader('proxy-authentication-info');
      socket.end(
        `HTTP/1.1 200 Connection Established\r\n${info === undefined ? '' : `Proxy-Authentication-Info: ${String(info)}\r\n`}\r\n`,
      );
    });
  });
  await new Promise<void>((resolve) => proxyServer!.listen(0, '127.0.0.1', resolve));
  const app = express();
  const secret = 'x'.repeat(32);
  app.use('/basic/', authenticate({ realm: BREALM, schemes: [basic({ users: BASIC_USERS })] }));
  app.use(
    '/digest/',
    authenticate({
      realm: DREALM,
      schemes: [digest({ users: DIGEST_USERS, algorithms: ['MD5'], secret })],
    }),
  );
  app.use(
    '/z/',
    authenticate({
      realm: u8(ZREALM),
      schemes: [digest({ users: DIGEST_USERS, algorithms: ['MD5'], secret })],
    }),
  );
  app.use(
    '/short/',
    authenticate({
      realm: 'short-realm',
      schemes: [digest({ users: DIGEST_USERS, algorithms: ['MD5'], secret, nonceLifetime: 1000 })],
    }),
  );
  app.use((_req, res) => res.send('ok'));
  server = createServer(app);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await apache?.stop();
  await apacheProxy?.stop();
  for (const s of [server, proxyServer]) {
    s?.closeAllConnections();
    if (s) await new Promise((resolve) => s.close(resolve));
  }
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

/**
 * Where the two answer differently, what we answer, and why (each judged against the RFCs).
 * Every other case must get the same answer from both.
 */
const DIFFERENT: Record<string, [why: string, ours: number[]]> = {
  // Apache answers stale=true to credentials it could not even read, or whose nonce is forged;
  // RFC 7616 §3.3 keeps stale=true for a nonce that is invalid under a right response.
  ...Object.fromEntries(
    [
      'missing username',
      'missing realm',
      'missing nonce',
      'missing uri',
      'missing response',
      'missing nc',
      'missing cnonce',
      'missing opaque',
      'opaque wrong',
      'forged nonce (one char)',
      'forged nonce (last char)',
      'nonce truncated',
      'nonce empty',
      'response too short',
      'response with spaces inside quotes',
      'missing cnonce and wrong uri',
    ].map((n) => [`digest: ${n}`, ['Apache: stale=true without a right response', [401]]]),
  ),
  'digest: username* ext-value': ['RFC 7616 §3.4 username*; Apache has none', [200]],
  'digest: username and username* both': ['RFC 7616 §3.4: not both', [401]],
  'digest: userhash=true (not offered)': ['Apache ignores userhash', [401]],
  // RFC 9110 §11.2: a parameter name occurs once; Apache takes the last.
  ...Object.fromEntries(
    [
      'duplicate username, other second',
      'duplicate username, other first',
      'duplicate uri, identical',
      'duplicate response, wrong first',
      'duplicate realm, wrong first',
      'duplicate nc, other value first',
    ].map((n) => [`digest: ${n}`, ['RFC 9110 §11.2: a parameter once', [400]]]),
  ),
  'digest: 70 unknown params': ['limits.maxParams 64', [400]],
  'digest: no commas (space only)': ['RFC 9110 §11.4 grammar: 400', [400]],
  'digest: semicolons': ['RFC 9110 §11.4 grammar: 400', [400]],
  'digest: algorithm ': ['an empty token: RFC 9110 §11.4 grammar', [400]],
  'digest: field ""': ['RFC 9110 §11.4 grammar: 400', [400]],
  'digest: field " "': ['RFC 9110 §11.4 grammar: 400', [400]],
  'digest: two Authorization fields (valid, bogus)': ['README: two field lines, 400', [400]],
  'digest: Basic then valid Digest in one field list': ['README: two field lines, 400', [400]],
  // docs/digest.md: the uri is compared as sent, no percent-decoding, no dot segments; Apache
  // decodes, merges slashes and drops userinfo and fragment.
  ...Object.fromEntries(
    [
      'uri percent-encoded letter',
      'target percent-encoded, uri plain',
      'uri %7e vs %7E',
      'uri query percent-decoded',
      'uri %2F for /',
      'uri double slash',
      'uri with fragment',
      'uri absolute with userinfo',
      'abs target, uri https',
    ].map((n) => [`digest: ${n}`, ['docs/digest.md: uri compared as sent', [400]]]),
  ),
  // README, "A realm beyond ASCII": the realm echoed, and the response hashed, over the octets
  // sent or their UTF-8 (here double-encoded); Apache takes only the octets it sent.
  'digest: UTF-8 realm: hashed double-encoded': ['README: realm beyond ASCII', [200]],
  'digest: UTF-8 realm: echoed double-encoded': ['README: realm beyond ASCII', [200]],
  'digest: UTF-8 realm: echoed and hashed double-encoded': ['README: realm beyond ASCII', [200]],
  'digest: uri empty': ['an empty uri is read as a missing one (401); Apache 400', [401]],
  'digest: target with fragment, uri same': ['Apache refuses the request line', [200]],
  'digest: target raw UTF-8 path': ["Node's parser refuses the request line", [400]],
  // RFC 7616 §3.4: nc is 8LHEX, the first 00000001; Apache reads it with strtol.
  'digest: nc 00000000': ['nc counts from 1', [401]],
  'digest: nc short 1': ['nc is 8 hex digits', [401]],
  'digest: nc 9 digits': ['nc is 8 hex digits', [401]],
  'digest: nc hex prefix 0x1': ['nc is 8 hex digits', [401]],
  'digest: cnonce empty': ['an empty cnonce is read as a missing one', [401]],
  'digest: nonce huge (8000)': ['Apache: 400 past its own nonce length', [401]],
  'digest: response upper-case hex': ['the same digest in upper case, accepted', [200]],
  'digest: wrong realm and wrong uri': ['realm checked before uri', [401]],
  'digest: unknown algorithm and wrong uri': ['algorithm checked before uri', [401]],
  // docs/digest.md: a window of 64 counts; a replayed count gets stale=true after a right response.
  'digest: nc 1,1 (replay)': ['replay: stale=true', [200, 401, STALE]],
  'digest: nc 1, then 1 other cnonce': ['replay: stale=true', [200, 401, STALE]],
  'digest: nc 2,1 (decrease)': ['window: late counts once', [200, 200]],
  'digest: nc 1, 100, 50 (inside our window)': ['window', [200, 200, 200]],
  'digest: nc 1, 100, 30 (below our window)': ['window: stale=true', [200, 200, 401, STALE]],
  'proxy: GET, uri scheme https': ['docs/digest.md: absolute forms compared with scheme', [400]],
  'proxy: nc replay': ['replay: stale=true', [200, 407, STALE]],
  // README, Basic: canonical padded base64 only; a value that is no token68 is a 400.
  'basic: extra padding': ['canonical base64 only', [401]],
  'basic: token68 with two =': ['canonical base64 only', [401]],
  'basic: jörg missing padding': ['canonical base64 only', [401]],
  'basic: jörg non-canonical unused bits': ['canonical base64 only', [401]],
  'basic: jörg extra padding': ['canonical base64 only', [401]],
  'basic: tab separator': ['RFC 9110 §11.4: 1*SP', [400]],
  'basic: whitespace inside base64': ['no token68', [400]],
  'basic: trailing garbage after base64': ['no token68', [400]],
  'basic: valid then extra word': ['no token68', [400]],
  'basic: valid then comma': ['no token68', [400]],
  'basic: Basic token68 then param': ['no token68', [400]],
  'basic: comma-joined two credentials': ['no token68', [400]],
  'basic: padding only': ['no token68', [400]],
  'basic: base64 of empty': ['no token68', [400]],
  'basic: empty field': ['RFC 9110 §11.4 grammar: 400', [400]],
  'basic: two Authorization fields (valid, junk)': ['README: two field lines, 400', [400]],
  'basic: two Authorization fields (junk, valid)': ['README: two field lines, 400', [400]],
  'basic: Basic then Digest field': ['README: two field lines, 400', [400]],
  'basic: very long value (12000)': ["Apache's 8190-byte field limit", [401]],
  // Apache compares C strings: the password ends at the NUL. RFC 7617 §2: no control characters.
  'basic: NUL in password after right one': ['RFC 7617 §2: no CTL', [401]],
};

it('answers each case as Apache does, but where RFC and docs say otherwise (DIFFERENT)', async () => {
  const a: Target = { name: 'apache', port: Number(new URL(apache!.base).port) };
  const o: Target = { name: 'ours', port: (server!.address() as AddressInfo).port };
  const backend = `127.0.0.1:${o.port}`;
  const pa: Target = {
    name: 'apache',
    port: Number(new URL(apacheProxy!.base).port),
    proxy: backend,
  };
  const po: Target = {
    name: 'ours',
    port: (proxyServer!.address() as AddressInfo).port,
    proxy: backend,
  };
  const run = (c: Case, t: Target): Promise<number[]> => c.run(c.proxy ? (t === a ? pa : po) : t);
  const results: Result[] = [];
  // The cases that wait for a nonce to expire run side by side, the others one after another.
  const slow = cases.filter((c) => c.name.includes('expired'));
  await Promise.all(
    slow.map(async (c) => {
      const [apacheSaw, oursSaw] = await Promise.all([run(c, a), run(c, o)]);
      results.push({ name: c.name, apache: apacheSaw, ours: oursSaw });
    }),
  );
  for (const c of cases.filter((c) => !slow.includes(c))) {
    results.push({ name: c.name, apache: await run(c, a), ours: await run(c, o) });
  }
  const names = new Set(cases.map((c) => c.name));
  expect(names.size).toBe(cases.length);
  expect(Object.keys(DIFFERENT).filter((n) => !names.has(n))).toEqual([]);
  const unexpected = results
    .map((r) => ({ ...r, expected: DIFFERENT[r.name]?.[1] ?? r.apache }))
    .filter((r) => r.ours.join() !== r.expected.join());
  expect(unexpected).toEqual([]);
  // A right answer was accepted by both (the corpus reaches both servers as meant).
  expect(results.find((r) => r.name === 'digest: valid')).toMatchObject({
    apache: [200],
    ours: [200],
  });
  expect(results.find((r) => r.name === 'proxy: CONNECT valid')).toMatchObject({ ours: [200] });
});
