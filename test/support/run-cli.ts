import { spawn } from 'node:child_process';
import path from 'node:path';

/** The project's root: the `simsync` command runs from here, as `node bin/simsync.js`. */
export const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, feeding it `input` lines; rejects (and kills it) after `timeoutMs`. */
export function run(command: string, args: string[], input: string[] = [], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input.map((l) => `${l}\n`).join(''));
  });
}

/** The real CLI, as a user runs it. */
export const simsync = (args: string[], input: string[] = []) =>
  run('node', ['bin/simsync.js', ...args], input);

/** The virtual SIM the CLI tests put in their terminals (`--card sim`). */
export const CLI_SIM = { imsi: '001010000000102', iccid: '8988211000000430010', pin: '1234' } as const;

/** `simsync admin add-subscriber` of the CLI SIM's subscriber (IMSI and ICCID) to the server data in `data`. */
export function addCliSubscriber(data: string, loginPassword: string): Promise<Run> {
  return simsync([
    'admin',
    'add-subscriber',
    '--data',
    data,
    '--subscriber',
    CLI_SIM.imsi,
    '--iccid',
    CLI_SIM.iccid,
    '--login-password',
    loginPassword,
  ]);
}

/** `simsync terminal …command` on the virtual SIM, its data in `data`, against the server on `port`. */
export function terminalArgs(data: string, port: number | null, ...command: string[]): string[] {
  return [
    'terminal',
    '--data',
    data,
    '--server',
    `mqtt://127.0.0.1:${port}`,
    '--card',
    'sim',
    '--sim-iccid',
    CLI_SIM.iccid,
    '--sim-imsi',
    CLI_SIM.imsi,
    '--sim-pin',
    CLI_SIM.pin,
    ...command,
  ];
}

/** The first-run walk-through of `simsync terminal … register` (FIG. 8, policy by flag), typed as a user would. */
export async function registerTerminal(
  data: string,
  port: number | null,
  secrets: { login: string; password: string },
): Promise<Run> {
  const { login, password } = secrets;
  // The password is offered once more: asked again before an earlier change (FIG. 8 S3), now left unread.
  return simsync(terminalArgs(data, port, '--policy', 'fig10-subscriber-binding', 'register'), [
    'n',
    password,
    password,
    'all',
    login,
    CLI_SIM.pin,
    password,
  ]);
}
