/**
 * `authscheme/negotiate`: the Negotiate scheme of RFC 4559 (SPNEGO with Kerberos 5), accepted with
 * the `kerberos` npm package (MIT Kerberos / Heimdal GSSAPI underneath).
 *
 * `kerberos` is an optional peer dependency (a native addon built against the system's GSSAPI
 * headers, e.g. Debian's libkrb5-dev): install it to use this subpath.
 *
 * Supported: one-leg Kerberos through SPNEGO or raw Kerberos 5 GSSAPI tokens, as browsers, curl
 * and Windows clients send them when they hold a ticket for the service; the mutual
 * authentication token goes back on the response (RFC 4559 §4.1), whatever its status but 401.
 * Not supported: NTLM (raw or inside SPNEGO) and any exchange that needs more than one round
 * trip; such requests are refused with 401 and the bare challenge.
 *
 * @packageDocumentation
 */
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import type * as Kerberos from 'kerberos';
import { formatChallenge } from '../header/format';
import { isQuotable, isToken68 } from '../header/grammar';
import { parseChallenges } from '../header/parse';
import type { Challenge, Credentials } from '../header/types';
import type {
  AuthRequest,
  Identity,
  RequestContext,
  Scheme,
  SchemeFailure,
  SchemeSuccess,
  VerifyResult,
} from '../scheme';
import { isResponseGone } from '../middleware/respond';
import { identityResult, refuse } from '../scheme';
import { decodeBase64Strict } from '../util/base64';
import { optionNames, rejectUnknownOptions } from '../util/options';
import { requirePeer } from '../util/peer';
import { isPromiseLike } from '../util/promise';
import { Slots, THREAD_POOL_SIZE, type OnWait } from '../util/slots';
import { hasControl, isPaddedOrControl } from '../util/text';

/**
 * Maps an authenticated Kerberos principal (`alice@EXAMPLE.COM`) to an identity: a user name, an
 * object with a `user` field (its other fields land on `req.auth`), or `false`/`null`/`undefined`
 * to refuse (401). Sync or async; a throw or rejection goes to `next(err)`. Method syntax, so that
 * `req` may be declared as the framework's request: see {@link AuthRequest}.
 */
export type NegotiateVerify = {
  verify(principal: string, req: AuthRequest): Identity | Promise<Identity>;
}['verify'];

/**
 * Options of {@link negotiate}. `verify` or `stripRealm`, not both: `verify` gets the whole
 * principal, and `stripRealm` beside it (other than `false`) is a `TypeError` at setup.
 */
export type NegotiateOptions = NegotiateSettings & (NegotiateByVerify | NegotiateByPrincipal);

/** {@link NegotiateOptions} with `verify`. */
interface NegotiateByVerify {
  /** Maps the principal to an identity (see {@link NegotiateVerify}). */
  verify: NegotiateVerify;
  /** Not with `verify`, which gets the whole principal: strip the realm there. */
  stripRealm?: false | undefined;
}

/** {@link NegotiateOptions} without `verify`: the principal (or its realm-less name) is the user. */
interface NegotiateByPrincipal {
  /** Default: the principal (or its realm-less name, see `stripRealm`) is the user. */
  verify?: undefined;
  /**
   * Make `req.auth.user` the principal without its `@REALM`: `true` for any realm, or a list of
   * realms whose principals are shortened (others keep their realm, so `alice@A` and `alice@B`
   * from trusted realms stay apart). Default `false`. Not with `verify`.
   */
  stripRealm?: boolean | readonly string[] | undefined;
}

