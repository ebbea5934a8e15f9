import { hash } from 'node:crypto';

/** SHA-256's block size: HMAC pads the key to it (RFC 2104 §2). */
const BLOCK_BYTES = 64;
const HASH_BYTES = 32;
/** The most the reused input buffer grows to. */
const MAX_KEPT_BYTES = 64 * 1024;

/**
 * HMAC-SHA-256 under `key` (at most one block) of a text's UTF-8 bytes, in base64: what
 * `createHmac('sha256', key).update(text).digest('base64')` gives, at half its cost (Node 20: 0.9
 * µs against 1.8 for a short text). It is computed from its definition (RFC 2104 §2,
 * `H(K^opad ‖ H(K^ipad ‖ m))`) with the padded keys written once into buffers that each call
 * reuses (every step is synchronous); createHmac sets the key up again on every call. The inner
 * digest comes back as a latin1 string: a Buffer made by `crypto.hash` costs more than the hash.
 */
export function textHmac(key: Buffer): (text: string) => string {
  if (key.length > BLOCK_BYTES) throw new TypeError('textHmac: key longer than 64 bytes');
  let inner = Buffer.alloc(BLOCK_BYTES + 256, 0x36);
  const outer = Buffer.alloc(BLOCK_BYTES + HASH_BYTES, 0x5c);
  for (let i = 0; i < key.length; i++) {
    inner[i] = (inner[i] as number) ^ (key[i] as number);
    outer[i] = (outer[i] as number) ^ (key[i] as number);
  }
  return (text) => {
    // Three bytes a UTF-16 unit at most (a lone surrogate becomes U+FFFD, as createHmac writes it).
    const needed = BLOCK_BYTES + text.length * 3;
    let input = inner;
    if (needed > input.length) {
      // Grown for texts up to MAX_KEPT_BYTES; a longer one gets a buffer of its own, not kept.
      input = Buffer.allocUnsafe(needed);
      inner.copy(input, 0, 0, BLOCK_BYTES);
      if (needed <= MAX_KEPT_BYTES) inner = input;
    }
    const length = BLOCK_BYTES + input.write(text, BLOCK_BYTES, 'utf8');
    // 'binary' is latin1 (Node's alias, the one @types/node lets crypto.hash take).
    outer.write(hash('sha256', input.subarray(0, length), 'binary'), BLOCK_BYTES, 'latin1');
    return hash('sha256', outer, 'base64');
  };
}
