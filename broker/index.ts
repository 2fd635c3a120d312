/**
 * The sync server (DESIGN.md "Layers": broker/): an Aedes MQTT broker with
 * per-terminal authentication and topic ACL, the subscriber managing database
 * (FIG. 7a/7b), the user data storage area, server-side sync (FIG. 13/14),
 * and the operator's operations (shop registration FIG. 18/19, revocation).
 *
 *   const store = openSqliteStore('data/sync.db');
 *   const server = await startSyncServer({ store, port: 1883 });
 *   await server.admin.addSubscriber({ subscriber: '001010000000102', loginPassword: '…' });
 *
 * Other SyncStore implementations prove themselves with
 * `describeSyncStoreContract` from `broker/store/store.contract.ts`.
 */
export type { Admin, AdminErrorKind, IssuedCode, SubscriberInfo, TerminalInfo } from './admin.js';
export { AdminError, DEFAULT_CODE_TTL_MS } from './admin.js';
export { AkaAdminError, type AkaKeyInput } from './aka-admin.js';
export { AkaVault, AkaVaultError, loadKeyring, newServerKey, parseKeyring } from './aka-vault.js';
export type { Pem, TlsOptions, WsOptions } from './listeners.js';
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';
export { ServerMetrics, trackConnections } from './metrics.js';
export { PacketSizeGuard } from './packet-guard.js';
export type { SyncServer, SyncServerOptions } from './server.js';
export { startSyncServer } from './server.js';
export {
  openPostgresStore,
  PostgresStoreError,
  type PostgresStoreErrorKind,
  type PostgresStoreOptions,
  PostgresSyncStore,
} from './store/postgres-store.js';
export { openSqliteStore, SqliteSyncStore } from './store/sqlite-store.js';
export type {
  AuditAction,
  AuditEntry,
  ChangeLogEntry,
  CodeRow,
  RecordQuery,
  RecordWrite,
  StoredRecord,
  SubscriberRow,
  SyncStore,
  SyncTx,
  TerminalRow,
} from './store/sync-store.js';
