/**
 * A plain reading of the RFC 9110 §11 grammar, character by character, with none of the codec's
 * shortcuts (its known-name automaton, its sticky regular expressions, its long-input paths). The
 * property tests compare the codec against it: both must accept the same values with the same
 * result, and refuse the same values.
 *
 * It settles the grammar's ambiguities as docs/header.md says the codec does:
 * - after a scheme and 1*SP, a token68 followed only by OWS and then a comma or the end is a
 *   token68; anything else is a parameter list;
 * - after a comma, a token followed by BWS "=" is another parameter; any other token starts a new
 *   challenge;
 * - empty list elements are ignored (RFC 9110 §5.6.1); a name may occur once, whatever its case.
 */
import type { Challenge } from '../../src/header';

/** Thrown where the codec must throw an AuthHeaderSyntaxError. */
export class ReferenceSyntaxError extends Error {}

// RFC 9110 §5.6.2, §11.2, §5.6.4 (qdtext and quoted-pair differ only by DQUOTE and backslash).
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;
const TOKEN68_CHAR = /^[-._~+/0-9A-Za-z]$/;
const QUOTED_PAIR_CHAR = /^[\t\x20-\x7e\x80-\xff]$/;

type Mode = 'challenges' | 'credentials' | 'auth-params';

export function referenceParse(s: string, mode: 'challenges'): Challenge[];
export function referenceParse(s: string, mode: 'credentials'): Challenge;
export function referenceParse(s: string, mode: 'auth-params'): Record<string, string>;
export function referenceParse(s: string, mode: Mode): unknown {
  let i = 0;
  const at = (k: number): string => s.charAt(k); // '' past the end
  const isOWS = (c: string): boolean => c === ' ' || c === '\t';
  const fail = (why: string): never => {
    throw new ReferenceSyntaxError(why);
  };
  const skipOWS = (): void => {
    while (isOWS(at(i))) i++;
  };
  const skipSeparators = (): void => {
    while (isOWS(at(i)) || at(i) === ',') i++;
  };
  const token = (): string => {
    const start = i;
    while (TCHAR.test(at(i))) i++;
    return s.slice(start, i);
  };
  const quotedString = (): string => {
    let content = '';
    for (i++; ; i++) {
      let c = at(i);
      if (c === '"') break;
      if (c === '\\') c = at(++i); // a quoted-pair stands for the character it escapes
      if (c === '') fail('unterminated quoted-string');
      if (!QUOTED_PAIR_CHAR.test(c)) fail('invalid character in quoted-string');
      content += c;
    }
    i++;
    return content;
  };

  /** `#auth-param` from `i`; stops before a token that has no "=" when `afterComma`. */
  const params = (into: Record<string, string>, afterComma: boolean): void => {
    for (;;) {
      if (i === s.length) return;
      const start = i;
      const name = token();
      if (name === '') fail('expected auth-param');
      skipOWS();
      if (at(i) !== '=') {
        if (afterComma) {
          i = start;
          return;
        }
        fail("expected '='");
      }
      i++;
      skipOWS();
      let value: string;
      if (at(i) === '"') value = quotedString();
      else if ((value = token()) === '') fail('expected token or quoted-string');
      const key = name.toLowerCase();
      if (Object.prototype.hasOwnProperty.call(into, key)) fail('duplicate auth-param');
      into[key] = value;
      skipOWS();
      if (i === s.length) return;
      if (at(i) !== ',') fail("expected ','");
      skipSeparators();
      afterComma = true;
    }
  };

  /** What follows an auth-scheme: `[ 1*SP ( token68 / #auth-param ) ]`. */
  const afterScheme = (into: Challenge): void => {
    if (i === s.length || at(i) === ',') return;
    if (at(i) !== ' ') {
      skipOWS();
      if (i !== s.length && at(i) !== ',') fail('expected space after auth-scheme');
      return;
    }
    while (at(i) === ' ') i++;
    if (at(i) === '\t') {
      skipOWS();
      if (i !== s.length && at(i) !== ',') fail('expected token68 or auth-param');
    } else {
      let end = i;
      while (TOKEN68_CHAR.test(at(end))) end++;
      if (end > i) {
        while (at(end) === '=') end++;
        let after = end;
        while (isOWS(at(after))) after++;
        if (after === s.length || at(after) === ',') {
          into.token68 = s.slice(i, end);
          i = after;
          return;
        }
      }
    }
    const afterComma = at(i) === ',';
    if (afterComma) skipSeparators();
    params(into.params, afterComma);
  };

  const challenge = (): Challenge => {
    const scheme = token();
    if (scheme === '') fail('expected auth-scheme');
    const result: Challenge = { scheme, params: Object.create(null) as Record<string, string> };
    afterScheme(result);
    return result;
  };

  if (mode === 'auth-params') {
    const result = Object.create(null) as Record<string, string>;
    skipOWS();
    const afterComma = at(i) === ',';
    if (afterComma) skipSeparators();
    params(result, afterComma);
    if (i !== s.length) fail('unexpected content');
    return result;
  }
  if (mode === 'credentials') {
    skipOWS();
    const result = challenge();
    if (i !== s.length) fail('unexpected content');
    return result;
  }
  const result: Challenge[] = [];
  skipSeparators();
  while (i < s.length) {
    result.push(challenge());
    skipSeparators();
  }
  return result;
}
