import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, simsync } from '../test/support/run-cli.js';

/**
 * Issue 16, "README's command table matches --help": the table in README.md
 * and what the real command says of itself are checked against each other,
 * both ways, so a command added to one and not the other fails here.
 */
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const table = readme
  .split('\n')
  .filter((line) => line.startsWith('| `simsync '))
  .map((line) => line.split(' | ')[0]!.replace(/^\| /, ''));

/** The "Commands:" section of a --help text, without commander's own `help`. */
function commandsOf(help: string): string[] {
  const section = help.split('Commands:\n')[1] ?? '';
  return section
    .split('\n')
    .map((line) => /^ {2}([a-z][a-z-]*)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
}

/** The terminal commands a README row names in backticks: `sync`, `erase [CATEGORIES] …` → erase, `a/b FILE` → a, b. */
function backticked(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].flatMap((m) =>
    m[1]!.split('/').map((part) => /^([a-z][a-z-]*)/.exec(part.trim())?.[1] ?? ''),
  );
}

describe('README command table = --help', () => {
  it('every top-level command is a row of the table, and every row a command', async () => {
    const help = await simsync(['--help']);
    expect(help.code).toBe(0);
    const commands = commandsOf(help.stdout);
    expect(commands).toContain('terminal');
    const rows = new Set(table.map((cell) => /^`simsync ([a-z-]+)/.exec(cell)?.[1]));
    expect([...rows].sort()).toEqual([...commands].sort());
  });

  it.each(['admin', 'sim', 'modem'])(
    'simsync %s: its subcommands are the ones its row names',
    async (group) => {
      const help = await simsync([group, '--help']);
      expect(help.code).toBe(0);
      const named = table
        .filter((cell) => cell.startsWith(`\`simsync ${group} `))
        .flatMap((cell) =>
          cell
            .replace(`\`simsync ${group} `, '')
            .split(/[\s`[]/)[0]!
            .split('\\|'),
        );
      expect(named.sort()).toEqual(commandsOf(help.stdout).sort());
    },
  );

  it("the terminal row names every command of `simsync terminal --help` and of the agent's own help", async () => {
    const help = await simsync(['terminal', '--help']);
    expect(help.code).toBe(0);
    const argument = /Arguments:\s*command\s+([\s\S]*?)\(help at the prompt/.exec(help.stdout)?.[1] ?? '';
    const fromHelp = argument.split('|').map((s) => s.trim());
    const row = readme.split('\n').find((line) => line.startsWith('| `simsync terminal '))!;
    const fromReadme = backticked(row.split(' | ')[1]!);
    for (const command of fromHelp) expect(fromReadme, `README lacks ${command}`).toContain(command);
    // The agent's `help` (one-shot, no card, no server needed) lists the same commands.
    const data = mkdtempSync(path.join(os.tmpdir(), 'simsync-help-'));
    const agent = await simsync(['terminal', '--data', data, '--card', 'none', 'help']);
    rmSync(data, { recursive: true, force: true });
    expect(agent.code).toBe(0);
    const fromAgent = agent.stdout
      .split('\n')
      .map((line) => /^ {2}([a-z][a-z-]*)/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined && !['help', 'quit', 'eject'].includes(name));
    expect([...fromHelp].sort()).toEqual([...fromAgent].sort());
  });
});
