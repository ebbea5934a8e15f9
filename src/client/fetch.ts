/**
 * `createAuthFetch()`: a `fetch` that answers `401` challenges with Digest or Basic credentials,
 * or sends a Bearer token, the way browsers and curl do, within the limits that keep a password
 * from going where it should not.
 *
 * Exported from `authscheme/client`.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { AuthHeaderSyntaxError } from '../errors';
import { parseAuthParams } from '../header';
import type { Challenge } from '../header/types';
import { readChallenges } from './challenges';
import type { DigestAlgorithm } from '../schemes/digest/algorithms';
import {
  CLIENT_ALGORITHMS,
  MAX_PARAM_LENGTH,
  answerDigest,
  chooseDigest,
  type DigestSession,
  type NonceCount,
} from './digest';
import { discard } from '../util/discard';
import { isLoopback } from '../util/loopback';
import { checkBooleanOptions, optionNames, rejectUnknownOptions } from '../util/options';
import { hasControl } from '../util/text';

/**
 * A user name and password (answered with Digest or Basic), or a Bearer token (RFC 6750 §2.1);
 * not both (a `TypeError`: the fields typed `undefined` make the compiler say so too, as it takes
 * an object literal with the keys of both for either member).
 */
export type AuthFetchCredentials =
  | { username: string; password: string; token?: undefined }
  | { token: string; username?: undefined; password?: undefined };

/** Options of {@link createAuthFetch}. */
export interface AuthFetchOptions {
  /**
   * The `fetch` underneath. Default `globalThis.fetch`. It is handed instances of the global
   * `Request` (the `undici` package's own `fetch` refuses them). It may return Responses built
   * by hand (`new Response(...)`, whose `url` is empty): one is taken to come from the URL it was
   * asked for, as no redirect can be seen; one that says `redirected` but names no `url` comes
   * from no origin the client can tell: its 401 is handed back unanswered, and with `verifyServer:
   * 'require'` a success from it, answered, rejects (it proves nothing). A response the
   * client reached through redirects it followed itself is given the URL it came from. Its
   * second argument, when the caller gave a `signal` or `dispatcher`, holds them with the
   * Request's referrer and policy (which any init resets): pass it on whole. Node's copies of a
   * Request lose its signal after a garbage collection (nodejs/undici#4068).
   */
  fetch?: typeof fetch | undefined;
  /** Schemes answered, in order of preference. Default `['Digest', 'Basic']`. */
  schemes?: readonly ('Digest' | 'Basic')[] | undefined;
  /**
   * Digest algorithms answered, strongest first: when a server offers several challenges, the
   * earliest listed here wins. Default: SHA-512-256, SHA-256, MD5, each before its `-sess` form.
   */
  algorithms?: readonly DigestAlgorithm[] | undefined;
  /**
   * Send a Basic password or a Bearer token over plain `http:` to hosts other than loopback.
   * Default `false`: both travel in clear text (RFC 7617 §4, RFC 6750 §5.3). Without it, a Basic
   * challenge there is not answered and a Bearer request rejects with a `TypeError`.
   */
  insecureHttp?: boolean | undefined;
  /**
   * Check the server's `rspauth` in `Authentication-Info` (RFC 7616 §3.5, mutual authentication).
   * - `true` (default): reject when it is wrong. Responses without `rspauth` are taken as they
   *   are (many servers send none).
   * - `'require'`: mutual authentication or nothing. Only Digest challenges with `qop=auth` are
   *   answered (Basic, auth-int and RFC 2069 answers cannot be checked), and a response to one
   *   with a status below 400 must carry the right `rspauth`: one that comes without it rejects.
   *   A man in the middle that strips the field, or offers a weaker challenge, is then caught.
   *   Error responses (400 and up) may come without it (Apache drops it on its error pages); a
   *   wrong one still rejects. Apache's redirects (3xx) carry none either, and reject.
   * - `false`: no check.
   */
  verifyServer?: boolean | 'require' | undefined;
  /**
   * The origins (`https://api.example`) the credentials are for: requests elsewhere go out as
   * plain fetches, no challenge answered, no token sent. Default: any origin a request is made
   * to, as with `fetch` itself; set it when the function is handed to code that may follow links.
   * Origins only: an entry with a path, query, fragment or user info is a `TypeError`.
   */
  origins?: readonly string[] | undefined;
}

/** What the client was told about a server's protection spaces (RFC 9110 §11.5). */
interface Space {
  readonly scheme: 'Digest' | 'Basic';
  /** URL prefixes (origin and path) the credentials may be sent to without waiting for a 401. */
  readonly prefixes: readonly string[];
  /** The directory of the URL whose challenge opened the space. */
  readonly learnedAt: string;
  readonly digest?: DigestSession | undefined;
}

const OPTION_NAMES = optionNames<AuthFetchOptions>()([
  'fetch',
  'schemes',
  'algorithms',
  'insecureHttp',
  'verifyServer',
  'origins',
]);

/** An `Authorization` value sent, and what it commits the client to. */
interface Answer {
  header: string;
  space: Space;
  /** The `rspauth` the server must send back (Digest with qop=auth). */
  rspauth?: string | undefined;
  /** The nonce a Digest answer used. */
  nonce?: string | undefined;
}

/** Digest nonces whose counts are kept; past this the oldest is dropped. */
const MAX_NONCES = 1024;

/**
 * Protection spaces remembered, over all origins. One keeps its challenge's strings, slices of
 * the whole field (up to 16,384 characters), and up to 64 `domain` URIs: some 30 kB from a hostile
 * server, which can open as many origins as a wildcard DNS name has. Past this the origins answered
 * least recently are forgotten first (a request there is challenged again: one round trip).
 */
const MAX_SPACES = 256;
/** Protection spaces remembered per origin (realms, RFC 7616 §3.3; directories, RFC 7617 §2.2). */
const MAX_SPACES_PER_ORIGIN = 16;
/** Last counts kept of nonces let go: a number each. */
const MAX_RETIRED = 16_384;

