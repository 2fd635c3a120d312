import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  CATEGORIES,
  type Category,
  fromUtf8,
  isCategory,
  type LocalRecord,
  normaliseSelection,
  type PolicyName,
  SyncError,
  type SyncReport,
  Terminal,
  utf8,
} from '../core/index.js';
import { type Battery, type CardReader, isHalError, type RadioLink } from '../hal/index.js';
import { FileNvStore, LinuxIdleSensor, linkFromUrl, SysfsBattery, SystemClock } from '../hal-linux/index.js';
import { SimCardReader } from '../hal-sim/index.js';
import { type AgentIO, IoSwitch } from './agent-io.js';
import { CommandWordsError, splitWords } from './command-words.js';
import { describeConflicts, findConflicts, parseKeep, pickConflict, resolveConflict } from './conflicts.js';
import { CommandError } from './failure-text.js';
import { POLICY_WORDS, walkThrough } from './first-run.js';
import {
  describeExport,
  describeImport,
  exportCalendarFile,
  exportContacts,
  importCalendar,
  importContacts,
  type Progress,
  progressBar,
  type RecordTarget,
} from './import-report.js';
import { changePassword } from './passwd.js';
import { pinStateText, unblockPin } from './pin-unblock.js';
import { recordName } from './record-names.js';
import { type TerminalSettings, triggersOf } from './terminal-settings.js';
import { TtyUserAgent } from './tty-agent.js';
import { readVcardFile } from './vcard.js';
import { openVirtualSim } from './virtual-sim-file.js';

export { CommandError } from './failure-text.js';

interface CardSide {
  reader: CardReader;
  /** The modem's own battery report, when the card side is a modem. */
  battery?: Battery;
  /** `--card sim`: the virtual SIM taken out and put back, as a person does with a real one (FIG. 16). */
  slot?: { eject(): void; insert(): void };
  close: () => Promise<void>;
}

async function openReader(settings: TerminalSettings, clock: SystemClock): Promise<CardSide> {
  if (settings.card === 'none') {
    // No reader, or the SIM taken out: what the terminal shows without the SIM ([0023]).
    return { reader: new SimCardReader({ name: 'no card reader', clock }), close: async () => {} };
  }
  if (settings.card === 'sim') {
    if (settings.sim === undefined)
      throw new CommandError('--card sim needs --sim-iccid and --sim-imsi (or "sim" in the config file)');
    const reader = new SimCardReader({ name: 'virtual-sim', clock });
    // One card for the life of the agent and from one run to the next, its memory in <data>/virtual-sim.json:
    // taken out and put back, or the agent started again, it keeps its PIN state, lists and SQNs.
    const sim = openVirtualSim(settings.data, { ...settings.sim }, (line) =>
      console.error(`simsync terminal: ${line}`),
    );
    const card = sim.card;
    reader.insert(card);
    const slot = {
      eject: () => {
        if (!reader.present()) throw new CommandError('the virtual SIM is out already');
        reader.remove();
      },
      insert: () => {
        if (reader.present()) throw new CommandError('the virtual SIM is in already');
        reader.insert(card);
      },
    };
    return { reader, slot, close: async () => sim.close() };
  }
  if (settings.card.startsWith('pcsc')) {
    const name = settings.card.slice('pcsc:'.length) || undefined;
    const selector = name !== undefined && /^\d+$/.test(name) ? Number(name) : name;
    // Loaded on demand: the native PC/SC binding needs libpcsclite, which a modem-only Pi may lack.
    const { openPcscReader } = await import('../hal-pcsc/index.js');
    const reader = await openPcscReader({
      ...(selector === undefined ? {} : { reader: selector }),
      waitMs: 2000,
    });
    return { reader, close: () => reader.close() };
  }
  if (settings.card.startsWith('modem:')) {
    const { Modem } = await import('../hal-modem/index.js');
    const modem = await Modem.open({ path: settings.card.slice('modem:'.length) });
    return { reader: modem.reader, battery: modem.battery(), close: () => modem.close() };
  }
  throw new CommandError(`card ${settings.card}: expected sim, pcsc[:READER] or modem:/dev/ttyX`);
}

