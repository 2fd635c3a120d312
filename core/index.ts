/** The portable terminal engine (DESIGN.md "Layers"): talks only to hal/ types. */
export { authenticate, verifyPinWithCard, verifyTerminalPassword } from './auth/authenticate.js';
export { createDataKey, isCardSecretEntry, openDataKey, rewrapDataKey } from './auth/data-key.js';
export { hashPassword, verifyPassword } from './auth/password.js';
export { type AuthPolicy, isPolicyName, POLICIES, type PolicyName } from './auth/policy.js';
export { fromUtf8, toHex, utf8 } from './bytes.js';
export { Budget, type StopReason, type SyncLimits } from './engine/budget.js';
export type { EraseOptions, EraseReport } from './engine/collective-erase.js';
export type { Conflict, UploadResult } from './engine/run-context.js';
export type { SyncPlan } from './engine/sync-report.js';
export {
  type RegisterOptions,
  type SyncReport,
  Terminal,
  type TerminalHal,
  type TerminalOptions,
  type Trigger,
} from './engine/terminal.js';
export { DEFAULT_BATCH_BYTES } from './engine/terminal-parts.js';
export {
  isOutOfReach,
  type SkipReason,
  type TriggerHost,
  TriggerScheduler,
} from './engine/trigger-scheduler.js';
export type { TriggerSettings } from './engine/trigger-settings.js';
export { PART_WINDOW, partBytesOf } from './engine/upload-parts.js';
export { type LocalRefusalCode, SyncError, type SyncErrorCode, type SyncErrorKind } from './errors.js';
export { type Logger, silentLogger } from './logger.js';
export { ServerSession, type SessionOptions } from './net/server-session.js';
export * from './protocol/index.js';
export {
  type IncomingChange,
  type LocalRecord,
  type RecordReader,
  RecordStore,
  type Stub,
} from './store/record-store.js';
export { SEAL_KEY, SealedNvStore } from './store/sealed-nv-store.js';
export { type Registration, TerminalConfig } from './store/terminal-config.js';