/** The options of {@link NegotiateOptions} beside `verify` and `stripRealm`. */
interface NegotiateSettings {
  /**
   * The acceptor's service principal in GSSAPI host-based form, `service@host`: `HTTP@www.example.com`
   * accepts tickets for `HTTP/www.example.com@<realm>`. Required: the host is the name clients put
   * in the URL (after their DNS canonicalization), which the server cannot guess from
   * `os.hostname()`. The key must be in the keytab.
   */
  servicePrincipal: string;
  /**
   * Path of the keytab holding the service key (`FILE:` and other krb5 prefixes allowed). Sets
   * `KRB5_KTNAME` for the whole process, as the GSSAPI library reads only that (one keytab per
   * process: a different value already in `KRB5_KTNAME` is a setup error). Default: what
   * `KRB5_KTNAME` names, else krb5.conf's `default_keytab_name`, else the system keytab
   * (`/etc/krb5.keytab`).
   */
  keytab?: string | undefined;
  /** Accept only principals of these realms (cross-realm trust otherwise lets in any trusted realm). Default: any. */
  realms?: readonly string[] | undefined;
  /**
   * Send the acceptor's mutual-authentication token on the response to an authenticated request
   * (`WWW-Authenticate: Negotiate <token>`, RFC 4559 §4.1; `Proxy-Authenticate` in proxy mode)
   * when GSSAPI produced one: on a 2xx, and on whatever else the application answers (a redirect,
   * an error page), except a 401 (407 in proxy mode), where a client would take it for the next
   * leg of the exchange. Default `true`. `false` breaks clients that require the token, such as
   * Python's requests-kerberos with its default `mutual_authentication=REQUIRED`
   * (MutualAuthenticationError on a 2xx or 3xx without it, an emptied response for a 4xx or 5xx).
   */
  mutual?: boolean | undefined;
  /**
   * Most tokens in GSSAPI at once (acceptor set-up and step, each a job on libuv's thread pool,
   * which the process's `fs`, `dns.lookup`, zlib and async crypto share). Up to 256 times as many
   * wait for a turn, each until its client hangs up or `authenticate()` answers it (its `timeout`),
   * at most 13 s. A token past the queue fails closed at once, without reaching GSSAPI:
   * `ERR_AUTH_STORE_FAILURE` through `next(err)`, with status 503 (overloaded), as does one that
   * waited 13 s. Default: the size of libuv's pool (`UV_THREADPOOL_SIZE`, 4 unless set).
   */
  maxConcurrent?: number | undefined;
}

/** `NTLMSSP\0`: the start of every NTLM message, which some clients send as a Negotiate token. */
const NTLM_SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
/** The DER tag of a GSS-API InitialContextToken: [APPLICATION 0], constructed. */
const GSS_INITIAL_CONTEXT_TOKEN = 0x60;

/** The name of the anonymous principal (RFC 6111 §3.1.1, RFC 8062 §3), without its realm. */
const ANONYMOUS = 'WELLKNOWN/ANONYMOUS';

/** The principal's realm: what follows its last unescaped `@`. */
function splitPrincipal(principal: string): { name: string; realm: string | undefined } {
  for (let i = principal.length - 1; i > 0; i--) {
    if (principal[i] !== '@') continue;
    let backslashes = 0;
    for (let j = i - 1; j >= 0 && principal[j] === '\\'; j--) backslashes++;
    if (backslashes % 2 === 0)
      return { name: principal.slice(0, i), realm: principal.slice(i + 1) };
  }
  return { name: principal, realm: undefined };
}

function realmList(value: unknown, what: string, or = ''): string[] {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((realm) => typeof realm === 'string' && realm !== '' && !realm.includes('@'))
  ) {
    throw new TypeError(`negotiate(): ${what} must be a non-empty list of realm names${or}`);
  }
  // Compared exactly with the principal's realm: a line end or padding left from a file or
  // variable would match no principal.
  if ((value as string[]).some(isPaddedOrControl)) {
    throw new TypeError(
      `negotiate(): ${what} holds a realm with a control character or white space at either end (a line end or padding left from a file or variable?)`,
    );
  }
  return [...(value as string[])];
}

/**
 * A keytab name as KRB5_KTNAME should hold it: a file keytab (`FILE:` or no prefix) by its absolute
 * path, since the library resolves a relative one against the working directory of the moment;
 * other krb5 names (`MEMORY:`, `KEYRING:`…) as they are.
 */
