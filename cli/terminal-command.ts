import type { Command } from 'commander';
import type { Category } from '../core/protocol/categories.js';
import { AgentLoop, EXIT } from './agent-loop.js';
import { joinWords } from './command-words.js';
import { runThroughAgent, socketPath } from './control-socket.js';
import { failureLine } from './failure-text.js';
import { LineIO } from './line-io.js';
import { EXIT_CODES } from './process-guard.js';
import { TerminalAgent } from './terminal-agent.js';
import { loadSettings, SettingsError } from './terminal-settings.js';

/** The flags of `simsync terminal`, as cli/main.ts declares them. */
export interface TerminalFlags {
  data?: string;
  config?: string;
  card?: string;
  server?: string;
  ca?: string;
  policy?: string;
  categories?: Category[];
  simIccid?: string;
  simImsi?: string;
  simPin?: string;
  simKi?: string;
  simOpc?: string;
  yes?: boolean;
  sealed?: boolean;
}

/**
 * `simsync terminal [command...]`: the agent, or one command through the
 * agent already running on the data directory (its control socket), or one
 * command on the NV store when no agent runs. cli/main.ts loads this module
 * only when the command runs.
 */
export async function runTerminal(
  command: string[],
  opts: TerminalFlags,
  self: Command,
  quiet: boolean,
): Promise<void> {
  if (command[0]?.startsWith('-'))
    self.error(`error: unknown option '${command[0]}'`, { exitCode: EXIT_CODES.usage });
  const sim =
    opts.simImsi || opts.simIccid
      ? {
          iccid: opts.simIccid,
          imsi: opts.simImsi,
          ...(opts.simPin ? { pin: opts.simPin } : {}),
          ...(opts.simKi ? { k: opts.simKi } : {}),
          ...(opts.simOpc ? { opc: opts.simOpc } : {}),
        }
      : undefined;
  let settings: ReturnType<typeof loadSettings>;
  try {
    settings = loadSettings(
      {
        data: opts.data,
        card: opts.card,
        server: opts.server,
        ca: opts.ca,
        policy: opts.policy,
        categories: opts.categories,
        sim,
        assumeYes: opts.yes === true ? true : undefined,
        sealed: opts.sealed === true ? true : undefined,
        quiet: quiet ? true : undefined,
      },
      opts.config,
    );
  } catch (e) {
    if (!(e instanceof SettingsError)) throw e;
    console.error(`simsync terminal: ${e.message}`);
    process.exitCode = 2;
    return;
  }
  const io = new LineIO(process.stdin, process.stdout);
  if (command.length > 0) {
    // An agent running on this data directory takes the command over its control socket.
    const viaAgent = await runThroughAgent(socketPath(settings.data), joinWords(command), io);
    if (viaAgent !== undefined) {
      io.close();
      process.exitCode = viaAgent;
      return;
    }
  }
  let agent: TerminalAgent;
  try {
    agent = await TerminalAgent.open(settings, io);
  } catch (e) {
    // No NV store (held by another agent), no reader: one line, and the agent did not start.
    io.close();
    console.error(`simsync terminal: ${failureLine(e, 'start').replace(/^[!•] /, '')}`);
    process.exitCode = EXIT.failed;
    return;
  }
  const loop = new AgentLoop(agent, io, settings.data);
  try {
    process.exitCode = command.length > 0 ? await loop.once(joinWords(command)) : await loop.serve();
  } finally {
    io.close();
  }
  // Nothing of the agent is left to wait for; a socket still closing must not keep the process.
  setTimeout(() => process.exit(), 2000).unref();
}
