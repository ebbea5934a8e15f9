import type { NonceStore } from './nonce-store';
import { clockFrom } from '../util/clock';
import { detach } from '../util/detach';
import { optionNames, rejectUnknownOptions } from '../util/options';

/** Options of {@link MemoryNonceStore}. */
export interface MemoryNonceStoreOptions {
  /**
   * Most nonces tracked at once. When full, the record of the nonce that expires soonest is
   * dropped (an expired one if any). If it was still live, any nonce issued no later than it was
   * and expiring no later than it does is from then on refused as a possible replay when it has no
   * record (its counts may have been used); Digest answers that with `stale=true`, so the client
   * carries on with a fresh nonce without asking its user. Size it above the number of nonces in
   * use during one nonce lifetime. Default 100 000.
   */
  maxEntries?: number | undefined;
  /**
   * How far below the highest `nc` seen for a nonce a late request may still arrive (a sliding
   * window, like IPsec anti-replay, RFC 4303 §3.4.3). With the default 64, after `nc=100` the
   * counts 37–99 are accepted once each if not seen yet, and 36 or less are refused.
   */
  window?: number | undefined;
  /**
   * Clock, in ms since the epoch. Default `Date.now`. Its readings are never taken back: while it
   * is behind its highest reading, time goes on from there at half the pace of
   * `performance.now()` (which jest's modern fake timers move too) until it catches up.
   */
  now?: (() => number) | undefined;
}

const OPTION_NAMES = optionNames<MemoryNonceStoreOptions>()(['maxEntries', 'window', 'now']);

interface NonceRecord {
  readonly nonce: string;
  readonly expiresAt: number;
  /** When the nonce was issued, by its signer's clock; `Infinity` when not known. */
  readonly issuedAt: number;
  /** The highest nc seen. */
  top: number;
  /** Bit `nc % windowBits` is set when that nc (within the window below `top`) was seen. */
  seen: Uint32Array;
}

const DEFAULT_MAX_ENTRIES = 100_000;
const DEFAULT_WINDOW = 64;
const MAX_WINDOW = 4096;
/** Expired records dropped from the front per call, so cleaning stays O(1) per request. */
const SWEEP_PER_CALL = 4;

/**
 * The default {@link NonceStore}: nonce counts kept in this process's memory.
 *
 * - Bounded: at most `maxEntries` nonces, each with a fixed-size bitmap; when full, the one that
 *   expires soonest is forgotten first.
 * - A `Map` lookup and a few bit operations per request (an `nc` that jumps ahead clears what the
 *   window slides over a word at a time: window / 32 at most); a nonce's first use also costs
 *   O(log n) in a heap ordered by expiry, and expired records are swept a few at a time.
 * - Records expire with their nonces.
 * - May be shared by several `digest()` instances, with different nonce lifetimes (nonces are
 *   unique across realms).
 *
 * Several server processes need a shared store instead (`authscheme/redis`): this one accepts
 * only the nonces issued for it, so a process answers another's nonce with `stale=true` (its
 * counts may have been used there): an extra 401 whenever a client moves to another process.
 *
 * @example
 * import { digest, MemoryNonceStore } from 'authscheme';
 * const store = new MemoryNonceStore({ maxEntries: 10_000, window: 32 });
 * const scheme = digest({ users: { alice: 'secret' }, store });
 */
export class MemoryNonceStore implements NonceStore {
  /** The window size in counts. */
  readonly window: number;
  readonly maxEntries: number;
  private readonly records = new Map<string, NonceRecord>();
  /** The same records as a binary min-heap on `expiresAt`: the next to expire is at the root. */
  private readonly byExpiry: NonceRecord[] = [];
  private readonly words: number;
  private readonly now: () => number;
  /** The latest expiry among live records dropped for room; unrecorded nonces up to it are refused. */
  private forgottenUpTo = 0;
  /**
   * The latest issue time among live records dropped for room: a nonce issued later cannot have
   * been one of them. Issue times only, compared with each other: the store's clock and the
   * signer's may disagree (a clock stepped back, a `now` of their own).
   */
  private forgottenIssuedUpTo = Number.NEGATIVE_INFINITY;
  /** The clock reading of the last sweep. */
  private sweptAt = Number.NaN;