function keytabName(keytab: string): string {
  const prefix = /^[A-Z]+:/.exec(keytab)?.[0];
  if (prefix === undefined) return path.resolve(keytab);
  // WRFILE: is the same file keytab, opened for writing by tools; GSSAPI reads it alike.
  if (prefix === 'FILE:' || prefix === 'WRFILE:') {
    return path.resolve(keytab.slice(prefix.length));
  }
  return keytab;
}

/** What a `negotiate()` put into KRB5_KTNAME, to tell it from a value the environment brought. */
let keytabSet: string | undefined;

/**
 * Checks at setup that the keytab can be used (a krb5 name, a readable file, no other keytab
 * already in KRB5_KTNAME) and returns its {@link keytabName}.
 */
function checkedKeytab(keytab: unknown): string {
  if (typeof keytab !== 'string' || keytab === '' || !isQuotable(keytab)) {
    throw new TypeError('negotiate(): keytab must be a path (or a krb5 keytab name)');
  }
  const name = keytabName(keytab);
  const current = process.env.KRB5_KTNAME;
  if (current !== undefined && current !== '' && keytabName(current) !== name) {
    // Said apart: a developer who never set KRB5_KTNAME would not look for an earlier negotiate().
    throw new TypeError(
      current === keytabSet
        ? `negotiate(): an earlier negotiate() was given the keytab ${current}; this one's, ${name}, cannot be read too: the GSSAPI library reads one keytab per process (KRB5_KTNAME), so put every service principal’s key in one keytab`
        : `negotiate(): KRB5_KTNAME names the keytab ${current}, not ${name}; the GSSAPI library reads one keytab per process: give that keytab, or unset KRB5_KTNAME`,
    );
  }
  if (path.isAbsolute(name)) {
    try {
      fs.accessSync(name, fs.constants.R_OK);
      if (!fs.statSync(name).isFile()) throw new Error('not a regular file');
    } catch (error) {
      throw new TypeError(`negotiate(): the keytab ${name} cannot be read as a file`, {
        cause: error,
      });
    }
  }
  return name;
}

const OPTION_NAMES = optionNames<NegotiateOptions>()([
  'servicePrincipal',
  'keytab',
  'verify',
  'stripRealm',
  'realms',
  'mutual',
  'maxConcurrent',
]);

/**
 * Tokens waiting for a turn, per turn. A step takes well under a millisecond on an idle machine
 * (0.2 to 0.4 ms measured against MIT krb5 1.20, keytab and replay cache included), so a full
 * queue is some 0.1 s of GSSAPI work: a burst of real clients waits briefly, a flood of made-up
 * tokens past it is refused at once rather than piling up.
 */
const WAITING_PER_TURN = 256;
/**
 * Longest a token waits for a turn: past `authenticate()`'s default timeout of 10 s (its deadline
 * a little late at worst), which has answered the request by then (a waiter leaves as soon as its
 * response closes). A backstop for `timeout: 0` and for responses that never close.
 */
const MAX_WAIT_MS = 13_000;

/** What GSSAPI established: the client's principal and the mutual-authentication token. */
interface AcceptedContext {
  principal: string;
  response: unknown;
}

/**
 * What GSSAPI accepted, by request: a second `authenticate()` on the request's way (one for the
 * site, one for the route, each with its `negotiate()`) must not show GSSAPI the token again,
 * whose replay cache would refuse it. Only GSSAPI's answer is kept, for the same token and
 * service; the checks after it (realms, `verify`) run on every pass.
 */
const accepted = new WeakMap<
  object,
  { token: string; servicePrincipal: string; context: AcceptedContext }
>();

