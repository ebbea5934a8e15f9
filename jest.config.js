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
    // unixcrypt exports only an `import` condition, which jest's require() does not match.
    '^unixcrypt$': '<rootDir>/node_modules/unixcrypt/dist/index.js',
  },
  // jose 6 and unixcrypt are ESM-only: let ts-jest transpile them to CommonJS.
  transformIgnorePatterns: ['/node_modules/(?!(jose|unixcrypt)/)'],
  transform: { '^.+\\.[tj]sx?$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
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
  // `npm test` collects coverage of the codec, which must stay complete.
  collectCoverageFrom: ['<rootDir>/src/header/**/*.ts'],
  coverageReporters: ['text-summary'],
  coverageThreshold: {
    './src/header/': { branches: 100, functions: 100, lines: 100, statements: 100 },
  },
};
