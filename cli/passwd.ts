import type { Terminal } from '../core/index.js';
import type { AgentIO } from './agent-io.js';
import { CommandError } from './failure-text.js';

/**
 * `passwd`: sets or changes the terminal password (FIG. 9 / FIG. 12 check
 * it, and it opens the data without the SIM, [0068]). Changing it needs the
 * current one. A terminal that has none (registered at a shop, FIG. 19) gets
 * its first from the registered SIM's holder: the engine has the card check
 * the PIN first.
 */
export async function changePassword(terminal: Terminal, io: AgentIO): Promise<void> {
  const has = await terminal.hasTerminalPassword();
  const current = has ? await io.question('Current terminal password', { secret: true }) : undefined;
  if (has && current === undefined) throw new CommandError('terminal password not changed');
  const chosen = await choose(io);
  if (current !== undefined) await terminal.setTerminalPassword(chosen, current);
  else await terminal.setFirstTerminalPassword(chosen);
  io.print(has ? 'terminal password changed' : 'terminal password set');
}

async function choose(io: AgentIO): Promise<string> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const first = await io.question('New terminal password', { secret: true });
    if (first === undefined) break;
    if (first.length < 4) {
      io.print('At least 4 characters, please.');
      continue;
    }
    const again = await io.question('Repeat it', { secret: true });
    if (again === undefined) break;
    if (again === first) return first;
    io.print('They differ; again.');
  }
  throw new CommandError('terminal password not changed');
}