/** Thrown (the promise rejects) when the server fails Digest's mutual authentication. */
export class ServerAuthenticationError extends Error {
  override readonly name = 'ServerAuthenticationError';
  constructor(
    message: string,
    readonly response: Response,
  ) {
    super(message);
  }
}

/** What a credentials object may hold: a user name and password, or a token. */
const CREDENTIAL_NAMES: ReadonlySet<string> = new Set(['username', 'password', 'token']);

/**
 * A `fetch` that authenticates: with `{ token }` every request carries `Authorization: Bearer`;
 * with `{ username, password }` a `401` is answered once with the strongest offered scheme it
 * supports (Digest, then Basic), and later requests to the same protection space send
 * credentials straight away (Digest with the next `nc` of the nonce it holds, RFC 7616 §3.6).
 *
 * Credentials are only ever sent to the origin of the URL given, never to another origin a
 * redirect led to. A chain that leaves that origin and comes back (A → B → A) is answered at A
 * again, as browsers and curl answer it: credentials go by the origin they are sent to, not by
 * the way the request came; for a GET or HEAD only, as any 401 after a redirect (a POST that B
 * sends back by 307 reaches A without them). The redirects of a request answered with a password
 * are followed here, each hop answered afresh (a Digest answer holds for one request; a Basic one
 * goes up front within its space only). The request is sent again, so its body
 * must be readable twice: bodies are cloned (`Request.clone()`), which holds a streamed body in
 * memory until the answer is known. An abort of the request's signal cancels a stream given as
 * `init.body`, as fetch does; once the call has ended, such a stream is read no further than the
 * request whose response is handed back reads it.
 *
 * @example
 * import { createAuthFetch } from 'authscheme/client';
 * const authFetch = createAuthFetch({ username: 'alice', password: 'secret' });
 * const res = await authFetch('https://api.example/reports');
 */
