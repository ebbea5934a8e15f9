/**
 * Running a real client as a child process, asynchronously (the server under test lives in this
 * process, so a synchronous spawn would deadlock), with a hard time limit.
 */
import { execFile } from 'node:child_process';

export interface RunResult {
  /** Exit code; `null` when the process was killed (time limit). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` with `args` (no shell), resolving even when it fails. */
export function run(
  command: string,
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        timeout: options.timeoutMs ?? 15_000,
        killSignal: 'SIGKILL',
        maxBuffer: 4 * 1024 * 1024,
        encoding: 'utf8',
        // No proxy from the environment may sneak in between client and server.
        env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', ...options.env },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The first line of `command --version` (or the given flag), for the matrix's column header. */
export async function versionOf(
  command: string,
  args: readonly string[] = ['--version'],
): Promise<string> {
  const result = await run(command, args, { timeoutMs: 10_000 });
  const text = (result.stdout.trim() || result.stderr.trim()).split('\n')[0] ?? '';
  if (result.code !== 0 || text === '')
    throw new Error(`${command} is not runnable: ${result.stderr}`);
  return text;
}

/** Parses a client's stdout as the demo's JSON answer, or `undefined` when it is not JSON. */
export function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A directive's value in an Authorization or Proxy-Authorization field (quotes dropped). */
export function directive(field: string | null | undefined, name: string): string | undefined {
  return new RegExp(`(?:^|[ ,])${name}="?([^",]*)`).exec(field ?? '')?.[1];
}
