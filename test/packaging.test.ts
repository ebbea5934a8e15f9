/**
 * The built package, as a consumer sees it: `require()` and `import` of every subpath from a
 * separate folder, and the declarations type-checked for both module systems. `npm test` builds
 * dist/ before jest runs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const consumer = path.join(root, '.tmp', 'consumer');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, unknown>;
};
const subpaths = Object.keys(pkg.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? 'authscheme' : `authscheme/${key.slice(2)}`));

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: consumer, encoding: 'utf8' });
}

/** A line of an htpasswd file for `user` with the password `pw`, as Apache's htpasswd hashes it. */
function htpasswdLine(flags: string[], user: string): string {
  return execFileSync('/usr/bin/htpasswd', ['-nb', ...flags, user, 'pw'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/**
 * The compilers a consumer's project may check our declarations with: the oldest the README
 * claims, the project's own, and the native one. Each is a devDependency (an npm alias beside
 * ours); the native one runs the binary of its platform package (`@typescript/typescript-<os>-<cpu>`).
 */
const compilers = ['typescript53', 'typescript', 'typescript7'].map((name) => {
  const dir = path.join(root, 'node_modules', name);
  const { version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    version: string;
  };
  return { version, major: Number(version.split('.')[0]), tsc: path.join(dir, 'bin', 'tsc') };
});
type Compiler = (typeof compilers)[number];

/**
 * Writes `files` and a tsconfig.json naming them into `dir`, and type-checks them with
 * `compiler` as a consumer's project: strict, Node's types, and `options`. tsc must exit 0
 * without a word.
 */
function expectTypeChecks(
  compiler: Compiler,
  dir: string,
  files: Record<string, string>,
  options: Record<string, unknown>,
): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, code] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), code);
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        types: ['node'],
        typeRoots: [path.join(root, 'node_modules', '@types')],
        ...options,
      },
      files: Object.keys(files),
    }),
  );
  const result = spawnSync(process.execPath, [compiler.tsc, '-p', dir], { encoding: 'utf8' });
  expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({
    status: 0,
    output: '',
  });
}

beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'dist', 'cjs', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  }
  fs.rmSync(consumer, { recursive: true, force: true });
  fs.mkdirSync(path.join(consumer, 'node_modules'), { recursive: true });
  fs.writeFileSync(path.join(consumer, 'package.json'), '{"name":"consumer","private":true}\n');
  // The package as npm would link it; its own dependencies resolve from the repository.
  fs.symlinkSync(root, path.join(consumer, 'node_modules', 'authscheme'), 'dir');
});