  constructor(options: MemoryNonceStoreOptions = {}) {
    rejectUnknownOptions('MemoryNonceStore', options, OPTION_NAMES);
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError('MemoryNonceStore: maxEntries must be a positive integer');
    }
    const window = options.window ?? DEFAULT_WINDOW;
    if (!Number.isSafeInteger(window) || window < 1 || window > MAX_WINDOW) {
      throw new TypeError(`MemoryNonceStore: window must be an integer from 1 to ${MAX_WINDOW}`);
    }
    this.maxEntries = maxEntries;
    this.words = Math.ceil(window / 32);
    this.window = window;
    // Never back: a swept nonce must not come back to life when the wall clock is stepped back.
    this.now = clockFrom(options.now, 'MemoryNonceStore');
  }

  /** Nonces currently tracked. */
  get size(): number {
    return this.records.size;
  }

  /** Answers at once: in-process, there is nothing to wait for. */
  use(nonce: string, nc: number, expiresAt: number, issuedAt?: number): boolean {
    if (!Number.isSafeInteger(nc) || nc < 1) return false;
    // A NaN would poison the watermarks (Math.max) or the heap's order: refused, not stored.
    if (!Number.isFinite(expiresAt) || (issuedAt !== undefined && !Number.isFinite(issuedAt))) {
      return false;
    }
    const now = this.now();
    // Once per millisecond: a busy server sees many requests within one.
    const tick = Math.floor(now);
    if (tick !== this.sweptAt) {
      this.sweptAt = tick;
      this.sweep(now);
    }
    let record = this.records.get(nonce);
    // An expired record means an expired nonce; the sweep drops the record.
    if (record !== undefined && record.expiresAt <= now) return false;
    if (record === undefined) {
      if (expiresAt <= now) return false;
      // Its record may be one dropped for room, unless the nonce was issued after every dropped
      // one: so a dropped long-lived nonce does not lock out the fresh short-lived ones of another
      // digest() sharing this store (they expire before it, but cannot be it).
      if (
        expiresAt <= this.forgottenUpTo &&
        (issuedAt === undefined || issuedAt <= this.forgottenIssuedUpTo)
      ) {
        return false;
      }
      if (this.records.size >= this.maxEntries) this.dropSoonest(now);
      record = {
        // A copy: a nonce read from a request holds its whole Authorization value (detach.ts).
        nonce: detach(nonce),
        expiresAt,
        issuedAt: issuedAt ?? Number.POSITIVE_INFINITY,
        top: 0,
        seen: new Uint32Array(this.words),
      };
      this.records.set(record.nonce, record);
      this.push(record);
    }
    return this.mark(record, nc);
  }

  /** The sliding-window check-and-set (RFC 4303 §3.4.3, with counts instead of sequence numbers). */
  private mark(record: NonceRecord, nc: number): boolean {
    const bits = this.words * 32;
    if (nc > record.top) {
      const advance = nc - record.top;
      if (advance >= bits) {
        record.seen.fill(0);
      } else {
        // Clear the slots of the counts the window slides over; they belong to counts now below it.
        clearSlots(record.seen, (record.top + 1) % bits, advance);
      }
      record.top = nc;
      setBit(record.seen, nc % bits);
      return true;
    }
    // Late arrivals: only within `window` of the top, and only once.
    if (record.top - nc >= this.window) return false;
    const slot = nc % bits;
    if (testBit(record.seen, slot)) return false;
    setBit(record.seen, slot);
    return true;
  }

  private sweep(now: number): void {
    for (let dropped = 0; dropped < SWEEP_PER_CALL; dropped++) {
      const soonest = this.byExpiry[0];
      if (soonest === undefined || soonest.expiresAt > now) return;
      this.records.delete(this.pop().nonce);
    }
  }

  /**
   * Makes room. Dropping the record that expires soonest keeps `forgottenUpTo` as low as it can
   * be: dropping by age instead, a long-lived nonce (another `digest()` with a longer lifetime)
   * would raise it past every fresh short-lived nonce, which would all be refused until then.
   */
  private dropSoonest(now: number): void {
    const record = this.pop();
    this.records.delete(record.nonce);
    if (record.expiresAt > now) {
      this.forgottenUpTo = Math.max(this.forgottenUpTo, record.expiresAt);
      this.forgottenIssuedUpTo = Math.max(this.forgottenIssuedUpTo, record.issuedAt);
    }
  }

  private push(record: NonceRecord): void {
    const heap = this.byExpiry;
    let at = heap.length;
    heap.push(record);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (heap[parent]!.expiresAt <= record.expiresAt) break;
      heap[at] = heap[parent]!;
      at = parent;
    }
    heap[at] = record;
  }

  /** Removes and returns the root; only called when the heap is not empty. */
  private pop(): NonceRecord {
    const heap = this.byExpiry;
    const root = heap[0]!;
    const last = heap.pop()!;
    if (heap.length === 0) return root;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && heap[child + 1]!.expiresAt < heap[child]!.expiresAt) child++;
      if (heap[child]!.expiresAt >= last.expiresAt) break;
      heap[at] = heap[child]!;
      at = child;
    }
    heap[at] = last;
    return root;
  }
}

function setBit(words: Uint32Array, slot: number): void {
  const index = slot >>> 5;
  words[index] = (words[index] as number) | (1 << (slot & 31));
}

/**
 * Clears `count` slots from `start` on, wrapping around: a word at a time, so that a client that
 * moves `nc` far ahead on every request costs window / 32 operations, not one per count.
 */
function clearSlots(words: Uint32Array, start: number, count: number): void {
  const bits = words.length * 32;
  let slot = start;
  while (count > 0) {
    const offset = slot & 31;
    const take = count < 32 - offset ? count : 32 - offset;
    // `take` ones from bit `offset`.
    const mask = (-1 >>> (32 - take)) << offset;
    const index = slot >>> 5;
    words[index] = (words[index] as number) & ~mask;
    count -= take;
    slot += take;
    if (slot === bits) slot = 0;
  }
}

function testBit(words: Uint32Array, slot: number): boolean {
  return ((words[slot >>> 5] as number) & (1 << (slot & 31))) !== 0;
}
