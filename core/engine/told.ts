import type { UserAgent } from '../../hal/index.js';
import { SyncError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Registration, TerminalConfig } from '../store/terminal-config.js';

/** Who hears why a sync did not happen: the user (through the agent) and the log. */
export interface Listeners {
  agent: UserAgent;
  log: Logger;
}

const reported = new WeakSet<Error>();

/**
 * Tells the user why a sync did not happen (FIG. 9 S17, 10-B S35, 13 S55),
 * once per error however many parts pass it on; resolves the error to throw.
 */
export function rejected({ agent, log }: Listeners, error: unknown): unknown {
  if (!(error instanceof Error) || reported.has(error)) return error;
  reported.add(error);
  agent.notify({ kind: 'sync-rejected', reason: error.message });
  const kind = (error as { kind?: unknown }).kind;
  const code = (error as { code?: unknown }).code;
  log.warn({ kind, code }, error.message);
  return error;
}

/** The registration, or 'not-registered', told. */
export async function requireRegistration(config: TerminalConfig, told: Listeners): Promise<Registration> {
  const registration = await config.registration();
  if (registration !== undefined) return registration;
  throw rejected(
    told,
    new SyncError('not-registered', 'this terminal is not registered: run the registration first'),
  );
}
