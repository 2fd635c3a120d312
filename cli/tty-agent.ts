import { SingleBar } from 'cli-progress';
import type { Notice, UserAgent } from '../hal/index.js';
import type { LineIO } from './line-io.js';

/**
 * The user agent of a terminal run by a person at a keyboard: PIN and
 * terminal password typed without echo, permission as y/n, notices as lines,
 * and a progress bar while a long transfer runs.
 */
export class TtyUserAgent implements UserAgent {
  private bar: SingleBar | undefined;

  constructor(private readonly io: LineIO) {}

  askPin(prompt: string): Promise<string | undefined> {
    return this.io.question(prompt, { secret: true });
  }

  askTerminalPassword(prompt: string): Promise<string | undefined> {
    return this.io.question(prompt, { secret: true });
  }

  async askPermission(question: string): Promise<boolean> {
    const answer = await this.io.question(`${question} [y/N]`);
    return answer !== undefined && /^y(es)?$/i.test(answer.trim());
  }

  notify(notice: Notice): void {
    if (notice.kind === 'progress') {
      this.progress(notice);
      return;
    }
    this.endProgress();
    const line = describe(notice);
    if (line) this.io.print(line);
  }

  private progress(notice: Extract<Notice, { kind: 'progress' }>): void {
    if (this.bar === undefined) {
      this.bar = new SingleBar({
        format: `${notice.phase.padEnd(8)} [{bar}] {value}/{total} records`,
        stream: this.io.output as NodeJS.WritableStream,
        noTTYOutput: true,
        notTTYSchedule: 200,
        hideCursor: false,
        clearOnComplete: false,
      });
      this.bar.start(notice.total, notice.done);
      return;
    }
    this.bar.setTotal(notice.total);
    this.bar.update(notice.done);
  }

  private endProgress(): void {
    if (this.bar === undefined) return;
    this.bar.stop();
    this.bar = undefined;
  }
}

export function describe(notice: Notice): string | undefined {
  switch (notice.kind) {
    case 'sync-rejected':
      return `! sync refused: ${notice.reason}`;
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
