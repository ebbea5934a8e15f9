/**
 * Challenges a scheme makes already formatted, for a scheme whose challenges change on every
 * refusal (Digest's fresh nonce) and would otherwise go through the general formatter each time.
 *
 * Keyed by the scheme's own `challenges` function: `authenticate()` takes the lines only while the
 * scheme it holds still has that function, so a scheme wrapped with another `challenges()` (one
 * that adds a parameter, say) is formatted from what its function returns, as any scheme is.
 * The lines must be exactly what formatting that function's challenges would give.
 */
import type { RequestContext, Scheme, SchemeFailure } from '../scheme';

type Challenges = (ctx: RequestContext, failure?: SchemeFailure) => unknown;
type Lines = (ctx: RequestContext, failure?: SchemeFailure) => string[];

const linesByChallenges = new WeakMap<Challenges, Lines>();

/** Declares that `lines` gives the field lines of what `challenges` returns, formatted. */
export function formatsAs(challenges: Challenges, lines: Lines): void {
  linesByChallenges.set(challenges, lines);
}

/** The formatted lines standing for the scheme's `challenges`, if it declared them. */
export function linesFor(scheme: Scheme): Lines | undefined {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- a key here, never called
  return linesByChallenges.get(scheme.challenges);
}

/** What `authenticate()` holds for a scheme whose lines it took: not a list of challenges. */
export class FormattedChallenges {
  constructor(readonly lines: string[]) {}
}
