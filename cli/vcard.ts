import { createHash } from 'node:crypto';
import ICAL from 'ical.js';

/** One contact of a vCard file (RFC 6350), kept byte for byte as the user's file had it. */
export interface ContactCard {
  /** Record ID: the card's UID, else a digest of its text. */
  id: string;
  name: string;
  text: string;
}

export class CardFileError extends Error {
  override readonly name = 'CardFileError';
}

const BLOCK = /^BEGIN:VCARD\r?\n[\s\S]*?^END:VCARD(?:\r?\n|$)/gim;

/** A stable record ID from a UID (record IDs are at most 200 characters). */
export function recordIdFor(uid: string | undefined, text: string): string {
  if (uid && uid.length <= 200) return uid;
  return `sha256-${createHash('sha256')
    .update(uid ?? text)
    .digest('hex')
    .slice(0, 32)}`;
}

/**
 * Splits a vCard file into its cards, validating each with ical.js; each card
 * keeps its exact text, so export gives the user back the file they imported.
 */
export function parseVcards(file: string): ContactCard[] {
  const blocks = file.match(BLOCK) ?? [];
  if (blocks.length === 0) throw new CardFileError('no BEGIN:VCARD … END:VCARD block found');
  return blocks.map((block, index) => {
    const text = block.endsWith('\n') ? block : `${block}\r\n`;
    let card: ICAL.Component;
    try {
      card = new ICAL.Component(ICAL.parse(text) as never);
    } catch (e) {
      throw new CardFileError(`card ${index + 1}: ${(e as Error).message}`);
    }
    if (card.name !== 'vcard') throw new CardFileError(`card ${index + 1}: not a vCard`);
    // RFC 6350 §6.7.9 / §6.2.1: VERSION and FN are required.
    for (const required of ['version', 'fn']) {
      if (!card.hasProperty(required))
        throw new CardFileError(`card ${index + 1}: no ${required.toUpperCase()}`);
    }
    const uid = card.getFirstPropertyValue('uid');
    const name = String(card.getFirstPropertyValue('fn') ?? card.getFirstPropertyValue('n') ?? '(no name)');
    return { id: recordIdFor(typeof uid === 'string' ? uid : undefined, text), name, text };
  });
}

/** The cards as one vCard file. */
export function formatVcards(cards: readonly string[]): string {
  return cards.map((c) => (c.endsWith('\n') ? c : `${c}\r\n`)).join('');
}
