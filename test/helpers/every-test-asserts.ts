/**
 * Every test asserts something: a test whose assertions sit in a branch, a callback or a loop
 * that never ran fails here instead of passing silently (the project's rule: no test that asserts
 * nothing). Loaded before each test file (jest.config.js, setupFilesAfterEnv).
 */
beforeEach(() => {
  expect.hasAssertions();
});
