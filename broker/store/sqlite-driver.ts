import { createRequire } from 'node:module';

/**
 * The part of better-sqlite3 we use, typed here: the package ships no
 * declarations and the project has no @types for it.
 */
export interface Statement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface Database {
  prepare(sql: string): Statement;
  exec(sql: string): void;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): void;
  readonly inTransaction: boolean;
}

type DatabaseConstructor = new (filename: string, options?: { timeout?: number }) => Database;

const require = createRequire(import.meta.url);

export function openDatabase(filename: string): Database {
  const Ctor = require('better-sqlite3') as DatabaseConstructor;
  return new Ctor(filename, { timeout: 5000 });
}