/**
 * Withdraws the mutual-authentication token from the response if its status turns out to be the
 * field's own challenge status, 401 (407 for Proxy-Authenticate: the application's own, say). There
 * a client takes gssapi-data for the next leg of an exchange that is over (RFC 4559 §4.1: a 401
 * with gssapi-data continues the authentication; Chromium then sends an empty token). On any
 * other status the request was authenticated all the same, and the token stays: a client that
 * requires mutual authentication (requests-kerberos's default) checks it on every response but a
 * 401, and without it refuses a redirect and empties an error page; curl and Chromium read the
 * field on a 401 (407) only. A 1xx passes through untouched.
 */
function notOnChallenge(
  res: ServerResponse,
  field: string,
  value: string,
  challengeStatus: 401 | 407,
): void {
  const own = Object.getOwnPropertyDescriptor(res, 'writeHead');
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  const wrapper = ((statusCode: number, ...rest: unknown[]) => {
    if (statusCode < 200) return writeHead(statusCode, ...rest);
    // The status as Node sends it (`statusCode |= 0`, node:http and node:http2 alike).
    const before = (statusCode | 0) === challengeStatus ? res.getHeader(field) : undefined;
    if (before !== undefined) withdraw(res, field, value, before);
    let written: ServerResponse;
    try {
      written = writeHead(statusCode, ...rest);
    } catch (error) {
      // Not sent after all (a bad header, say): the next writeHead decides again.
      if (before !== undefined) res.setHeader(field, before);
      throw error;
    }
    // Once the head went out, and only if no other wrapper took this one's place since.
    if (res.writeHead === wrapper) {
      if (own !== undefined) Object.defineProperty(res, 'writeHead', own);
      else delete (res as Partial<ServerResponse>).writeHead;
    }
    return written;
  }) as ServerResponse['writeHead'];
  res.writeHead = wrapper;
}

/**
 * Removes the challenge `value` from the field, whether it stands alone or beside challenges the
 * app added: as another line, or joined into one line (`Negotiate <token>, Bearer realm="api"`).
 */
function withdraw(
  res: ServerResponse,
  field: string,
  value: string,
  current: number | string | string[],
): void {
  const lines = Array.isArray(current) ? current : [String(current)];
  let changed = false;
  const kept = lines.flatMap((line) => {
    const rest = withoutChallenge(line, value);
    if (rest === line) return [line];
    changed = true;
    return rest === '' ? [] : [rest];
  });
  if (!changed) return;
  if (kept.length === 0) res.removeHeader(field);
  else res.setHeader(field, kept);
}

/**
 * `line` without the challenge `value`, a member of it (the whole line, or one of the challenges
 * joined in it). A line that parses is written again from its other challenges, whatever the
 * spelling of ours; one that does not (the app's own, malformed) loses the members that are
 * `value` exactly, found outside quoted strings, the others kept as written.
 */
function withoutChallenge(line: string, value: string): string {
  if (line === value) return '';
  const token = value.slice('Negotiate '.length);
  if (!line.includes(token)) return line;
  try {
    const challenges = parseChallenges(line, { maxChallenges: 1024, maxParams: 1024 });
    const others = challenges.filter(
      (c) => !(c.scheme.toLowerCase() === 'negotiate' && c.token68 === token),
    );
    if (others.length === challenges.length) return line;
    return others.map(formatChallenge).join(', ');
  } catch {
    const members = listMembers(line);
    const others = members.filter((member) => trimOWS(member) !== value);
    return others.length === members.length ? line : others.map(trimOWS).join(', ');
  }
}

/** The comma-separated members of a field line, commas inside quoted strings left alone. */
function listMembers(line: string): string[] {
  const members: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const code = line.charCodeAt(i);
    if (quoted) {
      if (code === 0x5c)
        i++; // quoted-pair
      else if (code === 0x22) quoted = false;
    } else if (code === 0x22) {
      quoted = true;
    } else if (code === 0x2c) {
      members.push(line.slice(start, i));
      start = i + 1;
    }
  }
  members.push(line.slice(start));
  return members;
}

