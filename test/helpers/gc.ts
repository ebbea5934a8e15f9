import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
/** A full garbage collection (V8's `gc`, exposed for the tests that measure what is kept). */
export const gc = runInNewContext('gc') as () => void;

/**
 * Heap in use after full collections, several of them apart: finalizers and weak maps need more
 * than one.
 */
export async function settledHeap(rounds = 4, pauseMs = 10): Promise<number> {
  for (let i = 0; i < rounds; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return process.memoryUsage().heapUsed;
}
