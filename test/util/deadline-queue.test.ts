/**
 * DeadlineQueue's timer. From hand-made mutants of the day's change (its timer now a Timer): the
 * tests passed with the timer not arming itself again after it fired, and with a fired timer
 * still counted as running, either of which left every later item to wait past maxWaitMs until
 * something else called arm() or expire(). Fake timers fake performance.now() with them.
 */
import { DeadlineQueue, type Waiting } from '../../src/util/deadline-queue';

afterEach(() => jest.useRealTimers());

/** An item queued now, that notes when (fake time) it was failed. */
function waiting(failedAt: Map<string, number>, name: string, start: number) {
  const item: Waiting = {
    queuedAt: performance.now(),
    reject: (error) => {
      expect(error.message).toBe('waited more than 200 ms');
      failedAt.set(name, performance.now() - start);
    },
  };
  return item;
}

describe('DeadlineQueue', () => {
  it('fails each item once it waited maxWaitMs, the later ones by the timer arming itself again', () => {
    jest.useFakeTimers();
    const queue = new DeadlineQueue(200, 'waited more than {ms} ms');
    const failedAt = new Map<string, number>();
    const start = performance.now();
    queue.items.push(waiting(failedAt, 'first', start));
    queue.arm();
    jest.advanceTimersByTime(100);
    queue.items.push(waiting(failedAt, 'second', start));
    queue.arm();
    // Nothing else calls arm() or expire(): the timer alone must answer both.
    jest.advanceTimersByTime(1000);
    // Past maxWaitMs (waited more than 200 ms), the timer firing 1 ms after the deadline.
    expect(Object.fromEntries(failedAt)).toEqual({ first: 201, second: 301 });
    expect(queue.items).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
  });
});
