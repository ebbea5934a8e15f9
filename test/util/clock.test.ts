import { Redis } from 'ioredis';
import { digest } from 'authscheme';
import { RedisNonceStore } from 'authscheme/redis';
import { checkedClock, forwardClock } from '../../src/util/clock';
import { MemoryNonceStore } from '../../src/stores/memory';

describe('forwardClock()', () => {
  let monotonic = 0;
  let wall = 1_700_000_000_000;
  beforeEach(() => {
    monotonic = 0;
    jest.spyOn(performance, 'now').mockImplementation(() => monotonic);
  });
  afterEach(() => jest.restoreAllMocks());
  const pass = (ms: number): void => {
    monotonic += ms;
    wall += ms;
  };

  it('follows the wall clock while it moves forward', () => {
    const now = forwardClock(() => wall);
    expect(now()).toBe(wall);
    pass(1000);
    expect(now()).toBe(wall);
  });

  it('after a step back keeps rising, at half pace, until the wall clock catches up', () => {
    const now = forwardClock(() => wall);
    const before = now();
    wall -= 60_000;
    const readings: number[] = [];
    for (let i = 0; i < 130; i++) {
      pass(1000);
      readings.push(now());
    }
    // Rising all along (fresh nonces get later expiries), never below the highest reading.
    for (let i = 1; i < readings.length; i++) {
      expect(readings[i]).toBeGreaterThanOrEqual(readings[i - 1]!);
    }
    expect(new Set(readings.slice(0, 100)).size).toBe(100);
    // Half the elapsed time from the last reading before the step on.
    expect(readings[0]).toBe(before + 500);
    expect(readings[1]).toBe(before + 1000);
    // Caught up after twice the step: the wall clock again.
    expect(readings[readings.length - 1]).toBe(wall);
  });

  // From a review: the time between the last reading before a step and the first after it did
  // not count (the clock stood still for it), so a nonce stayed good for that long on top of
  // twice its time left, past the records a store keeps for twice its time left.
  it('counts the time before the first reading behind too, at half pace', () => {
    const now = forwardClock(() => wall);
    const before = now();
    wall -= 60_000;
    pass(3000);
    expect(now()).toBe(before + 1500);
  });

  it('does not stay ahead for good after a step forward that was corrected', () => {
    const now = forwardClock(() => wall);
    wall += 3_600_000; // a wrong hour
    now();
    wall -= 3_600_000; // corrected
    pass(2 * 3_600_000 + 1000);
    expect(now()).toBe(wall);
  });

  it('stands still when the clock it reads stands still (a test clock)', () => {
    const now = forwardClock(() => wall);
    const first = now();
    for (let i = 0; i < 3; i++) {
      monotonic += 5000;
      expect(now()).toBe(first);
    }
  });

  it('never goes back when the monotonic clock does (fake timers switched off)', () => {
    const now = forwardClock(() => wall);
    const first = now();
    wall -= 10_000;
    monotonic -= 600_000;
    expect(now()).toBe(first);
  });
});

// The `now` option of digest(), MemoryNonceStore and RedisNonceStore (tests' clocks): NaN read as a
// time made every nonce live for ever (and Redis got a TTL of "NaN"); a promise the same.
describe('checkedClock()', () => {
  it('refuses a now that is no function at setup, in every factory that takes one', async () => {
    const client = new Redis({ lazyConnect: true }); // never connected: the store is only built
    const now = 12 as unknown as () => number;
    expect(() => digest({ users: {}, now })).toThrow('digest(): now must be a function');
    expect(() => new MemoryNonceStore({ now })).toThrow('MemoryNonceStore: now must be a function');
    expect(() => new RedisNonceStore({ client, now })).toThrow(
      'RedisNonceStore: now must be a function',
    );
    client.disconnect();
  });

  it.each([
    ['an async clock', async () => Date.now(), 'not a promise'],
    ['NaN', () => NaN, 'not NaN'],
    ['Infinity', () => Infinity, 'not Infinity'],
    ['a string', () => String(Date.now()), 'must return a finite number of ms'],
    ['undefined', () => undefined, 'not undefined'],
  ])('fails the reading closed for %s (read at no setup)', (_title, now, message) => {
    let reads = 0;
    const read = checkedClock(() => {
      reads++;
      return now();
    }, 'test')!;
    expect(reads).toBe(0);
    expect(() => read()).toThrow(message);
    // The store built on such a clock fails its use, so Digest fails the request closed.
    const store = new MemoryNonceStore({ now: now as () => number });
    expect(() => store.use('n', 1, Date.now() + 60_000)).toThrow(message);
    expect(checkedClock(undefined, 'test')).toBeUndefined();
  });

  it("leaves an async clock's rejection handled: unhandled, it ended the process", async () => {
    const unhandled: unknown[] = [];
    const note = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', note);
    try {
      const read = checkedClock(() => Promise.reject(new Error('clock down')), 'test')!;
      expect(() => read()).toThrow('not a promise');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', note);
    }
  });
});