function linkFor(settings: TerminalSettings): RadioLink {
  return linkFromUrl(settings.server, settings.ca ? { tls: { ca: readFileSync(settings.ca) } } : {});
}

/** Cancels a running command at its next safe point (Ctrl-C): between sync batches, between imported items. */
export interface Step {
  readonly signal: AbortSignal;
}

const NO_STEP: Step = { signal: new AbortController().signal };

/**
 * `simsync terminal`: a person's terminal (a PC with a reader, a Pi with a
 * modem) — first-run registration (FIG. 8 / 10-A / 11-A / 19), then syncs on
 * every trigger, and the commands below, typed at its prompt or given as a
 * one-shot subcommand. The agent's loop (prompt, Ctrl-C, signals) is
 * cli/agent-loop.ts.
 */
export class TerminalAgent {
  private lastReport: SyncReport | undefined;
  private lastFailure: { at: string; line: string } | undefined;

  private constructor(
    readonly terminal: Terminal,
    readonly reader: CardReader,
    private readonly battery: Battery | undefined,
    private readonly settings: TerminalSettings,
    private readonly io: IoSwitch,
    readonly ui: TtyUserAgent,
    private readonly slot: CardSide['slot'],
    private readonly closers: (() => Promise<void>)[],
  ) {
    terminal.onReport((report) => this.remember(report));
  }

  static async open(settings: TerminalSettings, terminalIo: AgentIO): Promise<TerminalAgent> {
    // Commands from the control socket talk to their own client (cli/control-socket.ts).
    const io = new IoSwitch(terminalIo);
    // The terminal's own directory: its owner's only, whatever the umask (the NV store sets its own too).
    if (mkdirSync(settings.data, { recursive: true, mode: 0o700 }) !== undefined)
      chmodSync(settings.data, 0o700);
    const clock = new SystemClock();
    const nv = await openStore(path.join(settings.data, 'nv'), io, settings.assumeYes === true);
    const card = await openReader(settings, clock).catch(async (e) => {
      await nv.close();
      throw e;
    });
    const battery = card.battery ?? (await hostBattery(clock));
    const ui = new TtyUserAgent(io, { quiet: settings.quiet === true });
    const terminal = await Terminal.create(
      {
        reader: card.reader,
        nv,
        link: linkFor(settings),
        clock,
        agent: ui,
        ...(battery ? { battery } : {}),
        idle: new LinuxIdleSensor({ clock }),
      },
      {
        triggers: triggersOf(settings.triggers),
        ...(settings.withoutSim ? { withoutSim: settings.withoutSim } : {}),
        ...(settings.lazyAboveBytes ? { lazy: { aboveBytes: settings.lazyAboveBytes } } : {}),
        ...(settings.batchBytes ? { batchBytes: settings.batchBytes } : {}),
        ...(settings.sealed ? { sealed: true } : {}),
      },
    );
    return new TerminalAgent(terminal, card.reader, battery, settings, io, ui, card.slot, [
      card.close,
      () => nv.close(),
    ]);
  }

  /** Whether this terminal has a registration the server has not refused. */
  async registered(): Promise<boolean> {
    return (
      (await this.terminal.registration()) !== undefined && (await this.terminal.refusal()) === undefined
    );
  }

  /**
   * FIG. 8 / 19 on first run (cli/first-run.ts). A terminal the server
   * refused is not registered again unasked: the user is told, and
   * `register` does it.
   */
  async ensureRegistered(): Promise<void> {
    const refusal = await this.terminal.refusal();
    if (refusal !== undefined) {
      this.io.print(`! ${refusalText(refusal)}: its data stays closed; type register to register it again`);
      return;
    }
    if ((await this.terminal.registration()) !== undefined) return;
    this.io.print(`This terminal (ID ${this.terminal.terminalId}) is not registered yet.`);
    await this.register();
  }

  /** The `register` command: first registration, or again after the server refused this terminal. */
  private async registerCommand(): Promise<void> {
    const registration = await this.terminal.registration();
    if (registration !== undefined && (await this.terminal.refusal()) === undefined) {
      this.io.print(`already registered (${POLICY_WORDS[registration.policy]})`);
      return;
    }
    await this.register();
  }

