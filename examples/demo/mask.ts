/**
 * Masking what the demo pages show: they display the credentials a client sent, but never a
 * password, a token or a Digest response in full (a screenshot or a shared screen must not leak
 * them; a Digest response allows an offline guess of the password).
 */
import { formatCredentials, parseCredentials } from '../../src/index';
import type { Credentials } from '../../src/index';

/** Digest parameters that are derived from the password, or are the password. */
const SECRET_PARAMS = new Set(['response', 'password']);

function maskText(value: string, keep: number): string {
  const shown = value.slice(0, Math.min(keep, Math.floor(value.length / 4)));
  return `${shown}${'*'.repeat(Math.max(4, Math.min(12, value.length - shown.length)))}`;
}

/** Basic credentials decoded, with the password masked: `alice:********`. */
function decodeBasic(token68: string): string | undefined {
  const text = Buffer.from(token68, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : `${text.slice(0, colon)}:${'*'.repeat(8)}`;
}

/** Parsed credentials with the secrets masked, plus Basic's decoded user name. */
export function maskCredentials(credentials: Credentials): Record<string, unknown> {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(credentials.params)) {
    params[name] = SECRET_PARAMS.has(name) ? maskText(value, 8) : value;
  }
  const masked: Record<string, unknown> = { scheme: credentials.scheme };
  if (credentials.token68 !== undefined) {
    const isBasic = credentials.scheme.toLowerCase() === 'basic';
    // Basic's token68 is just base64 of user:password: any prefix would reveal the password's start.
    masked.token68 = maskText(credentials.token68, isBasic ? 0 : 6);
    if (isBasic) {
      masked.decoded = decodeBasic(credentials.token68) ?? '(not user:password)';
    }
  }
  masked.params = params;
  return masked;
}

/** What the page shows of a received `Authorization` field and its parsed form. */
export interface MaskedAuthorization {
  /** The field value with its secrets masked, or `undefined` when the request had none. */
  header: string | undefined;
  /** `parseCredentials()`'s result, masked; or the syntax error's message. */
  parsed: Record<string, unknown> | { error: string } | undefined;
}

/** Masks an `Authorization` (or `Proxy-Authorization`) field value for display. */
export function maskAuthorization(fieldValue: string | undefined): MaskedAuthorization {
  if (fieldValue === undefined) return { header: undefined, parsed: undefined };
  let credentials: Credentials;
  try {
    credentials = parseCredentials(fieldValue);
  } catch (error) {
    const scheme = fieldValue.trim().split(' ')[0] ?? '';
    return {
      header: `${scheme} (unparseable, masked)`,
      parsed: { error: error instanceof Error ? error.message : String(error) },
    };
  }
  const parsed = maskCredentials(credentials);
  let header: string;
  if (credentials.token68 !== undefined) {
    header = `${credentials.scheme} ${String(parsed.token68)}`;
  } else {
    header = formatCredentials({
      scheme: credentials.scheme,
      params: parsed.params as Record<string, string>,
    });
  }
  return { header, parsed };
}
