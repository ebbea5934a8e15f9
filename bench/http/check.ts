/**
 * Correctness before speed: a scenario is measured only once a plain Node client, over keep-alive
 * connections, got exactly what it must: the status, the body `ok` on a 200, a challenge on a 401,
 * and for Digest a handshake and then every request on the held nonce accepted.
 */
import { Agent, request } from 'node:http';
import { DigestSession, pickDigestChallenge } from './digest-client';
import type { AuthSpec } from './wrk';

export interface Answer {
  status: number;
  body: string;
  challenge: string | string[] | undefined;
  /** The Authentication-Info header (Digest), if any. */
  info: string | string[] | undefined;
}

/** One GET on `agent`, with the body read. */
export function get(agent: Agent, url: string, authorization: string | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { agent, headers: authorization === undefined ? {} : { authorization } },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            challenge: res.headers['www-authenticate'],
            info: res.headers['authentication-info'],
          }),
        );
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.once('error', reject);
    req.end();
  });
}

/** Sends `count` requests, `parallel` at a time; returns what was wrong (empty when all is well). */
export async function checkScenario(
  url: string,
  auth: AuthSpec,
  expectStatus: 200 | 401,
  count = 40,
  parallel = 2,
): Promise<string[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: parallel });
  const problems: string[] = [];
  const statuses: Record<number, number> = {};
  const client = async (share: number): Promise<void> => {
    const digest = auth.kind === 'digest' ? new DigestSession(auth.user, auth.password) : undefined;
    for (let i = 0; i < share; i++) {
      let authorization = auth.kind === 'header' ? auth.value : undefined;
      if (digest !== undefined) {
        if (!digest.hasNonce) {
          const handshake = await get(agent, url, undefined);
          const challenge = pickDigestChallenge(handshake.challenge);
          if (handshake.status !== 401 || challenge === undefined) {
            problems.push(`handshake answered ${handshake.status} without a Digest challenge`);
            return;
          }
          digest.accept(challenge);
        }
        authorization = digest.authorization('GET', new URL(url).pathname);
      }
      const answer = await get(agent, url, authorization);
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      if (answer.status !== expectStatus) problems.push(`status ${answer.status}`);
      else if (answer.status === 200 && answer.body !== 'ok') problems.push('body is not "ok"');
      else if (answer.status === 401 && answer.challenge === undefined)
        problems.push('401 without a challenge');
    }
  };
  try {
    await Promise.all(Array.from({ length: parallel }, () => client(count / parallel)));
  } finally {
    agent.destroy();
  }
  const unique = [...new Set(problems)];
  if (unique.length > 0) unique.push(`statuses ${JSON.stringify(statuses)}`);
  return unique;
}