  private register(): Promise<void> {
    return walkThrough(this.terminal, this.reader, this.io, {
      ...(this.settings.policy ? { policy: this.settings.policy as PolicyName } : {}),
      ...(this.settings.categories ? { categories: this.settings.categories } : {}),
    });
  }

  /**
   * Runs one command (a one-shot subcommand, or a line typed at the prompt);
   * resolves false for `quit`. `step` cancels it at its next safe point.
   */
  async run(line: string, step: Step = NO_STEP): Promise<boolean> {
    let words: string[];
    try {
      words = splitWords(line);
    } catch (e) {
      if (!(e instanceof CommandWordsError)) throw e;
      this.io.print(`! ${e.message}`);
      return true;
    }
    const [name = '', ...args] = words;
    switch (name) {
      case '':
        return true;
      case 'quit':
      case 'exit':
        return false;
      case 'help':
        this.io.print(HELP);
        return true;
      default: {
        const handler = this.handlers[name];
        if (handler === undefined) throw new CommandError(`unknown command ${name} (try help)`);
        await handler(args, step);
        return true;
      }
    }
  }

  /**
   * Runs one command for a client of the control socket, its prints and
   * prompts (the engine's PIN prompt too) on that client's conversation.
   */
  runFor(io: AgentIO, line: string, step: Step): Promise<boolean> {
    return this.io.with(io, () => this.run(line, step));
  }

  /** The last failure told, for `status`: when, and the line it was told with. */
  noteFailure(line: string): void {
    this.lastFailure = { at: new Date().toISOString(), line };
  }

  /** Commands that work without opening a card session of their own first. */
  static needsNoCardSession(line: string): boolean {
    const name = line.trim().split(/\s+/)[0] ?? '';
    return ['', 'help', 'quit', 'exit', 'register', 'unblock', 'categories', 'eject', 'insert'].includes(
      name,
    );
  }