describe('the built package', () => {
  it.each(subpaths)('%s loads with require() and import, as one module instance', (name) => {
    const script = `
      const cjs = require(${JSON.stringify(name)});
      import(${JSON.stringify(name)}).then((esm) => {
        const names = Object.keys(cjs).filter((k) => k !== '__esModule').sort();
        const same = names.every((k) => esm[k] === cjs[k]);
        console.log(JSON.stringify({ names, same, esmNames: Object.keys(esm).filter((k) => k !== 'default').sort() }));
      });`;
    const out = JSON.parse(node(['-e', script])) as {
      names: string[];
      same: boolean;
      esmNames: string[];
    };
    expect(out.names.length).toBeGreaterThan(0);
    expect(out.esmNames).toEqual(out.names);
    expect(out.same).toBe(true);
  });

  /** Runs `setup` in an ES module that imported `subpath` while `peer` cannot be resolved. */
  function setUpWithout(subpath: string, peer: string, setup: string): string {
    // A preload that makes the peer unresolvable, as in a project that never installed it.
    const hide = path.join(consumer, `hide-${peer}.cjs`);
    fs.writeFileSync(
      hide,
      `const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === ${JSON.stringify(peer)}) {
    throw Object.assign(new Error("Cannot find module '${peer}'"), { code: 'MODULE_NOT_FOUND' });
  }
  return resolve.call(this, request, ...rest);
};`,
    );
    const script = `const adapter = await import(${JSON.stringify(subpath)});
const { jwtVerifier, negotiate } = adapter;
try { ${setup}; console.log('set up'); } catch (error) { console.log(error.message); }
console.log('still running');`;
    return node(['--require', hide, '--input-type=module', '-e', script]);
  }

  it.each([
    [
      'authscheme/jwt',
      'jose',
      "jwtVerifier({ secret: 'x'.repeat(32), issuer: 'i', audience: 'a' })",
    ],
    ['authscheme/negotiate', 'kerberos', "negotiate({ servicePrincipal: 'HTTP@localhost' })"],
  ])(
    '%s imports without %s installed; its setup says what to install, and nothing crashes',
    (subpath, peer, setup) => {
      const install =
        peer === 'kerberos'
          ? 'npm_config_build_from_source=kerberos npm install kerberos (with the GSSAPI headers, e.g. libkrb5-dev; see docs/negotiate.md)'
          : `npm install ${peer}`;
      expect(setUpWithout(subpath, peer, setup)).toBe(
        `${subpath} needs the optional peer dependency \`${peer}\`, which could not be loaded: ` +
          `${install}\nstill running\n`,
      );
    },
  );

  it.each([
    [
      'authscheme/negotiate',
      'kerberos',
      "negotiate({ servicePrincipal: 'HTTP@localhost', keytab: '/no/such/keytab' })",
      'negotiate(): the keytab /no/such/keytab cannot be read',
    ],
    [
      'authscheme/negotiate',
      'kerberos',
      'negotiate({})',
      'negotiate(): servicePrincipal is required',
    ],
    [
      'authscheme/jwt',
      'jose',
      "jwtVerifier({ secret: 'x'.repeat(32), issuer: 'i', audience: 'a', audiences: [] })",
      'jwtVerifier: unknown option `audiences`',
    ],
  ])('%s reports a wrong option before it misses %s', (subpath, peer, setup, message) => {
    expect(setUpWithout(subpath, peer, setup)).toContain(message);
  });

  it('exports the public contract from the root entry', () => {
    const names = JSON.parse(
      node(['-e', 'console.log(JSON.stringify(Object.keys(require("authscheme"))))']),
    ) as string[];
    for (const name of [
      'authenticate',
      'basic',
      'digest',
      'bearer',
      'MemoryNonceStore',
      'parseChallenges',
      'parseCredentials',
      'formatChallenge',
      'formatCredentials',
      'AuthHeaderSyntaxError',
      'loadHtpasswd',
      'parseHtpasswd',
    ]) {
      expect(names).toContain(name);
    }
  });

  it('authenticates a request with the built CommonJS and ESM builds', () => {
    const check = `
      const res = { headers: {}, statusCode: 200, setHeader(k, v) { this.headers[k.toLowerCase()] = v; },
        getHeader(k) { return this.headers[k.toLowerCase()]; }, hasHeader(k) { return k.toLowerCase() in this.headers; },
        removeHeader(k) { delete this.headers[k.toLowerCase()]; },
        end() { console.log(JSON.stringify({ status: this.statusCode, challenge: this.headers['www-authenticate'] })); } };
      const mw = authenticate({ realm: 'pkg', schemes: [basic({ users: { a: 'b' } })] });
      mw({ headers: {}, method: 'GET', url: '/' }, res, (err) => console.log('next', err));`;
    const cjs = node(['-e', `const { authenticate, basic } = require('authscheme');${check}`]);
    const esm = node([
      '--input-type=module',
      '-e',
      `import { authenticate, basic } from 'authscheme';${check}`,
    ]);
    const expected = { status: 401, challenge: ['Basic realm="pkg", charset="UTF-8"'] };
    expect(JSON.parse(cjs)).toEqual(expected);
    expect(JSON.parse(esm)).toEqual(expected);
  });

  it('loads the htpasswd hash libraries, and its own SHA crypt, from both builds', () => {
    const lines = [['-5', '-r', '5000'], ['-m'], ['-B', '-C', '4']].map((flags, i) =>
      htpasswdLine(flags, `u${i}`),
    );
    const file = path.join(consumer, 'htpasswd');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const check = `const f = await loadHtpasswd(${JSON.stringify(file)});
      console.log(JSON.stringify({ users: [...f.users], ok: await Promise.all(['u0', 'u1', 'u2'].map((u) => f.verify(u, 'pw'))), wrong: await f.verify('u0', 'x') }));`;
    const cjs = node([
      '-e',
      `const { loadHtpasswd } = require('authscheme'); (async () => { ${check} })();`,
    ]);
    const esm = node([
      '--input-type=module',
      '-e',
      `import { loadHtpasswd } from 'authscheme'; ${check}`,
    ]);
    const expected = {
      users: [
        ['u0', 'sha512-crypt'],
        ['u1', 'apr1'],
        ['u2', 'bcrypt'],
      ],
      ok: ['u0', 'u1', 'u2'],
      wrong: false,
    };
    expect(JSON.parse(cjs)).toEqual(expected);
    expect(JSON.parse(esm)).toEqual(expected);
  });

  it.each(['esm', 'cjs'] as const)(
    'runs from an esbuild bundle (%s), htpasswd checks included (README: bundling)',
    (format) => {
      const esbuild = require('esbuild') as typeof import('esbuild');
      const htpasswd = path.join(consumer, 'htpasswd-bundle');
      fs.writeFileSync(htpasswd, `${htpasswdLine(['-m'], 'u0')}\n`);
      const entry = path.join(consumer, 'bundle-entry.mjs');
      fs.writeFileSync(
        entry,
        `import { authenticate, basic, loadHtpasswd } from 'authscheme';
(async () => {
const file = await loadHtpasswd(${JSON.stringify(htpasswd)});
const guard = authenticate({ realm: 'b', schemes: [basic({ verify: file.verify })] });
const results = [];
for (const pass of ['pw', 'wrong']) {
  const headers = { authorization: 'Basic ' + Buffer.from('u0:' + pass).toString('base64') };
  const res = { statusCode: 200, headers: {}, setHeader(k, v) { this.headers[k] = v; }, getHeader(k) { return this.headers[k]; }, removeHeader(k) { delete this.headers[k]; }, end() { results.push(this.statusCode); } };
  await new Promise((done) => { res.end = function () { results.push(this.statusCode); done(); }; guard({ method: 'GET', url: '/', headers, rawHeaders: ['Authorization', headers.authorization] }, res, () => { results.push('next'); done(); }); });
}
console.log(JSON.stringify(results));
})();
`,
      );
      const outfile = path.join(consumer, `bundle.${format === 'esm' ? 'mjs' : 'cjs'}`);
      esbuild.buildSync({
        entryPoints: [entry],
        bundle: true,
        platform: 'node',
        format,
        outfile,
        logLevel: 'silent',
        // ES module output needs Node's require for the CommonJS build inside (README: bundling).
        banner:
          format === 'esm'
            ? {
                js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
              }
            : {},
      });
      expect(JSON.parse(node([outfile]))).toEqual(['next', 401]);
    },
  );

  it('checks htpasswd hashes on the main thread where no worker may start (permission model)', () => {
    const file = path.join(consumer, 'htpasswd-permission');
    fs.writeFileSync(file, `${htpasswdLine(['-m'], 'u0')}\n`);
    const out = node([
      // Node 20's name for the permission model; 22.13 and later call it --permission.
      process.allowedNodeEnvironmentFlags.has('--permission')
        ? '--permission'
        : '--experimental-permission',
      '--allow-fs-read=*',
      '--no-warnings',
      '-e',
      `const { loadHtpasswd } = require('authscheme');
      (async () => { const f = await loadHtpasswd(${JSON.stringify(file)});
        console.log(JSON.stringify([await f.verify('u0', 'pw'), await f.verify('u0', 'x')])); })();`,
    ]);
    expect(JSON.parse(out)).toEqual(['u0', false]);
  });

  /**
   * A consumer of every subpath: callbacks may declare `req` as Express's request, the types
   * their options name are exported, and `req.auth` is typed on Express's request. Without
   * authscheme/jwt where `jwt` is false (see the node10 consumer).
   */
  const everySubpath = (jwt: boolean): string => `import type { Request } from 'express';
import {
  authenticate,
  basic,
  type AuthInfo,
  type BodyOption,
  type DigestDetails,
  type ScopeRequirement,
} from 'authscheme';
import { createAuthFetch, type DigestAlgorithm } from 'authscheme/client';
${jwt ? "import { jwtBearer, type JwtOptions } from 'authscheme/jwt';" : ''}
import { negotiate, type NegotiateOptions } from 'authscheme/negotiate';
import { RedisNonceStore, type RedisNonceStoreOptions } from 'authscheme/redis';
const body: BodyOption = (error, req: Request) => \`\${error.status} \${req.path}\`;
const mw = authenticate({
  schemes: [basic({ verify: (user, _password, req: Request) => (req.ip ? user : false) })],
  body,
  audit: (_outcome, req: Request) => void req.ip,
});
const info: AuthInfo = { scheme: 'Basic', user: 'a' };
${jwt ? "export const jwt: JwtOptions = { jwksUri: 'https://issuer.test/jwks', issuer: 'i', audience: 'a' };" : ''}
${jwt ? 'export { jwtBearer };' : ''}
const details: DigestDetails = { role: 'admin' };
const scopes: ScopeRequirement = { anyOf: ['read'] };
const algorithms: readonly DigestAlgorithm[] = ['SHA-256'];
export const user = (req: Request): string => req.auth?.user ?? 'anonymous';
export type Options = [NegotiateOptions, RedisNonceStoreOptions];
export { mw, info, details, scopes, algorithms, createAuthFetch, negotiate, RedisNonceStore };
`;

  // Options read from the environment are `string | undefined`: they must type-check under
  // exactOptionalPropertyTypes too (the Quick Start's `secret: process.env.DIGEST_SECRET`), and
  // the README's augmentation of AuthInfo must let `req.auth.role` through
  // noPropertyAccessFromIndexSignature.
  const quickStart = `import express from 'express';
import { authenticate, basic, bearer, digest, requireScopes } from 'authscheme';
import type { RequireScopesSpec, ScopeRequirement } from 'authscheme';
import { createAuthFetch } from 'authscheme/client';
import { jwtBearer } from 'authscheme/jwt';
import type { JwtOptions } from 'authscheme/jwt';
import { RedisNonceStore } from 'authscheme/redis';

declare module 'authscheme' {
  interface AuthInfo {
    role?: string;
  }
}

const users = { alice: 'wonderland' };
const app = express();
app.use(
  authenticate({
    realm: process.env['REALM'],
    timeout: undefined,
    audit: undefined,
    schemes: [
      digest({ users, secret: process.env['DIGEST_SECRET'], realm: process.env['REALM'] }),
      basic({ users, cache: undefined }),
      bearer({ verify: () => false, realm: process.env['REALM'] }),
      jwtBearer({ jwksUri: 'https://issuer.test/jwks', issuer: 'i', audience: 'a' }),
    ],
  }),
);
app.get('/', requireScopes('read'), (req, res) => {
  const role: string | undefined = req.auth?.role;
  res.send(\`Hello, \${req.auth!.user} (\${role ?? 'no role'})\`);
});
export const client = createAuthFetch(
  { username: 'a', password: 'b' },
  { origins: undefined, verifyServer: 'require' },
);
// The other kind's fields as a config read from the environment leaves them: undefined.
export const fromEnv = createAuthFetch({
  token: process.env['API_TOKEN'] ?? 'x',
  username: undefined,
  password: undefined,
});
export const scoped = requireScopes({ anyOf: ['read'], allOf: undefined, realm: process.env['REALM'] });
export const jwtFromEnv = jwtBearer({
  jwksUri: 'https://issuer.test/jwks',
  key: undefined,
  secret: undefined,
  issuer: 'i',
  audience: 'a',
  requiredScopes: { allOf: ['read'], anyOf: undefined },
});
// Each member's other fields, typed on their own: a union member would not show a never.
export const pairFromEnv = createAuthFetch({
  username: 'a',
  password: process.env['PASSWORD'] ?? 'b',
  token: undefined,
});
export const anyOfSpec: RequireScopesSpec = { anyOf: ['read'], allOf: undefined };
export const anyOfRequirement: ScopeRequirement = { anyOf: ['read'], allOf: undefined };
export const keyed: JwtOptions = {
  key: 'PEM',
  jwksUri: undefined,
  jwks: undefined,
  secret: undefined,
  issuer: 'i',
  audience: 'a',
};
export const shared: JwtOptions = {
  secret: 'S',
  jwksUri: undefined,
  jwks: undefined,
  key: undefined,
  issuer: 'i',
  audience: 'a',
};
export type Store = RedisNonceStore;
`;

  // @types/passport (what an app moving from passport-http has) declares a global
  // `Express.AuthInfo` for passport's `req.authInfo`. Inside `namespace Express` that name is
  // found before the imported one, so our augmentation typed `req.auth` as passport's empty
  // interface: `req.auth.user` did not compile, nor did `app.use(authenticate(…))`.
  const besidePassport = `import express from 'express';
import { authenticate, basic } from 'authscheme';

// As @types/passport declares it.
declare global {
  namespace Express {
    interface AuthInfo {}
  }
}

const app = express();
app.use(authenticate({ schemes: [basic({ users: { alice: 'wonderland' } })] }));
app.get('/', (req, res) => {
  const user: string = req.auth!.user;
  res.send(user);
});
`;

  /**
   * Consumers' projects, each checked with skipLibCheck off (our declarations are checked too:
   * authscheme/jwt's refer to jose, an ES module, which a CommonJS declaration file may do only
   * with resolution-mode, TypeScript >= 5.3) by each compiler that has their options, in one tsc
   * run per compiler.
   */
  const consumers: {
    name: string;
    files: Record<string, string>;
    options: (compiler: Compiler) => Record<string, unknown>;
    by: (compiler: Compiler) => boolean;
  }[] = [
    {
      // TypeScript 7 removed node10. No `target`: TypeScript 5's default is ES5, below which it
      // refuses a declared `#private` (TS18028), as a class with private fields has. jose's
      // declarations have them, so authscheme/jwt needs ES2015 there (README).
      name: 'node10 resolution (typesVersions), CommonJS, the default target',
      files: { 'use.ts': everySubpath(false) },
      options: (compiler) => ({
        module: 'commonjs',
        moduleResolution: 'node10',
        ...(compiler.major === 6 ? { ignoreDeprecations: '6.0' } : {}),
      }),
      by: (compiler) => compiler.major < 7,
    },
    {
      // README: with TypeScript 5, authscheme/jwt needs ES2015 or later; so, every subpath.
      name: 'node10 resolution (typesVersions), CommonJS, target ES2015',
      files: { 'use.ts': everySubpath(true) },
      options: (compiler) => ({
        module: 'commonjs',
        moduleResolution: 'node10',
        target: 'es2015',
        ...(compiler.major === 6 ? { ignoreDeprecations: '6.0' } : {}),
      }),
      by: (compiler) => compiler.major < 7,
    },
    {
      name: 'node16 resolution, CommonJS and ESM, exactOptionalPropertyTypes, beside @types/passport',
      files: {
        'subpaths.cts': everySubpath(true),
        'subpaths.mts': everySubpath(true),
        'quick-start.cts': quickStart,
        'quick-start.mts': quickStart,
        'passport.cts': besidePassport,
      },
      options: () => ({
        module: 'node16',
        moduleResolution: 'node16',
        exactOptionalPropertyTypes: true,
        noPropertyAccessFromIndexSignature: true,
        noUncheckedIndexedAccess: true,
        esModuleInterop: true,
      }),
      by: () => true,
    },
    {
      // What TypeScript 7 leaves a project that had node10 and a bundler.
      name: 'bundler resolution',
      files: { 'subpaths.ts': everySubpath(true), 'quick-start.ts': quickStart },
      options: () => ({ module: 'preserve', moduleResolution: 'bundler', esModuleInterop: true }),
      by: (compiler) => compiler.major >= 7,
    },
  ];

  it.each(
    consumers.flatMap((consumer, i) =>
      compilers
        .filter(consumer.by)
        .map((compiler) => [consumer.name, compiler.version, i, compiler] as const),
    ),
  )('type-checks a consumer: %s, with TypeScript %s', (_name, _version, i, compiler) => {
    const { files, options } = consumers[i]!;
    expectTypeChecks(compiler, path.join(consumer, `types-${i}-${compiler.version}`), files, {
      skipLibCheck: false,
      ...options(compiler),
    });
  });

  // node10 resolution finds a subpath's declarations through typesVersions alone; the node10
  // consumer above leaves authscheme/jwt out.
  it('maps every subpath in typesVersions to the declarations its require condition names', () => {
    const { exports, typesVersions } = JSON.parse(
      fs.readFileSync(path.join(root, 'package.json'), 'utf8'),
    ) as {
      exports: Record<string, { require?: { types: string } }>;
      typesVersions: Record<string, Record<string, string[]>>;
    };
    const mapped = Object.fromEntries(
      Object.entries(exports)
        .filter(([key]) => key !== '.' && key !== './package.json')
        .map(([key, target]) => [key.slice(2), [target.require!.types]]),
    );
    expect(typesVersions['*']).toEqual(mapped);
  });

  // README: TypeScript >= 5.3 (the `import type … with { 'resolution-mode' }` of jwt.d.ts). Our
  // compiler writes inferred typed arrays as `Uint8Array<ArrayBufferLike>`, generic only since
  // TypeScript 5.7, which older compilers refuse even in a dependency's declarations.
  it('declares nothing that TypeScript 5.3 to 5.6 cannot read (no generic typed arrays)', () => {
    const declarations = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) return declarations(full);
        return /\.d\.m?ts$/.test(entry.name) ? [full] : [];
      });
    const files = declarations(path.join(root, 'dist'));
    expect(files.length).toBeGreaterThan(20);
    const generic = files.filter((file) =>
      /\b(?:Uint8|Uint16|Uint32|Int8|Int16|Int32|Float32|Float64|BigInt64|BigUint64)Array</.test(
        fs.readFileSync(file, 'utf8'),
      ),
    );
    expect(generic).toEqual([]);
  });
});
