/**
 * With a `users` map of plain passwords, the first request naming a known user must not do more
 * work than one naming an unknown user: otherwise the first probe of a name tells whether the
 * user exists. Digest computes every user's HA1 for a realm at once (src/schemes/digest/lookup.ts),
 * together with the unknown users' (dummy) HA1, so both cost the same number of HA1 computations,
 * the very first request of a realm included.
 */
import { authenticate, digest } from 'authscheme';
import * as algorithms from '../../src/schemes/digest/algorithms';
import { digestAnswer, digestHeader, send, start } from './helpers';

/** A fresh server, and the HA1 computations of one refused request naming `user`. */
async function coldProbe(user: string, warm?: string): Promise<number> {
  const target = await start(
    authenticate({
      realm: 't',
      schemes: [digest({ users: { alice: 'a', bob: 'b' }, secret: 't'.repeat(32) })],
    }),
  );
  try {
    const probe = async (name: string): Promise<number> => {
      const a = await digestAnswer(target, name, 'wrong');
      const spy = jest.spyOn(algorithms, 'hashCredentials');
      expect((await send(target, { Authorization: digestHeader(a) })).status).toBe(401);
      const calls = spy.mock.calls.length;
      spy.mockRestore();
      return calls;
    };
    if (warm !== undefined) await probe(warm);
    return await probe(user);
  } finally {
    await target.close();
  }
}

it('an unknown user and a never-seen known user cost the same number of HA1 computations', async () => {
  // After another probe of the realm (observed before the HA1 table: 1 vs 0)…
  expect(await coldProbe('bob', 'mallory')).toBe(await coldProbe('trudy', 'mallory'));
  // …and as the very first request of the realm (observed before the dummy was eager: 2 vs 3).
  expect(await coldProbe('bob')).toBe(await coldProbe('trudy'));
});
