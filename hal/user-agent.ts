/** Something the terminal tells its user. */
export type Notice =
  | { kind: 'sync-rejected'; reason: string }
  | { kind: 'sync-done'; uploaded: number; downloaded: number }
  | { kind: 'conflict'; category: string; recordId: string; detail: string }
  | { kind: 'unsynced-changes'; count: number }
  | { kind: 'server-updates'; categories?: string[] }
  | { kind: 'set-aside'; category: string; recordId: string; reason: string }
  /** `total` is absent while it is not known yet (a download whose server has more pages). */
  | { kind: 'progress'; done: number; total?: number; phase: 'upload' | 'download' }
  | { kind: 'battery-low'; percent: number; when: 'before' | 'after' }
  | { kind: 'info'; text: string };

/**
 * The user interface device 14 (FIG. 3): prompts and notices.
 *
 * Promises: a prompt resolves with the answer, or with `undefined` when the
 * user cancels; implementations time out (resolving `undefined`) rather than
 * block forever. Secrets are never echoed or logged.
 */
export interface UserAgent {
  askPin(prompt: string): Promise<string | undefined>;
  askTerminalPassword(prompt: string): Promise<string | undefined>;
  askPermission(question: string): Promise<boolean>;
  notify(notice: Notice): void;
}
