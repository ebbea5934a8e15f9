import { AuthschemeError } from '../errors';

/**
 * A response's body as text, read no further than `limit` bytes: past it, the body is cancelled
 * and the read fails with `ERR_AUTH_STORE_FAILURE` and the message `tooLarge`. Whatever the
 * server sends, with or without Content-Length, never holds more than `limit` bytes in memory.
 */
export async function readBounded(
  response: Response,
  limit: number,
  tooLarge: string,
): Promise<string> {
  const reader = response.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    const value = chunk.value;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new AuthschemeError('ERR_AUTH_STORE_FAILURE', tooLarge);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
