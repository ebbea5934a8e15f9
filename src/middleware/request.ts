/**
 * Reading the authorization field of a request: which header (origin or proxy mode), and refusing
 * duplicates instead of guessing which line a front proxy looked at.
 */
import type { AuthRequest } from '../scheme';

/** The field value, `undefined` when absent, or `null` when the field appears on several lines. */
export function readAuthorization(req: AuthRequest, headerName: string): string | undefined | null {
  const value = req.headers[headerName];
  if (value === undefined) return undefined;
  // Node keeps only the first of several Authorization lines in req.headers; headersDistinct
  // (Node >= 18.3) shows them all. RFC 9110 §5.3: the field is not a list, so two lines are invalid.
  const lines = req.headersDistinct?.[headerName];
  if (lines !== undefined && lines.length > 1) return null;
  return typeof value === 'string' ? value : undefined;
}

/** The method the client used, before any method-override middleware rewrote `req.method`. */
export function originalMethod(req: AuthRequest): string {
  const original = (req as { originalMethod?: unknown }).originalMethod;
  return typeof original === 'string' ? original : (req.method ?? 'GET');
}

/** The request target as the client sent it; Express's routers rewrite `req.url` but keep `originalUrl`. */
export function originalUrl(req: AuthRequest): string {
  return typeof req.originalUrl === 'string' ? req.originalUrl : (req.url ?? '/');
}