export function createAuthFetch(
  credentials: AuthFetchCredentials,
  options: AuthFetchOptions = {},
): typeof fetch {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createAuthFetch(): options must be an object');
  }
  rejectUnknownOptions('createAuthFetch()', options, OPTION_NAMES);
  // A string 'false' would be truthy: a token sent in clear.
  checkBooleanOptions('createAuthFetch()', options, ['insecureHttp']);
  // Every option is read once, here: one changed later would escape the checks below.
  const insecureHttp = options.insecureHttp === true;
  const verifyServer = options.verifyServer ?? true;
  if (typeof verifyServer !== 'boolean' && verifyServer !== 'require') {
    throw new TypeError("createAuthFetch(): verifyServer must be true, false or 'require'");
  }
  const baseFetch = options.fetch ?? globalThis.fetch;
  if (typeof baseFetch !== 'function') {
    throw new TypeError('createAuthFetch(): no fetch available; pass options.fetch');
  }
  if (typeof credentials !== 'object' || credentials === null) {
    throw new TypeError('createAuthFetch(): credentials are required');
  }
  // Read once: a getter answering otherwise later would escape the checks below.
  const {
    token,
    username: givenUser,
    password: givenPassword,
  } = credentials as {
    token?: unknown;
    username?: unknown;
    password?: unknown;
  };
  // A field set to `undefined` (`{ token: process.env.TOKEN, … }`, as the types allow) is absent;
  // `{ token: undefined }` alone still means a token, refused below as no token.
  const tokenGiven =
    token !== undefined ||
    ('token' in credentials && givenUser === undefined && givenPassword === undefined);
  if (tokenGiven && (givenUser !== undefined || givenPassword !== undefined)) {
    throw new TypeError('createAuthFetch(): give { username, password } or { token }, not both');
  }
  // An option put among the credentials (`verifyServer: 'require'`) would be ignored in silence,
  // and with it what it asks for.
  for (const key of Object.keys(credentials)) {
    if (!CREDENTIAL_NAMES.has(key)) {
      throw new TypeError(
        `createAuthFetch(): unknown credential \`${key}\` (credentials are { username, password } or { token }; options go in the second argument)`,
      );
    }
  }
  const origins = resolveOrigins(options.origins);
  /** Whether credentials may go with `request` at all. */
  const mayAuthenticate = (request: Request): boolean =>
    // Fetch standard: with credentials 'omit', no authentication entry is used nor a 401 answered.
    request.credentials !== 'omit' &&
    (origins === undefined || origins.has(new URL(request.url).origin));
  if (tokenGiven) {
    // The token first: one left undefined is the mistake to name, whatever the options.
    if (typeof token !== 'string' || !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) {
      // RFC 6750 §2.1: b64token syntax.
      throw new TypeError('createAuthFetch(): the token is not in RFC 6750 b64token syntax');
    }
    if (verifyServer === 'require') {
      throw new TypeError(
        "createAuthFetch(): verifyServer 'require' needs Digest; a Bearer server proves nothing",
      );
    }
    const header = `Bearer ${token}`;
    return async (input, init) => {
      const request = new Request(input, init);
      const sendInit = sendInitOf(input, init);
      // Fetch standard: credentials of ours go only on a request without its own Authorization.
      if (!mayAuthenticate(request) || request.headers.has('authorization')) {
        return fetchWith(baseFetch, request, sendInit);
      }
      if (!insecureHttp && !isPrivateChannel(new URL(request.url))) {
        // RFC 6750 §5.3: clients MUST use TLS; a token sent in clear can be replayed by anyone.
        throw new TypeError(
          'createAuthFetch(): a Bearer token goes over https or to loopback only (set insecureHttp)',
        );
      }
      return fetchWith(baseFetch, withHeaders(request, header), sendInit);
    };
  }
  if (typeof givenUser !== 'string' || typeof givenPassword !== 'string') {
    throw new TypeError('createAuthFetch(): username and password must be strings');
  }
  // RFC 7616 §4 and RFC 7617 §2.1: servers that say charset=UTF-8 expect NFC.
  const username = givenUser.normalize('NFC');
  const password = givenPassword.normalize('NFC');
  if (hasControl(username) || hasControl(password)) {
    throw new TypeError(
      'createAuthFetch(): username and password must not hold control characters',
    );
  }
  // A lone surrogate would go out as U+FFFD (UTF-8 has no encoding for it): another password.
  if (/\p{Cs}/u.test(username) || /\p{Cs}/u.test(password)) {
    throw new TypeError('createAuthFetch(): username and password must be well-formed UTF-16');
  }
  const mutual = verifyServer === 'require';
  const schemes = listCopy(options.schemes) ?? (mutual ? ['Digest'] : ['Digest', 'Basic']);
  // An empty list would answer no challenge, in silence.
  if (!isListOf(schemes, ['Digest', 'Basic'])) {
    throw new TypeError(
      "createAuthFetch(): schemes must be a non-empty list of 'Digest' and 'Basic'",
    );
  }
  if (mutual && schemes.includes('Basic')) {
    // RFC 7617 has no way for the server to prove anything: Basic would undo the requirement.
    throw new TypeError("createAuthFetch(): verifyServer 'require' cannot answer Basic");
  }
  const algorithms = listCopy(options.algorithms) ?? CLIENT_ALGORITHMS;
  // An empty list would answer no Digest challenge, and Basic in its place where offered.
  if (!isListOf(algorithms, CLIENT_ALGORITHMS)) {
    throw new TypeError(
      `createAuthFetch(): algorithms must be a non-empty list of ${CLIENT_ALGORITHMS.join(', ')}`,
    );
  }
  const spaces = new Map<string, Space[]>();
  /**
   * The count of each nonce in use, by origin and nonce. RFC 7616 §3.4: `nc` counts every request
   * sent with a nonce, so the sessions of several challenges that carry the same nonce (parallel
   * requests, a server that reuses nonces, a `nextnonce`) share one count. Each session keeps its
   * own challenge's `opaque`, `userhash` and algorithm.
   */
  const counts = new Map<string, NonceCount>();
  /**
   * Counts let go from `counts`, the objects themselves: a session remembered in `spaces` may
   * still count on one, and a server may offer its nonce again; either way the count goes on
   * where it is (RFC 7616 §3.4: an nc is never sent twice with a nonce).
   */
  const retired = new Map<string, NonceCount>();
  /** Makes `count` the newest of `counts`, letting the least recently used go to `retired`. */
  const keep = (key: string, count: NonceCount): void => {
    counts.delete(key);
    retired.delete(key);
    if (counts.size >= MAX_NONCES) {
      const [oldKey, oldCount] = counts.entries().next().value!;
      counts.delete(oldKey);
      if (retired.size >= MAX_RETIRED) retired.delete(retired.keys().next().value!);
      retired.set(oldKey, oldCount);
    }
    counts.set(key, count);
  };
  const onNonce = (
    origin: string,
    session: DigestSession,
    nonce = session.nonce,
  ): DigestSession => {
    const key = countKey(origin, nonce);
    const count = counts.get(key) ??
      retired.get(key) ??
      // Let go altogether (past MAX_RETIRED), but still held by a session remembered here.
      spaces.get(origin)?.find((space) => space.digest?.nonce === nonce)?.digest?.count ?? {
        nc: 0,
      };
    keep(key, count);
    return { ...session, nonce, count };
  };
  /** Marks the count of the nonce `session` answers with as just used, and returns the one to use. */
  const used = (origin: string, session: DigestSession): NonceCount => {
    const key = countKey(origin, session.nonce);
    const held = counts.get(key) ?? retired.get(key);
    if (held === undefined) {
      keep(key, session.count);
      return session.count;
    }
    // The session's own count, or another for the same nonce (one was let go while a session
    // kept it): go on from the higher.
    held.nc = Math.max(held.nc, session.count.nc);
    keep(key, held);
    return held;
  };

  /** Spaces in `spaces`, over all origins (an origin with none has no entry). */
  let held = 0;
  const remember = (origin: string, space: Space): void => {
    const list = spaces.get(origin) ?? [];
    const kept = list.filter((s) => !sameSpace(s, space));
    kept.unshift(space);
    const now = kept.slice(0, MAX_SPACES_PER_ORIGIN);
    // Deleted first: the Map's order is then the order in which origins were last answered.
    spaces.delete(origin);
    spaces.set(origin, now);
    held += now.length - list.length;
    // Oldest origins first. `origin`, just set, comes last, with at most MAX_SPACES_PER_ORIGIN
    // spaces, within MAX_SPACES: the loop ends before it.
    for (const [other, old] of spaces) {
      if (held <= MAX_SPACES) break;
      spaces.delete(other);
      held -= old.length;
    }
  };

  /** What is known of the space (by realm, or directory), whichever request learned it. */
  const forget = (origin: string, space: Space): void => {
    const list = spaces.get(origin);
    if (list === undefined) return;
    const kept = list.filter((s) => !sameSpace(s, space));
    held += kept.length - list.length;
    if (kept.length === 0) spaces.delete(origin);
    else spaces.set(origin, kept);
  };

  /** The Digest session now remembered for `space`'s realm on `origin`, if any. */
  const rememberedSession = (origin: string, space: Space): DigestSession | undefined =>
    spaces.get(origin)?.find((s) => sameSpace(s, space))?.digest;

  const spaceFor = (url: URL): Space | undefined => {
    let best: Space | undefined;
    let bestLength = -1;
    for (const space of spaces.get(url.origin) ?? []) {
      if (!space.prefixes.some((p) => url.href.startsWith(p))) continue;
      // Several spaces may cover a URL (a Digest realm without `domain` covers the whole origin,
      // RFC 7616 §3.3): the one learned nearest to it is likeliest its own. Ties: the latest.
      const length = commonPrefixLength(space.learnedAt, url.href);
      if (length > bestLength) {
        best = space;
        bestLength = length;
      }
    }
    return best;
  };

  /**
   * The Authorization value for `space` on this request, and the rspauth to expect; `signal` ends
   * the read of a body to hash (the caller's: the request's own may no longer follow it).
   */
  const answer = async (
    space: Space,
    request: Request,
    url: URL,
    signal: AbortSignal | null | undefined,
  ): Promise<Answer> => {
    if (space.scheme === 'Basic') {
      const encoded = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
      return { header: `Basic ${encoded}`, space };
    }
    const held = space.digest!;
    const count = used(url.origin, held);
    const session = count === held.count ? held : { ...held, count };
    const body =
      session.qop === 'auth-int'
        ? Buffer.from(await readBody(request, signal ?? request.signal))
        : undefined;
    const uri = url.pathname + url.search;
    const result = answerDigest(session, username, password, {
      method: request.method,
      uri,
      body,
    });
    return { header: result.header, rspauth: result.rspauth, space, nonce: session.nonce };
  };

  /** The space a 401's challenges open, if the client can answer any of them. */
  const spaceFromChallenges = (challenges: Challenge[], url: URL): Space | undefined => {
    for (const scheme of schemes) {
      if (scheme === 'Digest') {
        const chosen = chooseDigest(challenges, algorithms, mutual);
        if (chosen === undefined) continue;
        const digest = onNonce(url.origin, chosen.session);
        return {
          scheme,
          // The chosen challenge's own domain (RFC 7616 §3.3), not that of another on the nonce.
          prefixes: digestPrefixes(chosen.domain, url),
          learnedAt: directoryOf(url),
          digest,
        };
      }
      if (!challenges.some((c) => c.scheme.toLowerCase() === 'basic')) continue;
      // RFC 7617 §2: a user-id with a colon cannot be sent.
      if (username.includes(':')) continue;
      if (!insecureHttp && !isPrivateChannel(url)) continue;
      // RFC 7617 §2.2: paths at or below the last segment's directory share the space.
      const directory = directoryOf(url);
      return { scheme, prefixes: [directory], learnedAt: directory };
    }
    return undefined;
  };

  /**
   * One request, from `template`; `sendInit` goes with every request sent (see sendInitOf());
   * `hops` counts the redirects this client followed itself. `copies` collects the copies sent of
   * a streamed body (see letGo()).
   */
  const run = async (
    template: Request,
    sendInit: RequestInit | undefined,
    hops: number,
    copies?: SentCopy[],
  ): Promise<Response> => {
    const url = new URL(template.url);
    // The redirects of a request sent with a password are followed here, where fetch would send
    // its header on to any path of the origin: a Digest answer holds for one request (its uri and
    // its nc), each hop is answered afresh; a Basic one goes up front only within its space (RFC
    // 7617 §2.2), and one refused there is not sent again. Once it follows, it follows to the end:
    // fetch would count 20 redirects afresh.
    const followHere = template.redirect === 'follow';
    const manualFor = (answered: Answer | undefined): boolean =>
      followHere && (hops > 0 || answered !== undefined);
    const send = async (request: Request, answered?: Answer): Promise<Response> => {
      const sent = withHeaders(request, answered?.header, manualFor(answered));
      if (copies === undefined || sent.body === null) return fetchWith(baseFetch, sent, sendInit);
      // A copy of a streamed body, through a pipe of its own that letGo() can stop.
      const stopper = new AbortController();
      const copy: SentCopy = { stop: () => stopper.abort() };
      copies.push(copy);
      copy.response = await fetchWith(baseFetch, piped(sent, stopper.signal), sendInit);
      return copy.response;
    };
    let sent: Answer | undefined;
    // Fetch standard: remembered credentials go only on a request without its own Authorization.
    const known = template.headers.has('authorization') ? undefined : spaceFor(url);
    if (known !== undefined) sent = await answer(known, template, url, sendInit?.signal);
    let preemptive = sent !== undefined;
    let sentTo = url;
    /** Whether a redirect fetch followed led to the URL answered: the answer goes there straight. */
    let reachedByRedirect = false;
    let response = await send(template.clone(), sent);

    // Two answers at most: the challenge, then once more for a stale nonce (RFC 7616 §3.3).
    for (let attempt = 0; attempt < 2 && response.status === 401; attempt++) {
      // The URL that sent this 401: after a redirect fetch followed, its target; later, the URL
      // the last answer went to.
      const target = sentFrom(response, sentTo);
      // Never answer for another origin, nor for one the response does not name; after a redirect,
      // only GET and HEAD are sent again (a redirect may have turned another method into GET,
      // RFC 9110 §15.4).
      if (target === undefined || target.origin !== url.origin) break;
      if (response.redirected && template.method !== 'GET' && template.method !== 'HEAD') break;
      const challenges = readChallenges(response.headers.get('www-authenticate') ?? '');
      const space = spaceFromChallenges(challenges, target);
      if (space === undefined) break;
      // Credentials answered to a challenge and refused: a new nonce helps only when the server
      // says the old one was stale; anything else means wrong credentials. Credentials sent from
      // memory get one fresh answer (the server may have forgotten its nonces).
      if (!preemptive && sent !== undefined && sameSpace(sent.space, space)) {
        if (!isStale(challenges, space)) break;
      }
      // A Basic answer is the same bytes wherever it goes: one refused by the URL it was sent to
      // is not sent there again (RFC 9110 §15.5.2: the request may be repeated with new or
      // replaced credentials), up front or not. Through a redirect fetch followed it may not
      // have arrived (A → B → A drops it): that 401 is answered.
      if (sent?.space.scheme === 'Basic' && space.scheme === 'Basic' && !response.redirected) break;
      // RFC 9110 §11.6.3: this 401 may carry Authentication-Info for the answer it refused; a
      // wrong rspauth rejects here as on the last response, before anything is answered again.
      if (sent?.space.digest !== undefined) {
        try {
          followAuthenticationInfo(response, sent, verifyServer);
        } catch (err) {
          forget(url.origin, sent.space);
          throw err;
        }
      }
      preemptive = false;
      await discard(response);
      sent = await answer(space, template, target, sendInit?.signal);
      sentTo = target;
      reachedByRedirect ||= response.redirected;
      const retry = target.href !== url.href ? retargeted(template, target) : template.clone();
      response = await send(retry, sent);
    }
    if (reachedByRedirect) markRedirected(response, sentTo);

    // A response from an origin a redirect led to (or one it does not name) says nothing about
    // this one's credentials.
    const sameOrigin = sentFrom(response, sentTo)?.origin === url.origin;
    // A redirect of a request answered with a password (sent with redirect: 'manual').
    const isRedirect = manualFor(sent) && REDIRECTS.has(response.status);
    if (sent !== undefined) {
      // Credentials are sent up front only once the server has taken them: refused ones would
      // go out twice on every later request, wrong each time.
      if (response.status === 401 && sameOrigin) {
        forget(url.origin, sent.space);
        if (known !== undefined) forget(url.origin, known);
        // RFC 9110 §11.6.3: a 401 may carry Authentication-Info too; a wrong rspauth rejects.
        if (sent.space.digest !== undefined) followAuthenticationInfo(response, sent, verifyServer);
      } else {
        let space: Space | undefined = sent.space;
        if (mutual && !sameOrigin && sent.rspauth !== undefined && response.status < 400) {
          // A `fetch` given in options that followed a redirect it was asked not to follow, or
          // says it did without a URL: nothing proves this response came from the server that
          // checked the answer. 'require' takes no success without that proof.
          forget(url.origin, sent.space);
          throw serverFailed(
            'The response does not come from the origin the answer went to: it did not prove that the server knows the password (verifyServer is require)',
            response,
          );
        }
        // RFC 9110 §11.6.3: Authentication-Info may come with any status, and a server that does
        // not know the password must not pass for one by answering 404 or a manual 3xx.
        if (sent.space.digest !== undefined && sameOrigin) {
          let nextnonce: string | undefined;
          try {
            nextnonce = followAuthenticationInfo(response, sent, verifyServer);
          } catch (err) {
            // A server that failed mutual authentication is not sent answers up front, and is
            // not followed where it redirects.
            forget(url.origin, sent.space);
            throw err;
          }
          const current = rememberedSession(url.origin, sent.space);
          if (preemptive && current !== undefined && current.nonce !== sent.nonce) {
            // Sent from memory on a nonce that other requests have since moved the realm away
            // from: theirs stays (a late nextnonce would take it back to one left behind).
            space = undefined;
          } else if (nextnonce !== undefined) {
            // RFC 7616 §3.6: later requests use the nextnonce.
            space = { ...sent.space, digest: onNonce(url.origin, sent.space.digest, nextnonce) };
          }
        }
        if (space !== undefined) remember(url.origin, space);
      }
    }

    if (isRedirect) {
      const next = await nextHop(response, template, sentTo, hops, sendInit?.signal);
      if (next !== undefined) {
        // An Authorization of the caller's own was refused here, and the answer took its place:
        // it goes no further (fetch would carry the answer; remembered spaces go up front).
        if (sent !== undefined) next.headers.delete('authorization');
        return new URL(next.url).origin === url.origin
          ? run(next, sendInit, hops + 1)
          : // Another origin gets no credentials of ours.
            followPlain(next, sendInit, hops + 1, url.origin);
      }
    }
    // Reached through redirects this client followed: say so, as fetch would.
    return hops > 0 ? markRedirected(response, sentTo) : response;
  };

  /**
   * The hops at other origins than `home`: followed as fetch would, counted on, no credentials of
   * ours. A GET or HEAD back to `home` is answered again, as a redirect fetch followed there would
   * be: credentials go by the origin they are sent to, not by the way the request came. Another
   * method goes on plain, as there (a 401 after a redirect is answered for GET and HEAD only):
   * the body must not go with credentials to a URL another origin picked.
   */
  const followPlain = async (
    request: Request,
    sendInit: RequestInit | undefined,
    hops: number,
    home: string,
  ): Promise<Response> => {
    for (;;) {
      // A clone goes out: a 307 or 308 sends the body again, read from `request`.
      const sent = withHeaders(request.clone(), undefined, true);
      const response = await fetchWith(baseFetch, sent, sendInit);
      const next = REDIRECTS.has(response.status)
        ? await nextHop(response, request, new URL(request.url), hops, sendInit?.signal)
        : undefined;
      if (next === undefined) return markRedirected(response, new URL(request.url));
      if (new URL(next.url).origin === home && (next.method === 'GET' || next.method === 'HEAD')) {
        return run(next, sendInit, hops + 1);
      }
      request = next;
      hops++;
    }
  };

  // Async, so that bad input rejects the promise as fetch's does instead of throwing.
  return async function authFetch(input, init) {
    const request = new Request(input, init);
    const sendInit = sendInitOf(input, init);
    if (!mayAuthenticate(request)) return fetchWith(baseFetch, request, sendInit);
    if (!isStream(init?.body) || request.body === null) return run(request, sendInit, 0);
    // Fetch cancels the body on abort; so does this pipe while the call lasts, and the error it
    // leaves ends every read of every copy (the client's own, readBody()'s, undici's of a request
    // whose fetch ended). Then the request answered is fetch's, as is what an abort does to it:
    // the caller's signal, which may serve many calls, does not hold the pipe (and the stream).
    const signal = sendInit?.signal;
    const stopper = new AbortController();
    const onAbort = (): void => stopper.abort(signal?.reason);
    if (signal?.aborted === true) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const template = piped(request, stopper.signal);
    const copies: SentCopy[] = [];
    let response: Response | undefined;
    try {
      response = await run(template, sendInit, 0, copies);
      return response;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      letGo(copies, response);
    }
  };
}

