import type { Category, RecordMeta } from '../protocol/index.js';
import type { LocalRecord, RecordStore } from '../store/record-store.js';
import type { Grant, LocalAccess } from './local-access.js';
import type { UserRecords } from './user-records.js';

/**
 * The personal data (area 6a) as one user action sees it, opened by
 * `Terminal.personalData` after the checks of local-access.ts. Every call
 * first confirms the grant still holds: a SIM inserted, removed or swapped
 * meanwhile, or a refusal from the server, ends it (a long import stops
 * there rather than carrying on under a permission given to another card).
 */
export class PersonalData {
  constructor(
    private readonly gate: LocalAccess,
    private readonly grant: Grant,
    private readonly user: UserRecords,
    private readonly records: RecordStore,
  ) {}

  /** Opened with the registered SIM in the reader (false: by the terminal password, no SIM). */
  get withSim(): boolean {
    return this.grant.withSim;
  }

  /** Live records of a category. */
  async list(category: Category): Promise<LocalRecord[]> {
    await this.gate.confirm(this.grant, 'read');
    return this.records.list(category);
  }

  /** A record, with updates on access ([0043]) and a stub's substance fetched ([0094]). */
  async open(category: Category, id: string): Promise<LocalRecord | undefined> {
    await this.gate.confirm(this.grant, 'read');
    return this.user.open(category, id);
  }

  /** [0094]: a stub's substance, now. */
  async fetch(category: Category, id: string): Promise<LocalRecord> {
    await this.gate.confirm(this.grant, 'read');
    return this.user.fetch(category, id);
  }

  /** Creates or changes a record (without the SIM: warned of possible conflicts, [0068]). */
  async edit(category: Category, id: string, body: Uint8Array, meta?: RecordMeta): Promise<LocalRecord> {
    await this.gate.confirm(this.grant, 'write');
    return this.user.edit(category, id, body, meta);
  }

  /** Deletes a record ([0060]); resolves false when there was none. */
  async delete(category: Category, id: string): Promise<boolean> {
    await this.gate.confirm(this.grant, 'write');
    return this.user.delete(category, id);
  }

  /** Changes not yet on the server. */
  async pending(): Promise<number> {
    await this.gate.confirm(this.grant, 'read');
    return this.records.dirtyCount();
  }

  /** Changes the server did not accept, with its reasons. */
  async setAside(): Promise<{ category: Category; id: string; reason: string }[]> {
    await this.gate.confirm(this.grant, 'read');
    return this.records.setAside();
  }
}
