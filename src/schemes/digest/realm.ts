import { isAscii, utf8OfOctets } from '../../util/text';

/**
 * The octets a client may have hashed for a realm, and echoed in `realm`, each as a string of one
 * character per octet (as Node reads and writes header fields). RFC 7616 §3.4.2 hashes the realm
 * as it appears in the challenge, and its charset (§4) covers only the user name and password, so
 * a realm beyond ASCII is read in three ways:
 *
 * 1. the realm as authscheme sends it, its ISO-8859-1 octets: curl, wget, Chromium, LWP and Ruby
 *    hash and echo what they got (Java hashes it and echoes its UTF-8);
 * 2. its UTF-8 octets: python-requests hashes the UTF-8 of the text it decoded; and an error
 *    handler that sends a string body makes Node write the whole 401 head as UTF-8, so that these
 *    are the octets clients got;
 * 3. the UTF-8 of the second read as ISO-8859-1: python-requests after such a head.
 *
 * An ASCII realm is one and the same in all three: the realm alone is returned. The first
 * spelling is the realm itself.
 */
export function realmSpellings(realm: string): readonly string[] {
  if (isAscii(realm)) return [realm];
  let spellings = cache.get(realm);
  if (spellings === undefined) {
    const utf8 = Buffer.from(realm, 'utf8').toString('latin1');
    spellings = Object.freeze([realm, utf8, Buffer.from(utf8, 'utf8').toString('latin1')]);
    // Realms are few (one per protected area); the bound only keeps a mistake from growing it.
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(realm, spellings);
  }
  return spellings;
}

const MAX_CACHED = 64;
const cache = new Map<string, readonly string[]>();

/**
 * The realms that `echoed` is a spelling of (see {@link realmSpellings}): the echo itself, then
 * what its octets read as in UTF-8, once and twice, as far as they are UTF-8 (a realm's second and
 * third spellings decode back to it).
 */
export function realmsSpelledAs(echoed: string): readonly string[] {
  if (isAscii(echoed)) return [echoed];
  const realms = [echoed];
  for (let current = echoed; realms.length < 3;) {
    const decoded = utf8OfOctets(current);
    if (decoded === undefined) break;
    realms.push(decoded);
    if (isAscii(decoded)) break;
    current = decoded;
  }
  return realms;
}
