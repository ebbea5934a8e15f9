/** RFC 6750 §2.2 (form body) and §2.3 (URI query), and "one method only" (§2). */
import express from 'express';
import request from 'supertest';
import { parseChallenges } from '../../../src/header';
import { bearerApp, HIT, tableVerify } from './helpers';

const verify = tableVerify({ good: { user: 'alice', scopes: 'read' }, other: 'bob' });
const form = [express.urlencoded({ extended: false })];
const formExtended = [express.urlencoded({ extended: true })];

function errorOf(header: unknown): string | undefined {
  const [challenge] = parseChallenges(header as string);
  return challenge?.params['error'];
}

describe('bearer(): token in the query (RFC 6750 §2.3)', () => {
  const app = bearerApp({ verify, allowQueryToken: true });

  it('accepts access_token from the query and marks the response Cache-Control: private', async () => {
    const res = await request(app).get('/items?x=1&access_token=good');
    expect(res.status).toBe(200);
    expect(res.body.auth.user).toBe('alice');
    expect(res.headers['cache-control']).toBe('private');
  });

  it('keeps a stricter Cache-Control (the app’s, or the cacheControl option) and adds private to a looser one', async () => {
    const setBefore = (value: string): express.RequestHandler[] => [
      (_req, res, next) => {
        res.setHeader('Cache-Control', value);
        next();
      },
    ];
    const cases: [express.Express, string][] = [
      [bearerApp({ verify, allowQueryToken: true }, {}, setBefore('no-store')), 'no-store'],
      [bearerApp({ verify, allowQueryToken: true }, { cacheControl: 'no-store' }), 'no-store'],
      [
        bearerApp({ verify, allowQueryToken: true }, {}, setBefore('max-age=60')),
        'max-age=60, private',
      ],
      [
        bearerApp({ verify, allowQueryToken: true }, { cacheControl: 'max-age=5' }),
        'max-age=5, private',
      ],
      // A qualified private="field" still lets shared caches store the rest (RFC 9111 §5.2.2.7);
      // commas inside a quoted argument do not split; public and s-maxage contradict private.
      [
        bearerApp(
          { verify, allowQueryToken: true },
          {},
          setBefore('private="Set-Cookie", max-age=5'),
        ),
        'private="Set-Cookie", max-age=5, private',
      ],
      [
        bearerApp({ verify, allowQueryToken: true }, {}, setBefore('no-cache="a,private,b"')),
        'no-cache="a,private,b", private',
      ],
      [
        bearerApp(
          { verify, allowQueryToken: true },
          {},
          setBefore('public, max-age=600, s-maxage=60'),
        ),
        'max-age=600, private',
      ],
      [
        bearerApp({ verify, allowQueryToken: true }, {}, setBefore('PRIVATE, max-age=5')),
        'PRIVATE, max-age=5',
      ],
      // A quote left open would swallow what is added after it.
      [
        bearerApp({ verify, allowQueryToken: true }, {}, setBefore('no-cache="x, max-age=5')),
        'no-store',
      ],
    ];
    for (const [withCacheControl, expected] of cases) {
      const res = await request(withCacheControl).get('/?access_token=good');
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe(expected);
    }
    // A token in the header leaves the option's value alone.
    const header = bearerApp({ verify, allowQueryToken: true }, { cacheControl: 'max-age=5' });
    const res = await request(header).get('/').set('Authorization', 'Bearer good');
    expect(res.headers['cache-control']).toBe('max-age=5');
  });

  it('refuses a bad query token 401 invalid_token with Cache-Control: no-store', async () => {
    const res = await request(app).get('/?access_token=bad');
    expect(res.status).toBe(401);
    expect(errorOf(res.headers['www-authenticate'])).toBe('invalid_token');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers a token in the header and in the query 400 invalid_request', async () => {
    const res = await request(app).get('/?access_token=good').set('Authorization', 'Bearer good');
    expect(res.status).toBe(400);
    expect(errorOf(res.headers['www-authenticate'])).toBe('invalid_request');
    expect(res.headers[HIT]).toBeUndefined();
  });

  it.each([
    ['twice', '/?access_token=good&access_token=good'],
    ['empty', '/?access_token='],
    ['outside b64token syntax', '/?access_token=a%20b'],
  ])('answers a query token given %s 400 invalid_request', async (_name, path) => {
    const res = await request(app).get(path);
    expect(res.status).toBe(400);
    expect(errorOf(res.headers['www-authenticate'])).toBe('invalid_request');
  });

  it('ignores the query when not enabled (default)', async () => {
    const res = await request(bearerApp({ verify })).get('/?access_token=good');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="example"');
  });

  it('reads the query of the original URL under a mounted router', async () => {
    const outer = express();
    outer.use('/api', app);
    const res = await request(outer).get('/api/x?access_token=good');
    expect(res.status).toBe(200);
  });
});