/**
 * What every request of one call goes out with, in fetch's init: undici's `dispatcher` (a proxy,
 * TLS options), which Request.clone() does not keep, and the caller's signal. undici's copies of
 * a Request (clone(), `new Request(request, init)`, and fetch's own of the Request it is given)
 * follow the signal through weak references only (nodejs/undici#4068): once one in the chain is
 * garbage collected, an abort no longer reaches the request sent, and it waits for as long as the
 * server does. fetch holds the chain from a signal given in its init, as from the caller's.
 *
 * A Request given as input holds its own signal's link to the caller's (undici keeps the
 * AbortController in the Request): that signal follows only while the Request lives. The caller
 * may not keep it, so its signal does (signalHolders): whatever holds the signal (fetch's copy of
 * a Request, which follows it; readBody()) keeps the Request, and so the link.
 */
function sendInitOf(
  input: Parameters<typeof fetch>[0],
  init: RequestInit | undefined,
): RequestInit | undefined {
  // The signal the Request constructor follows: init's, even null (none), or the input's.
  const fromInput = init?.signal === undefined && input instanceof Request;
  const signal = fromInput ? input.signal : (init?.signal ?? null);
  if (init?.dispatcher === undefined && signal === null) return undefined;
  const sendInit: RequestInit = {};
  if (init?.dispatcher !== undefined) sendInit.dispatcher = init.dispatcher;
  if (signal !== null) sendInit.signal = signal;
  if (fromInput) signalHolders.set(input.signal, input);
  return sendInit;
}

