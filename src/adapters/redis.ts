/**
 * `authscheme/redis`: a Digest {@link NonceStore} kept in Redis, so that several processes (or
 * machines) running `digest()` with a shared `secret` share replay protection.
 *
 * Neither `ioredis` nor `redis` is imported here: the client you pass is recognised by its
 * methods, so neither package is a dependency of authscheme.
 *
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import type { NonceStore } from '../stores/nonce-store';
import { checkedClock } from '../util/clock';
import { optionNames, rejectUnknownOptions } from '../util/options';
import { isPromiseLike } from '../util/promise';
import { isWellFormed } from '../util/text';

/**
 * The part of an ioredis client (v4–v6, `Redis` or `Cluster`) this store uses. ioredis is told
 * apart from node-redis by its `defineCommand` method.
 */
export interface IoredisLikeClient {
  defineCommand(...args: never[]): unknown;
  evalsha(sha1: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}

/** The part of a node-redis client (`redis` v4–v6, client or cluster) this store uses. */
export interface NodeRedisLikeClient {
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** A connected ioredis or node-redis client. */
export type RedisClientLike = IoredisLikeClient | NodeRedisLikeClient;

/** Options of {@link RedisNonceStore}. */
export interface RedisNonceStoreOptions {
  /**
   * A connected ioredis or node-redis client (or cluster). Configure it to fail fast when Redis is
   * down (see docs/redis.md): ioredis `enableOfflineQueue: false` and `maxRetriesPerRequest: 0`;
   * node-redis `disableOfflineQueue: true`. The store's own `timeout` is the last resort.
   */
  client: RedisClientLike;
  /** Prefix of the keys, one per nonce. Default `'authscheme:nc:'`. */
  keyPrefix?: string | undefined;
  /**
   * How far below the highest `nc` seen for a nonce a late request may still arrive, as in
   * `MemoryNonceStore` (RFC 4303 §3.4.3 style). With the default 64, after `nc=100` the counts
   * 37–99 are accepted once each if not seen yet, and 36 or less are refused. 1 to 4096.
   */
  window?: number | undefined;
  /**
   * Milliseconds after which a `use()` that Redis has not answered rejects (the request then fails
   * closed with a 500 instead of waiting). A command already sent still runs when Redis answers
   * late: its count is then used up. `0` leaves it to the client. At most 2^31 - 1 (the
   * longest delay `setTimeout` keeps). Default 2000.
   */
  timeout?: number | undefined;
  /**
   * Most commands sent to Redis and not yet answered, over all calls (a timed-out `use()`'s
   * command still counts until the client settles it). Beyond it, `use()` rejects at once instead
   * of queueing another: while Redis is down or frozen, the client keeps every command it was
   * given (its offline queue, or a socket nobody reads), and each request would add one, without
   * limit. Default 10 000.
   */
  maxPending?: number | undefined;
  /**
   * Milliseconds a record is kept beyond twice its nonce's remaining time (a clock stepped back
   * keeps a nonce good for up to twice that), for clocks of the processes sharing the store that
   * disagree by up to this much. The expiry is computed from the calling process's
   * clock (`PEXPIRE`, not `PEXPIREAT`), so Redis's own clock does not matter. Default 5000.
   */
  clockSkew?: number | undefined;
  /** Clock, for tests. Default `Date.now`. */
  now?: (() => number) | undefined;
}

const DEFAULT_KEY_PREFIX = 'authscheme:nc:';
const DEFAULT_WINDOW = 64;
const MAX_WINDOW = 4096;
const DEFAULT_TIMEOUT = 2000;
/** About 5 kB of client and store memory each while Redis does not answer: some 50 MB at most. */
const DEFAULT_MAX_PENDING = 10_000;
const DEFAULT_CLOCK_SKEW = 5000;
/** setTimeout's limit: a longer delay is replaced by 1 ms, which would reject every use(). */
const MAX_TIMEOUT = 2 ** 31 - 1;
/** The longest life a record is given, in ms (about 4,500 years): far below what PEXPIRE takes. */
const MAX_TTL = 2 ** 47;
/** RFC 7616 §3.4: nc is 8LHEX, so no count is above this; the record stores it as a u32. */
const MAX_NC = 0xffff_ffff;

/**
 * One atomic check-and-set per `use()`: the sliding window of `MemoryNonceStore`, kept in one
 * string key per nonce. Bits 0–31 hold the highest nc seen (`BITFIELD u32`), bits 32–47 the window
 * the record was written with (`u16`), and bit `48 + nc % window` is set when that nc was seen.
 * Scripts run atomically, so concurrent calls with one nc let exactly one through. The TTL is set
 * when the record is created and never extended.
 *
 * A record written under another window (processes configured differently, as during a deploy)
 * cannot be read under this one: its slots lie elsewhere, and a count seen there would look new
 * here. So every slot is then taken as seen, which refuses any count up to the highest (fail
 * closed; the client gets a fresh nonce), and the record continues under this window.
 *
 * KEYS[1] the record; ARGV[1] nc; ARGV[2] window; ARGV[3] TTL in ms. Returns 1 (new) or 0 (replay).
 */
const USE_SCRIPT = `
local key = KEYS[1]
local nc = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local bytes = math.ceil(window / 8)
-- Clears the bits of slots first..last (inclusive) of the bitmap, which starts at byte 6.
local function clear(first, last)
  local slot = first
  while slot <= last and slot % 8 ~= 0 do
    redis.call('SETBIT', key, 48 + slot, 0)
    slot = slot + 1
  end
  local whole = math.floor((last + 1 - slot) / 8)
  if whole > 0 then
    redis.call('SETRANGE', key, 6 + slot / 8, string.rep('\\0', whole))
    slot = slot + whole * 8
  end
  while slot <= last do
    redis.call('SETBIT', key, 48 + slot, 0)
    slot = slot + 1
  end
end
local created = redis.call('EXISTS', key) == 0
if not created then
  -- A record gets its TTL in the script that creates it, and is 6 to 6 + 4096 / 8 bytes long.
  -- Any other key is someone else's (a keyPrefix shared with another application): taken for a
  -- record, it would be written over, kept for ever, and could read as a low count. Left as it
  -- is, and the use fails. (STRLEN fails with WRONGTYPE on a key that is not a string.)
  local length = redis.call('STRLEN', key)
  if length < 6 or length > 518 or redis.call('PTTL', key) < 0 then
    return redis.error_reply('RedisNonceStore: ' .. key .. ' is no record of this store ' ..
      '(a string with a TTL, 6 to 518 bytes long): a key of another application under keyPrefix?')
  end
end
local top = 0
if created then
  redis.call('BITFIELD', key, 'SET', 'u16', 32, window)
else
  local head = redis.call('BITFIELD', key, 'GET', 'u32', 0, 'GET', 'u16', 32)
  top = head[1]
  if head[2] ~= window then
    redis.call('BITFIELD', key, 'SET', 'u16', 32, window)
    redis.call('SETRANGE', key, 6, string.rep('\\255', bytes))
  end
end
local fresh = 1
if nc > top then
  if not created then
    if nc - top >= window then
      redis.call('SETRANGE', key, 6, string.rep('\\0', bytes))
    else
      -- The slots the window slides over belong to counts now below it: one or two runs of
      -- slots, cleared a byte at a time where whole bytes lie in them.
      local first = (top + 1) % window
      local last = (nc - 1) % window
      if nc - top > 1 then
        if first <= last then
          clear(first, last)
        else
          clear(first, window - 1)
          clear(0, last)
        end
      end
    end
  end
  redis.call('BITFIELD', key, 'SET', 'u32', 0, ARGV[1])
  redis.call('SETBIT', key, 48 + nc % window, 1)
elseif top - nc >= window then
  fresh = 0
else
  fresh = 1 - redis.call('SETBIT', key, 48 + nc % window, 1)
end
if created then redis.call('PEXPIRE', key, ARGV[3]) end
return fresh
`;
const USE_SCRIPT_SHA1 = createHash('sha1').update(USE_SCRIPT).digest('hex');

type Runner = (key: string, args: string[]) => Promise<unknown>;

const OPTION_NAMES = optionNames<RedisNonceStoreOptions>()([
  'client',
  'keyPrefix',
  'window',
  'timeout',
  'maxPending',
  'clockSkew',
  'now',
]);

/**
 * A Digest {@link NonceStore} in Redis, from the subpath `authscheme/redis`. Give the same store
 * (over each process's own client) to `digest()` in every process, with the same `secret`, and a
 * nonce count used on one process is refused on all of them (RFC 7616 §3.4, `nc`; §5.5).
 *
 * - Same semantics as `MemoryNonceStore`: a per-nonce sliding window of seen counts; a count above
 *   the highest is new, one within `window` below it is accepted once, one further below refused.
 * - One key per nonce (`keyPrefix` + nonce, a string of at most 6 + window/8 bytes), updated by
 *   one atomic Lua script (`EVALSHA`, falling back to `EVAL` once when the server answers
 *   `NOSCRIPT`), so it also works on Redis Cluster. Keys expire with their nonces (plus
 *   `clockSkew`).
 * - Fails closed: any Redis error, no answer within `timeout`, and `maxPending` commands already
 *   unanswered, reject; `digest()` then passes an `ERR_AUTH_STORE_FAILURE` to `next(err)`.
 * - Run Redis with `maxmemory-policy noeviction`: an evicted record lets its counts be replayed
 *   until the nonce expires. Every record has a TTL, so `volatile-*` policies evict them first.
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { authenticate, digest } from 'authscheme';
 * import { RedisNonceStore } from 'authscheme/redis';
 *
 * const client = new Redis(process.env.REDIS_URL!, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
 * client.on('error', (err) => console.error('redis', err.message));
 * const store = new RedisNonceStore({ client });
 * app.use(authenticate({ schemes: [digest({ users, secret: process.env.DIGEST_SECRET, store })] }));
 *
 * @example
 * import { createClient } from 'redis';
 * const client = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true });
 * client.on('error', (err) => console.error('redis', err.message)); // without it, an error event kills the process
 * await client.connect();
 * const store = new RedisNonceStore({ client });
 */
export class RedisNonceStore implements NonceStore {
  /** Several processes use one Redis: `digest()` requires a `secret` with this store. */
  readonly shared = true;
  readonly keyPrefix: string;
  /** The window size in counts. */
  readonly window: number;
  readonly timeout: number;
  readonly maxPending: number;
  readonly clockSkew: number;
  private readonly run: Runner;
  /** Commands sent and not yet settled by the client (not by our timeout). */
  private pending = 0;
  private readonly now: () => number;

