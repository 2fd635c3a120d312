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