/** A Request given as input, kept alive by its signal: only then does the signal follow (sendInitOf()). */
const signalHolders = new WeakMap<AbortSignal, Request>();

/**
 * `baseFetch(request, sendInit)`. A Request built from another with any init starts over with the
 * referrer and its policy (Fetch standard, the Request constructor): they go in the init too.
 */
function fetchWith(
  baseFetch: typeof fetch,
  request: Request,
  sendInit: RequestInit | undefined,
): Promise<Response> {
  if (sendInit === undefined) return baseFetch(request);
  return baseFetch(request, {
    ...sendInit,
    referrer: request.referrer,
    referrerPolicy: request.referrerPolicy,
  });
}

/**
 * Whether `body` (from `init`) is a stream: a ReadableStream or an async iterable. Its copies are
 * piped (piped(), letGo()). A body of known length is left as it is: a pipe would lose its
 * Content-Length, and reading it to its end takes no longer than sending it.
 */
function isStream(body: unknown): boolean {
  return (
    typeof (body as AsyncIterable<unknown> | null | undefined)?.[Symbol.asyncIterator] ===
    'function'
  );
}

/**
 * `request`, its body read through a pipe that `signal` ends: the pipe then cancels what it reads
 * and errors what it gives, which ends every read of it.
 */
function piped(request: Request, signal: AbortSignal): Request {
  return new Request(request, {
    body: request.body!.pipeThrough(new TransformStream(), { signal }),
    duplex: 'half',
    // Any init resets the referrer and its policy (Fetch standard): give them back.
    referrer: request.referrer,
    referrerPolicy: request.referrerPolicy,
  });
}

