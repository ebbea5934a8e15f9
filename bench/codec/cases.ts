/**
 * The codec micro-benchmark's cases (bench/codec/codec-main.ts): each parser on the same input,
 * and the check of its answer.
 */
import basicAuth from 'basic-auth';
import * as authHeader from 'auth-header';
import * as wwwAuthenticate from 'www-authenticate';
import { parseChallenges, parseCredentials } from '../../src/header';
import { decodeBase64Strict } from '../../src/util/base64';
import { decodeUtf8Strict } from '../../src/util/text';

/**
 * A field value as node:http hands it to a server: one flat string. Joined with `+`, the parts
 * would make a rope (a V8 ConsString) that stays one until a full garbage collection happens to
 * flatten it, and each character read through it costs more: the figure would depend on when that
 * collection comes, and no server parses such a string.
 */
function fieldValue(...parts: string[]): string {
  return parts.join('');
}

export const BASIC = `Basic ${Buffer.from('Aladdin:open sesame').toString('base64')}`;
// RFC 7616 §3.9.1's SHA-256 example response.
export const DIGEST = fieldValue(
  'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", ',
  'algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, ',
  'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, ',
  'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", ',
  'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
);
// What a server offering SHA-256, MD5 and Basic sends (RFC 7616 §3.7), on one field line.
export const THREE_CHALLENGES = fieldValue(
  'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, ',
  'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", ',
  'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, ',
  'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", ',
  'Basic realm="http-auth@example.org", charset="UTF-8"',
);

export interface Case {
  name: string;
  implementation: string;
  ours: boolean;
  run: () => unknown;
  /** Judges the parser's result for this input. */
  check: (result: unknown) => { correct: boolean; note: string };
}

/** Ours for Basic: what the Basic scheme does before it looks at the password. */
function oursBasic(value: string): { name: string; pass: string } | undefined {
  const { token68 } = parseCredentials(value);
  if (token68 === undefined) return undefined;
  const bytes = decodeBase64Strict(token68);
  const text = bytes && decodeUtf8Strict(bytes);
  if (text === undefined) return undefined;
  const colon = text.indexOf(':');
  return colon === -1 ? undefined : { name: text.slice(0, colon), pass: text.slice(colon + 1) };
}

export const basicCheck = (r: unknown): { correct: boolean; note: string } => {
  const v = r as { name?: string; pass?: string } | undefined;
  const correct = v?.name === 'Aladdin' && v.pass === 'open sesame';
  return { correct, note: correct ? 'user and password' : 'wrong result' };
};

/** Every directive of RFC 7616 §3.9.1's request, exactly as sent (unquoted). */
const DIGEST_DIRECTIVES: Record<string, string> = {
  username: 'Mufasa',
  realm: 'http-auth@example.org',
  uri: '/dir/index.html',
  algorithm: 'SHA-256',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  nc: '00000001',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  qop: 'auth',
  response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
};

export const digestCheck = (r: unknown): { correct: boolean; note: string } => {
  const v = r as { scheme?: string; params?: Record<string, unknown> } | undefined;
  const p = v?.params ?? {};
  const wrong = Object.entries(DIGEST_DIRECTIVES)
    .filter(([name, value]) => p[name] !== value)
    .map(([name]) => name);
  const correct = v?.scheme?.toLowerCase() === 'digest' && wrong.length === 0;
  return {
    correct,
    note: correct
      ? 'all directives'
      : `wrong directives${wrong.length > 0 ? `: ${wrong.join(', ')}` : ' (scheme)'}`,
  };
};

const REALM = 'http-auth@example.org';
const NONCE = '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v';
const OPAQUE = 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS';

/** The three challenges of THREE_CHALLENGES, each with every parameter it has. */
const THREE: { scheme: string; params: Record<string, string> }[] = [
  {
    scheme: 'digest',
    params: {
      realm: REALM,
      qop: 'auth, auth-int',
      algorithm: 'SHA-256',
      nonce: NONCE,
      opaque: OPAQUE,
    },
  },
  {
    scheme: 'digest',
    params: { realm: REALM, qop: 'auth, auth-int', algorithm: 'MD5', nonce: NONCE, opaque: OPAQUE },
  },
  { scheme: 'basic', params: { realm: REALM, charset: 'UTF-8' } },
];

export const threeCheck = (r: unknown): { correct: boolean; note: string } => {
  if (Array.isArray(r)) {
    const list = r as { scheme?: string; params?: Record<string, unknown> }[];
    const correct =
      list.length === THREE.length &&
      THREE.every(
        (expected, i) =>
          list[i]?.scheme?.toLowerCase() === expected.scheme &&
          Object.entries(expected.params).every(
            ([name, value]) => list[i]?.params?.[name] === value,
          ),
      );
    return {
      correct,
      note: correct
        ? '3 challenges, each with its own parameters'
        : `${list.length} challenges, wrong parameters`,
    };
  }
  return {
    correct: false,
    note: 'one merged challenge: the parameters of all three mixed together',
  };
};

export const CASES: Case[] = [
  {
    name: 'Basic credentials',
    implementation: 'authscheme',
    ours: true,
    run: () => oursBasic(BASIC),
    check: basicCheck,
  },
  {
    name: 'Basic credentials',
    implementation: 'basic-auth',
    ours: false,
    run: () => basicAuth.parse(BASIC),
    check: basicCheck,
  },
  {
    name: 'Digest credentials',
    implementation: 'authscheme',
    ours: true,
    run: () => parseCredentials(DIGEST),
    check: digestCheck,
  },
  {
    name: 'Digest credentials',
    implementation: 'auth-header',
    ours: false,
    run: () => authHeader.parse(DIGEST),
    check: digestCheck,
  },
  {
    name: 'WWW-Authenticate, 3 challenges',
    implementation: 'authscheme',
    ours: true,
    run: () => parseChallenges(THREE_CHALLENGES),
    check: threeCheck,
  },
  {
    name: 'WWW-Authenticate, 3 challenges',
    implementation: 'auth-header',
    ours: false,
    run: () => authHeader.parse(THREE_CHALLENGES),
    check: threeCheck,
  },
  {
    name: 'WWW-Authenticate, 3 challenges',
    implementation: 'www-authenticate',
    ours: false,
    run: () => new wwwAuthenticate.parsers.WWW_Authenticate(THREE_CHALLENGES),
    check: threeCheck,
  },
];
