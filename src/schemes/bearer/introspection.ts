/**
 * A Bearer verifier that asks an OAuth 2.0 token introspection endpoint (RFC 7662) about opaque
 * tokens. Uses the global `fetch`; no dependency.
 */
import { AuthschemeError } from '../../errors';
import type { Identity } from '../../scheme';
import { readBounded } from '../../util/bounded-body';
import { discard } from '../../util/discard';
import { deepFreeze } from '../../util/freeze';
import { isLoopback } from '../../util/loopback';
import { Slots } from '../../util/slots';
import { hasControl, isPaddedOrControl } from '../../util/text';
import type { BoundTokenOptions } from './bound-token';
import { refuseBoundToken } from './bound-token';
import { InvalidTokenError } from './errors';
import {
  checkBooleanOptions,
  checkStringOptions,
  optionNames,
  readOptions,
  rejectUnknownOptions,
} from '../../util/options';

/** Options of {@link introspection}. */
export interface IntrospectionOptions extends BoundTokenOptions {
  /**
   * The introspection endpoint, e.g. `https://as.example.com/oauth2/introspect`. Plain `http:`
   * only to a loopback host, unless `insecureHttp` is set: the client secret and the tokens
   * travel in the request (RFC 7662 §4 asks for TLS).
   */
  endpoint: string | URL;
  /** Allow a plain `http:` endpoint on another host (e.g. behind a TLS-terminating sidecar). */
  insecureHttp?: boolean | undefined;
  /** This resource server's client id at the authorization server (HTTP Basic, RFC 6749 §2.3.1). */
  clientId: string;
  /** Its client secret. */
  clientSecret: string;
  /** `token_type_hint` sent (RFC 7662 §2.1). Default `access_token`; `false` sends none. */
  tokenTypeHint?: string | false | undefined;
  /** Response member naming the user. Default `sub`, else `username`. */
  userClaim?: string | undefined;
  /** When set, the response's `aud` must contain one of these. */
  audience?: string | readonly string[] | undefined;
  /** When set, the response's `iss` must equal this. */
  issuer?: string | undefined;
  /** Time allowed for the endpoint to answer, in ms, at most 2^31 - 1. Default 5000. */
  timeout?: number | undefined;
  /** Largest response accepted, in bytes. Default 65536. */
  maxResponseBytes?: number | undefined;
  /**
   * Most calls to the endpoint under way at once, each on a connection of its own. Up to 16 times
   * as many wait for a turn, each at most `timeout`. A call fails with `ERR_AUTH_STORE_FAILURE`
   * (the request goes to `next(err)`) without reaching the endpoint: at once when that many are
   * waiting already, or once it has waited `timeout`.
   * Default 64.
   */
  maxConcurrent?: number | undefined;
}

const OPTION_NAMES = optionNames<IntrospectionOptions>()([
  'endpoint',
  'insecureHttp',
  'clientId',
  'clientSecret',
  'tokenTypeHint',
  'userClaim',
  'audience',
  'issuer',
  'timeout',
  'maxResponseBytes',
  'maxConcurrent',
  'allowBoundTokens',
]);

const DEFAULT_MAX_CONCURRENT = 64;
/** Calls waiting for a turn, per call allowed at once. */
const WAITING_PER_CALL = 16;