  private readonly handlers: Record<string, (args: string[], step: Step) => Promise<void>> = {
    register: () => this.registerCommand(),
    sync: async (_args, step) => {
      // Ctrl-C stops the sync between batches and pages; what finished is kept ([0085]).
      const report = await this.terminal.sync('user', { interrupted: () => step.signal.aborted });
      this.remember(report);
      if (!report.complete) this.io.print('• sync stopped early: the next sync resumes where it stopped');
    },
    unblock: () => unblockPin(this.terminal, this.io),
    // [0044]/[0068]: the versions a conflict kept, and the user's choice between them.
    conflicts: async () => {
      const data = await this.terminal.personalData('read');
      for (const line of describeConflicts(await findConflicts(data, this.terminal.terminalId)))
        this.io.print(line);
    },
    resolve: async ([which, ...rest]) => {
      const keep = parseKeep(rest);
      const data = await this.terminal.personalData('write');
      const conflict = pickConflict(await findConflicts(data, this.terminal.terminalId), which);
      this.io.print(await resolveConflict(data, conflict, keep));
    },
    eject: async () => this.virtualSim().eject(),
    insert: async () => this.virtualSim().insert(),
    passwd: () => changePassword(this.terminal, this.io),
    status: () => this.status(),
    categories: async (args) => {
      const registration = await this.terminal.registration();
      if (args.length === 0) {
        this.io.print(`categories: ${registration?.categories.join(', ') ?? '(not registered)'}`);
        return;
      }
      // FIG. 15 / FIG. 7b: stored here and on the server; an added category's data comes down next sync.
      const chosen = await this.terminal.setCategories(parseCategories(args.join(',')));
      this.io.print(`categories: ${chosen.join(', ')}`);
    },
    erase: async (args) => {
      // FIG. 20: upload what is unsynced, confirm, then erase; `erase factory` hands the terminal on.
      const factory = args.includes('factory');
      const chosen = args.filter((a) => a !== 'factory' && a !== '--yes' && a !== '-y');
      const categories = chosen.length > 0 ? parseCategories(chosen.join(',')) : undefined;
      const what = factory
        ? 'everything on this terminal, its registration and its terminal password (factory state)'
        : `the ${categories?.join(', ') ?? 'personal'} data on this terminal`;
      if (!(await this.confirm(`Erase ${what}, after uploading what is not on the server yet?`, args))) {
        this.io.print('nothing erased');
        return;
      }
      const report = await this.terminal.erase({ factory, ...(categories ? { categories } : {}) });
      const names = report.categories.join(', ');
      const after = report.factory
        ? '; factory state: the next start registers it anew'
        : `. ${names} stays a sync target: changes made elsewhere from now on come down; \`restore ${report.categories.join(' ')}\` brings the erased data back from the server`;
      this.io.print(
        `erased ${report.erased} record(s) of ${names} after uploading ${report.uploaded}; the server keeps them for your other terminals${after}`,
      );
    },
    // The way back from an erase: the category's whole server data comes down again.
    restore: async (args) => {
      if (args.length === 0) throw new CommandError('usage: restore CATEGORIES (e.g. restore pim)');
      const categories = parseCategories(args.join(','));
      const report = await this.terminal.restore(categories);
      this.remember(report);
      const back = report.downloaded.filter(
        (c) => categories.includes(c.category) && (c.body !== null || c.stub !== undefined),
      ).length;
      this.io.print(`restored ${back} record(s) of ${categories.join(', ')} from the server`);
    },
    // Personal data: every command below opens it through the engine's checks
    // (Terminal.personalData, core/engine/local-access.ts) before reading any of it.
    put: async ([category, id, ...text]) => {
      const c = requireCategory(category);
      if (!id || text.length === 0) throw new CommandError('usage: put CATEGORY ID TEXT…');
      // The checks of local-access.ts first: whoever may not write learns nothing about the text.
      const data = await this.terminal.personalData('write');
      // A vCard or iCalendar typed on one line separates its lines with \n (RFC 6350 §3.2, RFC 5545 §3.1: CRLF).
      const typed = text.join(' ');
      const body = c === 'contacts' || /^BEGIN:/i.test(typed) ? typed.replace(/\\n/g, '\r\n') : typed;
      const title = c === 'contacts' ? contactName(body) : undefined;
      await data.edit(c, id, utf8(body), title ? { title } : undefined);
      this.io.print(`stored ${c}/${id}`);
    },
    get: async ([category, id]) => {
      const c = requireCategory(category);
      const data = await this.terminal.personalData('read');
      let record = await data.open(c, requireId(id));
      // [0094]: a stub's substance is fetched on access.
      if (record?.stub) record = await data.fetch(c, requireId(id));
      if (record?.body == null) throw new CommandError(`no record ${category}/${id}`);
      this.io.print(fromUtf8(record.body));
    },
    rm: async ([category, id]) => {
      const c = requireCategory(category);
      if (!(await (await this.terminal.personalData('write')).delete(c, requireId(id)))) {
        throw new CommandError(`no record ${category}/${id}`);
      }
      this.io.print(`removed ${category}/${id}`);
    },
    ls: async ([category]) => {
      const chosen = category ? [requireCategory(category)] : CATEGORIES;
      const data = await this.terminal.personalData('read');
      const rows: LocalRecord[] = [];
      for (const c of chosen) rows.push(...(await data.list(c)));
      if (rows.length === 0) this.io.print(`(no records${category ? ` in ${category}` : ''})`);
      for (const line of listing(rows)) this.io.print(line);
    },
    // Imports and exports report every item they left out and why (cli/import-report.ts):
    // a card cut off at the end of a file is named, not dropped silently.
    'import-vcard': async ([file], step) => {
      const source = requireFile(file);
      const data = await this.terminal.personalData('write');
      this.finishImport(
        await importContacts(target(data), source, { onProgress: this.progress('import', step) }),
      );
    },
    'export-vcard': async ([file]) => {
      const out = requireFile(file);
      const data = await this.terminal.personalData('read');
      const report = await exportContacts(target(data), out);
      chmodSync(out, 0o600);
      for (const line of describeExport(report)) this.io.print(line);
    },
    'import-ical': async ([file], step) => {
      const source = requireFile(file);
      const data = await this.terminal.personalData('write');
      this.finishImport(
        await importCalendar(target(data), source, { onProgress: this.progress('import', step) }),
      );
    },
    'export-ical': async ([file]) => {
      const out = requireFile(file);
      const data = await this.terminal.personalData('read');
      const report = await exportCalendarFile(target(data), out);
      chmodSync(out, 0o600);
      for (const line of describeExport(report)) this.io.print(line);
    },
  };