/** A copy of a streamed body that went out: what stops its read, and the response it got. */
interface SentCopy {
  readonly stop: () => void;
  response?: Response;
}

/**
 * The end of a call with a streamed body: every copy sent but the one whose response is handed
 * back stops. The body is sent again with the answer, so it is teed (Request.clone()), and every
 * copy keeps what any other reads; undici reads the rest of a request's body into nowhere once
 * its fetch is cancelled (a 401 answered is), for ever if it is endless, and the other copies
 * would keep it all, after the call too. So the stream is read no further than the request
 * answered reads it.
 */
function letGo(copies: readonly SentCopy[], kept: Response | undefined): void {
  for (const copy of copies) if (kept === undefined || copy.response !== kept) copy.stop();
}

/**
 * Makes `response` say it was reached through redirects, as fetch's does, and its clones too:
 * `clone()` builds a new Response from the inner one, which knows of no redirect. One built by
 * hand (a `fetch` given in options) has an empty `url`: it is given `from`, the URL it was
 * fetched from, as fetch names the last URL of the chain.
 */
function markRedirected(response: Response, from: URL): Response {
  // Already (fetch's own, or marked before): its clones say so, and a property is defined once.
  // One the `fetch` underneath says it redirected, without a URL, stays without: where that
  // chain ended cannot be seen.
  if (response.redirected) return response;
  const clone = response.clone;
  Object.defineProperty(response, 'redirected', { value: true });
  if (response.url === '') Object.defineProperty(response, 'url', { value: from.href });
  Object.defineProperty(response, 'clone', {
    value: (): Response => markRedirected(clone.call(response), from),
  });
  return response;
}

/**
 * The URL `response` came from, for a request sent to `sentTo`: that one, unless the response
 * says it was reached through redirects; then its `url`. A response built by hand has an empty
 * `url`: one that says nothing of redirects is taken to come from `sentTo` (no redirect can be
 * seen), one that says `redirected` without a URL from nowhere the client can tell (`undefined`):
 * nothing is answered for it nor learned from it.
 */
function sentFrom(response: Response, sentTo: URL): URL | undefined {
  if (!response.redirected) return sentTo;
  return URL.canParse(response.url) ? new URL(response.url) : undefined;
}

