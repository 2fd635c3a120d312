import type { TerminalRow } from '../store/sync-store.js';

export type PairRefusal = 'not-registered' | 'revoked';

/**
 * FIG. 14 S62 / [0009]: a sync is served only when the subscriber named by
 * the request (read from the SIM) and this terminal are a registered pair.
 * This refuses a stranger's SIM in a registered terminal and a registered
 * SIM in a stranger's terminal alike. A revoked terminal is refused whoever
 * holds it.
 */
export function checkPair(terminal: TerminalRow | undefined, subscriber: string): PairRefusal | undefined {
  if (terminal === undefined || terminal.credentialHash === null) return 'not-registered';
  if (terminal.revoked) return 'revoked';
  if (terminal.subscriber !== subscriber) return 'not-registered';
  return undefined;
}
