/**
 * An unref'd timer, made with the global `setTimeout`/`setInterval` of the moment.
 *
 * An application's tests may run it under fake timers (jest.useFakeTimers(), sinon), which
 * replace those globals, and then go back to real ones. A timer belongs to the functions that
 * made it: a fake one never fires once the fake timers are gone, and a real one does not follow
 * fake time. So a timer counts as running only when made by the functions in place now; when
 * asked to run otherwise, one is made with those. One the process's own functions made is kept
 * until {@link Timer.stop} (made before the fake timers, it still serves what it was made for);
 * one of fake timers is dropped then (gone, they never fire it).
 */
export class Timer {
  #handles: Handle[] = [];

  /** Whether a timer is set by the functions in place now (`setTimeout` or `setInterval`). */
  running(): boolean {
    for (const { madeBy } of this.#handles) {
      if (madeBy === setTimeout || madeBy === setInterval) return true;
    }
    return false;
  }

  /** Calls `callback` once, `ms` from now. */
  once(ms: number, callback: () => void): void {
    const handle: Handle = {
      timeout: setTimeout(() => {
        this.#handles = this.#handles.filter((h) => h !== handle);
        callback();
      }, ms),
      madeBy: setTimeout,
      clear: clearTimeout,
    };
    this.#add(handle);
  }

  /** Calls `callback` every `ms` until {@link Timer.stop}. */
  every(ms: number, callback: () => void): void {
    this.#add({ timeout: setInterval(callback, ms), madeBy: setInterval, clear: clearInterval });
  }

  /** Clears every timer set. */
  stop(): void {
    for (const { timeout, clear } of this.#handles) clear(timeout);
    this.#handles = [];
  }

  #add(handle: Handle): void {
    handle.timeout.unref();
    // The process's timers go on; a timer made by the functions in place replaces theirs, and
    // one made by fake timers that are gone (or replaced) never fires.
    const kept: Handle[] = [];
    for (const other of this.#handles) {
      if (other.madeBy !== handle.madeBy && PROCESS_TIMERS.includes(other.madeBy)) kept.push(other);
      else other.clear(other.timeout);
    }
    kept.push(handle);
    this.#handles = kept;
  }
}

/** The process's own timer functions, as this module found them. */
const PROCESS_TIMERS: readonly unknown[] = [setTimeout, setInterval];

interface Handle {
  timeout: NodeJS.Timeout;
  /** The function that made it, and the one that clears it. */
  madeBy: unknown;
  clear: (timeout: NodeJS.Timeout) => void;
}
