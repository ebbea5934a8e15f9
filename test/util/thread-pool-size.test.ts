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

/** C's `long`, which atoi() reads through strtol(): 32 bits on Windows (LLP64), else 64. */
const LONG_IS_64_BITS = process.platform !== 'win32';

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
    // Past int: glibc's atoi() is (int)strtol(), and strtol() reads into a 64-bit long (Linux,
    // macOS), saturating there; the cast keeps the low 32 bits. 2^32 is 0, so a pool of 1 (not
    // the cap), 2^32 + 2 is 2, -(2^32 - 1) is 1 (measured on Node 20, Linux). On Windows long
    // is 32 bits and the CRT saturates at INT_MAX and INT_MIN: the cap.
    ['4294967296', LONG_IS_64_BITS ? 1 : 1024],
    ['4294967297', LONG_IS_64_BITS ? 1 : 1024],
    ['4294967298', LONG_IS_64_BITS ? 2 : 1024],
    ['-4294967295', LONG_IS_64_BITS ? 1 : 1024],
    ['2147483648', 1024],
    // Saturated at LONG_MAX, whose low 32 bits are -1: the cap; at LONG_MIN, whose low 32 bits
    // are 0 (a pool of 1; measured as above).
    ['99999999999999999999999', 1024],
    ['-99999999999999999999999', LONG_IS_64_BITS ? 1 : 1024],
    // Leading zeros are no part of the magnitude.
    ['000000000000000000000000000005', 5],
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
