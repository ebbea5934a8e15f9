/**
 * With a `users` map of plain passwords, the first request naming a known user must not do more
 * work than one naming an unknown user: otherwise the first probe of a name tells whether the
 * user exists. Digest computes every user's HA1 for a realm at once (src/schemes/digest/lookup.ts),
 * so both cost the same number of HA1 computations.
 */
import { authenticate, digest } from 'authscheme';
import * as algorithms from '../../src/schemes/digest/algorithms';
import { digestAnswer, digestHeader, send, start } from './helpers';

it('an unknown user and a never-seen known user cost the same number of HA1 computations', async () => {
  const target = await start(
    authenticate({
      realm: 't',
      schemes: [digest({ users: { alice: 'a', bob: 'b' }, secret: 't'.repeat(32) })],
    }),
  );
  try {
    const probe = async (user: string): Promise<number> => {
      const a = await digestAnswer(target, user, 'wrong');
      const spy = jest.spyOn(algorithms, 'hashCredentials');
      expect((await send(target, { Authorization: digestHeader(a) })).status).toBe(401);
      const calls = spy.mock.calls.length;
      spy.mockRestore();
      return calls;
    };
    await probe('mallory'); // warm the dummy HA1 of this realm
    expect(await probe('bob')).toBe(await probe('trudy')); // observed: 1 vs 0
  } finally {
    await target.close();
  }
});
