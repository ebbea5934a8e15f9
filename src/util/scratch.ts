/** The most a scratch buffer grows to and keeps. */
const MAX_KEPT_BYTES = 64 * 1024;

/**
 * A buffer that synchronous code reuses from call to call instead of allocating one each time
 * (a `Buffer.from` or a Buffer from `crypto.hash` costs more than the hashing it feeds). It grows
 * on demand up to 64 KiB; a longer input gets a buffer of its own, not kept, so that one huge
 * input does not hold its size for the life of the process.
 */
export class Scratch {
  /**
   * @param buffer the buffer to start with
   * @param keep how many leading bytes every buffer handed out starts with (a key's pad, say)
   */
  constructor(
    private buffer: Buffer,
    private readonly keep = 0,
  ) {}

  /** A buffer of at least `length` bytes whose first `keep` bytes are the initial buffer's. */
  room(length: number): Buffer {
    if (length <= this.buffer.length) return this.buffer;
    const grown = Buffer.allocUnsafe(length);
    this.buffer.copy(grown, 0, 0, this.keep);
    if (length <= MAX_KEPT_BYTES) this.buffer = grown;
    return grown;
  }
}
