/**
 * Digest's challenges go out as templates around the fresh nonce (challenge-lines.ts): they must
 * be what formatting challenges() gives, and a scheme wrapped with another challenges() must be
 * formatted from what that returns.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate, digest, type Scheme, type SchemeFailure } from '../../../src';
import { formatChallenge, parseChallenges } from '../../../src/header';
import type { Challenge } from '../../../src/header/types';
import { linesFor } from '../../../src/middleware/challenge-lines';
import { refuse } from '../../../src/scheme';
import { fakeContext, serversForThisFile } from './helpers';

const secret = 's'.repeat(32);
const stale: SchemeFailure = refuse('Digest nonce expired', 'ERR_AUTH_STALE_NONCE');
const serve = serversForThisFile();

const CONFIGS: { name: string; options: Parameters<typeof digest>[0]; siteRealm: string }[] = [
  { name: 'defaults', options: { users: { a: 'b' }, secret }, siteRealm: 'site' },
  {
    name: 'several algorithms, both qops, userhash, domain',
    options: {
      users: { a: 'b' },
      secret,
      algorithms: ['SHA-256', 'MD5', 'SHA-512-256-sess', 'MD5-sess'],
      qop: ['auth', 'auth-int'],
      userhash: true,
      domain: ['/api', 'https://example.com/x%20y'],
    },
    siteRealm: 'site',
  },
  {
    name: "a realm of the digest()'s own, with a quote, a backslash and a stand-in lookalike",
    options: {
      users: { a: 'b' },
      secret,
      realm: 'say "hi" \\ nonce="authscheme-nonce-stand-in"',
    },
    siteRealm: 'site',
  },
  {
    name: 'the site realm beyond ASCII (latin1 octets)',
    options: { users: { a: 'b' }, secret, algorithms: ['MD5'] },
    siteRealm: 'caf\u00e9 nonce=',
  },
];

/** A scheme's challenges, made synchronously (as digest() makes them). */
function challengesOf(
  scheme: Scheme,
  failure?: SchemeFailure,
  ctx = fakeContext({ realm: 'site' }),
): Challenge[] {
  return scheme.challenges(ctx, failure) as Challenge[];
}

describe('Digest challenge lines', () => {
  it.each(CONFIGS)(
    'are formatChallenge of challenges() around the nonce: $name',
    ({ options, siteRealm }) => {
      const scheme = digest(options);
      const lines = linesFor(scheme);
      expect(lines).toBeDefined();
      const ctx = fakeContext({ realm: siteRealm });
      for (const failure of [undefined, stale]) {
        for (let round = 0; round < 3; round++) {
          const made = lines!(ctx, failure);
          // The same challenges, formatted, with the nonce the line carries.
          const expected = challengesOf(scheme, failure, ctx).map((challenge, i) => {
            const nonce = parseChallenges(made[i]!)[0]!.params['nonce']!;
            return formatChallenge({ ...challenge, params: { ...challenge.params, nonce } });
          });
          expect(made).toEqual(expected);
          expect(made[0]).toContain(failure === undefined ? 'charset=UTF-8' : 'stale=true');
        }
      }
    },
  );

  it('sends the lines through authenticate(), and what a wrapping challenges() returns', async () => {
    const scheme = digest({ users: { a: 'b' }, secret, algorithms: ['SHA-256', 'MD5'] });
    // A copy that keeps the function keeps its lines; one that replaces it is formatted from it.
    const copy: Scheme = { ...scheme };
    const wrapped: Scheme = {
      ...scheme,
      challenges: (ctx, failure) =>
        challengesOf(scheme, failure, ctx).map((challenge) => ({
          ...challenge,
          params: { ...challenge.params, domain: '/wrapped' },
        })),
    };
    for (const [schemeUsed, domain] of [
      [scheme, undefined],
      [copy, undefined],
      [wrapped, '/wrapped'],
    ] as const) {
      const guard = authenticate({ realm: 'site', schemes: [schemeUsed] });
      const url = await serve((req: IncomingMessage, res: ServerResponse) =>
        guard(req, res, () => res.end('ok')),
      );
      const response = await fetch(url);
      expect(response.status).toBe(401);
      const challenges = parseChallenges(response.headers.get('www-authenticate')!);
      expect(challenges.map((c) => c.params['algorithm'])).toEqual(['SHA-256', 'MD5']);
      for (const challenge of challenges) {
        expect(challenge.params['realm']).toBe('site');
        expect(challenge.params['domain']).toBe(domain);
        expect(challenge.params['nonce']).toMatch(/^[A-Za-z0-9_-]{60}$/);
      }
    }
  });
});
