import { Deadlines } from '../../src/middleware/deadlines';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Deadlines', () => {
  it('fires once the timeout has passed, and not after clear()', async () => {
    const deadlines = new Deadlines(40);
    const fired: string[] = [];
    deadlines.add(() => fired.push('kept'));
    deadlines.clear(deadlines.add(() => fired.push('cleared')));
    await sleep(150);
    expect(fired).toEqual(['kept']);
  });

  it('fires on time when the wall clock is set back an hour meanwhile', async () => {
    const deadlines = new Deadlines(40);
    let fired = false;
    deadlines.add(() => (fired = true));
    const wallClock = Date.now();
    const setBack = jest.spyOn(Date, 'now').mockImplementation(() => wallClock - 3_600_000);
    try {
      await sleep(150);
      expect(fired).toBe(true);
    } finally {
      setBack.mockRestore();
    }
  });

  // From hand-made mutants: these passed with a new timer at every add() (its sweeps put off
  // for as long as requests come faster than they are due), with the sweeps left running when
  // nothing is pending, without the 1 s cap on their period, and with a deadline due at a sweep
  // left for the next. Fake timers fake performance.now() with them: exact times.
  describe('under fake timers', () => {
    afterEach(() => jest.useRealTimers());

    it('sweeps every timeout / 4, even while deadlines keep coming faster, and stops when none is pending', () => {
      jest.useFakeTimers();
      const deadlines = new Deadlines(400);
      const fired: number[] = [];
      const start = performance.now();
      deadlines.add(() => fired.push(performance.now() - start));
      // A request every 50 ms, each answered (cleared) before its deadline but the first.
      for (let i = 0; i < 12; i++) {
        jest.advanceTimersByTime(50);
        const deadline = deadlines.add(() => fired.push(performance.now() - start));
        if (i > 0) deadlines.clear(deadline);
      }
      // Due at 400 and 450: the sweeps at 400 and 500.
      expect(fired).toEqual([400, 500]);
      jest.advanceTimersByTime(100);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('fires at the first sweep at or after its deadline, sweeping at least every second', () => {
      jest.useFakeTimers();
      const deadlines = new Deadlines(10_000);
      const fired: number[] = [];
      const start = performance.now();
      deadlines.add(() => fired.push(performance.now() - start));
      jest.advanceTimersByTime(100);
      deadlines.add(() => fired.push(performance.now() - start));
      jest.advanceTimersByTime(11_000);
      // Due at 10 000 and 10 100: the sweeps at 10 000 and 11 000.
      expect(fired).toEqual([10_000, 11_000]);
    });
  });
});
