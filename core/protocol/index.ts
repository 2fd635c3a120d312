/** The wire protocol shared by the terminal engine and the sync server (DESIGN.md "Wire"). */
export * from './categories.js';
export * from './cbor-limits.js';
export * from './codec.js';
export * from './conflict-copy.js';
export * from './envelope.js';
export * from './messages.js';
export * from './selection.js';
export * from './terminal-identity.js';
export * from './topics.js';
export * from './wire-meta.js';
