/**
 * The optional peers of authscheme/jwt (`jose`) and authscheme/negotiate (`kerberos`), loaded at
 * setup (util/peer.ts): one that is missing, or that fails as it loads (a native addon built for
 * another Node), is a clear error from the setup call, never a verifier that lets requests
 * through or fails later. packaging.test.ts shows the same of the built package in a project
 * that never installed the peer; this runs the source, each time in a fresh copy of the module.
 */
const KERBEROS_INSTALL =
  'npm_config_build_from_source=kerberos npm install kerberos (with the GSSAPI headers, e.g. libkrb5-dev; see docs/negotiate.md)';

const setups = [
  [
    'authscheme/jwt',
    'jose',
    'npm install jose',
    () => {
      const { jwtVerifier } = require('authscheme/jwt') as typeof import('authscheme/jwt');
      jwtVerifier({ secret: 'x'.repeat(32), issuer: 'i', audience: 'a' });
    },
  ],
  [
    'authscheme/negotiate',
    'kerberos',
    KERBEROS_INSTALL,
    () => {
      const { negotiate } =
        require('authscheme/negotiate') as typeof import('authscheme/negotiate');
      negotiate({ servicePrincipal: 'HTTP@localhost' });
    },
  ],
] as const;

/**
 * What `setUp` throws, called twice, in a fresh copy of the package where loading `peer` throws
 * `failure`: a peer that failed to load is not taken for loaded the second time either.
 */
function setUpWhere(peer: string, failure: Error, setUp: () => void): unknown[] {
  const thrown: unknown[] = [];
  jest.isolateModules(() => {
    jest.doMock(peer, () => {
      throw failure;
    });
    for (let i = 0; i < 2; i++) {
      try {
        setUp();
        thrown.push('nothing was thrown');
      } catch (error) {
        thrown.push(error);
      }
    }
  });
  jest.dontMock(peer);
  return thrown;
}

describe.each(setups)('%s', (subpath, peer, install, setUp) => {
  const message = `${subpath} needs the optional peer dependency \`${peer}\`, which could not be loaded: ${install}`;

  it(`is set up without ${peer} installed: an Error saying what to install, with the loader's error as its cause`, () => {
    const missing = Object.assign(new Error(`Cannot find module '${peer}'`), {
      code: 'MODULE_NOT_FOUND',
    });
    for (const error of setUpWhere(peer, missing, setUp)) {
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe(message);
      expect((error as Error).cause).toBe(missing);
    }
  });

  it(`is set up with a ${peer} that fails as it loads: the same Error, with that failure as its cause`, () => {
    const broken = new Error(`The module '${peer}.node' was compiled against a different Node.js`);
    for (const error of setUpWhere(peer, broken, setUp)) {
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe(message);
      expect((error as Error).cause).toBe(broken);
    }
  });
});

// From a review of the peer ranges: jose before 6.0.8 exports customFetch as a type only, and the
// key set was then fetched by jose, read at any size whatever jwks.maxResponseBytes said (a
// package manager that only warns of a peer outside its range installs one).
describe('authscheme/jwt with a jose older than its range', () => {
  it('refuses jwksUri at setup when jose has no customFetch, rather than read key sets unbounded', () => {
    let thrown: unknown = 'nothing was thrown';
    jest.isolateModules(() => {
      jest.doMock('jose', () => ({ ...jest.requireActual('jose'), customFetch: undefined }));
      const { jwtVerifier } = require('authscheme/jwt') as typeof import('authscheme/jwt');
      try {
        jwtVerifier({ jwksUri: 'https://issuer.example/jwks', issuer: 'i', audience: 'a' });
      } catch (error) {
        thrown = error;
      }
    });
    jest.dontMock('jose');
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message).toMatch(/jwksUri needs jose 6\.0\.8 or later/);
  });
});
