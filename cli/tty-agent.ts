import { SingleBar } from 'cli-progress';
import type { Notice, UserAgent } from '../hal/index.js';
import type { AgentIO } from './agent-io.js';

/** What `-q` leaves out: news, not problems. */
const QUIET_SKIPS = new Set<Notice['kind']>(['progress', 'sync-done', 'server-updates', 'unsynced-changes']);

/** How long a refusal notice waits for the error it announces to be printed instead (see `claim`). */
const CLAIM_MS = 50;

/**
 * The user agent of a terminal run by a person at a keyboard: PIN and
 * terminal password typed without echo, permission as y/n, notices as lines,
 * and a progress bar while a long transfer runs.
 *
 * A failed sync is told once (issue 14): the engine announces it with a
 * 'sync-rejected' notice and then rejects with the error itself. The agent
 * prints the error, worded by its kind (cli/failure-text.ts), and `claim`s
 * the notice; a notice nobody claims is printed as it came.
 */
export class TtyUserAgent implements UserAgent {
  private bar: SingleBar | undefined;
  private readonly unclaimed = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly io: AgentIO,
    /** `-q`: no progress bars, no "synced" or "server has updates" lines; prompts and problems only. */
    private readonly options: { quiet?: boolean } = {},
  ) {}

  askPin(prompt: string): Promise<string | undefined> {
    return this.io.question(readablePinPrompt(prompt), { secret: true });
  }

  /** The error whose message is `reason` was printed by the agent: its notice is not printed again. */
  claim(reason: string): void {
    const timer = this.unclaimed.get(reason);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.unclaimed.delete(reason);
  }

  askTerminalPassword(prompt: string): Promise<string | undefined> {
    return this.io.question(prompt, { secret: true });
  }

  async askPermission(question: string): Promise<boolean> {
    const answer = await this.io.question(`${question} [y/N]`);
    return answer !== undefined && /^y(es)?$/i.test(answer.trim());
  }

  notify(notice: Notice): void {
    if (this.options.quiet && QUIET_SKIPS.has(notice.kind)) return;
    if (notice.kind === 'progress') {
      this.progress(notice);
      return;
    }
    this.endProgress();
    if (notice.kind === 'sync-rejected') {
      this.claim(notice.reason);
      const timer = setTimeout(() => {
        this.unclaimed.delete(notice.reason);
        this.io.print(`! not synced: ${notice.reason}`);
      }, CLAIM_MS);
      this.unclaimed.set(notice.reason, timer);
      return;
    }
    const line = describe(notice);
    if (line) this.io.print(line);
  }

  private progress(notice: Extract<Notice, { kind: 'progress' }>): void {
    // Until the total is known (a download with more pages to come) the bar
    // says so, instead of a made-up total one past what has come (270/271).
    const of = notice.total === undefined ? ' records so far, more to come' : `/${notice.total} records`;
    const total = notice.total ?? notice.done;
    if (this.bar === undefined) {
      this.bar = new SingleBar({
        format: `${notice.phase.padEnd(8)} [{bar}] {value}{of}`,
        stream: this.io.output as NodeJS.WritableStream,
        noTTYOutput: true,
        notTTYSchedule: 200,
        hideCursor: false,
        clearOnComplete: false,
      });
      this.bar.start(total, notice.done, { of });
      return;
    }
    this.bar.setTotal(total);
    this.bar.update(notice.done, { of });
  }

  private endProgress(): void {
    if (this.bar === undefined) return;
    this.bar.stop();
    this.bar = undefined;
  }
}

/**
 * The engine's PIN prompt, worded for a person: "1 try left", with what a
 * wrong PIN then does (issue 14). The engine's own flows word it so already
 * (core/engine/registration-flow.ts pinPrompt); core/auth's per-sync prompt
 * says "1 tries left".
 */
export function readablePinPrompt(prompt: string): string {
  return prompt.replace(/\(1 tries left\)/, '(1 try left: a wrong PIN now blocks the SIM)');
}

export function describe(notice: Notice): string | undefined {
  switch (notice.kind) {
    case 'sync-rejected':
      return `! not synced: ${notice.reason}`;
    case 'sync-done':
      return `✓ synced: ${notice.uploaded} up, ${notice.downloaded} down`;
    case 'conflict':
      return `! conflict on ${notice.category}/${notice.recordId}: ${notice.detail}`;
    case 'unsynced-changes':
      return `• ${notice.count} local change(s) not yet on the server`;
    case 'server-updates':
      return `• the server has updates${notice.categories?.length ? ` (${notice.categories.join(', ')})` : ''}`;
    case 'set-aside':
      return `! ${notice.category}/${notice.recordId} was not accepted (${notice.reason}); it stays here until you fix or discard it`;
    case 'battery-low':
      return `• battery at ${notice.percent}%: uploading changes ${notice.when === 'before' ? 'now' : 'done'}`;
    case 'info':
      return notice.text;
    case 'progress':
      return undefined;
    default:
      return `• ${JSON.stringify(notice)}`;
  }
}
