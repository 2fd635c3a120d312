import { TypeOverrides, types } from 'pg';
import {
  type AkaSql,
  type AuditSql,
  type CodeSql,
  category,
  type RecordSql,
  type SubscriberSql,
  type TerminalSql,
  terminalRow,
} from './sqlite-rows.js';
import type { ChangeLogEntry, TerminalRow } from './sync-store.js';

/**
 * PostgreSQL rows as pg returns them, and their mapping to the SyncStore
 * types. The columns are those of SQLite (migrations.ts), so the engine-neutral
 * mappers of sqlite-rows.ts serve both; only PostgreSQL's BOOLEAN columns
 * differ from SQLite's 0/1.
 */

export type { StagingSql } from './sqlite-rows.js';
export { akaRow, auditEntry, codeRow, stagingRow, storedRecord, subscriberRow } from './sqlite-rows.js';
export type { AkaSql, AuditSql, CodeSql, RecordSql, SubscriberSql };

/**
 * BIGINT as a number, not pg's default string: times are ms since the epoch
 * and sequence numbers count changes, both far below 2^53.
 */
export function storeTypes(): TypeOverrides {
  const overrides = new TypeOverrides();
  overrides.setTypeParser(types.builtins.INT8, (text: string) => Number(text));
  return overrides;
}

export interface TerminalPg extends Omit<TerminalSql, 'revoked'> {
  revoked: boolean;
}

export const pgTerminalRow = (r: TerminalPg): TerminalRow =>
  terminalRow({ ...r, revoked: r.revoked ? 1 : 0 });

export interface ChangePg {
  seq: number;
  category: number;
  record_id: string;
  origin: string;
  deleted: boolean;
  at: number;
}

export const changeEntry = (r: ChangePg): ChangeLogEntry => ({
  seq: r.seq,
  category: category(r.category),
  recordId: r.record_id,
  origin: r.origin,
  deleted: r.deleted,
  at: r.at,
});

/** Column lists, so a SELECT reads what the mappers use and no more. */
export const SUBSCRIBER_COLUMNS = 'subscriber, iccid, login_password_hash, created_at';
export const TERMINAL_COLUMNS =
  'terminal_id, subscriber, password_hash, categories, credential_hash, revoked, created_at, last_seen_at, ' +
  'last_batch, last_ack, filters';
export const AKA_COLUMNS = 'subscriber, key_id, sealed, sqn, created_at';
export const CODE_COLUMNS = 'code_hash, subscriber, terminal_id, created_at, expires_at, used_at';
export const RECORD_COLUMNS = 'category, record_id, body, seq, origin, edited_at, folder, data_date, title';
export const STAGING_COLUMNS = 'terminal_id, category, record_id, subscriber, size, hash, got, expires_at';
export const AUDIT_COLUMNS =
  'at, subscriber, terminal_id, terminal_owner, action, outcome, reason, uploaded, uploaded_bytes, ' +
  'downloaded, downloaded_bytes';
