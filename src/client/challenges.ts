/**
 * Reading a `WWW-Authenticate` value the way a user agent must: as many of its challenges as are
 * well-formed. `fetch` hands over the field lines joined with commas, so one malformed line
 * (a scheme this client does not even know) would otherwise hide the good ones beside it.
 */
import { AuthHeaderSyntaxError } from '../errors';
import { DEFAULT_LIMITS, parseChallenges } from '../header';
import { BACKSLASH, COMMA, DQUOTE, EQUALS, HTAB, SP } from '../header/grammar';
import { skipListSeparators, skipOWS, tokenEnd } from '../header/scanner';
import type { Challenge } from '../header/types';

/**
 * The challenges of `value`. When it does not parse as a whole, it is cut where a list element
 * cannot continue a challenge (it is no `name=` parameter), each piece is parsed on its own, and
 * the pieces that fail are left out. Linear in the value's length; the codec's default limits
 * hold for the whole.
 */
export function readChallenges(value: string): Challenge[] {
  try {
    return parseChallenges(value);
  } catch (err) {
    if (!(err instanceof AuthHeaderSyntaxError)) throw err;
    if (value.length > DEFAULT_LIMITS.maxLength) return [];
  }
  const challenges: Challenge[] = [];
  let last: Challenge[] = [];
  for (const piece of pieces(value)) {
    // Parameters cut off from the challenge before them: that challenge is malformed, skipped
    // (answering what is left of it would answer another challenge than the one sent). A token68
    // challenge takes no parameters: nothing was cut off from it.
    if (piece.severs && last.length > 0 && last[last.length - 1]!.token68 === undefined) {
      challenges.splice(challenges.length - 1, 1);
    }
    try {
      last = parseChallenges(piece.text);
      challenges.push(...last);
    } catch (err) {
      if (!(err instanceof AuthHeaderSyntaxError)) throw err;
      last = [];
    }
    // Past the limit only: the next piece may still sever the last challenge kept.
    if (challenges.length > DEFAULT_LIMITS.maxChallenges) {
      return challenges.slice(0, DEFAULT_LIMITS.maxChallenges);
    }
  }
  return challenges;
}

/**
 * `s` cut before each list element that does not start with `token BWS "="`; `severs` when a
 * piece starts with an element that cannot start a challenge and holds auth-params after it.
 */
function pieces(s: string): { text: string; severs: boolean }[] {
  const length = s.length;
  const result: { text: string; severs: boolean }[] = [];
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
        result.push({ text: s.slice(start, i), severs });
        start = next;
        // A scheme is followed by SP, a comma or the end: anything else cannot start a challenge.
        const after = s.charCodeAt(nameEnd);
        junk =
          nameEnd === next ||
          !(nameEnd === length || after === SP || after === HTAB || after === COMMA);
        severs = false;
      } else if (junk) {
        severs = true;
      }
      i = next;
    } else {
      i++;
    }
  }
  result.push({ text: s.slice(start), severs });
  return result;
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