/** `text` without SP and HTAB at either end (RFC 9110 §5.6.3 OWS). */
function trimOWS(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === ' ' || text[start] === '\t')) start++;
  while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  return text.slice(start, end);
}

/**
 * The Negotiate scheme (RFC 4559) for `authenticate()`: Kerberos 5 through SPNEGO.
 *
 * Challenge: `WWW-Authenticate: Negotiate` (no parameters, RFC 4559 §4.1). Credentials: one
 * base64 GSSAPI token (token68); anything else, a token that is not canonical base64, an NTLM
 * token or a token GSSAPI refuses (defective, for another service, replayed, expired, from a
 * realm not in `realms`, for the anonymous principal, for a principal whose name is not UTF-8)
 * is answered 401 with the challenge. A failure to set up the acceptor (the keytab lacks the
 * service key) goes to `next(err)` (500): never an authenticated request. So does a token that
 * finds `maxConcurrent` tokens in GSSAPI and the queue behind them full (`ERR_AUTH_STORE_FAILURE`,
 * at once, with status 503: overloaded). A `kerberos` package that cannot be loaded throws here,
 * at setup.
 *
 * On success `req.auth` is `{ scheme: 'Negotiate', user, principal, realm }`, and the response
 * carries `WWW-Authenticate: Negotiate <token>` for mutual authentication when GSSAPI made one,
 * unless the application answers 401 (see `mutual`).
 *
 * @example
 * import { authenticate, basic } from 'authscheme';
 * import { negotiate } from 'authscheme/negotiate';
 *
 * app.use(authenticate({ schemes: [
 *   negotiate({ servicePrincipal: 'HTTP@www.example.com', keytab: '/etc/http.keytab', stripRealm: ['EXAMPLE.COM'] }),
 *   basic({ verify: checkLdap }),
 * ] }));
 */
