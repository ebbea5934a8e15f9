/**
 * The records of the live nonce stores are the process's (util/process-shared.ts): every copy of
 * the package in the process sees them. A copy that is gone (a bundle reloaded, a dependency's copy
 * dropped) must not leave the ids of its stores behind for ever.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { digest } from 'authscheme';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const SECRET = 'a-secret-of-32-characters-or-so!';

/** The ids of the nonce stores alive in the process, as every copy sees them. */
function liveIssuers(): ReadonlySet<string> {
  const key = Symbol.for('authscheme.digest.liveIssuers');
  return (globalThis as unknown as Record<symbol, Set<string>>)[key]!;
}

/** Makes a digest() over a store of its own in a copy of the package that is then dropped. */
function digestOfAGoneCopy(): void {
  jest.isolateModules(() => {
    const other = jest.requireActual<typeof import('authscheme')>('../../../src/index');
    other.digest({ users: { alice: 'secret' }, secret: SECRET, store: { use: () => true } });
  });
}

// Each copy had a FinalizationRegistry of its own: once the copy was collected with its store,
// the registry was too, and its callback never ran (a registry that is itself unreachable calls
// none), so the id stayed in the process's set.
it('forgets the id of a store once it and the copy that made it are collected', async () => {
  // This copy's records exist first, as the app's would.
  digest({ users: { alice: 'secret' }, secret: SECRET, store: { use: () => true } });
  const before = new Set(liveIssuers());
  digestOfAGoneCopy();
  const added = [...liveIssuers()].filter((id) => !before.has(id));
  expect(added).toHaveLength(1);
  const id = added[0]!;
  for (let round = 0; round < 20 && liveIssuers().has(id); round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(liveIssuers().has(id)).toBe(false);
});
