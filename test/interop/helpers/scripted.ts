/**
 * What the scripted clients (helpers/lwp_client.pl, helpers/ruby_client.rb,
 * helpers/httpx_client.py) report of a call, how their tests read it, and the Bearer case they
 * all play the same way.
 */
import type { TestDemo } from './demo';
import { DEMO_USER } from './demo';
import { parseJson } from './run';

/**
 * One request a scripted client sent for a call, and the answer's challenges, as its script
 * reports them: fields one octet a character.
 */
export interface Exchange {
  status: number;
  authorization: string | null;
  proxyAuthorization: string | null;
  challenges: string[];
  proxyChallenges: string[];
}

/** A call's final answer, and every request the client sent for it, oldest first. */
export interface ScriptedResponse {
  status: number;
  body: string;
  exchanges: Exchange[];
}

/** The `req.auth` the server answered with. */
export const authOf = (
  response: ScriptedResponse | undefined,
): Record<string, unknown> | undefined =>
  parseJson(response?.body ?? '')?.auth as Record<string, unknown> | undefined;
export const userOf = (response: ScriptedResponse | undefined): unknown => authOf(response)?.user;
/** The Authorization field of the request that got the final answer. */
export const lastAuthorization = (response: ScriptedResponse): string | null =>
  response.exchanges.at(-1)?.authorization ?? null;
export const statuses = (response: ScriptedResponse): number[] =>
  response.exchanges.map((e) => e.status);

/**
 * Bearer, which no such client knows, the script setting the Authorization field: `send` asks
 * the demo's /bearer with its read token, then with a wrong one. `record` gets whether the token
 * let the user in, for the matrix, before the expectations: the user let in, then a 401 left
 * alone whose challenge says invalid_token.
 */
export async function expectBearer(
  demo: TestDemo,
  send: (
    requests: Array<{ method: 'GET'; url: string; bearer: string }>,
  ) => Promise<ScriptedResponse[]>,
  record: (works: boolean) => void,
): Promise<void> {
  const [good, wrong] = await send(
    [demo.demo.readToken, 'not-a-token'].map((bearer) => ({
      method: 'GET',
      url: `${demo.origin}/bearer`,
      bearer,
    })),
  );
  record(good!.status === 200);
  expect(good!.status).toBe(200);
  expect(authOf(good)).toMatchObject({ scheme: 'Bearer', user: DEMO_USER, scopes: ['read'] });
  expect(wrong!.status).toBe(401);
  expect(statuses(wrong!)).toEqual([401]);
  expect(wrong!.exchanges[0]!.challenges).toContainEqual(
    expect.stringMatching(/^Bearer .*error="invalid_token"/),
  );
}

/**
 * A token with the admin scope let into the demo's /admin, and the read token refused there with
 * 403 insufficient_scope (RFC 6750 §3.1). `record` gets whether both happened, for the matrix,
 * before the expectations.
 */
export function expectScopedBearer(
  admin: ScriptedResponse | undefined,
  readOnly: ScriptedResponse | undefined,
  record: (works: boolean) => void,
): void {
  record(admin!.status === 200 && readOnly!.status === 403);
  expect(admin!.status).toBe(200);
  expect(authOf(admin)).toMatchObject({ scheme: 'Bearer', user: DEMO_USER });
  expect(readOnly!.status).toBe(403);
  expect(readOnly!.exchanges[0]!.challenges).toContainEqual(
    expect.stringMatching(/^Bearer .*error="insufficient_scope"/),
  );
}
