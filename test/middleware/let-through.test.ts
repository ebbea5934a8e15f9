/**
 * The preflight mark that `authenticate({ allowPreflight: true })` leaves for `requireScopes()`:
 * a mark of its own, which no recorded reason can stand in for (require-scopes.test.ts shows
 * that through the public API, with a custom scheme's `locate()`).
 */
import {
  forgetLetThrough,
  letThroughAsPreflight,
  letThroughReason,
  markLetThrough,
  markPreflight,
} from '../../src/middleware/let-through';

describe('the preflight mark', () => {
  it('comes from markPreflight() only, and the last authenticate() to let the request through decides', () => {
    const req = {};
    markPreflight(req, false);
    expect(letThroughAsPreflight(req)).toBe(true);
    // Its reason, recorded for another request, is only a sentence.
    const other = {};
    markLetThrough(other, letThroughReason(req)!, false);
    expect(letThroughAsPreflight(other)).toBe(false);
    // A later one that let it through for another reason, or without recording one.
    markLetThrough(req, 'No credentials were sent', false);
    expect(letThroughAsPreflight(req)).toBe(false);
    markPreflight(req, false);
    forgetLetThrough(req);
    expect(letThroughAsPreflight(req)).toBe(false);
  });

  // A copy of the package from before the mark shares the reasons (same registered symbol) but
  // knows nothing of the mark: what it does with the request must not leave it a preflight.
  it('fails closed when a copy that knows only the reasons let the request through later', () => {
    const reasons = (globalThis as unknown as Record<symbol, WeakMap<object, string>>)[
      Symbol.for('authscheme.letThrough')
    ]!;
    const req = {};
    markPreflight(req, false);
    reasons.set(req, 'No credentials were sent');
    expect(letThroughAsPreflight(req)).toBe(false);
    markPreflight(req, false);
    reasons.delete(req);
    expect(letThroughAsPreflight(req)).toBe(false);
  });
});
