// @ts-check
/**
 * SHA-crypt: `$5$` (SHA-256) and `$6$` (SHA-512), as U. Drepper's "Unix crypt using SHA-256 and
 * SHA-512" specifies and glibc and libxcrypt compute it (`htpasswd -2`/`-5`, `openssl passwd
 * -5`/`-6`). Written here because the npm package used before (unixcrypt 3.0.4) got passwords
 * whose length is a multiple of the digest's wrong (32 or 64 bytes: such users never logged in).
 *
 * Plain CommonJS, so that the main thread (htpasswd.ts) and the worker threads (hash-worker.mjs)
 * load this one file, from the sources and from dist/.
 */
'use strict';
const { hash } = require('node:crypto');

const DEFAULT_ROUNDS = 5000;
const MAX_SALT = 16;
const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * The digest's bytes in the order the spec encodes them, three at a time (the first becomes the
 * high bits); -1 is a zero byte, and the last group gives only as many characters as it has bits.
 */
const SHA256_ORDER = [
  [0, 10, 20],
  [21, 1, 11],
  [12, 22, 2],
  [3, 13, 23],
  [24, 4, 14],
  [15, 25, 5],
  [6, 16, 26],
  [27, 7, 17],
  [18, 28, 8],
  [9, 19, 29],
  [-1, 31, 30],
];
const SHA512_ORDER = [
  [0, 21, 42],
  [22, 43, 1],
  [44, 2, 23],
  [3, 24, 45],
  [25, 46, 4],
  [47, 5, 26],
  [6, 27, 48],
  [28, 49, 7],
  [50, 8, 29],
  [9, 30, 51],
  [31, 52, 10],
  [53, 11, 32],
  [12, 33, 54],
  [34, 55, 13],
  [56, 14, 35],
  [15, 36, 57],
  [37, 58, 16],
  [59, 17, 38],
  [18, 39, 60],
  [40, 61, 19],
  [62, 20, 41],
  [-1, -1, 63],
];

/**
 * The SHA-crypt hash of `password` (UTF-8) with `setting`: `$5$` or `$6$`, an optional
 * `rounds=N$` (1000 to 999,999,999), and the salt (its first 16 characters count, up to a `$`).
 * A whole hash is a setting too: what follows the salt's `$` is ignored.
 *
 * @param {string} password
 * @param {string} setting
 * @returns {string} the hash, `setting`'s prefix and salt followed by `$` and the digest
 */
function shaCrypt(password, setting) {
  const sha512 = setting.startsWith('$6$');
  if (!sha512 && !setting.startsWith('$5$'))
    throw new TypeError('SHA crypt: not a $5$ or $6$ setting');
  let rest = setting.slice(3);
  let rounds = DEFAULT_ROUNDS;
  let roundsGiven = false;
  if (rest.startsWith('rounds=')) {
    const end = rest.indexOf('$');
    const text = rest.slice(7, end);
    // Written canonically, 4 to 9 digits: the spec's range, 1000 to 999,999,999 (glibc would
    // clamp what is outside it; libxcrypt and we refuse).
    if (end === -1 || !/^[1-9][0-9]{3,8}$/.test(text)) {
      throw new TypeError('SHA crypt: rounds must be written from 1000 to 999999999');
    }
    rounds = Number(text);
    roundsGiven = true;
    rest = rest.slice(end + 1);
  }
  const saltEnd = rest.indexOf('$');
  const saltText = (saltEnd === -1 ? rest : rest.slice(0, saltEnd)).slice(0, MAX_SALT);
  const algorithm = sha512 ? 'sha512' : 'sha256';
  const size = sha512 ? 64 : 32;
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(saltText, 'latin1');
  /** @param {Buffer[]} parts */
  const digest = (parts) => /** @type {Buffer} */ (hash(algorithm, Buffer.concat(parts), 'buffer'));

  // Steps 4-8: the alternate sum.
  const B = digest([P, S, P]);
  // Steps 1-3 and 9-12. A final block of 1 to `size` bytes of B (not 0: a password of 32 bytes
  // takes B whole once, glibc's `cnt > 32` loop).
  const a = [P, S];
  let count = P.length;
  for (; count > size; count -= size) a.push(B);
  a.push(B.subarray(0, count));
  for (count = P.length; count > 0; count >>= 1) a.push((count & 1) !== 0 ? B : P);
  let A = digest(a);
  // Steps 13-16: the P sequence, the password's length of H(P repeated).
  const DP = digest(new Array(P.length).fill(P));
  const Pseq = Buffer.alloc(P.length);
  for (let at = 0; at < P.length; at += size) DP.copy(Pseq, at, 0, Math.min(size, P.length - at));
  // Steps 17-20: the S sequence, from H(S repeated 16 + A[0] times).
  const Sseq = digest(new Array(16 + /** @type {number} */ (A[0])).fill(S)).subarray(0, S.length);
  // Step 21: the rounds, into one buffer reused for every round's input.
  const input = Buffer.allocUnsafe(2 * Pseq.length + Sseq.length + size);
  for (let round = 0; round < rounds; round++) {
    let at = (round & 1) !== 0 ? Pseq.copy(input, 0) : A.copy(input, 0);
    if (round % 3 !== 0) at += Sseq.copy(input, at);
    if (round % 7 !== 0) at += Pseq.copy(input, at);
    at += (round & 1) !== 0 ? A.copy(input, at) : Pseq.copy(input, at);
    A = /** @type {Buffer} */ (hash(algorithm, input.subarray(0, at), 'buffer'));
  }
  // Step 22: the encoding.
  let encoded = '';
  for (const [high, middle, low] of sha512 ? SHA512_ORDER : SHA256_ORDER) {
    const byte = (/** @type {number} */ index) =>
      index < 0 ? 0 : /** @type {number} */ (A[index]);
    let word = (byte(high) << 16) | (byte(middle) << 8) | byte(/** @type {number} */ (low));
    const characters = high >= 0 ? 4 : middle >= 0 ? 3 : 2;
    for (let i = 0; i < characters; i++, word >>= 6) encoded += ALPHABET[word & 63];
  }
  return `${setting.slice(0, 3)}${roundsGiven ? `rounds=${rounds}$` : ''}${saltText}$${encoded}`;
}

module.exports = { shaCrypt };
