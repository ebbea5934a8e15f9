/**
 * Runs `body` with the process's unhandled rejections recorded in the list it is given (a
 * rejection nobody handles ends a Node process; jest would only report it), and stops recording
 * when it ends.
 */
export async function recordingRejections<T>(
  body: (rejections: unknown[]) => Promise<T>,
): Promise<T> {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => void rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  try {
    return await body(rejections);
  } finally {
    process.off('unhandledRejection', onRejection);
  }
}