  constructor(options: RedisNonceStoreOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('RedisNonceStore: options { client } are required');
    }
    // `new RedisNonceStore(client)`: the client itself, whose own fields are no options of ours.
    if (
      !Object.hasOwn(options, 'client') &&
      typeof (options as unknown as { eval?: unknown }).eval === 'function'
    ) {
      throw new TypeError(
        'RedisNonceStore: pass the client in an options object: new RedisNonceStore({ client })',
      );
    }
    rejectUnknownOptions('RedisNonceStore', options, OPTION_NAMES);
    const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    if (typeof keyPrefix !== 'string') {
      throw new TypeError('RedisNonceStore: keyPrefix must be a string');
    }
    const window = options.window ?? DEFAULT_WINDOW;
    if (!Number.isSafeInteger(window) || window < 1 || window > MAX_WINDOW) {
      throw new TypeError(`RedisNonceStore: window must be an integer from 1 to ${MAX_WINDOW}`);
    }
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    if (!Number.isFinite(timeout) || timeout < 0 || timeout > MAX_TIMEOUT) {
      throw new TypeError(
        `RedisNonceStore: timeout must be a number of milliseconds from 0 to ${MAX_TIMEOUT}`,
      );
    }
    const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    if (!Number.isSafeInteger(maxPending) || maxPending < 1) {
      throw new TypeError('RedisNonceStore: maxPending must be a positive integer');
    }
    const clockSkew = options.clockSkew ?? DEFAULT_CLOCK_SKEW;
    if (!Number.isSafeInteger(clockSkew) || clockSkew < 0) {
      throw new TypeError('RedisNonceStore: clockSkew must be an integer number of ms >= 0');
    }
    this.run = scriptRunner(options.client);
    this.keyPrefix = keyPrefix;
    this.window = window;
    this.timeout = timeout;
    this.maxPending = maxPending;
    this.clockSkew = clockSkew;
    this.now = checkedClock(options.now, 'RedisNonceStore') ?? Date.now;
  }

