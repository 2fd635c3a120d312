import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  CATEGORIES,
  type Category,
  fromUtf8,
  isCategory,
  normaliseSelection,
  POLICIES,
  type PolicyName,
  SyncError,
  type SyncReport,
  Terminal,
  utf8,
} from '../core/index.js';
import type { Battery, CardReader, RadioLink } from '../hal/index.js';
import { FileNvStore, LinuxIdleSensor, linkFromUrl, SysfsBattery, SystemClock } from '../hal-linux/index.js';
import { SimCardReader } from '../hal-sim/index.js';
import { VirtualUicc } from '../uicc/index.js';
import { formatCalendar, parseCalendar } from './ical.js';
import type { LineIO } from './line-io.js';
import type { TerminalSettings } from './terminal-settings.js';
import { TtyUserAgent } from './tty-agent.js';
import { formatVcards, parseVcards } from './vcard.js';

export class CommandError extends Error {
  override readonly name = 'CommandError';
}

const POLICY_CHOICES = Object.keys(POLICIES) as PolicyName[];

interface CardSide {
  reader: CardReader;
  /** The modem's own battery report, when the card side is a modem. */
  battery?: Battery;
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
    reader.insert(new VirtualUicc({ ...settings.sim }));
    return { reader, close: async () => {} };
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

/**
 * `simsync terminal`: a person's terminal (a PC with a reader, a Pi with a
 * modem) — first-run registration (FIG. 8 / 10-A / 11-A / 19), then syncs on
 * every trigger, and the commands below, typed at its prompt or given as a
 * one-shot subcommand.
 */
export class TerminalAgent {
  private lastReport: SyncReport | undefined;

  private constructor(
    readonly terminal: Terminal,
    private readonly reader: CardReader,
    private readonly battery: Battery | undefined,
    private readonly settings: TerminalSettings,
    private readonly io: LineIO,
    private readonly closers: (() => Promise<void>)[],
  ) {
    terminal.onReport((report) => this.remember(report));
  }

  static async open(settings: TerminalSettings, io: LineIO): Promise<TerminalAgent> {
    // The terminal's own directory: its owner's only, whatever the umask (the NV store sets its own too).
    if (mkdirSync(settings.data, { recursive: true, mode: 0o700 }) !== undefined)
      chmodSync(settings.data, 0o700);
    const clock = new SystemClock();
    const nv = await FileNvStore.open(path.join(settings.data, 'nv'));
    const card = await openReader(settings, clock).catch(async (e) => {
      await nv.close();
      throw e;
    });
    const battery = card.battery ?? (await hostBattery(clock));
    const terminal = await Terminal.create(
      {
        reader: card.reader,
        nv,
        link: linkFor(settings),
        clock,
        agent: new TtyUserAgent(io),
        ...(battery ? { battery } : {}),
        idle: new LinuxIdleSensor({ clock }),
      },
      {
        ...(settings.triggers ? { triggers: settings.triggers } : {}),
        ...(settings.withoutSim ? { withoutSim: settings.withoutSim } : {}),
        ...(settings.lazyAboveBytes ? { lazy: { aboveBytes: settings.lazyAboveBytes } } : {}),
      },
    );
    return new TerminalAgent(terminal, card.reader, battery, settings, io, [card.close, () => nv.close()]);
  }

  /**
   * FIG. 8 / 19 on first run: terminal password, policy, categories, secret;
   * the engine asks for the PIN. A terminal the server refused is not
   * registered again unasked: the user is told, and `register` does it.
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
      this.io.print(`already registered (${registration.policy})`);
      return;
    }
    await this.register();
  }

  private async register(): Promise<void> {
    const shop =
      (await this.io.question('Registered at a shop, with a code from the shop? [y/N]'))
        ?.trim()
        .toLowerCase() === 'y';
    if (!shop) await this.setPassword();
    const policy = this.settings.policy ?? (await this.choosePolicy());
    const categories = this.settings.categories ?? (await this.chooseCategories());
    const secret = await this.io.question(shop ? 'Shop code' : 'Login password or one-time code', {
      secret: true,
    });
    if (!secret) throw new CommandError('registration cancelled');
    if (!this.reader.present()) throw new CommandError('insert the SIM first');
    const registration = await this.terminal.register({ policy, secret, categories, shop });
    this.io.print(
      `Registered for subscriber ${registration.subscriberId}: ${registration.categories.join(', ')} (${policy}).`,
    );
  }

  private async setPassword(): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const first = await this.io.question('Choose a terminal password', { secret: true });
      if (first === undefined) throw new CommandError('registration cancelled');
      const again = await this.io.question('Repeat it', { secret: true });
      if (first === again && first.length >= 4) {
        await this.terminal.setTerminalPassword(first).catch(async (e) => {
          const current = await this.io.question('Current terminal password', { secret: true });
          if (current === undefined) throw e;
          await this.terminal.setTerminalPassword(first, current);
        });
        return;
      }
      this.io.print(first === again ? 'At least 4 characters, please.' : 'They differ; again.');
    }
    throw new CommandError('no terminal password set');
  }

  private async choosePolicy(): Promise<PolicyName> {
    this.io.print('How much checking before each sync ([0057])?');
    for (const [i, p] of POLICY_CHOICES.entries()) this.io.print(`  ${i + 1}) ${p}`);
    const answer = (await this.io.question('Policy [2]'))?.trim() || '2';
    const choice = POLICY_CHOICES[Number(answer) - 1];
    if (choice === undefined) throw new CommandError(`no policy ${answer}`);
    return choice;
  }

  private async chooseCategories(): Promise<Category[]> {
    this.io.print(`Data to sync (FIG. 15): ${CATEGORIES.filter((c) => c !== 'rights').join(', ')}`);
    const answer = (await this.io.question('Categories, comma separated [all]'))?.trim() || 'all';
    if (answer === 'all') return [...CATEGORIES];
    return parseCategories(answer);
  }

  /** Runs one command typed at the prompt; resolves false for `quit`. Errors are printed, never thrown. */
  async command(line: string): Promise<boolean> {
    try {
      return await this.run(line);
    } catch (e) {
      this.io.print(`error: ${(e as Error).message}`);
      process.exitCode = 1;
      return true;
    }
  }

