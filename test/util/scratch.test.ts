import { Scratch } from '../../src/util/scratch';

describe('Scratch', () => {
  it('hands out the same buffer while it is large enough', () => {
    const first = Buffer.alloc(16);
    const scratch = new Scratch(first);
    expect(scratch.room(16)).toBe(first);
    expect(scratch.room(3)).toBe(first);
  });

  it('grows, keeping its first `keep` bytes, and keeps what it grew to up to 64 KiB', () => {
    const scratch = new Scratch(Buffer.from('padXYZ'), 3);
    const grown = scratch.room(100);
    expect(grown.length).toBe(100);
    expect(grown.subarray(0, 3).toString()).toBe('pad');
    expect(scratch.room(50)).toBe(grown);
    const kept = scratch.room(64 * 1024);
    expect(scratch.room(1000)).toBe(kept);
  });

  it('gives a longer input a buffer of its own, not kept', () => {
    const scratch = new Scratch(Buffer.from('pad'), 3);
    const huge = scratch.room(64 * 1024 + 1);
    expect(huge.length).toBe(64 * 1024 + 1);
    expect(huge.subarray(0, 3).toString()).toBe('pad');
    const next = scratch.room(10);
    expect(next).not.toBe(huge);
    expect(next.length).toBe(10);
    expect(next.subarray(0, 3).toString()).toBe('pad');
  });
});