  /**
   * Asks before something that cannot be undone here (issue 16): yes with
   * `--yes` (in the command or given to `simsync terminal`), or when the
   * person at the terminal answers y; without a terminal to ask, no.
   */
  private async confirm(question: string, args: readonly string[]): Promise<boolean> {
    if (this.settings.assumeYes || args.includes('--yes') || args.includes('-y')) return true;
    if (!this.io.interactive) {
      throw new CommandError(`${question.replace(/\?$/, '')}: give --yes to do it without a question`);
    }
    const answer = await this.io.question(`${question} [y/N]`);
    return answer !== undefined && /^y(es)?$/i.test(answer.trim());
  }

  /** A progress bar for a long import, and the point where Ctrl-C stops it (what was imported stays). */
  private progress(label: string, step: Step): (p: Progress) => void {
    const bar = progressBar(this.io.output as NodeJS.WritableStream, label);
    return (p) => {
      bar(p);
      if (step.signal.aborted)
        throw new CommandError(`${label} stopped at ${p.done} of ${p.total}: what was imported stays`);
    };
  }

  private finishImport(report: Parameters<typeof describeImport>[0]): void {
    for (const line of describeImport(report)) this.io.print(line);
    if (report.failed) throw new CommandError(`nothing imported from ${report.file}`);
  }

  /** What anyone at the terminal may see; the data's own lines only once it opens (local-access.ts). */
  private async status(): Promise<void> {
    const registration = await this.terminal.registration();
    const refusal = await this.terminal.refusal();
    const standing = refusal
      ? refusalText(refusal)
      : registration
        ? `registered (${registration.policy})`
        : 'not registered';
    const lines = [
      `terminal    ${this.terminal.terminalId}`,
      `card        ${await this.cardText()}`,
      `standing    ${standing}`,
      `server      ${this.settings.server} (${await reachability(this.settings.server)})`,
      `battery     ${await this.batteryText()}`,
    ];
    for (const line of lines) this.io.print(line);
    let data: Awaited<ReturnType<Terminal['personalData']>>;
    try {
      data = await this.terminal.personalData('read');
    } catch (e) {
      if (!(e instanceof SyncError)) throw e;
      this.io.print(`data        closed: ${e.message}`);
      return;
    }
    const last = this.lastSync();
    const more = [
      `binding     ${registration ? `${registration.policy}, subscriber ${registration.subscriberId}` : '—'}`,
      `categories  ${registration?.categories.join(', ') ?? '—'}`,
      `pending     ${await data.pending()} change(s) not yet on the server`,
      `set aside   ${(await data.setAside()).length}`,
      `conflicts   ${(await findConflicts(data, this.terminal.terminalId)).length}`,
      `last sync   ${last ? `${last.at} (${last.trigger}: ${last.uploaded} up, ${last.downloaded} down)` : 'never'}`,
      ...(this.lastFailure
        ? [`last error  ${this.lastFailure.at} ${this.lastFailure.line.replace(/^[!•] /, '')}`]
        : []),
      ...(this.terminal.triggers.retryPendingMs > 0
        ? [
            `next try    within ${Math.ceil(this.terminal.triggers.retryPendingMs / 1000)} s (the server was out of reach)`,
          ]
        : []),
    ];
    for (const line of more) this.io.print(line);
  }

  private virtualSim(): NonNullable<CardSide['slot']> {
    if (this.slot === undefined)
      throw new CommandError('eject and insert work on the virtual SIM only (--card sim)');
    return this.slot;
  }

  /** The reader, the card in it and its PIN state (tries left, blocked, PUK counter): no personal data. */
  private async cardText(): Promise<string> {
    if (!this.reader.present()) return `none (${this.reader.name})`;
    try {
      return `present (${this.reader.name}), ${pinStateText(await this.terminal.pinStatus())}`;
    } catch (e) {
      return `present (${this.reader.name}), unreadable: ${(e as Error).message}`;
    }
  }

