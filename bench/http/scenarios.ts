/**
 * The measured scenarios: which server, which client behaviour, which status it must get, and
 * what it is compared with. Each scenario runs on a server process of its own (run-http.ts).
 */
import type { ServerId } from './servers';

/** `calibration`: no authentication; one thing our middleware does, alone (see servers.ts). */
export type Group =
  'baseline' | 'calibration' | 'basic' | 'digest' | 'bearer' | 'jwt' | 'jwt-cached';
type AuthGroup = Exclude<Group, 'baseline' | 'calibration'>;
export type ClientAuth = 'none' | 'basic' | 'digest' | 'bearer' | 'jwt';

export interface Scenario {
  /** Unique, stable: `<stack>/<group>/<path>/<implementation>`. */
  id: string;
  /** Short label for tables and the chart. */
  label: string;
  group: Group;
  stack: 'express' | 'http';
  /** `ok`: valid credentials, expects 200. `401`: no credentials, expects 401. */
  path: 'ok' | '401';
  implementation: string;
  ours: boolean;
  server: ServerId;
  client: ClientAuth;
  expect: 200 | 401;
  /** The unauthenticated server of the same stack: overhead and ratios are taken against it. */
  baseline: 'express-bare' | 'http-bare';
}

/** Titles of the authenticating groups (baseline and calibration rows carry their own labels). */
const GROUP_TITLE: Record<AuthGroup, string> = {
  basic: 'Basic',
  digest: 'Digest',
  bearer: 'Bearer',
  jwt: 'JWT ES256',
  'jwt-cached': 'JWT ES256 cached',
};

interface Entry {
  implementation: string;
  server: ServerId;
  ours?: boolean;
}

/** Express-mounted implementations per group; peers beside ours on the same scenario. */
const EXPRESS: Record<AuthGroup, { client: ClientAuth; entries: Entry[] }> = {
  basic: {
    client: 'basic',
    entries: [
      { implementation: 'authscheme', server: 'ours-basic', ours: true },
      { implementation: 'express-basic-auth', server: 'express-basic-auth' },
      { implementation: 'passport-http', server: 'passport-basic' },
      { implementation: 'http-auth', server: 'http-auth-basic' },
    ],
  },
  digest: {
    client: 'digest',
    entries: [
      { implementation: 'authscheme SHA-256', server: 'ours-digest', ours: true },
      { implementation: 'passport-http MD5', server: 'passport-digest' },
      { implementation: 'http-auth MD5', server: 'http-auth-digest' },
    ],
  },
  bearer: {
    client: 'bearer',
    entries: [
      { implementation: 'authscheme', server: 'ours-bearer', ours: true },
      { implementation: 'passport-http-bearer', server: 'passport-bearer' },
    ],
  },
  jwt: {
    client: 'jwt',
    entries: [
      { implementation: 'authscheme', server: 'ours-jwt', ours: true },
      { implementation: 'express-oauth2-jwt-bearer', server: 'oauth2-jwt-bearer' },
    ],
  },
  'jwt-cached': {
    client: 'jwt',
    entries: [
      // The peer has no validation cache: ours cached is compared with the `jwt` group's peer.
      { implementation: 'authscheme cached', server: 'ours-jwt-cached', ours: true },
    ],
  },
};

/** Ours mounted on plain node:http, against bare node:http. */
const PLAIN_HTTP: { group: AuthGroup; server: ServerId; client: ClientAuth }[] = [
  { group: 'basic', server: 'ours-basic-http', client: 'basic' },
  { group: 'digest', server: 'ours-digest-http', client: 'digest' },
  { group: 'bearer', server: 'ours-bearer-http', client: 'bearer' },
  { group: 'jwt', server: 'ours-jwt-http', client: 'jwt' },
  { group: 'jwt-cached', server: 'ours-jwt-cached-http', client: 'jwt' },
];