export function negotiate(options: NegotiateOptions): Scheme {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('negotiate(): options are required');
  }
  rejectUnknownOptions('negotiate()', options, OPTION_NAMES);
  const { servicePrincipal } = options;
  if (servicePrincipal === undefined) {
    throw new TypeError('negotiate(): servicePrincipal is required, e.g. HTTP@www.example.com');
  }
  if (
    typeof servicePrincipal !== 'string' ||
    !/^[!-~]+@[!-~]+$/.test(servicePrincipal) ||
    servicePrincipal.indexOf('@') !== servicePrincipal.lastIndexOf('@') ||
    servicePrincipal.includes('/') ||
    // A port only as `host:port` (1 to 65535, as written in URLs), for clients that put it in the
    // name they ask a ticket for (Chromium's EnableAuthNegotiatePort): HTTP/host:port in the keytab.
    !/^[^:]*(?::[1-9]\d{0,4})?$/.test(servicePrincipal) ||
    Number(/:(\d+)$/.exec(servicePrincipal)?.[1] ?? 0) > 65535
  ) {
    throw new TypeError(
      'negotiate(): servicePrincipal must be a host-based service name such as HTTP@www.example.com or HTTP@www.example.com:8080 (not HTTP/host@REALM)',
    );
  }
  if (options.verify !== undefined && typeof options.verify !== 'function') {
    throw new TypeError(
      'negotiate(): verify must be a function (principal, req) => identity | false',
    );
  }
  const stripRealm = options.stripRealm ?? false;
  // verify is given the whole principal and makes the user itself: stripRealm would do nothing.
  if (options.verify !== undefined && stripRealm !== false) {
    throw new TypeError(
      'negotiate(): stripRealm applies only without verify, which gets the whole principal: strip the realm in verify',
    );
  }
  const stripAll = stripRealm === true;
  const stripSome =
    typeof stripRealm === 'boolean'
      ? undefined
      : new Set(realmList(stripRealm, 'stripRealm', ' (or a boolean)'));
  const realms =
    options.realms === undefined ? undefined : new Set(realmList(options.realms, 'realms'));
  const mutual = options.mutual ?? true;
  if (typeof mutual !== 'boolean') throw new TypeError('negotiate(): mutual must be a boolean');
  // As many as libuv has threads: a slot holds one job at a time (set-up, then step), so GSSAPI
  // never has more jobs queued or running than the pool has threads, and an `fs` or `dns` job
  // queued behind them waits at most one step (under a millisecond, see WAITING_PER_TURN) for a
  // thread. Unbounded, each well-framed made-up token was a job at once: 2 000 of them held a
  // `stat` back some 0.3 s, and a flood held up every other user of the pool (the DNS lookups of
  // JWKS and introspection fetches too).
  const maxConcurrent = options.maxConcurrent ?? THREAD_POOL_SIZE;
  if (!Number.isSafeInteger(maxConcurrent) || maxConcurrent < 1) {
    throw new TypeError('negotiate(): maxConcurrent must be a positive integer');
  }
  const keytab = options.keytab === undefined ? undefined : checkedKeytab(options.keytab);
  // Loaded once the options are known to be right, so that their errors show without the peer.
  const { initializeServer } = requirePeer<typeof Kerberos>(
    'kerberos',
    'authscheme/negotiate',
    'npm_config_build_from_source=kerberos npm install kerberos (with the GSSAPI headers, e.g. libkrb5-dev; see docs/negotiate.md)',
  );
  // The GSSAPI library reads only this variable (see `keytab`).
  if (keytab !== undefined) process.env.KRB5_KTNAME = keytabSet = keytab;
  const verifyPrincipal = options.verify;
  const turns = new Slots({
    slots: maxConcurrent,
    maxWaiting: maxConcurrent * WAITING_PER_TURN,
    maxWaitMs: MAX_WAIT_MS,
    waited: 'negotiate(): a token waited more than {ms} ms for GSSAPI',
    full: `negotiate(): more than ${maxConcurrent * WAITING_PER_TURN} tokens waiting for GSSAPI`,
  });
  const challenge: Challenge[] = [
    Object.freeze({ scheme: 'Negotiate', params: Object.freeze({}) }),
  ];

  /** GSSAPI's acceptor after its step on `token`, or the refusal of the token. */
  async function acceptToken(token: string): Promise<Kerberos.KerberosServer | SchemeFailure> {
    let server;
    try {
      server = await initializeServer(servicePrincipal);
    } catch (error) {
      // The acceptor cannot be set up (no key for the service, unreadable keytab): a server fault.
      throw new Error(
        `negotiate(): cannot acquire acceptor credentials for ${servicePrincipal}: ${messageOf(error)}`,
        { cause: error },
      );
    }
    try {
      await server.step(token);
    } catch (error) {
      // The binding throws TypeError for a programming error; GSSAPI's refusals are plain Errors.
      if (error instanceof TypeError || !(error instanceof Error)) throw error;
      return refuse(`The Negotiate token was refused: ${printable(error.message)}`);
    }
    return server;
  }

  async function establish(
    token: string,
    req: object,
    res: ServerResponse,
  ): Promise<AcceptedContext | SchemeFailure> {
    const earlier = accepted.get(req);
    if (earlier?.token === token && earlier.servicePrincipal === servicePrincipal) {
      return earlier.context;
    }
    // Both thread-pool jobs under one turn; a waiter leaves when its response closes (see
    // untilClosed).
    let server;
    try {
      server = await turns.run(() => acceptToken(token), untilClosed(res));
    } catch (error) {
      // Refused, as any request whose client left while its credentials were checked: nobody
      // receives the answer. Not next(err): Express's default handler logs each error's stack,
      // a line any client could add to the server's log by hanging up, as often as it likes.
      // ERR_AUTH_INVALID_REQUEST, not a failed check: no token was checked, and lockouts count
      // ERR_AUTH_INVALID_CREDENTIALS (a browser tab closed while the turns were busy is no
      // wrong ticket).
      if (error instanceof ResponseClosed) return refuse(error.message, 'ERR_AUTH_INVALID_REQUEST');
      throw error;
    }
    if ('ok' in server) return server;
    const principal = server.username;
    // kerberos 7.0.0 sets contextComplete on every step that succeeds, even one GSSAPI wants
    // continued; what refuses that step is MIT's GSSAPI giving no name for an incomplete context
    // (the binding's step fails). The checks stay, for other builds (docs/negotiate.md).
    if (server.contextComplete !== true || typeof principal !== 'string' || principal === '') {
      return refuse(
        'The Negotiate exchange needs more than one round trip, which is not supported',
      );
    }
    const context = { principal, response: server.response };
    accepted.set(req, { token, servicePrincipal, context });
    return context;
  }

  async function accept(token: string, ctx: RequestContext): Promise<VerifyResult> {
    const established = await establish(token, ctx.req, ctx.res);
    if ('ok' in established) return established;
    const { principal, response } = established;
    // Kerberos names are octet strings (RFC 4120 §6.1); the binding decodes GSSAPI's display form
    // as UTF-8, replacing each invalid byte with U+FFFD, so two principals that differ in such
    // bytes (Latin-1 "\xE9lise" and "\xE8lise") would arrive as one name, one user.
    if (principal.includes('\uFFFD')) {
      return refuse('The principal’s name is not valid UTF-8 and cannot be told from others');
    }
    const { name, realm } = splitPrincipal(principal);
    // From here a refusal names the principal GSSAPI authenticated (audit, AuthenticationError),
    // escaped as GSSAPI's reasons are: a trusted realm's KDC may issue any name.
    const refused = (failure: SchemeFailure): SchemeFailure => ({
      ...failure,
      user: printable(principal),
    });
    // MIT's display form escapes only NUL, tab, newline and backspace (besides `@`, `/` and `\`):
    // ESC, CR, DEL or C1 would reach req.auth.user and the logs raw. Basic refuses them too
    // (RFC 7617 §2); a name is not changed into another.
    if (hasControl(principal)) {
      return refused(refuse('The principal’s name contains control characters'));
    }
    // Anonymous PKINIT (RFC 8062) gives anyone a ticket as WELLKNOWN/ANONYMOUS, in the realm
    // WELLKNOWN:ANONYMOUS or the KDC's own; GSSAPI accepts it (only GSS_C_ANON_FLAG, which the
    // binding does not expose, tells), but it authenticates nobody.
    if (name === ANONYMOUS) {
      return refused(refuse('The anonymous Kerberos principal is not accepted'));
    }
    if (realms !== undefined && (realm === undefined || !realms.has(realm))) {
      return refused(refuse('The principal’s realm is not accepted'));
    }
    let result: SchemeSuccess;
    if (verifyPrincipal === undefined) {
      const strip =
        name !== '' && realm !== undefined && (stripAll || stripSome?.has(realm) === true);
      result = { ok: true, user: strip ? name : principal };
    } else {
      const identity = verifyPrincipal(principal, ctx.req);
      const outcome = identityResult(isPromiseLike(identity) ? await identity : identity);
      if (!outcome.ok) return refused(outcome);
      result = outcome;
    }
    result.details = { ...result.details, principal, realm };
    if (mutual && typeof response === 'string' && response !== '' && isToken68(response)) {
      const field = ctx.proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
      const value = `Negotiate ${response}`;
      result.headers = { [field]: value };
      notOnChallenge(ctx.res, field, value, ctx.proxy ? 407 : 401);
    }
    return result;
  }

  return {
    name: 'Negotiate',
    challenges(): Challenge[] {
      return challenge;
    },
    verify(credentials: Credentials, ctx: RequestContext): VerifyResult | Promise<VerifyResult> {
      // Refusals before GSSAPI checked anything are no failed guess (ERR_AUTH_INVALID_REQUEST, as
      // Basic's credentials that do not decode): Windows sends raw NTLM where it has no ticket, and
      // a lockout counting those would lock out every such user.
      const token = credentials.token68;
      if (token === undefined) return malformed('Negotiate credentials must be a token68');
      const bytes = decodeBase64Strict(token);
      if (bytes === undefined) return malformed('Negotiate credentials are not canonical base64');
      if (bytes.subarray(0, NTLM_SIGNATURE.length).equals(NTLM_SIGNATURE)) {
        return malformed('NTLM is not supported');
      }
      // A client's first token is a GSS-API InitialContextToken, [APPLICATION 0] (RFC 2743 §3.1,
      // RFC 4178 §4.2 for SPNEGO's, RFC 4121 §4.1 for Kerberos's). Anything else is refused here:
      // each GSSAPI step takes a keytab read and a turn on libuv's small thread pool, which
      // garbage should not get. (A later leg's negTokenResp, 0xa1: this adapter answers single
      // round trips only.)
      if (!isInitialContextToken(bytes)) {
        return malformed('Negotiate token is malformed: not a GSS-API initial context token');
      }
      return accept(token, ctx);
    },
  };
}

