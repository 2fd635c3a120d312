import {
  CATEGORIES,
  type Category,
  categoryCode,
  categoryFromCode,
  Filters,
  type RecordMeta,
} from '../../core/protocol/index.js';
import type {
  AkaRow,
  AuditEntry,
  CodeRow,
  Staging,
  StoredRecord,
  SubscriberRow,
  TerminalRow,
} from './sync-store.js';

/** SQLite rows as better-sqlite3 returns them, and their mapping to the SyncStore types. */

/** Categories as a bit set: bit n = CATEGORIES[n]. */
export function toMask(categories: readonly Category[]): number {
  let mask = 0;
  for (const c of categories) mask |= 1 << categoryCode(c);
  return mask;
}

function fromMask(mask: number): Category[] {
  return CATEGORIES.filter((_, i) => (mask & (1 << i)) !== 0);
}

export function category(code: number): Category {
  const c = categoryFromCode(code);
  if (c === undefined) throw new Error(`stored category code ${code} is unknown`);
  return c;
}

export function bytes(value: unknown): Uint8Array | null {
  if (value === null || value === undefined) return null;
  const b = value as Buffer;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export interface SubscriberSql {
  subscriber: string;
  iccid: string | null;
  login_password_hash: string | null;
  created_at: number;
}
export interface TerminalSql {
  terminal_id: string;
  subscriber: string;
  password_hash: string | null;
  categories: number;
  credential_hash: string | null;
  revoked: number;
  created_at: number;
  last_seen_at: number | null;
  last_batch: number | null;
  last_ack: Buffer | null;
  filters: string | null;
}
export interface AkaSql {
  subscriber: string;
  key_id: string;
  sealed: Uint8Array;
  sqn: number;
  created_at: number;
}
export interface CodeSql {
  code_hash: string;
  subscriber: string;
  terminal_id: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}
export interface RecordSql {
  category: number;
  record_id: string;
  body: Buffer | null;
  seq: number;
  origin: string;
  edited_at: number;
  folder: string | null;
  data_date: number | null;
  title: string | null;
}
export interface ChangeSql {
  seq: number;
  category: number;
  record_id: string;
  origin: string;
  deleted: number;
  at: number;
}
export interface AuditSql {
  at: number;
  subscriber: string | null;
  terminal_id: string | null;
  terminal_owner: string | null;
  action: AuditEntry['action'];
  outcome: AuditEntry['outcome'];
  reason: string | null;
  uploaded: number;
  uploaded_bytes: number;
  downloaded: number;
  downloaded_bytes: number;
}

export interface StagingSql {
  terminal_id: string;
  category: number;
  record_id: string;
  subscriber: string;
  size: number;
  hash: Buffer;
  got: number;
  expires_at: number;
}

export const stagingRow = (r: StagingSql): Staging => ({
  terminalId: r.terminal_id,
  category: category(r.category),
  recordId: r.record_id,
  subscriber: r.subscriber,
  size: r.size,
  hash: bytes(r.hash) ?? new Uint8Array(0),
  got: r.got,
  expiresAt: r.expires_at,
});

export const subscriberRow = (r: SubscriberSql): SubscriberRow => ({
  subscriber: r.subscriber,
  iccid: r.iccid,
  loginPasswordHash: r.login_password_hash,
  createdAt: r.created_at,
});

export const terminalRow = (r: TerminalSql): TerminalRow => ({
  terminalId: r.terminal_id,
  subscriber: r.subscriber,
  passwordHash: r.password_hash,
  categories: fromMask(r.categories),
  credentialHash: r.credential_hash,
  revoked: r.revoked !== 0,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  lastBatch: r.last_batch,
  lastAck: bytes(r.last_ack),
  ...(r.filters === null ? {} : { filters: Filters.parse(JSON.parse(r.filters)) }),
});

/** Filters as stored: JSON text, or null for none. */
export function filtersText(filters: Filters | undefined): string | null {
  return filters === undefined ? null : JSON.stringify(filters);
}

/** Meta as its three columns. */
export function metaColumns(meta: RecordMeta | undefined): [string | null, number | null, string | null] {
  return [meta?.folder ?? null, meta?.date ?? null, meta?.title ?? null];
}

function metaOf(r: RecordSql): RecordMeta | undefined {
  if (r.folder === null && r.data_date === null && r.title === null) return undefined;
  return {
    ...(r.folder === null ? {} : { folder: r.folder }),
    ...(r.data_date === null ? {} : { date: r.data_date }),
    ...(r.title === null ? {} : { title: r.title }),
  };
}

export const akaRow = (r: AkaSql): AkaRow => ({
  subscriber: r.subscriber,
  keyId: r.key_id,
  sealed: new Uint8Array(r.sealed),
  sqn: r.sqn,
  createdAt: r.created_at,
});

export const codeRow = (r: CodeSql): CodeRow => ({
  codeHash: r.code_hash,
  subscriber: r.subscriber,
  terminalId: r.terminal_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
});

export function storedRecord(r: RecordSql): StoredRecord {
  const meta = metaOf(r);
  return {
    category: category(r.category),
    recordId: r.record_id,
    body: bytes(r.body),
    seq: r.seq,
    origin: r.origin,
    editedAt: r.edited_at,
    ...(meta === undefined ? {} : { meta }),
  };
}

export const auditEntry = (r: AuditSql): AuditEntry => ({
  at: r.at,
  subscriber: r.subscriber,
  terminalId: r.terminal_id,
  terminalOwner: r.terminal_owner,
  action: r.action,
  outcome: r.outcome,
  reason: r.reason,
  uploaded: r.uploaded,
  uploadedBytes: r.uploaded_bytes,
  downloaded: r.downloaded,
  downloadedBytes: r.downloaded_bytes,
});