  private async batteryText(): Promise<string> {
    if (this.battery === undefined) return 'none (mains powered)';
    try {
      const reading = await this.battery.read();
      return `${reading.percent}%${reading.charging ? ' (charging)' : ''}`;
    } catch (e) {
      return `unreadable (${(e as Error).message})`;
    }
  }

  private remember(report: SyncReport): void {
    this.lastReport = report;
    const entry = {
      at: new Date().toISOString(),
      trigger: report.trigger,
      uploaded: report.uploaded.length,
      downloaded: report.downloaded.length,
    };
    const file = path.join(this.settings.data, 'last-sync.json');
    writeFileSync(file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }

  private lastSync(): { at: string; trigger: string; uploaded: number; downloaded: number } | undefined {
    try {
      return JSON.parse(readFileSync(path.join(this.settings.data, 'last-sync.json'), 'utf8'));
    } catch {
      return undefined;
    }
  }

  get lastSyncReport(): SyncReport | undefined {
    return this.lastReport;
  }

  /**
   * Stops the engine (with `uploadWithinMs`, after uploading what is
   * pending, for at most that long) and closes card and NV store, whatever
   * failed before; resolves what stayed behind.
   */
  async close(options: { uploadWithinMs?: number } = {}): Promise<Awaited<ReturnType<Terminal['stop']>>> {
    try {
      return await this.terminal.stop(options);
    } finally {
      for (const close of this.closers) await close().catch(() => {});
    }
  }
}

/** The host's battery (sysfs), or none on a machine without one. */
async function hostBattery(clock: SystemClock): Promise<Battery | undefined> {
  const battery = new SysfsBattery({ clock });
  try {
    await battery.read();
    return battery;
  } catch {
    return undefined;
  }
}

function refusalText(refusal: { at: number; reason: string }): string {
  return `refused by the server on ${new Date(refusal.at).toISOString()} (${refusal.reason})`;
}

type PersonalData = Awaited<ReturnType<Terminal['personalData']>>;

/** `ls`: one line per record, its name beside its ID (FN, SUMMARY), its size and whether it waits to sync. */
function listing(records: readonly LocalRecord[]): string[] {
  const rows = records.map((r) => [
    `${r.category}/${r.id}`,
    recordName(r) ?? '',
    r.stub ? `${r.stub.size} bytes (on the server)` : `${r.body?.length ?? 0} bytes`,
    r.dirty ? 'not synced' : '',
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(0, ...rows.map((row) => row[i]!.length)));
  return rows.map((row) =>
    row
      .map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c))
      .join('  ')
      .trimEnd(),
  );
}

/** What cli/import-report.ts needs of the personal data, opened through local-access.ts. */
function target(data: PersonalData): RecordTarget {
  return {
    records: { list: (c) => data.list(c) },
    edit: (c, id, body, meta) => data.edit(c, id, body, meta),
    fetch: (c, id) => data.fetch(c, id),
  };
}

/**
 * `put contacts` takes one whole vCard (RFC 6350 §6.1: BEGIN … END), never
 * free text, so `export-vcard` writes a file other programs read; resolves
 * the card's name for `ls`.
 */
function contactName(text: string): string {
  const read = readVcardFile(text);
  const broken = read.rejected[0];
  if (read.items.length !== 1 || broken !== undefined) {
    const why = broken
      ? broken.reason
      : read.items.length === 0
        ? 'no BEGIN:VCARD … END:VCARD'
        : 'more than one card';
    throw new CommandError(
      `contacts hold vCards, and this is not one (${why}): import-vcard FILE, or put contacts ID BEGIN:VCARD\\nVERSION:4.0\\nFN:Name\\nEND:VCARD`,
    );
  }
  return read.items[0]!.name;
}

function parseCategories(list: string): Category[] {
  const out = list.split(',').map((s) => s.trim());
  for (const c of out) if (!isCategory(c)) throw new CommandError(`unknown category ${c}`);
  return normaliseSelection(out as Category[]);
}

function requireCategory(value: string | undefined): Category {
  if (!isCategory(value)) throw new CommandError(`category must be one of ${CATEGORIES.join(', ')}`);
  return value;
}

function requireId(value: string | undefined): string {
  if (!value) throw new CommandError('a record ID is needed');
  return value;
}