/** A refusal of credentials that were never checked: 401 with the challenge all the same. */
function malformed(message: string): SchemeFailure {
  return refuse(message, 'ERR_AUTH_INVALID_REQUEST');
}

/** Why a token left the queue for a GSSAPI turn: its response closed. */
class ResponseClosed extends Error {}

/**
 * Takes a token waiting for a GSSAPI turn out of the queue once its response closes: its client
 * hung up, or `authenticate()` answered it already (503 at its timeout), so nobody wants the
 * answer. A response closed before the token queued (an earlier middleware took its time) leaves
 * at once. The token is then refused (see `establish`), a 401 nobody receives; after a 503 it
 * changes nothing.
 */
function untilClosed(res: ServerResponse): OnWait {
  return (leave) => {
    const gone = (): void => {
      leave(new ResponseClosed('The response closed while the Negotiate token waited for GSSAPI'));
    };
    if (isResponseGone(res)) {
      gone();
      return () => undefined;
    }
    res.once('close', gone);
    return () => {
      res.off('close', gone);
    };
  };
}

/**
 * Whether `bytes` is framed as a GSS-API InitialContextToken (RFC 2743 §3.1): the tag 0x60, a
 * definite DER length that covers exactly the rest of the token, then the mechanism's OID (tag
 * 0x06, a non-empty short-form length, inside the token). This is the framing GSSAPI checks first
 * (MIT's g_verify_token_header): a token that fails it could never be accepted, so it takes no
 * keytab read and no thread-pool turn. Its contents are GSSAPI's to judge.
 */
