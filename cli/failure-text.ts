import { SyncError } from '../core/index.js';
import { HalError } from '../hal/index.js';

/** A mistake in what was typed: a command, an argument, a file name. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}

/**
 * One line telling the user why `action` (sync, ls, unblock, …) did not
 * happen, worded by the error's kind (STYLE.md §2), never by its text.
 * "refused" is the word for a refusal by the server or by the card (or the
 * terminal's own checks of FIG. 9–12); a timeout, a broken link or a card
 * taken out is a failure, and says that nothing was lost.
 */
export function failureLine(error: unknown, action: string): string {
  if (error instanceof CommandError) return `! ${error.message}`;
  if (error instanceof SyncError) return syncFailure(error, action);
  if (error instanceof HalError) return cardFailure(error, action);
  return `! ${action} failed: ${messageOf(error)}`;
}

function syncFailure(error: SyncError, action: string): string {
  const { message } = error;
  switch (error.kind) {
    case 'auth-refused':
      if (error.code === 'cancelled') return `• ${action} not done: ${message}`;
      if (error.code === 'pin-blocked') return `! ${action} refused: ${message} (type unblock)`;
      return `! ${action} refused: ${message}`;
    case 'server-refused':
      return `! ${action} refused by the server: ${message.replace(/^server refused (the connection|[\w-]+): /, '')}`;
    case 'timeout':
      return `! ${action} failed: the server did not answer in time (${message}); nothing was lost, the next sync resumes`;
    case 'link-down':
      return `! ${action} failed: no connection to the server (${message}); changes stay here until the next sync`;
    case 'aborted':
      return `• ${action} stopped early: ${message}`;
    case 'protocol':
      return `! ${action} failed: ${message}`;
    default:
      return `! ${action}: ${message}`;
  }
}

function cardFailure(error: HalError, action: string): string {
  switch (error.kind) {
    case 'card-removed':
      return `! ${action} interrupted: the SIM was taken out (${error.message}); nothing was lost`;
    case 'no-card':
      return `! ${action}: no SIM in the reader (${error.message})`;
    case 'timeout':
      return `! ${action} failed: the card did not answer in time (${error.message})`;
    case 'busy':
      return `! ${action} failed: ${error.message} (is another simsync terminal running on this data directory?)`;
    default:
      return `! ${action} failed: ${error.message}`;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
