/**
 * The same middleware mounted on every framework we support, so that middleware tests run against
 * Express 5, Express 4, Connect and plain node:http alike.
 */
import http from 'node:http';
import express5 from 'express';
import connect from 'connect';
import type { AuthMiddleware } from 'authscheme';

// The aliased Express 4 has no types of its own; its API is the part of Express 5's we use.

const express4 = require('express4') as typeof express5;

export const FRAMEWORKS = ['express5', 'express4', 'connect', 'http'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/** Header that proves the protected handler ran. */
export const HIT = 'x-handler-ran';

type Req = http.IncomingMessage & { auth?: unknown };

function handler(req: Req, res: http.ServerResponse): void {
  res.setHeader(HIT, 'yes');
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ auth: req.auth ?? null }));
}

/** Error handler for connect/node:http: status from the error (as finalhandler does), else 500. */
function sendError(err: unknown, res: http.ServerResponse): void {
  const e = err as { status?: number; headers?: Record<string, string | string[]> };
  const status = typeof e?.status === 'number' && e.status >= 400 ? e.status : 500;
  if (status !== 500 && e.headers)
    for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
  res.statusCode = status;
  res.end(status === 500 ? 'Internal Server Error' : 'Error');
}

/** A server whose every request passes `middleware` then the recording handler. */
export function mount(framework: Framework, middleware: AuthMiddleware): http.Server {
  switch (framework) {
    case 'express5':
    case 'express4': {
      const app = (framework === 'express5' ? express5 : express4)();
      app.use(middleware);
      app.use(handler);
      return http.createServer(app);
    }
    case 'connect': {
      const app = connect();
      app.use(middleware as connect.NextHandleFunction);
      app.use(handler);
      app.use((err: unknown, _req: Req, res: http.ServerResponse, _next: () => void) =>
        sendError(err, res),
      );
      return http.createServer(app);
    }
    case 'http':
      return http.createServer((req, res) => {
        middleware(req, res, (err) => {
          if (err !== undefined) sendError(err, res);
          else handler(req, res);
        });
      });
  }
}

/** Basic credentials as a client sends them. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** Sends a request; an array value is sent as several field lines (supertest cannot repeat a field). */
export function rawRequest(
  server: http.Server,
  headers: Record<string, string | string[]>,
  method = 'GET',
  path = '/',
): Promise<{
  status: number;
  headers: http.IncomingHttpHeaders;
  distinct: NodeJS.Dict<string[]>;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    const listening = server.listening ? server : server.listen(0, '127.0.0.1');
    const go = (): void => {
      const { port } = listening.address() as { port: number };
      const req = http.request({ host: '127.0.0.1', port, method, path, headers });
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            distinct: res.headersDistinct,
            body,
          }),
        );
      });
      req.on('error', reject);
      req.end();
    };
    if (listening.listening) go();
    else listening.once('listening', go);
  });
}
