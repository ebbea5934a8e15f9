/**
 * The credentials every server and the load generator agree on. The JWT key pair and token are
 * made once per run by the orchestrator and handed to the processes through the environment.
 */
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export const USER = 'alice';
export const PASSWORD = 'secret';
export const REALM = 'bench';
/** An opaque token for the custom-validator Bearer scenarios. */
export const OPAQUE_TOKEN = 'mF_9.B5f-4.1JqM';
/** Digest nonce HMAC key (at least 32 bytes). */
export const DIGEST_SECRET = 'bench-digest-nonce-key-0123456789abcdef';
export const JWT_ISSUER = 'https://issuer.bench.invalid/';
export const JWT_AUDIENCE = 'https://api.bench.invalid';

/** Names of the environment variables that carry the run's JWT material to the processes. */
export const JWT_PUBLIC_JWK_ENV = 'BENCH_JWT_PUBLIC_JWK';

export interface JwtMaterial {
  publicJwk: JWK;
  token: string;
}

/** A fresh ES256 key pair and a token valid for two hours (longer than any run). */
export async function makeJwtMaterial(): Promise<JwtMaterial> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), alg: 'ES256', kid: 'bench-1', use: 'sig' };
  const token = await new SignJWT({ scope: 'read write' })
    .setProtectedHeader({ alg: 'ES256', kid: 'bench-1', typ: 'at+jwt' })
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setSubject(USER)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);
  return { publicJwk, token };
}

/** The public key a server process received from the orchestrator. */
export function publicJwkFromEnv(): JWK {
  const raw = process.env[JWT_PUBLIC_JWK_ENV];
  if (!raw) throw new Error(`${JWT_PUBLIC_JWK_ENV} is not set`);
  return JSON.parse(raw) as JWK;
}
