// One protected route; the rest of the app stays open.
// Run: npx tsx examples/basic/one-route.ts, then: curl -u admin:s3cret http://localhost:3002/admin
import express from 'express';
import { authenticate, basic } from 'authscheme';

export const app = express();

const adminOnly = authenticate({
  realm: 'admin area',
  schemes: [basic({ users: { admin: 's3cret' } })],
});

app.get('/', (_req, res) => {
  res.send('Open to everyone.\n');
});

app.get('/admin', adminOnly, (req, res) => {
  res.send(`Welcome to the admin area, ${req.auth!.user}.\n`);
});

if (require.main === module) {
  const port = Number(process.env.PORT ?? 3002);
  // Express 5 hands a failed listen (EADDRINUSE) to this callback: say so, not that it listens.
  app.listen(port, (error?: Error) => {
    if (error) throw error;
    console.log(`one-route Basic example on http://localhost:${port}/admin`);
  });
}
