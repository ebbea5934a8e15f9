// A worker thread of hash-threads.ts, one check at a time: computes the slow password hashes of htpasswd files (Apache
// MD5, SHA crypt) so that the event loop goes on serving while they run. Plain JavaScript, so that
// the same file runs from the sources (tests) and from dist/, and an ES module, so that `import()`
// finds the libraries from this file's place, as the main thread does.
import { parentPort } from 'node:worker_threads';

/** Each library's module and the hash function it exports, by the names hash-threads.ts sends. */
const LIBRARIES = {
  'apache-md5': ['apache-md5', 'default'],
  // Ours, beside this file in the sources and in dist/.
  'sha-crypt': ['./sha-crypt.cjs', 'shaCrypt'],
};
const loaded = new Map();

function hasher(library) {
  let promise = loaded.get(library);
  if (promise === undefined) {
    if (!Object.hasOwn(LIBRARIES, library)) return Promise.reject(new Error('unknown library'));
    const [specifier, name] = LIBRARIES[library];
    promise = import(specifier).then((module) => {
      const hash = module[name] ?? module.default?.[name];
      if (typeof hash !== 'function') throw new Error(`${library} has an unexpected API`);
      return hash;
    });
    loaded.set(library, promise);
  }
  return promise;
}

parentPort.on('message', (check) => {
  const { library, password, salt } = check ?? {};
  if (typeof library !== 'string' || typeof password !== 'string' || typeof salt !== 'string') {
    parentPort.postMessage({ error: 'malformed check' });
    return;
  }
  hasher(library).then(
    (hash) => {
      try {
        parentPort.postMessage({ hash: String(hash(password, salt)) });
      } catch (error) {
        parentPort.postMessage({ error: String(error?.message ?? error) });
      }
    },
    // The main thread loaded it: it hashes there instead.
    (error) =>
      parentPort.postMessage({ unavailable: true, error: String(error?.message ?? error) }),
  );
});

// A check that could not be read is still answered: the main thread waits for one reply per check.
parentPort.on('messageerror', () => parentPort.postMessage({ error: 'unreadable check' }));

// Loaded: a thread that dies before saying so is taken for a worker that cannot run at all.
parentPort.postMessage({ ready: true });
