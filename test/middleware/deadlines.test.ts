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
});
