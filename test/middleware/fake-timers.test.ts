/**
 * An application's tests under fake timers (jest.useFakeTimers(), which fakes `performance` with
 * the timers). From a review: the middleware's timeout read node:perf_hooks' clock, which fake
 * timers leave real, so advancing them never answered 503; and a timer made under fake timers was
 * kept after them, which switched the timeout off for every later request of that middleware.
 */
import express from 'express';
import request from 'supertest';
import { authenticate, basic } from '../../src';
import { DeadlineQueue, type Waiting } from '../../src/util/deadline-queue';
import { basicAuth } from '../helpers/frameworks';

/** The real setTimeout, for waiting in real time while fake timers are in place. */
const realSetTimeout = setTimeout;
const pause = (ms: number) => new Promise((resolve) => realSetTimeout(resolve, ms));
/** What the sockets need to work: ticks and immediates stay real. */
const FAKE: Parameters<typeof jest.useFakeTimers>[0] = {
  doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate', 'clearImmediate'],
};

/** An app whose verifier never answers, and a promise of its next call. */
function hangingApp(timeout: number) {
  let asked!: () => void;
  const app = express();
  app.use(
    authenticate({
      timeout,
      schemes: [
        basic({
          verify: () => {
            asked();
            return new Promise<string>(() => undefined);
          },
        }),
      ],
    }),
  );
  app.get('/', (_req, res) => res.send('ok'));
  return {
    app,
    /** Sends a request; resolves once the verifier has it, with the status to come. */
    async send(): Promise<{ status: Promise<number> }> {
      const asking = new Promise<void>((resolve) => (asked = resolve));
      const status = request(app)
        .get('/')
        .set('Authorization', basicAuth('alice', 'x'))
        .then((res) => res.status);
      await asking;
      return { status };
    },
  };
}

afterEach(() => jest.useRealTimers());

describe('the middleware timeout under fake timers', () => {
  it('answers 503 once fake time passes the timeout', async () => {
    const { send } = hangingApp(1000);
    jest.useFakeTimers(FAKE);
    const { status } = await send();
    jest.advanceTimersByTime(999);
    await pause(100);
    let answered: number | undefined;
    void status.then((s) => (answered = s));
    await pause(100);
    expect(answered).toBeUndefined();
    jest.advanceTimersByTime(1000);
    await expect(status).resolves.toBe(503);
  });

  it('times out in real time again once the fake timers are gone', async () => {
    const { send } = hangingApp(300);
    jest.useFakeTimers(FAKE);
    const { status: first } = await send();
    jest.useRealTimers();
    // The next request's check sets a real timer, whose sweeps answer both.
    const { status: second } = await send();
    const outcome = await Promise.race([
      Promise.all([first, second]),
      pause(5000).then(() => 'no answer'),
    ]);
    expect(outcome).toEqual([503, 503]);
  });

  it('times out under fake timers a middleware whose timer was made by real ones', async () => {
    const { send } = hangingApp(300);
    const { status: first } = await send();
    jest.useFakeTimers(FAKE);
    const { status: second } = await send();
    jest.advanceTimersByTime(1000);
    await expect(second).resolves.toBe(503);
    jest.useRealTimers();
    await expect(first).resolves.toBe(503);
  });
});

describe('work waiting (DeadlineQueue) under fake timers', () => {
  const waiting = () => {
    const item: Waiting & { error?: Error } = {
      queuedAt: performance.now(),
      reject: (error) => (item.error = error),
    };
    return item;
  };

  it('fails what waited too long in real time again once the fake timers are gone', async () => {
    const queue = new DeadlineQueue(200, 'waited more than {ms} ms');
    jest.useFakeTimers(FAKE);
    queue.items.push(waiting());
    queue.arm();
    jest.useRealTimers();
    queue.items = [];
    const item = waiting();
    queue.items.push(item);
    queue.arm();
    await pause(1000);
    expect(item.error?.message).toBe('waited more than 200 ms');
    queue.clear();
  });
});
