// Every route of the app needs Basic credentials.
// Run: npx tsx examples/basic/app-wide.ts, then: curl -u alice:wonderland http://localhost:3001/
import express from 'express';
import { authenticate, basic } from 'authscheme';

export const app = express();

app.use(
  authenticate({
    realm: 'example',
    schemes: [basic({ users: { alice: 'wonderland', bob: 'builder' } })],
  }),
);

app.get('/', (req, res) => {
  res.send(`Hello, ${req.auth!.user}!\n`);
});

if (require.main === module) {
  const port = Number(process.env.PORT ?? 3001);
  // Express 5 hands a failed listen (EADDRINUSE) to this callback: say so, not that it listens.
  app.listen(port, (error?: Error) => {
    if (error) throw error;
    console.log(`app-wide Basic example on http://localhost:${port}/`);
  });
}
