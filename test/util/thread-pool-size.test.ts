/**
 * THREAD_POOL_SIZE (util/slots.ts), the default of negotiate()'s `maxConcurrent` and the base of
 * htpasswd's bcrypt slots, is the size libuv gives its pool for `UV_THREADPOOL_SIZE`. libuv reads
 * the variable with C's atoi() into an unsigned count, takes 0 as 1 and caps it at 1024
 * (deps/uv/src/threadpool.c, init_threads). The expected sizes below are what Node 20 built
 * (checked by holding the pool's threads with reads from FIFOs and seeing when an fs.stat stopped
 * being served).
 */
import { negotiate } from 'authscheme/negotiate';

jest.mock('kerberos', () => ({ initializeServer: jest.fn() }));

/** THREAD_POOL_SIZE as a process started with `UV_THREADPOOL_SIZE=value` computes it. */
function sizeWith(value: string | undefined): number {
  const saved = process.env.UV_THREADPOOL_SIZE;
  if (value === undefined) delete process.env.UV_THREADPOOL_SIZE;
  else process.env.UV_THREADPOOL_SIZE = value;
  try {
    let size = Number.NaN;
    jest.isolateModules(() => {
      size = (require('../../src/util/slots') as typeof import('../../src/util/slots'))
        .THREAD_POOL_SIZE;
    });
    return size;
  } finally {
    if (saved === undefined) delete process.env.UV_THREADPOOL_SIZE;
    else process.env.UV_THREADPOOL_SIZE = saved;
  }
}

describe("THREAD_POOL_SIZE: libuv's pool size for UV_THREADPOOL_SIZE", () => {
  it.each<[string | undefined, number]>([
    [undefined, 4],
    ['1', 1],
    ['16', 16],
    [' 5', 5],
    ['+3', 3],
    ['1024', 1024],
    ['5000', 1024],
    // atoi() stops at the first character that is not a digit.
    ['8.5', 8],
    ['6abc', 6],
    ['1e1', 1],
    ['0x10', 1],
    // atoi() gives 0, which libuv takes as 1 (not its default of 4).
    ['0', 1],
    ['', 1],
    ['abc', 1],
    // A negative count wraps around in libuv's unsigned int, past the cap.
    ['-1', 1024],
  ])('UV_THREADPOOL_SIZE=%p is a pool of %p threads', (value, size) => {
    expect(sizeWith(value)).toBe(size);
  });

  it('negotiate() without maxConcurrent sets up whatever UV_THREADPOOL_SIZE holds', () => {
    for (const value of ['8.5', '0', 'abc', '-1', '4 ']) {
      process.env.UV_THREADPOOL_SIZE = value;
      try {
        jest.isolateModules(() => {
          const isolated = require('authscheme/negotiate') as { negotiate: typeof negotiate };
          expect(() => isolated.negotiate({ servicePrincipal: 'HTTP@localhost' })).not.toThrow();
        });
      } finally {
        delete process.env.UV_THREADPOOL_SIZE;
      }
    }
  });
});
