/**
 * Building and sending the refusal: status, one challenge field line per challenge, caching
 * headers and a short body that leaks nothing.
 */
import type { ServerResponse } from 'node:http';
import { AuthenticationError, type AuthErrorCode } from '../errors';
import { formatChallenge } from '../header';
import type { Challenge } from '../header/types';

const formatted = new WeakMap<Challenge, string>();

/** Formats a challenge, remembering the result for frozen (static) challenges. */
export function formatChallengeCached(challenge: Challenge): string {
  if (!Object.isFrozen(challenge)) return formatChallenge(challenge);
  let line = formatted.get(challenge);
  if (line === undefined) {
    line = formatChallenge(challenge);
    formatted.set(challenge, line);
  }
  return line;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  407: 'Proxy Authentication Required',
  503: 'Service Unavailable',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

/** Makes the error that describes a refusal; its `headers` are what the response carries. */
export function authenticationError(
  code: AuthErrorCode,
  message: string,
  status: number,
  challengeHeader: string,
  challenges: string[],
  scheme?: string,
  cause?: unknown,
): AuthenticationError {
  const headers: Record<string, string | string[]> = { 'Cache-Control': 'no-store' };
  // One field line per challenge (RFC 9110 §11.6.1 allows a list, but browsers mishandle some
  // schemes, Negotiate among them, inside a comma-joined line).
  if (challenges.length > 0) headers[challengeHeader] = challenges;
  return new AuthenticationError(code, message, { status, headers, scheme, cause });
}

export type BodyOption = string | ((error: AuthenticationError) => string);

/** Sends a refusal, unless the response is already on its way (then the caller hands off to next). */
export function sendError(
  res: ServerResponse,
  error: AuthenticationError,
  body: BodyOption | undefined,
  contentType: string,
): void {
  res.statusCode = error.status;
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  const text =
    body === undefined ? statusText(error.status) : typeof body === 'string' ? body : body(error);
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** Adds a token to the `Vary` field without duplicating it (RFC 9110 §12.5.5). */
export function appendVary(res: ServerResponse, field: string): void {
  const current = res.getHeader('Vary');
  if (current === undefined) {
    res.setHeader('Vary', field);
    return;
  }
  const text = Array.isArray(current) ? current.join(', ') : String(current);
  const lower = field.toLowerCase();
  for (const part of text.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '*' || name === lower) return;
  }
  res.setHeader('Vary', text === '' ? field : `${text}, ${field}`);
}