/** The `origins` option as a set of origins; `undefined` for any. */
function resolveOrigins(origins: unknown): Set<string> | undefined {
  if (origins === undefined) return undefined;
  const fail = (): never => {
    throw new TypeError('createAuthFetch(): origins must be a list of http(s) origins');
  };
  if (!Array.isArray(origins)) return fail();
  const resolved = new Set<string>();
  for (const origin of origins) {
    if (typeof origin !== 'string' || !URL.canParse(origin)) return fail();
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail();
    // An origin is all the option can hold: a path, query, fragment or user info would be dropped in
    // silence, and credentials meant for https://api.example/v1 go to the whole origin.
    // Named, not echoed: user info may hold a password, a path or query a secret of its own (a
    // webhook's path, RFC 6750 §2.3's access_token).
    const extra =
      url.username !== '' || url.password !== ''
        ? 'user info'
        : url.pathname !== '/'
          ? 'a path'
          : url.search !== ''
            ? 'a query'
            : url.hash !== ''
              ? 'a fragment'
              : undefined;
    if (extra !== undefined) {
      throw new TypeError(
        `createAuthFetch(): origins holds origins only, not an entry with ${extra}: credentials go to the whole origin ${url.origin}; give that`,
      );
    }
    resolved.add(url.origin);
  }
  return resolved;
}

/**
 * The request the redirect `response` asks for, its body cancelled; `undefined` when it names no
 * Location. Rejects as fetch does past 20 redirects (`hops` were followed before).
 */
async function nextHop(
  response: Response,
  template: Request,
  from: URL,
  hops: number,
  signal: AbortSignal | null | undefined,
): Promise<Request | undefined> {
  let next: Request | undefined;
  try {
    next = await redirected(response, template, from, signal ?? template.signal);
  } catch (err) {
    await discard(response);
    throw err;
  }
  if (next === undefined) return undefined;
  await discard(response);
  if (hops >= MAX_REDIRECTS) {
    throw new TypeError('fetch failed', { cause: new Error('redirect count exceeded') });
  }
  return next;
}

/**
 * The request a redirect asks for (RFC 9110 §15.4), as fetch would make it: 303 turns any method
 * but HEAD into GET, 301 and 302 turn POST into GET (dropping the body and the fields that
 * describe it), 307 and 308 keep method and body. `undefined` when the redirect names no
 * Location (fetch then hands it over as it is); a TypeError, as fetch's, when it cannot be followed.
 */
async function redirected(
  response: Response,
  template: Request,
  from: URL,
  signal: AbortSignal,
): Promise<Request | undefined> {
  const field = response.headers.get('location');
  // Fetch hands a redirect without Location over as it is, and fails on one it cannot follow.
  if (field === null) return undefined;
  // A field's bytes come as characters of their own (Latin-1). Servers send a URL in UTF-8
  // unencoded, and fetch (undici), as browsers, reads a Location with bytes outside printable
  // ASCII as UTF-8: /ü sent so is /%C3%BC, where Latin-1 would make it /%C3%83%C2%BC.
  const location = /[^\x20-\x7e]/.test(field)
    ? Buffer.from(field, 'latin1').toString('utf8')
    : field;
  if (!URL.canParse(location, from.href)) throw new TypeError('fetch failed: invalid Location');
  const target = new URL(location, from);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new TypeError('fetch failed: a redirect to a URL scheme other than http(s)');
  }
  // `new Request()` would refuse it with a message holding the whole URL, password included;
  // fetch's own redirect fails as a network error (Fetch standard, "HTTP-redirect fetch").
  if (target.username !== '' || target.password !== '') {
    throw new TypeError('fetch failed: a redirect to a URL with user info');
  }
  const toGet =
    (response.status === 303 && template.method !== 'GET' && template.method !== 'HEAD') ||
    ((response.status === 301 || response.status === 302) && template.method === 'POST');
  const headers = new Headers(template.headers);
  if (toGet) for (const name of BODY_FIELDS) headers.delete(name);
  // Fetch drops these on the way to another origin: the caller's own credentials and cookies.
  if (target.origin !== from.origin) for (const name of CROSS_ORIGIN_DROPPED) headers.delete(name);
  const method = toGet ? 'GET' : template.method;
  const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(template, signal);
  return retargeted(template, target, { method, headers, body });
}

/**
 * The body of `request`, read from a clone. Rejects when `signal` (the caller's, or the request's)
 * aborts: reading a stream does not watch it, and one that never ends would otherwise hold the
 * call for ever.
 */
function readBody(request: Request, signal = request.signal): Promise<ArrayBuffer> {
  // As fetch does, the promise rejects with the signal's reason, whatever it is.
  const reason = (): Error => signal.reason as Error;
  if (signal.aborted) return Promise.reject(reason());
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
    request
      .clone()
      .arrayBuffer()
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Fetch's request-body-header names: dropped when a redirect turns a request into a GET. */
const BODY_FIELDS = ['content-encoding', 'content-language', 'content-location', 'content-type'];
/** What fetch (undici) drops from a request a redirect sends to another origin. */
const CROSS_ORIGIN_DROPPED = ['authorization', 'proxy-authorization', 'cookie', 'host'];

/** Redirects this client follows itself (fetch's own limit). */
const MAX_REDIRECTS = 20;

/** A copy of an array option, so that changing the caller's array later changes nothing. */
function listCopy<T>(value: T): T {
  return (Array.isArray(value) ? [...(value as unknown[])] : value) as T;
}

/** `value` is a non-empty array whose every element is one of `allowed` (spelt exactly so). */
function isListOf(value: unknown, allowed: readonly string[]): boolean {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((item: unknown) => allowed.includes(item as string))
  );
}

/** The URL of `url`'s directory: origin and path up to its last `/`. */
function directoryOf(url: URL): string {
  return url.origin + url.pathname.slice(0, url.pathname.lastIndexOf('/') + 1);
}