describe('bearer(): token in the form body (RFC 6750 §2.2)', () => {
  const app = bearerApp({ verify, allowFormToken: true }, {}, form);

  it('accepts access_token from a POST urlencoded body', async () => {
    const res = await request(app).post('/').type('form').send('access_token=good&x=1');
    expect(res.status).toBe(200);
    expect(res.body.auth.user).toBe('alice');
  });

  it('accepts a charset parameter on the content type', async () => {
    const res = await request(app)
      .put('/')
      .set('Content-Type', 'Application/X-WWW-Form-Urlencoded; charset=utf-8')
      .send('access_token=good');
    expect(res.status).toBe(200);
  });

  it('refuses a token longer than the header could carry (limits.maxLength) with invalid_request, without calling the verifier', async () => {
    let calls = 0;
    const counting = (...args: Parameters<typeof verify>) => {
      calls++;
      return verify(...args);
    };
    const limited = bearerApp(
      { verify: counting, allowFormToken: true },
      { limits: { maxLength: 64 } },
      [express.urlencoded({ extended: false, limit: '1mb' })],
    );
    // 'Bearer ' + 57 characters is 64, the longest field the header could carry.
    const fits = await request(limited)
      .post('/')
      .type('form')
      .send(`access_token=${'a'.repeat(57)}`);
    expect(fits.status).toBe(401);
    expect(calls).toBe(1);
    const long = await request(limited)
      .post('/')
      .type('form')
      .send(`access_token=${'a'.repeat(58)}`);
    expect(long.status).toBe(400);
    expect(errorOf(long.headers['www-authenticate'])).toBe('invalid_request');
    const huge = await request(limited)
      .post('/')
      .type('form')
      .send(`access_token=${'a'.repeat(500_000)}`);
    expect(huge.status).toBe(400);
    expect(calls).toBe(1);
  });

  it('ignores the body of a GET request', async () => {
    const res = await request(app).get('/').type('form').send('access_token=good');
    expect(res.status).toBe(401);
    expect(errorOf(res.headers['www-authenticate'])).toBeUndefined();
  });

  it('ignores a JSON body', async () => {
    const json = bearerApp({ verify, allowFormToken: true }, {}, [express.json()]);
    const res = await request(json).post('/').send({ access_token: 'good' });
    expect(res.status).toBe(401);
  });

  it('ignores a multipart body', async () => {
    const res = await request(app).post('/').field('access_token', 'good');
    expect(res.status).toBe(401);
  });

  it('answers a token in the header and in the body 400 invalid_request', async () => {
    const res = await request(app)
      .post('/')
      .set('Authorization', 'Bearer good')
      .type('form')
      .send('access_token=good');
    expect(res.status).toBe(400);
    expect(errorOf(res.headers['www-authenticate'])).toBe('invalid_request');
  });

  it('answers a repeated access_token field 400 invalid_request', async () => {
    const extended = bearerApp({ verify, allowFormToken: true }, {}, formExtended);
    const res = await request(extended)
      .post('/')
      .type('form')
      .send('access_token=good&access_token=other');
    expect(res.status).toBe(400);
    expect(errorOf(res.headers['www-authenticate'])).toBe('invalid_request');
  });

  it('answers a token in the body and in the query 400 invalid_request', async () => {
    const both = bearerApp({ verify, allowFormToken: true, allowQueryToken: true }, {}, form);
    const res = await request(both)
      .post('/?access_token=good')
      .type('form')
      .send('access_token=good');
    expect(res.status).toBe(400);
    expect(errorOf(res.headers['www-authenticate'])).toBe('invalid_request');
  });

  it('ignores the body when not enabled (default)', async () => {
    const off = bearerApp({ verify }, {}, form);
    const res = await request(off).post('/').type('form').send('access_token=good');
    expect(res.status).toBe(401);
  });
});