function isInitialContextToken(bytes: Buffer): boolean {
  if (bytes.length < 2 || bytes[0] !== GSS_INITIAL_CONTEXT_TOKEN) return false;
  let offset = 2;
  let length = bytes[1]!;
  if (length & 0x80) {
    const octets = length & 0x7f;
    // 0 is the indefinite form, which DER forbids; more than 4 is beyond any header field.
    if (octets === 0 || octets > 4 || bytes.length < 2 + octets) return false;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + bytes[2 + i]!;
    offset += octets;
  }
  if (offset + length !== bytes.length) return false;
  const oidLength = bytes[offset + 1];
  return (
    bytes[offset] === 0x06 &&
    oidLength !== undefined &&
    oidLength > 0 &&
    oidLength < 0x80 &&
    offset + 2 + oidLength <= bytes.length
  );
}

/**
 * GSSAPI's reason with control, format and line/paragraph separator characters escaped as
 * `\u{…}`: it can quote the ticket's service name, which travels in clear (RFC 4120 §5.3) and
 * which any client can rewrite, so unescaped it would let a client write CR, ANSI escapes or bidi
 * overrides into the logs that print refusals.
 */
function printable(message: string): string {
  return message.replace(
    /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu,
    (char) => `\\u{${char.codePointAt(0)!.toString(16)}}`,
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
