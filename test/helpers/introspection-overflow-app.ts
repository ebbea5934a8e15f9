/**
 * Run as its own process (`node --import tsx`) by test/adapters/introspection.test.ts, so that the
 * process's own warnings can be counted (jest's sandboxed `process` does not see them). Two
 * introspection calls with the largest `timeout` allowed (2^31 - 1 ms) and one turn: the second
 * waits for the first, which the endpoint holds a moment. Prints what both got and the names of
 * the warnings the process emitted.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { introspection } from '../../src/index';

const warnings: string[] = [];
process.on('warning', (warning) => warnings.push(warning.name));

async function main(): Promise<void> {
  let calls = 0;
  const endpoint = http.createServer((req, res) => {
    const n = ++calls;
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      const answer = JSON.stringify({ active: true, sub: n === 1 ? 'alice' : 'bob' });
      // The first call holds the only turn for a while: the second waits meanwhile.
      setTimeout(() => res.end(answer), n === 1 ? 100 : 0);
    });
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  const verify = introspection({
    endpoint: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/introspect`,
    clientId: 'rs',
    clientSecret: 'secret',
    timeout: 2 ** 31 - 1,
    maxConcurrent: 1,
  });
  const users = await Promise.all([verify('first'), verify('second')]);
  endpoint.close();
  // process.emitWarning() emits on the next tick.
  await new Promise((resolve) => setImmediate(resolve));
  process.stdout.write(
    `${JSON.stringify({ users: users.map((u) => (typeof u === 'object' && u !== null ? u.user : u)), calls, warnings })}\n`,
  );
}

void main();
