import { describe, expect, it } from 'vitest';
import type { StoredRecord } from '../store/sync-store.js';
import { conflictCopyId, resolve, type UploadedChange } from './resolve.js';

const current: StoredRecord = {
  category: 'contacts',
  recordId: 'a',
  body: Uint8Array.of(1),
  seq: 5,
  origin: 'pc-1',
  editedAt: 100,
};
const edit = (over: Partial<UploadedChange>): UploadedChange => ({
  category: 'contacts',
  recordId: 'a',
  base: 5,
  editedAt: 200,
  body: Uint8Array.of(2),
  ...over,
});

describe('conflict resolution ([0044], [0068])', () => {
  it('applies an edit of the current version, a new record, and a record the server never had', () => {
    expect(resolve(current, edit({}), 'ph-1')).toEqual({ kind: 'apply' });
    expect(resolve(undefined, edit({ base: 0 }), 'ph-1')).toEqual({ kind: 'apply' });
    expect(resolve(undefined, edit({ base: 9 }), 'ph-1')).toEqual({ kind: 'apply' });
  });

  it('issue 21: a record created again after its deletion is applied, not a conflict', () => {
    const deleted = { ...current, body: null };
    expect(resolve(deleted, edit({ base: 0, editedAt: 200 }), 'ph-1')).toEqual({ kind: 'apply' });
    // Created before the deletion (never having seen the record): the later deletion wins, the creation is kept.
    expect(resolve(deleted, edit({ base: 0, editedAt: 1 }), 'aa')).toMatchObject({
      kind: 'conflict-lost',
      copy: { body: Uint8Array.of(2), origin: 'aa' },
    });
    // An edit of an older version against a deletion still is one.
    expect(resolve(deleted, edit({ base: 3, editedAt: 200 }), 'ph-1')).toEqual({
      kind: 'conflict-won',
      copy: null,
    });
  });

  it('a later stale edit wins and keeps the current version as a copy', () => {
    expect(resolve(current, edit({ base: 3 }), 'ph-1')).toEqual({
      kind: 'conflict-won',
      copy: {
        category: 'contacts',
        recordId: 'a~conflict~pc-1~100',
        body: Uint8Array.of(1),
        origin: 'pc-1',
        editedAt: 100,
      },
    });
  });

  it('an earlier stale edit loses and is kept as a copy; a losing deletion needs no copy', () => {
    expect(resolve(current, edit({ base: 3, editedAt: 50 }), 'ph-1')).toEqual({
      kind: 'conflict-lost',
      copy: {
        category: 'contacts',
        recordId: 'a~conflict~ph-1~50',
        body: Uint8Array.of(2),
        origin: 'ph-1',
        editedAt: 50,
      },
    });
    expect(resolve(current, edit({ base: 3, editedAt: 50, body: null }), 'ph-1')).toEqual({
      kind: 'conflict-lost',
      copy: null,
    });
  });

  it('breaks a tie by the larger terminal ID, the same way on every server', () => {
    expect(resolve(current, edit({ base: 3, editedAt: 100 }), 'zz').kind).toBe('conflict-won');
    expect(resolve(current, edit({ base: 3, editedAt: 100 }), 'aa').kind).toBe('conflict-lost');
  });

  it('sees no conflict when both sides reached the same state', () => {
    expect(resolve(current, edit({ base: 3, editedAt: 1, body: Uint8Array.of(1) }), 'aa')).toEqual({
      kind: 'apply',
    });
    expect(resolve({ ...current, body: null }, edit({ base: 3, editedAt: 1, body: null }), 'aa')).toEqual({
      kind: 'apply',
    });
  });

  it('keeps copy ids within the 200 characters of a record id', () => {
    const id = conflictCopyId('x'.repeat(200), 't'.repeat(64), 1_764_000_000_000);
    expect(id).toHaveLength(200);
    expect(id.endsWith(`~conflict~${'t'.repeat(64)}~1764000000000`)).toBe(true);
  });
});