export function allScenarios(): Scenario[] {
  const list: Scenario[] = [
    {
      id: 'http/baseline/ok/node:http',
      label: 'node:http, no auth',
      group: 'baseline',
      stack: 'http',
      path: 'ok',
      implementation: 'node:http',
      ours: false,
      server: 'http-bare',
      client: 'none',
      expect: 200,
      baseline: 'http-bare',
    },
    {
      id: 'express/baseline/ok/express',
      label: 'Express, no auth',
      group: 'baseline',
      stack: 'express',
      path: 'ok',
      implementation: 'Express 5',
      ours: false,
      server: 'express-bare',
      client: 'none',
      expect: 200,
      baseline: 'express-bare',
    },
  ];
  const calibrations: {
    name: string;
    label: string;
    express?: ServerId;
    http?: ServerId;
    client?: ClientAuth;
  }[] = [
    {
      name: 'garbage',
      label: '1.2 KB of garbage, no auth',
      express: 'express-garbage',
      http: 'http-garbage',
    },
    {
      name: 'auth-property',
      label: 'req.auth set, no auth',
      express: 'express-auth-property',
      http: 'http-auth-property',
    },
    {
      name: 'digest-standin',
      label: 'Digest stand-in (handshake and headers, no checks)',
      express: 'express-digest-standin',
      http: 'http-digest-standin',
      client: 'digest',
    },
    // The least code with the duties the Bearer and Digest targets measure (floors.ts).
    {
      name: 'bearer-floor',
      label: 'Bearer floor (token, duplicate check, Vary; no req.auth)',
      express: 'express-bearer-floor',
      http: 'http-bearer-floor',
      client: 'bearer',
    },
    {
      name: 'bearer-floor-auth',
      label: 'Bearer floor with req.auth (as ours hands it over)',
      express: 'express-bearer-floor-auth',
      http: 'http-bearer-floor-auth',
      client: 'bearer',
    },
    {
      name: 'digest-floor',
      label: 'Digest floor (SHA-256, nc, uri, rspauth, Vary; no req.auth)',
      express: 'express-digest-floor',
      http: 'http-digest-floor',
      client: 'digest',
    },
    {
      name: 'digest-floor-auth',
      label: 'Digest floor with req.auth (as ours hands it over)',
      express: 'express-digest-floor-auth',
      http: 'http-digest-floor-auth',
      client: 'digest',
    },
    // On Express, mounted on the route (`app.get('/', guard, send)`) rather than with `app.use`:
    // Express's router then does no work of its own for the guard (bench/ic-misses.ts).
    { name: 'empty', label: 'a middleware that only calls next()', express: 'express-empty' },
    {
      name: 'bearer-route',
      label: 'authscheme Bearer, on the route',
      express: 'express-bearer-route',
      client: 'bearer',
    },
    {
      name: 'bearer-floor-route',
      label: 'Bearer floor, on the route',
      express: 'express-bearer-floor-route',
      client: 'bearer',
    },
    {
      name: 'digest-route',
      label: 'authscheme Digest SHA-256, on the route',
      express: 'express-digest-route',
      client: 'digest',
    },
    {
      name: 'digest-floor-route',
      label: 'Digest floor, on the route',
      express: 'express-digest-floor-route',
      client: 'digest',
    },
    // What Express does to every request, on plain node:http: alone, then with our Bearer behind it.
    { name: 'prototype-swap', label: "Express's prototype swap, no auth", http: 'http-swap' },
    {
      name: 'prototype-swap-bearer',
      label: "Express's prototype swap + authscheme Bearer",
      http: 'http-swap-bearer',
      client: 'bearer',
    },
  ];
  for (const calibration of calibrations) {
    for (const stack of ['express', 'http'] as const) {
      const server = calibration[stack];
      if (server === undefined) continue;
      list.push({
        id: `${stack}/calibration/ok/${calibration.name}`,
        label: `${stack === 'express' ? 'Express' : 'node:http'} + ${calibration.label}`,
        group: 'calibration',
        stack,
        path: 'ok',
        implementation: 'calibration',
        ours: false,
        server,
        client: calibration.client ?? 'none',
        expect: 200,
        baseline: stack === 'express' ? 'express-bare' : 'http-bare',
      });
    }
  }
  for (const [group, { client, entries }] of Object.entries(EXPRESS) as [
    AuthGroup,
    (typeof EXPRESS)[keyof typeof EXPRESS],
  ][]) {
    for (const path of ['ok', '401'] as const) {
      // Without credentials the cache plays no part: that 401 path is measured in `jwt`.
      if (group === 'jwt-cached' && path === '401') continue;
      for (const entry of entries) {
        list.push({
          id: `express/${group}/${path}/${entry.implementation}`,
          label: `${GROUP_TITLE[group]}${path === '401' ? ' 401' : ''} · ${entry.implementation}`,
          group,
          stack: 'express',
          path,
          implementation: entry.implementation,
          ours: entry.ours === true,
          server: entry.server,
          client: path === 'ok' ? client : 'none',
          expect: path === 'ok' ? 200 : 401,
          baseline: 'express-bare',
        });
      }
    }
  }
  for (const { group, server, client } of PLAIN_HTTP) {
    list.push({
      id: `http/${group}/ok/authscheme`,
      label: `node:http ${GROUP_TITLE[group]} · authscheme`,
      group,
      stack: 'http',
      path: 'ok',
      implementation: 'authscheme',
      ours: true,
      server,
      client,
      expect: 200,
      baseline: 'http-bare',
    });
  }
  return list;
}

/** The group whose peers a group is compared with. */
export function peerGroup(group: Group): Group {
  return group === 'jwt-cached' ? 'jwt' : group;
}
