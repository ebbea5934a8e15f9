/**
 * Reading a `WWW-Authenticate` value the way a user agent must: as many of its challenges as are
 * well-formed. `fetch` hands over the field lines joined with commas, so one malformed line
 * (a scheme this client does not even know) would otherwise hide the good ones beside it.
 */
import { AuthHeaderSyntaxError } from '../errors';
import { DEFAULT_LIMITS, parseChallenges } from '../header';
import { BACKSLASH, COMMA, DQUOTE, EQUALS, SP } from '../header/grammar';
import { skipListSeparators, skipOWS, tokenEnd } from '../header/scanner';
import type { Challenge } from '../header/types';

/**
 * The challenges of `value`. When it does not parse as a whole, it is cut where a list element
 * cannot continue a challenge (it is no `name=` parameter), each piece is parsed on its own, and
 * the pieces that fail are left out. Linear in the value's length; the codec's default limits
 * hold for the whole, and a value with more malformed pieces than `maxChallenges` is not read
 * at all: each costs a thrown syntax error (about 5 µs), and no server sends dozens of them.
 */
export function readChallenges(value: string): Challenge[] {
  try {
    return parseChallenges(value);
  } catch (err) {
    if (!(err instanceof AuthHeaderSyntaxError)) throw err;
    if (value.length > DEFAULT_LIMITS.maxLength) return [];
  }
  const challenges: Challenge[] = [];
  /**
   * The challenge that parameters after a run of bare elements would have been cut off from:
   * the last one of the latest piece that starts with an element able to take parameters.
   */
  let owner: Challenge | undefined;
  let malformed = 0;
  for (const piece of pieces(value)) {
    // Parameters cut off from their challenge: that challenge is malformed, skipped (answering
    // what is left of it would answer another challenge than the one sent: `algorithm` lost, as
    // MD5). However many bare tokens stand between (`qop=auth, auth-int, auth-conf, algorithm=`).
    // A token68 challenge takes no parameters: nothing was cut off from it.
    if (piece.severs && owner !== undefined && owner.token68 === undefined) {
      const at = challenges.indexOf(owner);
      if (at !== -1) challenges.splice(at, 1);
      owner = undefined;
    }
    try {
      const last = parseChallenges(piece.text);
      challenges.push(...last);
      if (!piece.bare) owner = last[last.length - 1];
    } catch (err) {
      if (!(err instanceof AuthHeaderSyntaxError)) throw err;
      // A hostile server's 16 KB of `@,` would cost the client 50 ms here.
      if (++malformed > DEFAULT_LIMITS.maxChallenges) return [];
      if (!piece.bare) owner = undefined;
    }
    // Past the limit only: the next piece may still sever the last challenge kept.
    if (challenges.length > DEFAULT_LIMITS.maxChallenges) {
      return challenges.slice(0, DEFAULT_LIMITS.maxChallenges);
    }
  }
  return challenges;
}

/**
 * `s` cut before each list element that does not start with `token BWS "="`; `bare` when a
 * piece starts with an element that cannot take auth-params ({@link takesParams}), `severs`
 * when it also holds auth-params after it.
 */
function pieces(s: string): { text: string; severs: boolean; bare: boolean }[] {
  const length = s.length;
  const result: { text: string; severs: boolean; bare: boolean }[] = [];
  let start = 0;
  let junk = false;
  let severs = false;
  let i = 0;
  while (i < length) {
    const code = s.charCodeAt(i);
    if (code === DQUOTE) {
      i = quotedEnd(s, i, length);
    } else if (code === COMMA) {
      const next = skipListSeparators(s, i, length);
      const nameEnd = tokenEnd(s, next, length);
      if (nameEnd === next || s.charCodeAt(skipOWS(s, nameEnd, length)) !== EQUALS) {
        result.push({ text: s.slice(start, i), severs, bare: junk });
        start = next;
        junk = !takesParams(s, next, nameEnd, length);
        severs = false;
      } else if (junk) {
        severs = true;
      }
      i = next;
    } else {
      i++;
    }
  }
  result.push({ text: s.slice(start), severs, bare: junk });
  return result;
}

/**
 * Whether the list element at `start` (its first token ending at `nameEnd`) can be a challenge
 * whose auth-params go on past the next comma: `scheme 1*SP name BWS "="`, or `scheme 1*SP` and
 * an empty list element (RFC 9110 §11.6.1, §5.6.1). A bare scheme or a token68 takes none
 * (`Digest realm="r", qop=auth, auth-int, algorithm=SHA-256`): a `name=` after it was cut off
 * from the challenge before, which must not be answered without it (as MD5, say).
 */
function takesParams(s: string, start: number, nameEnd: number, length: number): boolean {
  if (nameEnd === start) return false;
  let at = nameEnd;
  while (at < length && s.charCodeAt(at) === SP) at++;
  if (at === nameEnd) return false;
  if (s.charCodeAt(at) === COMMA) return true;
  const paramEnd = tokenEnd(s, at, length);
  return paramEnd !== at && s.charCodeAt(skipOWS(s, paramEnd, length)) === EQUALS;
}

/** Past a quoted string, escapes skipped; an unterminated one runs to the end. */
function quotedEnd(s: string, i: number, length: number): number {
  for (let j = i + 1; j < length; j++) {
    const code = s.charCodeAt(j);
    if (code === DQUOTE) return j + 1;
    if (code === BACKSLASH) j++;
  }
  return length;
}
