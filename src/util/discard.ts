/**
 * Cancels the body of a response that is not read, which releases its connection. Never
 * rejects: a body that already failed (the server reset the connection mid-body) rejects
 * cancel() with its own error (undici's `terminated`), which says nothing of the call and would
 * replace the caller's own error; the connection is gone anyway, and a request sent next opens
 * another.
 */
export async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Ignored: see above.
  }
}
