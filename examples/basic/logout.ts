// Signing out of Basic and Digest in a browser. HTTP authentication has no session on the server to
// end: the browser keeps what the user typed in a cache of its own, per origin, realm and scheme,
// and sends it (the password for Basic, a hash of it for Digest) with every request. Signing out
// means making the browser drop that cache entry, and a browser drops an entry the server rejects.
// So: a script sends deliberately wrong credentials, through XMLHttpRequest's user and password, to
// a route that answers every request 401 with the realm's challenges. The browser puts them in
// place of the cached ones for the realm, then drops them on the 401, with no login dialog; the
// next page of the realm gets a 401 and the dialog. The same for Basic and Digest (a route each:
// each scheme and realm has an entry of its own). Measured in Chromium by
// test/interop/chromium-logout.test.ts and in Firefox by test/interop/firefox-logout.test.ts;
// README "Signing out in browsers" says how they differ and what does not work.
// Run: npx tsx examples/basic/logout.ts, open http://localhost:3005/basic/ (alice / secret), and
// press "Sign out".
import express, { type RequestHandler } from 'express';
import { authenticate, basic, digest } from 'authscheme';
// A user name is the client's text: escaped before it goes into HTML.
import { escapeHtml } from '../demo/html';

const users = { alice: 'secret' };

/** The page of a signed-in user, with a button that signs out of `area` (`/basic`, `/digest`). */
function page(area: string): RequestHandler {
  return (req, res) => {
    res.type('html').send(`<!doctype html>
<title>${area}</title>
<p>Hello, ${escapeHtml(req.auth!.user)} (${req.auth!.scheme}).</p>
<button id="sign-out">Sign out</button>
<script>
  document.getElementById('sign-out').onclick = () => {
    const xhr = new XMLHttpRequest();
    // Wrong on purpose: the browser caches them in place of the user's, then drops them on the 401.
    xhr.open('GET', '${area}/logout', true, 'signed-out', 'signed-out');
    xhr.onloadend = () => location.assign('/signed-out');
    xhr.send();
  };
</script>
`);
  };
}

/**
 * The sign-out route of a guard: its own 401 (the same realm, schemes and challenges) whatever the
 * request carries. Removing the credentials first makes it a request without any, so `audit`
 * reports it as such (`ERR_AUTH_MISSING_CREDENTIALS`), not as a wrong password to count toward a
 * lockout. The 401 must carry the challenges: not behind `omitChallenge` or `omitChallengeForXhr`
 * (without a challenge the browser never sends the wrong credentials and keeps the right ones).
 */
function signOut(guard: RequestHandler): RequestHandler[] {
  const forget: RequestHandler = (req, _res, next) => {
    delete req.headers.authorization;
    next();
  };
  return [forget, guard];
}

const basicGuard = authenticate({ realm: 'basic area', schemes: [basic({ users })] });
const digestGuard = authenticate({
  realm: 'digest area',
  schemes: [digest({ users, secret: process.env.DIGEST_SECRET })],
});

export const app = express();

app.get('/', (_req, res) => {
  res.type('html').send('<a href="/basic/">Basic</a> <a href="/digest/">Digest</a>\n');
});
app.get('/signed-out', (_req, res) => {
  res.type('html').send('<p>Signed out. <a href="/">Sign in again</a></p>\n');
});

// Before the guards: `app.use('/basic', basicGuard)` would answer /basic/logout itself.
app.get('/basic/logout', ...signOut(basicGuard));
app.get('/digest/logout', ...signOut(digestGuard));

app.use('/basic', basicGuard);
app.get('/basic/', page('/basic'));
app.use('/digest', digestGuard);
app.get('/digest/', page('/digest'));

if (require.main === module) {
  const port = Number(process.env.PORT ?? 3005);
  // Express 5 hands a failed listen (EADDRINUSE) to this callback: say so, not that it listens.
  app.listen(port, (error?: Error) => {
    if (error) throw error;
    console.log(`sign-out example on http://localhost:${port}/basic/ and /digest/`);
  });
}
