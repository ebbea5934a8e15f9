import { MemoryNonceStore } from 'authscheme';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('MemoryNonceStore', () => {
  const later = 2_000_000;

  it('accepts each count once per nonce', async () => {
    const store = new MemoryNonceStore({ now: clock().now });
    expect(store.use('n1', 1, later)).toBe(true);
    expect(store.use('n1', 1, later)).toBe(false);
    expect(store.use('n2', 1, later)).toBe(true);
    expect(store.use('n1', 2, later)).toBe(true);
  });

  it('is a sliding window: late counts inside it once, below it never', async () => {
    const store = new MemoryNonceStore({ window: 64, now: clock().now });
    expect(store.use('n', 100, later)).toBe(true);
    expect(store.use('n', 37, later)).toBe(true);
    expect(store.use('n', 37, later)).toBe(false);
    expect(store.use('n', 36, later)).toBe(false);
    expect(store.use('n', 99, later)).toBe(true);
    // Sliding up by less than the window keeps what was seen inside it…
    expect(store.use('n', 120, later)).toBe(true);
    expect(store.use('n', 99, later)).toBe(false);
    expect(store.use('n', 98, later)).toBe(true);
    // …and a jump beyond the window forgets everything below it.
    expect(store.use('n', 1000, later)).toBe(true);
    expect(store.use('n', 999, later)).toBe(true);
    expect(store.use('n', 936, later)).toBe(false);
  });

  it('handles windows that are not a multiple of 32 exactly', async () => {
    const store = new MemoryNonceStore({ window: 5, now: clock().now });
    expect(store.use('n', 10, later)).toBe(true);
    expect(store.use('n', 6, later)).toBe(true);
    expect(store.use('n', 5, later)).toBe(false);
  });

  it('costs about the same whether nc moves ahead by one, by a whole window or far beyond (no per-count work)', () => {
    const window = 4096;
    // As far as 20 000 steps can go while nc stays 8LHEX (RFC 7616 §3.4): 20 000 × 2^17 < 2^32.
    const FAR = 2 ** 17;
    const cpuPerUse = (step: number): number => {
      const store = new MemoryNonceStore({ window, now: clock().now });
      let accepted = 0;
      const start = process.cpuUsage();
      for (let i = 1; i <= 20_000; i++) if (store.use('n', i * step, later)) accepted++;
      const used = process.cpuUsage(start);
      expect(accepted).toBe(20_000);
      return used.user + used.system;
    };
    // The cheapest of five runs: another process or a GC on a busy machine only adds CPU time,
    // so the minimum is each step's own cost (a single run was seen 1.15 times over the bound).
    const cheapest = (step: number): number =>
      Math.min(...Array.from({ length: 5 }, () => cpuPerUse(step)));
    cpuPerUse(1);
    cpuPerUse(window - 1);
    cpuPerUse(FAR);
    // Clearing the slots slid over one count at a time made the long steps 15 times dearer here
    // (140 times outside jest); a word at a time, about as dear.
    expect(cheapest(window - 1)).toBeLessThan(cheapest(1) * 5);
    // A jump beyond the window clears it at once, however far: not a word per 32 counts passed.
    expect(cheapest(FAR)).toBeLessThan(cheapest(1) * 5);
  });

  it('matches a reference model on random count sequences', async () => {
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (const window of [1, 7, 32, 33, 64, 100, 1000, 4096]) {
      const store = new MemoryNonceStore({ window, now: clock().now });
      const seen = new Set<number>();
      let top = 0;
      for (let i = 0; i < 2000; i++) {
        const nc = Math.max(
          1,
          top + random(window * 2) - window + (random(10) === 0 ? window * 3 : 0),
        );
        const expected = !seen.has(nc) && nc > top - window;
        if (expected) {
          seen.add(nc);
          top = Math.max(top, nc);
        }
        expect(store.use('n', nc, later)).toBe(expected);
      }
    }
  });

  it('is bounded: the nonce expiring soonest goes first, and nonces expiring no later are then refused', async () => {
    const time = clock();
    const store = new MemoryNonceStore({ maxEntries: 3, now: time.now });
    for (let i = 1; i <= 3; i++) expect(store.use(`n${i}`, 1, later + i)).toBe(true);
    expect(store.use('n4', 1, later + 4)).toBe(true);
    expect(store.size).toBe(3);
    // n1 was forgotten: a replay of its nc=1 must not pass as new.
    expect(store.use('n1', 1, later + 1)).toBe(false);
    // A nonce expiring after what was forgotten is fine.
    expect(store.use('n5', 1, later + 5)).toBe(true);
    expect(store.size).toBe(3);
  });

  it('drops records when their nonce expires and refuses expired nonces', async () => {
    const time = clock();
    const store = new MemoryNonceStore({ now: time.now });
    expect(store.use('a', 1, time.now() + 100)).toBe(true);
    expect(store.use('b', 1, time.now() + 100)).toBe(true);
    time.advance(100);
    expect(store.use('c', 1, time.now() + 100)).toBe(true);
    expect(store.size).toBe(1);
    expect(store.use('a', 2, time.now())).toBe(false);
  });

  it('refuses a swept nonce after the clock steps back (its record is gone, its counts were used)', () => {
    const time = clock();
    const store = new MemoryNonceStore({ now: time.now });
    const expiresAt = time.now() + 100;
    expect(store.use('a', 1, expiresAt)).toBe(true);
    time.advance(200);
    expect(store.use('b', 1, time.now() + 100)).toBe(true); // sweeps a's record
    expect(store.size).toBe(1);
    time.advance(-150); // an NTP step back: by the wall clock, a is live again
    expect(store.use('a', 1, expiresAt)).toBe(false);
    // The store's clock stood still at its highest reading; so does digest()'s, whose fresh
    // nonces expire a lifetime after it.
    expect(store.use('c', 1, expiresAt + 100 + 100)).toBe(true);
    time.advance(-100_000); // far back, beyond any lifetime: fresh nonces still pass
    expect(store.use('d', 1, expiresAt + 100 + 100)).toBe(true);
  });

  it('drops an expired record that came after a live one (the sweep goes by expiry)', async () => {
    const time = clock();
    const store = new MemoryNonceStore({ now: time.now });
    expect(store.use('long', 1, time.now() + 1000)).toBe(true);
    const shortExpiry = time.now() + 10;
    expect(store.use('short', 1, shortExpiry)).toBe(true);
    time.advance(10);
    expect(store.use('short', 2, shortExpiry)).toBe(false);
    expect(store.size).toBe(1);
  });

  it('refuses a nonce from the instant it expires, also within the millisecond of the last sweep', () => {
    // The sweep runs once per millisecond; a clock with a finer resolution reaches a record's
    // expiry between two sweeps. Digest takes a nonce as expired once expiresAt <= now.
    const time = clock(1_000_000.25);
    const store = new MemoryNonceStore({ now: time.now });
    expect(store.use('n', 1, 1_000_000.5)).toBe(true);
    time.advance(0.25);
    expect(store.use('n', 2, 1_000_000.5)).toBe(false);
  });

  it('when full, drops expired records before a live long-lived one', async () => {
    const time = clock();
    const store = new MemoryNonceStore({ maxEntries: 3, now: time.now });
    expect(store.use('day', 1, time.now() + 86_400_000)).toBe(true);
    // Short-lived nonces, one a minute, each expiring after five: the store is always full.
    for (let i = 0; i < 50; i++) {
      expect(store.use(`minute-${i}`, 1, time.now() + 300_000)).toBe(true);
      time.advance(60_000);
    }
    // The long-lived record is still there, so its counts are still tracked.
    expect(store.use('day', 1, time.now() + 86_400_000)).toBe(false);
    expect(store.use('day', 2, time.now() + 86_400_000)).toBe(true);
  });

  it('after dropping a live long-lived record, still takes fresh short-lived nonces issued since (no lock-out)', async () => {
    const time = clock();
    const store = new MemoryNonceStore({ maxEntries: 3, now: time.now });
    const hour = 3_600_000;
    const issuedAt = time.now();
    for (let i = 0; i < 3; i++)
      expect(store.use(`hour-${i}`, 1, issuedAt + hour, issuedAt)).toBe(true);
    time.advance(1000);
    // Full of live hour-long records: one goes, and nonces expiring before it are suspect.
    expect(store.use('minutes-0', 1, time.now() + 300_000, time.now())).toBe(true);
    // A nonce issued before that drop may be the one dropped: refused.
    expect(store.use('hour-0', 1, issuedAt + hour, issuedAt)).toBe(false);
    expect(store.use('old-short', 1, issuedAt + 300_000, issuedAt)).toBe(false);
    // One issued since cannot be: a 5-minute digest() sharing the store goes on working.
    for (let minute = 1; minute <= 50; minute += 10) {
      time.advance(10 * 60_000);
      expect(store.use(`minutes-${minute}`, 1, time.now() + 300_000, time.now())).toBe(true);
    }
    // Without the issue time (a caller that does not know it), the store stays on the safe side.
    expect(store.use('unknown', 1, issuedAt + hour - 1)).toBe(false);
  });

  it('locks out nothing more when the record it drops for room had expired already', () => {
    // Only a live record dropped for room makes nonces issued no later than it was suspect (see
    // maxEntries); an expired one's counts can no longer be used. Within one millisecond (the
    // sweep runs once per millisecond) a full store may drop a record that has just expired.
    const time = clock(1000);
    const store = new MemoryNonceStore({ maxEntries: 1, now: time.now });
    expect(store.use('long', 1, 5000, 1000)).toBe(true);
    time.advance(1);
    // Full: 'long' is dropped while live; nonces issued by 1000 and expiring by 5000 are suspect.
    expect(store.use('brief', 1, 1001.5, 1001)).toBe(true);
    time.advance(0.5);
    // Full again: 'brief', expired this very instant, is dropped.
    expect(store.use('next', 1, 4000, 1001.5)).toBe(true);
    // Issued after 'long' was: it cannot be 'long', and 'brief' was no longer live.
    expect(store.use('after', 1, 4000, 1000.5)).toBe(true);
    expect(store.use('long', 1, 5000, 1000)).toBe(false);
  });

  it('refuses NaN times instead of storing them (they would poison the watermarks and the heap)', () => {
    const time = clock();
    const store = new MemoryNonceStore({ maxEntries: 1, now: time.now });
    expect(store.use('a', 1, Number.NaN)).toBe(false);
    expect(store.use('b', 1, time.now() + 1000, Number.NaN)).toBe(false);
    expect(store.size).toBe(0);
    // A dropped record's nonce stays refused after such calls.
    expect(store.use('c', 1, time.now() + 1000, time.now())).toBe(true);
    expect(store.use('d', 1, time.now() + 2000, time.now())).toBe(true); // drops c
    expect(store.use('e', 1, time.now() + 3000, Number.NaN)).toBe(false);
    expect(store.use('c', 1, time.now() + 1000, time.now())).toBe(false);
  });

  it('matches a reference model of bounded, expiring records on random operations', async () => {
    const time = clock();
    const max = 8;
    const store = new MemoryNonceStore({ maxEntries: max, now: time.now });
    // The model: a record per nonce, the soonest-expiring dropped for room, the watermark.
    const model = new Map<string, { expiresAt: number; used: Set<number> }>();
    let forgottenUpTo = 0;
    let seed = 7;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    // Nonces are never issued twice: one that expired comes back as a new generation.
    const expiries = new Map<number, number>();
    const generations = new Map<number, number>();
    for (let step = 0; step < 3000; step++) {
      time.advance(random(50));
      const now = time.now();
      const slot = random(30);
      if ((expiries.get(slot) ?? Infinity) <= now) {
        expiries.delete(slot);
        generations.set(slot, (generations.get(slot) ?? 0) + 1);
      }
      const nonce = `n${slot}.${generations.get(slot) ?? 0}`;
      // Distinct expiries: among equal ones, which the store drops first is its own business.
      const expiresAt = expiries.get(slot) ?? now + 100 + random(2000) + step / 4096;
      expiries.set(slot, expiresAt);
      const nc = 1 + random(3);
      for (const [key, record] of model) if (record.expiresAt <= now) model.delete(key);
      let expected: boolean;
      const record = model.get(nonce);
      if (expiresAt <= now) expected = false;
      else if (record !== undefined) {
        expected = !record.used.has(nc);
        record.used.add(nc);
      } else if (expiresAt <= forgottenUpTo) expected = false;
      else {
        if (model.size >= max) {
          let soonest: string | undefined;
          for (const [key, r] of model)
            if (soonest === undefined || r.expiresAt < model.get(soonest)!.expiresAt) soonest = key;
          forgottenUpTo = Math.max(forgottenUpTo, model.get(soonest!)!.expiresAt);
          model.delete(soonest!);
        }
        model.set(nonce, { expiresAt, used: new Set([nc]) });
        expected = true;
      }
      expect(store.use(nonce, nc, expiresAt)).toBe(expected);
    }
  });

  it('throws when its clock throws (Digest then fails closed)', () => {
    const store = new MemoryNonceStore({
      now: () => {
        throw new Error('clock');
      },
    });
    expect(() => store.use('n', 1, later)).toThrow('clock');
  });

  it('stays bounded at its smallest size, one nonce', () => {
    const store = new MemoryNonceStore({ maxEntries: 1, now: clock().now });
    for (let i = 0; i < 5; i++) expect(store.use(`nonce-${i}`, 1, later + i)).toBe(true);
    expect(store.size).toBe(1);
  });

  it('stays bounded under many nonces', async () => {
    const store = new MemoryNonceStore({ maxEntries: 1000, now: clock().now });
    for (let i = 0; i < 10_000; i++) store.use(`nonce-${i}`, 1, later + i);
    expect(store.size).toBe(1000);
  });

  it('refuses counts that are not positive integers', async () => {
    const store = new MemoryNonceStore({ now: clock().now });
    for (const nc of [0, -1, 1.5, Number.NaN]) expect(store.use('n', nc, later)).toBe(false);
  });

  it.each([
    [{ maxEntries: 0 }],
    [{ maxEntries: Infinity }],
    [{ window: 0 }],
    [{ window: 5000 }],
    [{ now: 5 }],
  ])('throws TypeError for %p', (options) => {
    expect(() => new MemoryNonceStore(options as never)).toThrow(TypeError);
  });
});
