import type { Category, RecordMeta } from '../protocol/index.js';

/** A record as the engine sees it in the personal information storage area 6a (FIG. 6). */
export interface LocalRecord {
  category: Category;
  id: string;
  /** null: deleted here, deletion not yet acknowledged by the server. */
  body: Uint8Array | null;
  /** Server sequence this version derives from (0: never on the server). */
  base: number;
  editedAt: number;
  dirty: boolean;
  /** [0033] folder and date, and a title. */
  meta?: RecordMeta;
  /** [0094]: only a stub is here (body empty); the substance is fetched on access. */
  stub?: Stub;
}

/** [0094]: what a stub says about the substance it stands for. */
export interface Stub {
  size: number;
  /** SHA-256 of the substance. */
  hash: Uint8Array;
}

/** A change received from the server. */
export interface IncomingChange {
  category: Category;
  id: string;
  seq: number;
  editedAt: number;
  body: Uint8Array | null;
  meta?: RecordMeta;
  stub?: Stub;
}