  /** Runs one command (a one-shot subcommand, or a line typed at the prompt); resolves false for `quit`. */
  async run(line: string): Promise<boolean> {
    const [name = '', ...args] = line.split(/\s+/).filter(Boolean);
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
        await handler(args);
        return true;
      }
    }
  }

  private readonly handlers: Record<string, (args: string[]) => Promise<void>> = {
    register: () => this.registerCommand(),
    sync: async () => {
      this.remember(await this.terminal.sync('user'));
    },
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
      const chosen = args.filter((a) => a !== 'factory');
      const report = await this.terminal.erase({
        factory,
        ...(chosen.length > 0 ? { categories: parseCategories(chosen.join(',')) } : {}),
      });
      const state = report.factory ? '; factory state' : '';
      this.io.print(
        `erased ${report.erased} record(s) of ${report.categories.join(', ')} after uploading ${report.uploaded}${state}`,
      );
    },
    // Personal data: every command below opens it through the engine's checks
    // (Terminal.personalData, core/engine/local-access.ts) before reading any of it.
    put: async ([category, id, ...text]) => {
      const c = requireCategory(category);
      if (!id || text.length === 0) throw new CommandError('usage: put CATEGORY ID TEXT…');
      await (await this.terminal.personalData('write')).edit(c, id, utf8(text.join(' ')));
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
      for (const c of chosen) {
        for (const r of await data.list(c)) {
          this.io.print(`${c}/${r.id}\t${r.body?.length ?? 0} bytes${r.dirty ? '\t(not synced)' : ''}`);
        }
      }
    },
    'import-vcard': async ([file]) => {
      const cards = parseVcards(readFileSync(requireFile(file), 'utf8'));
      const data = await this.terminal.personalData('write');
      for (const card of cards) await data.edit('contacts', card.id, utf8(card.text), { title: card.name });
      this.io.print(`imported ${cards.length} contact(s)`);
    },
    'export-vcard': async ([file]) => {
      const target = requireFile(file);
      const data = await this.terminal.personalData('read');
      const cards = (await data.list('contacts')).map((r) => fromUtf8(r.body!));
      writeExport(target, formatVcards(cards));
      this.io.print(`exported ${cards.length} contact(s)`);
    },
    'import-ical': async ([file]) => {
      const items = parseCalendar(readFileSync(requireFile(file), 'utf8'));
      const data = await this.terminal.personalData('write');
      for (const item of items) await data.edit('pim', item.id, utf8(item.text), { title: item.summary });
      this.io.print(`imported ${items.length} calendar item(s)`);
    },
    'export-ical': async ([file]) => {
      const target = requireFile(file);
      const data = await this.terminal.personalData('read');
      const items = (await data.list('pim')).map((r) => fromUtf8(r.body!));
      writeExport(target, formatCalendar(items));
      this.io.print(`exported ${items.length} calendar item(s)`);
    },
  };

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
      `card        ${this.reader.present() ? `present (${this.reader.name})` : `none (${this.reader.name})`}`,
      `standing    ${standing}`,
      `server      ${this.settings.server}`,
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
      `last sync   ${last ? `${last.at} (${last.trigger}: ${last.uploaded} up, ${last.downloaded} down)` : 'never'}`,
    ];
    for (const line of more) this.io.print(line);
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

  /** Agent mode: follow the card and run commands until `quit`, SIGINT or SIGTERM. */
  async serve(): Promise<void> {
    this.terminal.start();
    this.io.print(
      `simsync terminal ${this.terminal.terminalId} — ${this.reader.present() ? 'SIM present' : 'waiting for the SIM'}; type help`,
    );
    await new Promise<void>((resolve) => {
      let queue = Promise.resolve(true);
      this.io.onCommand((line) => {
        queue = queue
          .then((go) => (go ? this.command(line) : false))
          .then((go) => {
            if (!go) resolve();
            return go;
          });
      });
      // Without input (a systemd service) the agent keeps following the SIM until it is stopped.
      const stop = () => void queue.then(() => resolve());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  }

  get lastSyncReport(): SyncReport | undefined {
    return this.lastReport;
  }

  async close(): Promise<void> {
    await this.terminal.stop();
    for (const close of this.closers) await close();
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

/** An export holds personal data: readable by its owner only (the mode applies when the file is created). */
function writeExport(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
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

function requireFile(value: string | undefined): string {
  if (!value) throw new CommandError('a file name is needed');
  return value;
}

const HELP = `commands:
  sync                      sync now (user directive)
  status                    card, binding, server, pending changes, last sync
  categories [LIST]         show or choose the sync-target categories (FIG. 15)
  erase [CATEGORIES] [factory]  upload, then erase (FIG. 20); factory = hand the terminal on
  ls [CATEGORY]             list records
  get CATEGORY ID           show a record
  put CATEGORY ID TEXT…     create or change a record
  rm CATEGORY ID            delete a record
  import-vcard FILE         contacts from a vCard file (RFC 6350)
  export-vcard FILE         contacts to a vCard file
  import-ical FILE          calendar from an iCalendar file (RFC 5545)
  export-ical FILE          calendar to an iCalendar file
  register                  first-run registration (FIG. 8 / FIG. 19)
  quit`;
