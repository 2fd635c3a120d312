import { defineConfig } from 'vitest/config';

/**
 * Two projects: every test as it is (one server process, SQLite), and the
 * `clustered` project, which runs the end-to-end and attack suites again
 * against two broker processes on PostgreSQL and Redis (issue 18;
 * test/support/backend.ts).
 */
const CLUSTERED_SUITES = [
  'test/e2e/fig16.test.ts',
  'test/e2e/conflict.test.ts',
  'test/e2e/auth.test.ts',
  'test/e2e/registration.test.ts',
  'test/e2e/pin-disabled.test.ts',
  'test/e2e/upload-chunks.test.ts',
  'test/attacks/registration.attack.test.ts',
  'test/attacks/guessing.attack.test.ts',
];

export default defineConfig({
  test: {
    exclude: ['node_modules/**', 'test/fixtures/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'embedded', include: ['**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'clustered',
          include: CLUSTERED_SUITES,
          env: { SIMSYNC_TEST_BACKEND: 'cluster' },
          globalSetup: ['test/support/cluster-global-setup.ts'],
        },
      },
    ],
  },
});
