/** Reading a password file's bytes as text: bounded in size, strict UTF-8. */

/** Longest file accepted, in bytes: a password file is small; a huge one is a mistake. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The text of a password file.
 *
 * @param kind names the file in errors (`htpasswd`, `htdigest`)
 * @throws TypeError when the file is over 16 MB or is not UTF-8
 */
export function decodePasswordFile(bytes: Buffer, kind: string): string {
  if (bytes.length > MAX_FILE_BYTES) throw new TypeError(`${kind} file is larger than 16 MB`);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new TypeError(`${kind} file is not valid UTF-8`);
  }
}