  async use(nonce: string, nc: number, expiresAt: number): Promise<boolean> {
    if (!Number.isSafeInteger(nc) || nc < 1 || nc > MAX_NC) return false;
    // Both client libraries send strings as UTF-8, which turns every lone surrogate into U+FFFD:
    // two such nonces would share one record.
    if (typeof nonce !== 'string' || !isWellFormed(nonce) || !Number.isFinite(expiresAt)) {
      return false;
    }
    // An expired nonce has no counts left to use (and a record for it would not expire). One
    // beyond MAX_TTL is no nonce digest() makes: its TTL would not reach Redis as an integer.
    const ttl = Math.ceil(expiresAt - this.now());
    if (ttl <= 0 || ttl > MAX_TTL) return false;
    if (this.pending >= this.maxPending) {
      throw new Error(
        `RedisNonceStore: ${this.pending} commands sent to Redis are still unanswered ` +
          '(maxPending): not queueing another',
      );
    }
    this.pending++;
    // Twice the time left: digest() reads a clock that, once the wall clock is stepped back, goes
    // on at half pace until it catches up (util/clock.ts), so a nonce may stay good for up to
    // twice its remaining time, while Redis counts the TTL down in real time. A record gone
    // before its nonce would let a replay in.
    const pending = this.run(this.keyPrefix + nonce, [
      String(nc),
      String(this.window),
      String(2 * ttl + this.clockSkew),
    ]);
    const settled = (): void => {
      this.pending--;
    };
    pending.then(settled, settled);
    const reply = await (this.timeout > 0 ? withTimeout(pending, this.timeout) : pending);
    // ioredis with `stringNumbers` answers integers as strings.
    if (reply === 1 || reply === '1') return true;
    if (reply === 0 || reply === '0') return false;
    // Neither answer: not our script's reply, so refuse to decide (fail closed).
    throw new Error(`RedisNonceStore: unexpected reply from Redis: ${String(reply)}`);
  }
}

/** Tells the client library apart by its methods and returns a function that runs the script. */
function scriptRunner(client: RedisClientLike): Runner {
  const candidate = client as unknown as Record<string, unknown> | null;
  if (candidate === null || typeof candidate !== 'object') {
    throw new TypeError('RedisNonceStore: client must be an ioredis or node-redis client');
  }
  // `{ client: createClient().connect() }`: node-redis's connect() answers a promise of the client.
  if (isPromiseLike(candidate)) {
    throw new TypeError(
      'RedisNonceStore: client is a promise (node-redis’s connect() returns one): ' +
        'pass the client once it has connected (await client.connect())',
    );
  }
  // ioredis: eval(script, numKeys, ...keysAndArgs).
  if (
    typeof candidate.defineCommand === 'function' &&
    typeof candidate.evalsha === 'function' &&
    typeof candidate.eval === 'function'
  ) {
    const io = client as IoredisLikeClient;
    return (key, args) =>
      withScriptFallback(
        () => io.evalsha(USE_SCRIPT_SHA1, 1, key, ...args),
        () => io.eval(USE_SCRIPT, 1, key, ...args),
      );
  }
  // node-redis v4 with legacyMode: true keeps its promise API under `v4`. Without legacyMode, v4's
  // `v4` getter throws ('the client is not in "legacy mode"'): that client is used as it is.
  let v4: Record<string, unknown> | null | undefined;
  try {
    v4 = candidate.v4 as Record<string, unknown> | null | undefined;
  } catch {
    v4 = undefined;
  }
  if (
    v4 !== null &&
    typeof v4 === 'object' &&
    typeof v4.evalSha === 'function' &&
    typeof v4.eval === 'function'
  ) {
    return scriptRunner(v4 as unknown as RedisClientLike);
  }
  // node-redis v5+ client.legacy(): callback-style methods that answer undefined, and send an
  // options object as an argument (an 'error' event on the client for every call).
  if ((candidate.constructor as { name?: unknown } | undefined)?.name === 'RedisLegacyClient') {
    throw new TypeError(
      'RedisNonceStore: a node-redis legacy-mode client (client.legacy()) cannot run scripts ' +
        'with promises: pass the client itself',
    );
  }
  // node-redis v4+: eval(script, { keys, arguments }).
  if (typeof candidate.evalSha === 'function' && typeof candidate.eval === 'function') {
    const node = client as NodeRedisLikeClient;
    return (key, args) =>
      withScriptFallback(
        () => node.evalSha(USE_SCRIPT_SHA1, { keys: [key], arguments: args }),
        () => node.eval(USE_SCRIPT, { keys: [key], arguments: args }),
      );
  }
  throw new TypeError(
    'RedisNonceStore: client must be an ioredis client (with evalsha/defineCommand) or a ' +
      'node-redis v4+ client (with evalSha)',
  );
}

/** EVALSHA first (the script is not resent each time); EVAL once when the server lacks it. */
async function withScriptFallback(
  bySha: () => Promise<unknown>,
  byScript: () => Promise<unknown>,
): Promise<unknown> {
  try {
    return await bySha();
  } catch (error) {
    if (!isNoScript(error)) throw error;
    // EVAL also caches the script, so the next call's EVALSHA finds it.
    return byScript();
  }
}

function isNoScript(error: unknown): boolean {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message.startsWith('NOSCRIPT');
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`RedisNonceStore: no answer from Redis within ${ms} ms`));
    }, ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