function form(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** A failed exchange with the endpoint: the request is refused through `next(err)`. */
function endpointFailure(error: unknown, otherwise: string): AuthschemeError {
  const name = (error as { name?: unknown } | null)?.name;
  const message =
    name === 'TimeoutError' || name === 'AbortError'
      ? 'Introspection endpoint did not answer in time'
      : otherwise;
  return new AuthschemeError('ERR_AUTH_STORE_FAILURE', message, { cause: error });
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * A verifier for {@link bearer} that POSTs each token to an RFC 7662 introspection endpoint with
 * the resource server's client credentials. An `active: false` answer refuses the token, and so
 * does a `token_type` of `N_A`, `refresh_token` or `DPoP`, a token bound to a key (`cnf`; see
 * `allowBoundTokens`), an `exp` already past or an `nbf` still to come (or either not a number).
 * `scope` becomes `req.auth.scopes`, `exp` bounds the validation cache, the whole answer, frozen,
 * is `req.auth.claims`. An endpoint that fails (network, non-2xx, not JSON) goes to `next(err)`:
 * nothing is accepted without an answer.
 *
 * Combine with bearer's `cache` so a token is not introspected on every request.
 *
 * @example
 * bearer({
 *   verify: introspection({ endpoint: 'https://as.example/introspect', clientId: 'api', clientSecret }),
 *   cache: { max: 10_000, maxAge: 30_000, refusedMaxAge: 5_000 },
 * });
 *
 * @see https://www.rfc-editor.org/rfc/rfc7662
 */
export function introspection(options: IntrospectionOptions): (token: string) => Promise<Identity> {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('introspection: options required');
  rejectUnknownOptions('introspection', options, OPTION_NAMES);
  // Read once, here (the audience list copied): an option changed later would escape the checks
  // below, and a token be judged by it (an audience pushed, an issuer dropped).
  options = readOptions(options, OPTION_NAMES) as unknown as IntrospectionOptions;
  if (Array.isArray(options.audience))
    options.audience = [...(options.audience as unknown[])] as string[];
  checkBooleanOptions('introspection', options, ['insecureHttp', 'allowBoundTokens']);
  const endpoint = URL.canParse(String(options.endpoint)) ? new URL(options.endpoint) : undefined;
  if (endpoint === undefined || (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:')) {
    throw new TypeError('introspection: endpoint must be an http(s) URL');
  }
  // fetch refuses such a URL on every request, and its error would show the password.
  if (endpoint.username !== '' || endpoint.password !== '') {
    throw new TypeError(
      'introspection: endpoint must not hold credentials (user:password@); give clientId and clientSecret',
    );
  }
  if (typeof options.clientId !== 'string' || options.clientId === '') {
    throw new TypeError('introspection: clientId must be a non-empty string');
  }
  if (typeof options.clientSecret !== 'string' || options.clientSecret === '') {
    throw new TypeError('introspection: clientSecret must be a non-empty string');
  }
  // RFC 6749 Appendix A.1, A.2: both are VSCHAR. A line end left from a file or variable made every
  // call a 401 from the endpoint. Named, not echoed: the secret stays out of the message.
  for (const name of ['clientId', 'clientSecret'] as const) {
    if (hasControl(options[name])) {
      throw new TypeError(
        `introspection: \`${name}\` holds a control character (a line end left from a file or variable?): RFC 6749 allows printable characters only`,
      );
    }
  }
  // The environment's "false" for the boolean that sends no hint would be sent as the hint "false".
  if (options.tokenTypeHint === 'false' || options.tokenTypeHint === 'true') {
    throw new TypeError(
      'introspection: `tokenTypeHint` is the string "' +
        options.tokenTypeHint +
        '": give false (the boolean) to send no hint, or a hint such as access_token',
    );
  }
  const authorization = `Basic ${Buffer.from(`${form(options.clientId)}:${form(options.clientSecret)}`).toString('base64')}`;
  const hint = options.tokenTypeHint === undefined ? 'access_token' : options.tokenTypeHint;
  if (hint !== false)
    checkStringOptions('introspection', { tokenTypeHint: hint }, ['tokenTypeHint'], true);
  checkStringOptions('introspection', options, ['userClaim'], true);
  checkStringOptions('introspection', options, ['issuer']);
  const audience: unknown = options.audience;
  if (
    audience !== undefined &&
    (typeof audience === 'string'
      ? audience === ''
      : !Array.isArray(audience) ||
        audience.length === 0 ||
        !audience.every((item) => typeof item === 'string' && item !== ''))
  ) {
    throw new TypeError('introspection: `audience` must be a non-empty string or list of them');
  }
  // Compared exactly with the endpoint's `iss` and `aud`: a line end or padding left from a file
  // or variable would refuse every token.
  for (const [name, value] of [
    ['issuer', options.issuer],
    ['audience', audience],
  ] as const) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (values.some((item) => typeof item === 'string' && isPaddedOrControl(item))) {
      throw new TypeError(
        `introspection: \`${name}\` holds a control character or starts or ends with white space (a line end or padding left from a file or variable?); give the value alone`,
      );
    }
  }
  if (
    endpoint.protocol === 'http:' &&
    options.insecureHttp !== true &&
    !isLoopback(endpoint.hostname)
  ) {
    throw new TypeError(
      'introspection: a plain http endpoint sends the client secret in clear (RFC 7662 §4): use https, or set insecureHttp',
    );
  }
  const timeout = options.timeout ?? 5000;
  // AbortSignal.timeout, like setTimeout, turns a longer delay into 1 ms.
  if (!Number.isSafeInteger(timeout) || timeout < 1 || timeout > 2 ** 31 - 1) {
    throw new TypeError('introspection: timeout must be an integer from 1 to 2^31 - 1 (ms)');
  }
  const maxBytes = options.maxResponseBytes ?? 65536;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new TypeError('introspection: maxResponseBytes must be a positive integer');
  }
  const url: URL = endpoint;
  const maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
  if (!Number.isSafeInteger(maxConcurrent) || maxConcurrent < 1) {
    throw new TypeError('introspection: maxConcurrent must be a positive integer');
  }
  // Every unknown token is a call (bearer's cache keeps successes only), and a call goes on after
  // its client hung up, until the endpoint answers or `timeout` passes: unbounded, a flood of
  // made-up tokens against a slow endpoint held a socket each, thousands of them.
  const turns = new Slots({
    slots: maxConcurrent,
    maxWaiting: maxConcurrent * WAITING_PER_CALL,
    maxWaitMs: timeout,
    waited: 'Introspection: a call waited more than {ms} ms for the endpoint',
    full: `Introspection: more than ${maxConcurrent * WAITING_PER_CALL} calls waiting for the endpoint`,
  });
  const audiences =
    options.audience === undefined
      ? undefined
      : typeof options.audience === 'string'
        ? [options.audience]
        : options.audience;

  /** The endpoint's answer as JSON, from one call (the whole exchange holds a turn). */
  async function ask(token: string): Promise<unknown> {
    const body = new URLSearchParams({ token });
    if (hint !== false) body.set('token_type_hint', hint);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: body.toString(),
        redirect: 'error',
        signal: AbortSignal.timeout(timeout),
      });
    } catch (error) {
      throw endpointFailure(
        error,
        'Introspection endpoint unreachable (network, TLS or a redirect)',
      );
    }
    if (!response.ok) {
      await discard(response);
      throw new AuthschemeError(
        'ERR_AUTH_STORE_FAILURE',
        `Introspection endpoint answered ${response.status}`,
      );
    }
    // RFC 7662 §2.2: the answer is a JSON object in application/json. Something else that happens
    // to parse (a proxy's or a portal's page in between) is not the endpoint's answer.
    const type = response.headers.get('content-type');
    if (!isJsonType(type)) {
      await discard(response);
      throw new AuthschemeError(
        'ERR_AUTH_STORE_FAILURE',
        `Introspection response is not application/json (${type === null ? 'no Content-Type' : JSON.stringify(type.slice(0, 100))})`,
      );
    }
    let answer: unknown;
    try {
      answer = JSON.parse(
        await readBounded(response, maxBytes, 'Introspection response too large'),
      );
    } catch (error) {
      if (error instanceof AuthschemeError) throw error;
      // Without V8's SyntaxError as the cause: it quotes the start of the body (an echoed token).
      if (error instanceof SyntaxError) {
        throw new AuthschemeError('ERR_AUTH_STORE_FAILURE', 'Introspection response is not JSON');
      }
      throw endpointFailure(error, 'Introspection endpoint broke off its answer');
    }
    return answer;
  }

  return async function introspect(token: string): Promise<Identity> {
    const answer = await turns.run(() => ask(token));
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
      throw new AuthschemeError(
        'ERR_AUTH_STORE_FAILURE',
        'Introspection response is not a JSON object',
      );
    }
    const claims = answer as Record<string, unknown>;
    // RFC 7662 §2.2: only a boolean true means active.
    if (claims['active'] !== true) return false;
    // RFC 7662 §2.2: token_type as in RFC 6749 §5.1. Refused are the values that say the token
    // is not a plain access token: `DPoP` (bound to a key, RFC 9449 §6.2), `N_A` (no access
    // token, RFC 8693 §2.2.1) and `refresh_token`. Other values pass: some servers write
    // non-standard ones, such as `access_token`, for ordinary access tokens.
    const tokenType = claims['token_type'];
    if (tokenType !== undefined) {
      const type = typeof tokenType === 'string' ? tokenType.toLowerCase() : undefined;
      if (
        type === undefined ||
        type === 'n_a' ||
        type === 'refresh_token' ||
        (type === 'dpop' && options.allowBoundTokens !== true)
      ) {
        throw new InvalidTokenError('The access token is not a Bearer token (token_type)');
      }
    }
    refuseBoundToken(claims, options);
    // RFC 7662 §2.2: both are optional. A token of the client-credentials grant names a client
    // alone: `userClaim: 'client_id'` takes that.
    const user =
      options.userClaim !== undefined
        ? claims[options.userClaim]
        : (nonEmptyString(claims['sub']) ?? claims['username']);
    if (typeof user !== 'string' || user === '')
      throw new InvalidTokenError('The access token names no user');
    // RFC 7662 §2.2: NumericDates. Read only when numbers, a past exp sent as a string passed.
    for (const claim of ['exp', 'nbf']) {
      const value = claims[claim];
      if (value !== undefined && value !== null && typeof value !== 'number') {
        throw new InvalidTokenError(`The access token has an invalid ${claim} claim`);
      }
    }
    const now = Date.now() / 1000;
    if (typeof claims['nbf'] === 'number' && claims['nbf'] > now) {
      throw new InvalidTokenError('The access token is not yet valid');
    }
    // RFC 7662 §2.2, exp as in RFC 7519 §4.1.4: the token is good only before it. Refused here,
    // not left to bearer: for an exp in 1970-1973, exp * 1000 is below 1e11, which bearer takes
    // for seconds passed as ms, a programming error (500).
    const exp = claims['exp'];
    if (typeof exp === 'number' && exp <= now) {
      throw new InvalidTokenError('The access token expired');
    }
    if (options.issuer !== undefined && claims['iss'] !== options.issuer) {
      throw new InvalidTokenError('The access token has the wrong issuer');
    }
    if (audiences !== undefined) {
      const aud = claims['aud'];
      const granted = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
      if (!granted.some((value) => audiences.includes(value as string))) {
        throw new InvalidTokenError('The access token has the wrong audience');
      }
    }
    const scope = claims['scope'];
    return {
      user,
      scopes: typeof scope === 'string' ? scope : [],
      ...(typeof exp === 'number' ? { expiresAt: exp * 1000 } : {}),
      // Frozen: with bearer's cache, every request bearing this token gets this same object.
      claims: deepFreeze(claims),
    };
  };
}

/** `application/json`, or a `+json` type (RFC 6839 §3.1), with any parameters, in any case. */
function isJsonType(value: string | null): boolean {
  if (value === null) return false;
  const end = value.indexOf(';');
  const type = (end === -1 ? value : value.slice(0, end)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}
