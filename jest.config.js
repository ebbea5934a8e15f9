/** @type {import('jest').Config} */
const common = {
  preset: 'ts-jest/presets/js-with-ts',
  testEnvironment: 'node',
  // Tests import the package by its name, mapped to src/ (the built output is tested in packaging.test.ts).
  moduleNameMapper: {
    '^authscheme$': '<rootDir>/src/index.ts',
    '^authscheme/jwt$': '<rootDir>/src/adapters/jwt.ts',
    '^authscheme/negotiate$': '<rootDir>/src/adapters/kerberos.ts',
    '^authscheme/redis$': '<rootDir>/src/adapters/redis.ts',
    '^authscheme/client$': '<rootDir>/src/client/index.ts',
  },
  // jose 6 is ESM-only: let ts-jest transpile it to CommonJS.
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  transform: { '^.+\\.[tj]sx?$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  setupFilesAfterEnv: ['<rootDir>/test/helpers/every-test-asserts.ts'],
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/test/interop/'],
    },
    { ...common, displayName: 'interop', testMatch: ['<rootDir>/test/interop/**/*.test.ts'] },
  ],
  // Jest's default of 5 s per test or hook is no bound anything here promises: on CI's two busy
  // cores a test that starts Python or curl a few times, 30 worker threads or 100 supertest
  // servers took longer (and failed). A bound that matters is asserted in its test (a request's
  // time, a timeout's, CPU time); this one only ends a test that hangs. Files that set their own
  // (jest.setTimeout) keep it. jest-circus reads it from here, not from a project.
  testTimeout: 30_000,
  // `npm test` collects coverage of the codec, which must stay complete.
  collectCoverageFrom: ['<rootDir>/src/header/**/*.ts'],
  coverageReporters: ['text-summary'],
  coverageThreshold: {
    './src/header/': { branches: 100, functions: 100, lines: 100, statements: 100 },
  },
};