/**
 * Whether the server's address answers now: a TCP connection to its host and
 * port, closed at once, within 2 s (what `status` shows; a sync says more).
 */
function reachability(url: string): Promise<string> {
  let host: string;
  let port: number;
  try {
    const parsed = new URL(url);
    host = parsed.hostname.replace(/^\[|\]$/g, '');
    const defaults: Record<string, number> = { 'mqtt:': 1883, 'mqtts:': 8883, 'ws:': 80, 'wss:': 443 };
    port = parsed.port ? Number(parsed.port) : (defaults[parsed.protocol] ?? 1883);
  } catch {
    return Promise.resolve('not a URL');
  }
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (text: string) => {
      socket.destroy();
      resolve(text);
    };
    socket.setTimeout(2000, () => done('no answer within 2 s'));
    socket.once('connect', () => done('reachable'));
    socket.once('error', (e: NodeJS.ErrnoException) => done(`not reachable: ${e.code ?? e.message}`));
  });
}

/**
 * The NV store, or, when its log is damaged (a flipped bit, a cut the log
 * cannot explain: hal-linux refuses it 'store-corrupt', naming the file and
 * the byte), the offer of a resync from the server instead of failing at
 * every start: the damaged log is moved aside (kept, never read again), the
 * store starts empty, and the walk-through registers the terminal anew,
 * after which its first sync brings the server's data down. What had not
 * been uploaded is lost with the log; the terminal comes back under a new ID
 * (its old one lived in the store).
 */
async function openStore(dir: string, io: AgentIO, assumeYes: boolean): Promise<FileNvStore> {
  try {
    return await FileNvStore.open(dir);
  } catch (e) {
    if (!isHalError(e, 'store-corrupt')) throw e;
    const where = `${e.file ?? dir}${e.offset === undefined ? '' : `, byte ${e.offset}`}`;
    io.print(`! this terminal's store is damaged (${where}) and is not read: ${e.message}`);
    const question =
      'Set it aside and start again from the server? Changes not uploaded yet are lost; the terminal registers anew, under a new ID';
    let yes = assumeYes;
    if (!yes && io.interactive) {
      const answer = await io.question(`${question} [y/N]`);
      yes = answer !== undefined && /^y(es)?$/i.test(answer.trim());
    }
    if (!yes) {
      throw new SyncError(
        'aborted',
        `the store is damaged (${where}); nothing was changed. Start the agent at a terminal to resync from the server, or give --yes`,
        'store-corrupt',
      );
    }
    const aside = await FileNvStore.moveAside(dir);
    io.print(`• the damaged log is kept as ${aside}; registering anew, then the server's data comes down`);
    return FileNvStore.open(dir);
  }
}

function requireFile(value: string | undefined): string {
  if (!value) throw new CommandError('a file name is needed');
  return value;
}

const HELP = `commands:
  sync                      sync now (user directive)
  status                    card, binding, server, pending changes, last sync
  categories [LIST]         show or choose the sync-target categories (FIG. 15)
  erase [CATEGORIES] [factory] [--yes]  upload, confirm, then erase (FIG. 20); factory = hand the terminal on
  restore CATEGORIES        bring erased data back from the server
  ls [CATEGORY]             list records: ID, name (FN, SUMMARY), size, not synced
  get CATEGORY ID           show a record
  put CATEGORY ID TEXT…     create or change a record
  rm CATEGORY ID            delete a record
  import-vcard FILE         contacts from a vCard file (RFC 6350)
  export-vcard FILE         contacts to a vCard file
  import-ical FILE          calendar from an iCalendar file (RFC 5545)
  export-ical FILE          calendar to an iCalendar file
  register                  first-run registration (FIG. 8 / FIG. 19)
  conflicts                 the edits that clashed ([0044]): both versions, by whom, when
  resolve N --keep mine|theirs|both   settle conflict N
  passwd                    set or change the terminal password
  unblock                   unblock the SIM PIN with the PUK (from the operator)
  eject / insert            take the virtual SIM out and put it back (--card sim)
  quit                      upload what is pending (10 s at most), then stop

Ctrl-C stops the running step; a second Ctrl-C quits.`;
