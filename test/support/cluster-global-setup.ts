import type { TestProject } from 'vitest/node';
import { startTestPostgres, type TestPostgres } from './postgres.js';

/** The `clustered` project's PostgreSQL: one throwaway cluster for the run (test/support/backend.ts). */
let pg: TestPostgres | undefined;

export async function setup(project: TestProject): Promise<void> {
  pg = await startTestPostgres();
  project.provide('postgresAdminUrl', pg.url());
}

export async function teardown(): Promise<void> {
  await pg?.stop();
}
