import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readVcardFile } from '../cli/vcard.js';
import { utf8 } from '../core/index.js';
import { vcard } from './fixtures.js';

/**
 * The data of bench/peers.ts, the same bytes for every system: contacts are
 * vCards, nine in ten from the bench generator (fixtures.ts) and every tenth
 * a real card from test/fixtures/real-world/vcard (other projects' test
 * files: Outlook, Android, iPhone, Gmail, … exports; 1,070 cards, cycled);
 * photos are incompressible bytes, as JPEG is.
 */

const CORPUS = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'test',
  'fixtures',
  'real-world',
  'vcard',
);

let corpus: string[] | undefined;

/** The real-world cards, in file then card order. */
export function corpusCards(): string[] {
  if (corpus === undefined) {
    corpus = [];
    for (const file of readdirSync(CORPUS).sort()) {
      for (const card of readVcardFile(readFileSync(path.join(CORPUS, file))).items) corpus.push(card.text);
    }
  }
  return corpus;
}

/** A record as every system stores it: an ID and its bytes. */
export interface Rec {
  id: string;
  body: Uint8Array;
}

/**
 * Contact `i` as the user's `edit`-th version (0: as first imported). A
 * generated card's later versions are other generated cards (another phone
 * and note); a real card's get a NOTE line saying which edit it is.
 */
export function contact(i: number, edit = 0): Rec {
  const id = `c${i}`;
  if (i % 10 !== 9) return { id, body: vcard(i + edit * 1_000_003) };
  const cards = corpusCards();
  const text = cards[Math.floor(i / 10) % cards.length] as string;
  if (edit === 0) return { id, body: utf8(text) };
  const end = text.search(/END:VCARD\s*$/i);
  const at = end < 0 ? text.length : end;
  return { id, body: utf8(`${text.slice(0, at)}NOTE:edit ${edit}\r\n${text.slice(at)}`) };
}

/** Photo `i`: `size` bytes of xorshift32 output (incompressible, as a JPEG is to gzip). */
export function photo(i: number, size: number): Rec {
  const body = new Uint8Array(size);
  let x = (i + 1) * 2_654_435_761;
  for (let at = 0; at < size; at++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    body[at] = x & 0xff;
  }
  return { id: `p${i}`, body };
}
