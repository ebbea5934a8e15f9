/**
 * Work refused past a queue's bounds (Slots: bcrypt compares, GSSAPI turns, introspection calls;
 * the hash threads) is ERR_AUTH_STORE_FAILURE with status 503, so that Express's default error
 * handler answers "overloaded for now" (RFC 9110 §15.6.4), not 500.
 */
import express from 'express';
import request from 'supertest';
import { authenticate, basic } from 'authscheme';
import { Slots } from '../../src/util/slots';

describe('a check refused past its queue', () => {
  it('is a 503 from Express, past the waiting bound and past the waiting time', async () => {
    const slots = new Slots({
      slots: 1,
      maxWaiting: 1,
      maxWaitMs: 1000,
      waited: 'waited more than {ms} ms',
      full: 'queue full',
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const app = express();
    app.use(
      authenticate({
        schemes: [basic({ verify: (user) => slots.run(async () => (await gate, user)) })],
      }),
    );
    app.get('/', (_req, res) => res.send('ok'));
    const auth = `Basic ${Buffer.from('alice:pw').toString('base64')}`;
    const server = app.listen(0, '127.0.0.1');
    try {
      const until = async (condition: () => boolean): Promise<void> => {
        while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
      };
      const first = request(server)
        .get('/')
        .set('Authorization', auth)
        .then((r) => r.status);
      await until(() => slots.running === 1);
      const waiting = request(server)
        .get('/')
        .set('Authorization', auth)
        .then((r) => r.status);
      await until(() => slots.waiting === 1);
      const full = await request(server).get('/').set('Authorization', auth);
      expect(full.status).toBe(503);
      // The one that waited longer than maxWaitMs: 503 too.
      expect(await waiting).toBe(503);
      release();
      expect(await first).toBe(200);
    } finally {
      server.close();
    }
  });
});
