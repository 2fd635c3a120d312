import type { Notice, UserAgent } from '../hal/index.js';

export type PromptKind = 'pin' | 'password' | 'permission';

/** One prompt the terminal showed. Secrets are not recorded, only whether one was given. */
export interface PromptRecord {
  kind: PromptKind;
  text: string;
  /** False when no scripted answer was left (the user "cancelled"). */
  answered: boolean;
}

export interface ScriptedAnswers {
  /** Answers to `askPin`, in order; `undefined` is a cancel. */
  pins?: Array<string | undefined>;
  /** Answers to `askTerminalPassword`, in order; `undefined` is a cancel. */
  passwords?: Array<string | undefined>;
  /** Answers to `askPermission`, in order. */
  permissions?: boolean[];
}

/**
 * A user who answers from a script, like embedded-hal-mock: queue the
 * answers, run the code, then `done()` fails if any answer was left unused.
 * A prompt with no answer left is recorded and cancelled: `askPin` and
 * `askTerminalPassword` resolve `undefined`, `askPermission` resolves false.
 * Every notice is kept in `notices`, in order.
 */
export class ScriptedUserAgent implements UserAgent {
  readonly notices: Notice[] = [];
  readonly prompts: PromptRecord[] = [];
  #pins: Array<string | undefined> = [];
  #passwords: Array<string | undefined> = [];
  #permissions: boolean[] = [];

  constructor(answers: ScriptedAnswers = {}) {
    this.queuePin(...(answers.pins ?? []));
    this.queuePassword(...(answers.passwords ?? []));
    this.queuePermission(...(answers.permissions ?? []));
  }

  async askPin(prompt: string): Promise<string | undefined> {
    return this.#take('pin', prompt, this.#pins);
  }

  async askTerminalPassword(prompt: string): Promise<string | undefined> {
    return this.#take('password', prompt, this.#passwords);
  }

  async askPermission(question: string): Promise<boolean> {
    return (await this.#take('permission', question, this.#permissions)) ?? false;
  }

  notify(notice: Notice): void {
    this.notices.push(notice);
  }

  queuePin(...answers: Array<string | undefined>): this {
    this.#pins.push(...answers);
    return this;
  }

  queuePassword(...answers: Array<string | undefined>): this {
    this.#passwords.push(...answers);
    return this;
  }

  queuePermission(...answers: boolean[]): this {
    this.#permissions.push(...answers);
    return this;
  }

  /** Notices of one kind, narrowed. */
  noticesOf<K extends Notice['kind']>(kind: K): Array<Extract<Notice, { kind: K }>> {
    return this.notices.filter((n): n is Extract<Notice, { kind: K }> => n.kind === kind);
  }

  /** Throws if any scripted answer was not consumed. */
  done(): void {
    const left: string[] = [];
    if (this.#pins.length > 0) left.push(`${this.#pins.length} PIN answer(s)`);
    if (this.#passwords.length > 0) left.push(`${this.#passwords.length} password answer(s)`);
    if (this.#permissions.length > 0) left.push(`${this.#permissions.length} permission answer(s)`);
    if (left.length > 0) throw new Error(`ScriptedUserAgent: unconsumed ${left.join(', ')}`);
  }

  /** No answers queued, no prompts or notices recorded. */
  reset(): void {
    this.#pins = [];
    this.#passwords = [];
    this.#permissions = [];
    this.notices.length = 0;
    this.prompts.length = 0;
  }

  #take<T>(kind: PromptKind, text: string, queue: T[]): T | undefined {
    const answered = queue.length > 0;
    this.prompts.push({ kind, text, answered });
    return answered ? queue.shift() : undefined;
  }
}
