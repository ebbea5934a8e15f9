/** Shared assertions for the header codec's tests. */
import { AuthHeaderSyntaxError } from '../../src/errors';

/** Plain objects, so equality matchers can compare null-prototype params against literals. */
export function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/** Runs `fn`, expects it to throw an AuthHeaderSyntaxError, and returns that error. */
export function syntaxError(fn: () => unknown): AuthHeaderSyntaxError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AuthHeaderSyntaxError);
    return error as AuthHeaderSyntaxError;
  }
  throw new Error('expected an AuthHeaderSyntaxError');
}
