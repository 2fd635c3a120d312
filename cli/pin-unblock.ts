import { SyncError, type Terminal } from '../core/index.js';
import type { PinStatus } from '../hal/index.js';
import type { AgentIO } from './agent-io.js';
import { CommandError } from './failure-text.js';

/** "1 try left", "10 tries left". */
export function triesLeft(n: number): string {
  return `${n} ${n === 1 ? 'try' : 'tries'} left`;
}

/** The PUK counter, where the card or modem tells it (hal PinStatus.pukRetriesLeft). */
export function pukRetries(status: PinStatus): number | undefined {
  return (status as PinStatus & { pukRetriesLeft?: number }).pukRetriesLeft;
}

/** The card's PIN state in words, for `status` and the unblock prompt. */
export function pinStateText(status: PinStatus): string {
  if ((status as PinStatus & { enabled?: boolean }).enabled === false) return 'PIN disabled on the card';
  const puk = pukRetries(status);
  const pukText = puk === undefined ? '' : `; PUK: ${triesLeft(puk)}`;
  if (status.retriesLeft === 0) return `PIN blocked${pukText}`;
  return `PIN ${status.verified ? 'entered' : 'not entered'}, ${triesLeft(status.retriesLeft)}${pukText}`;
}

/**
 * `unblock`: the PUK, then the new PIN twice (TS 102 221 §11.1.13, TS
 * 51.011 §9.2.7). The PUK counter is shown first; the card is given the PUK
 * once per `unblock`, never again by software, since every wrong PUK costs
 * one of its tries and the last one makes the SIM useless. A new PIN that is
 * mistyped is asked again before anything reaches the card.
 */
export async function unblockPin(terminal: Terminal, io: AgentIO): Promise<void> {
  const status = await terminal.pinStatus();
  if (status.retriesLeft > 0) {
    io.print(`the SIM PIN is not blocked (${pinStateText(status)}): nothing to unblock`);
    return;
  }
  const puk = pukRetries(status);
  if (puk === 0)
    throw new CommandError(
      'the PUK is blocked too: this SIM cannot be used any more; ask the operator for a new one',
    );
  io.print(
    `The SIM PIN is blocked. The PUK (8 digits) comes from the operator, often on the SIM's card holder.`,
  );
  const warning = puk === 1 ? ': a wrong PUK now makes the SIM useless' : '';
  const counter = puk === undefined ? 'the card does not say how many tries are left' : triesLeft(puk);
  const answer = await io.question(`PUK (${counter}${warning}; Enter to leave it)`, { secret: true });
  if (answer === undefined || answer.trim() === '') {
    io.print('not unblocked: the SIM PIN stays blocked (type unblock when you have the PUK)');
    return;
  }
  if (!/^\d{8}$/.test(answer.trim()))
    throw new CommandError('a PUK is 8 digits: nothing was sent to the card');
  const newPin = await chooseNewPin(io);
  const result = await terminal.unblockPin(answer.trim(), newPin);
  if (result.status === 'wrong') {
    throw new SyncError(
      'auth-refused',
      `wrong PUK: ${triesLeft(result.retriesLeft)} (not tried again: type unblock to give it once more)`,
      'puk-wrong',
    );
  }
  if (result.status === 'blocked') {
    throw new SyncError(
      'auth-refused',
      'wrong PUK: the PUK is now blocked and the SIM cannot be used any more',
      'puk-blocked',
    );
  }
  io.print('SIM PIN unblocked: the new PIN is set');
}

async function chooseNewPin(io: AgentIO): Promise<string> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const first = await io.question('New PIN (4 to 8 digits)', { secret: true });
    if (first === undefined) break;
    if (!/^\d{4,8}$/.test(first.trim())) {
      io.print('A PIN is 4 to 8 digits; again.');
      continue;
    }
    const again = await io.question('Repeat the new PIN', { secret: true });
    if (again === undefined) break;
    if (again.trim() === first.trim()) return first.trim();
    io.print('They differ; again.');
  }
  throw new CommandError('not unblocked: no new PIN chosen (nothing was sent to the card)');
}