function commonPrefixLength(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  let i = 0;
  while (i < length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * `template` sent to the URL a redirect led to, with every option a Request carries; a GET or
 * HEAD unless `change` gives the method, headers and body. `mode: 'navigate'` cannot be set by a
 * constructor, and a Request that has it came from a browser's navigation, never from code;
 * `same-origin` keeps its meaning.
 */
function retargeted(
  template: Request,
  target: URL,
  change: { method: string; headers: Headers; body: ArrayBuffer | undefined } = {
    method: template.method,
    headers: template.headers,
    body: undefined,
  },
): Request {
  return new Request(target, {
    method: change.method,
    headers: change.headers,
    body: change.body,
    signal: template.signal,
    redirect: template.redirect,
    cache: template.cache,
    credentials: template.credentials,
    integrity: template.integrity,
    keepalive: template.keepalive,
    mode: template.mode === 'navigate' ? 'same-origin' : template.mode,
    referrer: template.referrer,
    referrerPolicy: template.referrerPolicy,
    // Node's RequestInit type leaves out `cache`, which undici's Request takes.
  } as RequestInit);
}

/** The error for a server that failed mutual authentication; its body is discarded, unread. */
function serverFailed(message: string, response: Response): ServerAuthenticationError {
  // Release the connection: nothing in a body from an unauthenticated server should be used.
  void discard(response);
  return new ServerAuthenticationError(message, response);
}

function noRspauth(response: Response): ServerAuthenticationError {
  return serverFailed(
    'The server sent no rspauth: it did not prove that it knows the password (verifyServer is require)',
    response,
  );
}

/**
 * RFC 7615 / RFC 7616 §3.5: checks `rspauth` when asked to (throws when it is wrong). Returns the
 * `nextnonce`, if the server names one other than the nonce `sent` used.
 */
function followAuthenticationInfo(
  response: Response,
  sent: Answer,
  verify: boolean | 'require',
): string | undefined {
  const { rspauth } = sent;
  // What passes for a success (1xx-3xx) must prove the server knows the password; an error page
  // need not: servers drop their headers there (Apache does), and a 404 gives nothing away.
  const mustProve = verify === 'require' && rspauth !== undefined && response.status < 400;
  const field = response.headers.get('authentication-info');
  if (field === null) {
    if (mustProve) throw noRspauth(response);
    return undefined;
  }
  let info: Record<string, string>;
  try {
    info = parseAuthParams(field);
  } catch (err) {
    if (!(err instanceof AuthHeaderSyntaxError)) throw err;
    // Only where an rspauth was due (qop=auth) could a garbled field be hiding a wrong one.
    if (verify && rspauth !== undefined) {
      throw serverFailed('Authentication-Info does not parse', response);
    }
    return undefined;
  }
  if (mustProve && info.rspauth === undefined) throw noRspauth(response);
  if (verify && rspauth !== undefined && info.rspauth !== undefined) {
    const received = Buffer.from(info.rspauth.toLowerCase(), 'latin1');
    const expected = Buffer.from(rspauth, 'latin1');
    if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
      throw serverFailed(
        'The server’s rspauth does not match: it does not know the password',
        response,
      );
    }
  }
  const next = info.nextnonce;
  // Remembered like a challenge's nonce, and capped like one.
  if (next === undefined || next === sent.nonce || next.length > MAX_PARAM_LENGTH) return undefined;
  return next;
}

/** One Digest space per realm, one Basic space per directory (RFC 7617 §2.2). */
function sameSpace(a: Space, b: Space): boolean {
  if (a.scheme !== b.scheme) return false;
  return a.digest !== undefined
    ? a.digest.realm === b.digest?.realm
    : a.prefixes[0] === b.prefixes[0];
}

/** TLS, or a host on this machine: where a password or token may travel as it is. */
function isPrivateChannel(url: URL): boolean {
  return url.protocol === 'https:' || isLoopback(url.hostname);
}

function isStale(challenges: Challenge[], space: Space): boolean {
  if (space.digest === undefined) return false;
  return challenges.some(
    (c) =>
      c.scheme.toLowerCase() === 'digest' &&
      c.params.nonce === space.digest!.nonce &&
      c.params.stale?.toLowerCase() === 'true',
  );
}

/** The key of a nonce's count: a digest, so that 17,000 remembered nonces take little room. */
function countKey(origin: string, nonce: string): string {
  return hash('sha256', JSON.stringify([origin, nonce]), 'base64');
}

/** URIs of a challenge's `domain` kept. */
const MAX_DOMAIN_PREFIXES = 64;
/**
 * URIs of a `domain` looked at: a hostile server's 16 KB of URIs of other origins would otherwise
 * all be parsed, on every 401.
 */
const MAX_DOMAIN_ENTRIES = 4 * MAX_DOMAIN_PREFIXES;

/**
 * RFC 7616 §3.3 `domain`: space-separated URIs (absolute, or absolute paths on this origin) that
 * share the space; without it, the whole origin does. "Any URI that has a URI in this list as a
 * prefix": a string prefix, as the RFC says (`/digest` covers `/digest-other`), kept to this origin.
 */
function digestPrefixes(domain: string | undefined, url: URL): string[] {
  if (domain === undefined || domain.trim() === '') return [url.origin + '/'];
  const prefixes: string[] = [];
  let entries = 0;
  for (const entry of domain.split(' ')) {
    if (entry === '') continue;
    // A hostile server's domain of thousands of URIs would be kept, as hrefs, for every realm.
    if (prefixes.length >= MAX_DOMAIN_PREFIXES || ++entries > MAX_DOMAIN_ENTRIES) break;
    // Not a URI: ignored, asked first (a URL constructor's throw costs some µs).
    if (!URL.canParse(entry, url.href)) continue;
    const resolved = new URL(entry, url);
    if (resolved.origin === url.origin) prefixes.push(resolved.href);
  }
  return prefixes.length > 0 ? prefixes : [url.origin + '/'];
}

function withHeaders(
  request: Request,
  authorization: string | undefined,
  manualRedirects = false,
): Request {
  if (authorization === undefined && !manualRedirects) return request;
  // A Request built from another with any init starts over with the referrer and its policy
  // (Fetch standard, the Request constructor): give them back.
  const init: RequestInit = { referrer: request.referrer, referrerPolicy: request.referrerPolicy };
  if (authorization !== undefined) {
    const headers = new Headers(request.headers);
    headers.set('Authorization', authorization);
    init.headers = headers;
  }
  if (manualRedirects) init.redirect = 'manual';
  return new Request(request, init);
}
