// The README's quick start, as a runnable (and tested) file.
// Run: npx tsx examples/quick-start/server.ts, then:
//   curl -u alice:wonderland http://localhost:3000/            # Basic
//   curl --digest -u alice:wonderland http://localhost:3000/   # Digest
import express from 'express';
import { authenticate, basic, digest } from 'authscheme';

const users = { alice: 'wonderland' };
export const app = express();

// Every route below needs credentials. Schemes are offered strongest first.
app.use(
  authenticate({
    realm: 'my app',
    schemes: [digest({ users, secret: process.env.DIGEST_SECRET }), basic({ users })],
  }),
);

app.get('/', (req, res) => {
  res.send(`Hello, ${req.auth!.user}`); // req.auth = { scheme: 'Digest', user: 'alice', ... }
});

if (require.main === module) app.listen(Number(process.env.PORT ?? 3000));
