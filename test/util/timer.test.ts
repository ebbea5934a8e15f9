/**
 * Timer on its own. From hand-made mutants of the day's change: the middleware and queue tests
 * passed with running() always false, with a fired or stopped timer still counted as running,
 * with stop() leaving its timers set, with a replaced timer left set, and without unref().
 */
import { Timer } from '../../src/util/timer';
import { gc } from '../helpers/gc';

afterEach(() => jest.useRealTimers());

describe('Timer', () => {
  it('once: runs while set, fires once, and is no longer running when its callback runs', () => {
    jest.useFakeTimers();
    const timer = new Timer();
    const seen: boolean[] = [];
    // DeadlineQueue's callback arms again from inside: it must find the timer no longer running.
    timer.once(100, () => seen.push(timer.running()));
    expect(timer.running()).toBe(true);
    jest.advanceTimersByTime(99);
    expect(seen).toEqual([]);
    jest.advanceTimersByTime(1000);
    expect(seen).toEqual([false]);
    expect(timer.running()).toBe(false);
  });

  it('every: runs until stop(), which clears its timer', () => {
    jest.useFakeTimers();
    const timer = new Timer();
    let calls = 0;
    timer.every(100, () => calls++);
    expect(timer.running()).toBe(true);
    jest.advanceTimersByTime(350);
    expect(calls).toBe(3);
    timer.stop();
    // Deadlines stops its sweeps when nothing is pending and sets them again on the next add:
    // a stopped timer counted as running would leave that add without sweeps.
    expect(timer.running()).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(1000);
    expect(calls).toBe(3);
  });

  it('a timer set again by the same functions replaces the one before', () => {
    jest.useFakeTimers();
    const timer = new Timer();
    const fired: string[] = [];
    timer.once(100, () => fired.push('first'));
    timer.once(100, () => fired.push('second'));
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(1000);
    expect(fired).toEqual(['second']);
  });

  it('a timer set again by the process’s functions replaces the one before, too', async () => {
    const timer = new Timer();
    const fired: string[] = [];
    timer.once(20, () => fired.push('first'));
    timer.once(20, () => fired.push('second'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fired).toEqual(['second']);
  });

  it('is not running under other timer functions than those that made it, either way', () => {
    const timer = new Timer();
    timer.once(60_000, () => undefined);
    expect(timer.running()).toBe(true);
    jest.useFakeTimers();
    expect(timer.running()).toBe(false);
    timer.once(60_000, () => undefined);
    expect(timer.running()).toBe(true);
    jest.useRealTimers();
    // The real one, made before the fake timers, is still set and counts again.
    expect(timer.running()).toBe(true);
    timer.stop();
    expect(timer.running()).toBe(false);
  });

  // A fake timer never fires once its fake timers are gone: kept, it would only hold their clock
  // and what its callback holds (a Deadlines' sweep, a queue's items), for as long as the Timer.
  it('drops a timer of fake timers that are gone once it sets another', async () => {
    const timer = new Timer();
    jest.useFakeTimers();
    const setUnderFake = (): WeakRef<object> => {
      const callback = () => undefined;
      timer.every(60_000, callback);
      return new WeakRef(callback);
    };
    const callback = setUnderFake();
    jest.useRealTimers();
    timer.every(60_000, () => undefined);
    // A WeakRef's target stays alive until the job that made it ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(callback.deref()).toBeUndefined();
    expect(timer.running()).toBe(true);
    timer.stop();
  });

  it('does not keep the process alive (its timers are unref’d)', () => {
    // Spied on, the globals are other functions than the process's: each kind on a Timer of its own.
    const setTimeoutSpy = jest.spyOn(global, 'setTimeout');
    const setIntervalSpy = jest.spyOn(global, 'setInterval');
    const once = new Timer();
    const every = new Timer();
    try {
      once.once(60_000, () => undefined);
      every.every(60_000, () => undefined);
      const handles = [setTimeoutSpy, setIntervalSpy].map(
        (spy) => spy.mock.results[0]!.value as NodeJS.Timeout,
      );
      expect(handles.map((handle) => handle.hasRef())).toEqual([false, false]);
    } finally {
      once.stop();
      every.stop();
      setTimeoutSpy.mockRestore();
      setIntervalSpy.mockRestore();
    }
  });
});
