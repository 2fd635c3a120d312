import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry, Staging, SyncStore, SyncTx, TerminalRow } from './sync-store.js';

/**
 * The behaviour every SyncStore must show (STYLE.md §12), run against each
 * implementation: `describeSyncStoreContract('sqlite', () => openSqliteStore(':memory:'))`.
 */
export function describeSyncStoreContract(name: string, factory: () => SyncStore | Promise<SyncStore>): void {
  describe(`SyncStore contract: ${name}`, () => {
    let store: SyncStore;

    beforeEach(async () => {
      store = await factory();
    });
    afterEach(async () => {
      await store.close();
    });

    const X = '001010000000102';
    const Y = '228062800000208';

    async function addSubscriber(subscriber: string): Promise<void> {
      await store.transaction((tx) =>
        tx.putSubscriber({ subscriber, iccid: null, loginPasswordHash: null, createdAt: 1 }),
      );
    }

    function terminal(terminalId: string, subscriber: string): TerminalRow {
      return {
        terminalId,
        subscriber,
        passwordHash: null,
        categories: ['contacts', 'mail'],
        credentialHash: null,
        revoked: false,
        createdAt: 10,
        lastSeenAt: null,
        lastBatch: null,
        lastAck: null,
      };
    }

    function audit(over: Partial<AuditEntry>): AuditEntry {
      return {
        at: 1,
        subscriber: X,
        terminalId: 'pc-1',
        terminalOwner: null,
        action: 'upload',
        outcome: 'accepted',
        reason: null,
        uploaded: 0,
        uploadedBytes: 0,
        downloaded: 0,
        downloadedBytes: 0,
        ...over,
      };
    }

    const body = (...b: number[]) => new Uint8Array(b);

    it('FIG. 7a: keeps subscribers with ICCID and login password hash, replacing on put', async () => {
      expect(await store.getSubscriber(X)).toBeUndefined();
      await store.transaction((tx) =>
        tx.putSubscriber({
          subscriber: X,
          iccid: '8988211000000430010',
          loginPasswordHash: 'h1',
          createdAt: 5,
        }),
      );
      await addSubscriber(Y);
      await store.transaction((tx) =>
        tx.putSubscriber({ subscriber: X, iccid: null, loginPasswordHash: 'h2', createdAt: 5 }),
      );
      expect(await store.getSubscriber(X)).toEqual({
        subscriber: X,
        iccid: null,
        loginPasswordHash: 'h2',
        createdAt: 5,
      });
      expect((await store.listSubscribers()).map((s) => s.subscriber)).toEqual([X, Y]);
    });

    it('TS 33.102 AKA: keeps a sealed card key and its SQN per subscriber, replacing, listing, deleting', async () => {
      await addSubscriber(X);
      await addSubscriber(Y);
      expect(await store.getAka(X)).toBeUndefined();
      const sqn = 2 ** 47 + 33; // SQNs are 48-bit: beyond int32 and exact
      const row = { subscriber: X, keyId: 'k1', sealed: body(1, 2, 3), sqn, createdAt: 7 };
      await store.transaction((tx) => tx.putAka(row));
      await store.transaction((tx) => tx.putAka({ ...row, subscriber: Y, keyId: 'k0' }));
      expect(await store.getAka(X)).toEqual(row);
      await store.transaction(async (tx) => {
        const now = await tx.getAka(X);
        await tx.putAka({ ...(now as typeof row), sqn: sqn + 32, keyId: 'k2', sealed: body(9) });
      });
      expect(await store.getAka(X)).toEqual({ ...row, sqn: sqn + 32, keyId: 'k2', sealed: body(9) });
      expect((await store.listAka()).map((r) => [r.subscriber, r.keyId])).toEqual([
        [X, 'k2'],
        [Y, 'k0'],
      ]);
      // A failed transaction leaves the SQN as it was: no challenge issued twice from one SQN.
      await expect(
        store.transaction(async (tx) => {
          await tx.putAka({ ...row, sqn: 1 });
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect((await store.getAka(X))?.sqn).toBe(sqn + 32);
      await store.transaction((tx) => tx.deleteAka(X));
      expect(await store.getAka(X)).toBeUndefined();
      expect((await store.listAka()).map((r) => r.subscriber)).toEqual([Y]);
    });

    it('FIG. 7b: keeps terminals with categories, credential hash, revocation and the last batch ack', async () => {
      await addSubscriber(X);
      await addSubscriber(Y);
      const t = {
        ...terminal('pc-1', X),
        passwordHash: 'scrypt$x',
        categories: ['contacts', 'application', 'rights'] as TerminalRow['categories'],
        credentialHash: 'ab'.repeat(32),
        lastBatch: 7,
        lastAck: body(1, 2, 3),
      };
      await store.transaction(async (tx) => {
        await tx.putTerminal(t);
        await tx.putTerminal(terminal('b-2', X));
        await tx.putTerminal(terminal('a-3', Y));
      });
      expect(await store.getTerminal('pc-1')).toEqual(t);
      expect((await store.listTerminals(X)).map((r) => r.terminalId)).toEqual(['b-2', 'pc-1']);
      expect((await store.listTerminals()).map((r) => r.terminalId)).toEqual(['a-3', 'b-2', 'pc-1']);
      await store.transaction((tx) => tx.putTerminal({ ...t, revoked: true, categories: [] }));
      expect(await store.getTerminal('pc-1')).toMatchObject({ revoked: true, categories: [] });
      await store.touchTerminal('pc-1', 99);
      expect((await store.getTerminal('pc-1'))?.lastSeenAt).toBe(99);
      expect(await store.getTerminal('nobody')).toBeUndefined();
    });

    it('refuses a terminal or code of an unknown subscriber', async () => {
      await expect(store.transaction((tx) => tx.putTerminal(terminal('pc-1', X)))).rejects.toThrow();
      await expect(
        store.transaction((tx) =>
          tx.putCode({
            codeHash: 'c',
            subscriber: X,
            terminalId: null,
            createdAt: 0,
            expiresAt: 1,
            usedAt: null,
          }),
        ),
      ).rejects.toThrow();
    });

    it('keeps one-time codes with their binding, expiry and use', async () => {
      await addSubscriber(X);
      const code = {
        codeHash: 'c1',
        subscriber: X,
        terminalId: 'pc-1',
        createdAt: 1,
        expiresAt: 50,
        usedAt: null,
      };
      await store.transaction((tx) => tx.putCode(code));
      expect(await store.getCode('c1')).toEqual(code);
      await store.transaction((tx) => tx.putCode({ ...code, usedAt: 20 }));
      expect((await store.getCode('c1'))?.usedAt).toBe(20);
      expect(await store.getCode('c2')).toBeUndefined();
    });

    it('numbers changes per subscriber, monotonically, and logs each one, deletions too ([0060])', async () => {
      await addSubscriber(X);
      await addSubscriber(Y);
      expect(await store.latestSeq(X)).toBe(0);
      const seqs = await store.transaction(async (tx) => [
        await tx.putRecord(
          X,
          { category: 'contacts', recordId: 'a', body: body(1), origin: 'pc-1', editedAt: 1 },
          100,
        ),
        await tx.putRecord(
          Y,
          { category: 'contacts', recordId: 'a', body: body(2), origin: 'ph-9', editedAt: 1 },
          100,
        ),
        await tx.putRecord(
          X,
          { category: 'mail', recordId: 'm', body: body(3), origin: 'pc-1', editedAt: 2 },
          101,
        ),
        await tx.putRecord(
          X,
          { category: 'contacts', recordId: 'a', body: null, origin: 'ph-2', editedAt: 3 },
          102,
        ),
      ]);
      expect(seqs).toEqual([1, 1, 2, 3]);
      expect(await store.latestSeq(X)).toBe(3);
      expect(await store.latestSeq(Y)).toBe(1);
      expect(await store.getRecord(X, 'contacts', 'a')).toEqual({
        category: 'contacts',
        recordId: 'a',
        body: null,
        seq: 3,
        origin: 'ph-2',
        editedAt: 3,
      });
      expect(await store.changeLog(X)).toEqual([
        { seq: 1, category: 'contacts', recordId: 'a', origin: 'pc-1', deleted: false, at: 100 },
        { seq: 2, category: 'mail', recordId: 'm', origin: 'pc-1', deleted: false, at: 101 },
        { seq: 3, category: 'contacts', recordId: 'a', origin: 'ph-2', deleted: true, at: 102 },
      ]);
      expect((await store.changeLog(X, 1, 1)).map((c) => c.seq)).toEqual([2]);
    });

    it('gives the current records in a range, each once, filtered by category, ordered by seq', async () => {
      await addSubscriber(X);
      await store.transaction(async (tx) => {
        for (const [cat, id, b] of [
          ['contacts', 'a', 1],
          ['mail', 'm', 2],
          ['contacts', 'b', 3],
          ['contacts', 'a', 4],
          ['pim', 'p', 5],
        ] as const) {
          await tx.putRecord(X, { category: cat, recordId: id, body: body(b), origin: 't', editedAt: b }, b);
        }
      });
      const all = await store.recordsAfter({
        subscriber: X,
        after: 0,
        upTo: 5,
        categories: ['contacts', 'mail', 'pim'],
        limit: 100,
      });
      expect(all.map((r) => [r.recordId, r.seq, r.body?.[0]])).toEqual([
        ['m', 2, 2],
        ['b', 3, 3],
        ['a', 4, 4],
        ['p', 5, 5],
      ]);
      const contacts = await store.recordsAfter({
        subscriber: X,
        after: 2,
        upTo: 4,
        categories: ['contacts'],
        limit: 1,
      });
      expect(contacts.map((r) => r.recordId)).toEqual(['b']);
      expect(
        await store.recordsAfter({ subscriber: X, after: 0, upTo: 5, categories: [], limit: 10 }),
      ).toEqual([]);
    });

    it('issue 20: stops at the row whose body reaches maxBodyBytes, and always gives the first', async () => {
      await addSubscriber(X);
      await store.transaction(async (tx) => {
        // seq 1…5: bodies of 100, 0 (a deletion), 300, 50 and 1,000 bytes.
        for (const [id, size, seq] of [
          ['a', 100, 1],
          ['b', null, 2],
          ['c', 300, 3],
          ['d', 50, 4],
          ['e', 1000, 5],
        ] as const) {
          const record = { category: 'archive', recordId: id, origin: 't', editedAt: seq } as const;
          await tx.putRecord(X, { ...record, body: size === null ? null : new Uint8Array(size) }, seq);
        }
      });
      const ids = async (after: number, maxBodyBytes: number) =>
        (
          await store.recordsAfter({
            subscriber: X,
            after,
            upTo: 5,
            categories: ['archive'],
            limit: 10,
            maxBodyBytes,
          })
        ).map((r) => r.recordId);
      // 100 + 0 + 300 reaches 350 at c: c is the last one.
      expect(await ids(0, 350)).toEqual(['a', 'b', 'c']);
      expect(await ids(0, 400)).toEqual(['a', 'b', 'c']);
      expect(await ids(0, 401)).toEqual(['a', 'b', 'c', 'd']);
      // A body larger than the cap still comes, alone, when it is first.
      expect(await ids(4, 10)).toEqual(['e']);
      expect(await ids(0, 0)).toEqual(['a']);
      expect(await ids(0, 1_000_000)).toEqual(['a', 'b', 'c', 'd', 'e']);
    });

    it('issue 20: a transaction with durable: false is one like any other: visible at once, rolled back whole when it throws', async () => {
      await addSubscriber(X);
      const put = (tx: SyncTx, id: string) =>
        tx.putRecord(
          X,
          { category: 'archive', recordId: id, body: new Uint8Array([7]), origin: 't', editedAt: 1 },
          1,
        );
      await store.transaction((tx) => put(tx, 'kept'), { durable: false });
      await expect(
        store.transaction(
          async (tx) => {
            await put(tx, 'dropped');
            throw new Error('half-way');
          },
          { durable: false },
        ),
      ).rejects.toThrow('half-way');
      expect((await store.getRecord(X, 'archive', 'kept'))?.body).toEqual(new Uint8Array([7]));
      expect(await store.getRecord(X, 'archive', 'dropped')).toBeUndefined();
      expect(await store.latestSeq(X)).toBe(1);
      // The next transaction waits for its commit as ever, on the same store.
      await store.transaction((tx) => put(tx, 'durable'));
      expect(await store.latestSeq(X)).toBe(2);
    });

    it('keeps an empty body apart from a deletion', async () => {
      await addSubscriber(X);
      await store.transaction((tx) =>
        tx.putRecord(X, { category: 'settings', recordId: 's', body: body(), origin: 't', editedAt: 1 }, 1),
      );
      expect((await store.getRecord(X, 'settings', 's'))?.body).toEqual(new Uint8Array(0));
    });

    it('[0094]: reads a byte range of the current body, clamped to its end', async () => {
      await addSubscriber(X);
      const whole = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251);
      const put = (b: Uint8Array | null) =>
        store.transaction((tx) =>
          tx.putRecord(X, { category: 'archive', recordId: 'a', body: b, origin: 't', editedAt: 1 }, 1),
        );
      const seq = await put(whole);
      expect(await store.getBodyRange(X, 'archive', 'a', 0, 10)).toEqual({
        seq,
        size: whole.length,
        bytes: whole.slice(0, 10),
      });
      const middle = await store.getBodyRange(X, 'archive', 'a', 65_536, 65_536);
      expect(middle?.bytes).toEqual(whole.slice(65_536, 131_072));
      expect((await store.getBodyRange(X, 'archive', 'a', 299_990, 65_536))?.bytes).toEqual(
        whole.slice(299_990),
      );
      expect((await store.getBodyRange(X, 'archive', 'a', 400_000, 10))?.bytes).toEqual(new Uint8Array(0));
      expect((await store.getBodyRange(X, 'archive', 'a', 10, 0))?.bytes).toEqual(new Uint8Array(0));
      expect(await store.getBodyRange(X, 'archive', 'b', 0, 10)).toBeUndefined();
      expect(await store.getBodyRange(Y, 'archive', 'a', 0, 10)).toBeUndefined();
      expect(await store.getBodyRange(X, 'mail', 'a', 0, 10)).toBeUndefined();

      const newer = await put(body(1, 2, 3));
      expect(await store.getBodyRange(X, 'archive', 'a', 1, 10)).toEqual({
        seq: newer,
        size: 3,
        bytes: body(2, 3),
      });
      await put(body());
      expect((await store.getBodyRange(X, 'archive', 'a', 0, 10))?.bytes).toEqual(new Uint8Array(0));
      await put(null);
      expect(await store.getBodyRange(X, 'archive', 'a', 0, 10)).toBeUndefined();
    });

    it("[0033]/[0094]: keeps a record's folder, date and title, and a terminal's filters", async () => {
      await addSubscriber(X);
      const meta = { folder: 'sent', date: 1_700_000_000_000, title: 'Re: lunch' };
      await store.transaction((tx) =>
        tx.putRecord(
          X,
          { category: 'mail', recordId: 'm', body: body(1), origin: 't', editedAt: 2, meta },
          2,
        ),
      );
      await store.transaction((tx) =>
        tx.putRecord(X, { category: 'mail', recordId: 'plain', body: body(2), origin: 't', editedAt: 3 }, 3),
      );
      expect((await store.getRecord(X, 'mail', 'm'))?.meta).toEqual(meta);
      expect((await store.getRecord(X, 'mail', 'plain'))?.meta).toBeUndefined();
      const rows = await store.recordsAfter({
        subscriber: X,
        after: 0,
        upTo: 9,
        categories: ['mail'],
        limit: 9,
      });
      expect(rows.map((r) => r.meta)).toEqual([meta, undefined]);

      const filters = { folders: { mail: ['inbox', 'sent'] }, recentDays: { mail: 90 } };
      await store.transaction((tx) => tx.putTerminal({ ...terminal('pc-1', X), filters }));
      expect((await store.getTerminal('pc-1'))?.filters).toEqual(filters);
      await store.transaction((tx) => tx.putTerminal(terminal('pc-1', X)));
      expect((await store.getTerminal('pc-1'))?.filters).toBeUndefined();
    });

    describe('[0094] upload staging: a body uploaded in parts', () => {
      const hash = new Uint8Array(32).fill(7);
      const staging = (over: Partial<Staging> = {}): Staging => ({
        terminalId: 'pc-1',
        category: 'contacts',
        recordId: 'ann',
        subscriber: X,
        size: 10,
        hash,
        got: 0,
        expiresAt: 1000,
        ...over,
      });
      const key = { terminalId: 'pc-1', category: 'contacts' as const, recordId: 'ann' };

      it('keeps the parts in order with how far they go, and drops them with the staging', async () => {
        await addSubscriber(X);
        await store.transaction(async (tx) => {
          await tx.startStaging(staging({ got: 99 }));
          expect(await tx.getStaging(key)).toEqual(staging());
          await tx.appendStagedPart(key, 0, body(1, 2, 3, 4), 1100);
          await tx.appendStagedPart(key, 4, body(5, 6, 7), 1200);
          await tx.appendStagedPart(key, 7, body(8, 9, 10), 1300);
        });
        await store.transaction(async (tx) => {
          expect(await tx.getStaging(key)).toEqual(staging({ got: 10, expiresAt: 1300 }));
          expect(await tx.stagedParts(key, 0, 10)).toEqual([
            { offset: 0, bytes: body(1, 2, 3, 4) },
            { offset: 4, bytes: body(5, 6, 7) },
            { offset: 7, bytes: body(8, 9, 10) },
          ]);
          expect(await tx.stagedParts(key, 4, 1)).toEqual([{ offset: 4, bytes: body(5, 6, 7) }]);
          expect(await tx.stagedParts(key, 5, 10)).toEqual([{ offset: 7, bytes: body(8, 9, 10) }]);
          expect(await tx.stagedParts({ ...key, recordId: 'bob' }, 0, 10)).toEqual([]);
          await tx.dropStaging(key);
          expect(await tx.getStaging(key)).toBeUndefined();
          expect(await tx.stagedParts(key, 0, 10)).toEqual([]);
        });
      });

      it('starts again from nothing when a staging of the same record is started anew', async () => {
        await addSubscriber(X);
        await store.transaction(async (tx) => {
          await tx.startStaging(staging());
          await tx.appendStagedPart(key, 0, body(1, 2, 3), 1100);
        });
        const newer = staging({ size: 4, hash: new Uint8Array(32).fill(8), expiresAt: 2000 });
        await store.transaction((tx) => tx.startStaging(newer));
        await store.transaction(async (tx) => {
          expect(await tx.getStaging(key)).toEqual(newer);
          expect(await tx.stagedParts(key, 0, 10)).toEqual([]);
        });
      });

      it("keeps one terminal's stagings apart from another's, and drops all of a terminal's at once", async () => {
        await addSubscriber(X);
        const other = { ...key, recordId: 'bob' };
        const theirs = { ...key, terminalId: 'ph-2' };
        await store.transaction(async (tx) => {
          for (const k of [key, other, theirs]) {
            await tx.startStaging(staging(k));
            await tx.appendStagedPart(k, 0, body(k.recordId.length, k.terminalId.length), 1100);
          }
          await tx.dropStaging({ terminalId: 'pc-1' });
          expect(await tx.getStaging(key)).toBeUndefined();
          expect(await tx.getStaging(other)).toBeUndefined();
          expect(await tx.getStaging(theirs)).toMatchObject({ got: 2 });
          expect(await tx.stagedParts(theirs, 0, 10)).toEqual([{ offset: 0, bytes: body(3, 4) }]);
        });
      });

      it('drops the stagings that expired, with their parts, and no other', async () => {
        await addSubscriber(X);
        const later = { ...key, recordId: 'bob' };
        await store.transaction(async (tx) => {
          await tx.startStaging(staging({ expiresAt: 500 }));
          await tx.appendStagedPart(key, 0, body(1), 1000);
          await tx.startStaging(staging({ ...later, expiresAt: 1001 }));
        });
        expect(await store.expireStaging(999)).toBe(0);
        expect(await store.expireStaging(1000)).toBe(1);
        await store.transaction(async (tx) => {
          expect(await tx.getStaging(key)).toBeUndefined();
          expect(await tx.stagedParts(key, 0, 10)).toEqual([]);
          expect(await tx.getStaging(later)).toMatchObject({ expiresAt: 1001 });
        });
      });

      it('rolls staged parts back with their transaction, and refuses a staging for an unknown subscriber', async () => {
        await addSubscriber(X);
        await store.transaction((tx) => tx.startStaging(staging()));
        await expect(
          store.transaction(async (tx) => {
            await tx.appendStagedPart(key, 0, body(1, 2), 1100);
            throw new Error('link cut');
          }),
        ).rejects.toThrow('link cut');
        await store.transaction(async (tx) => {
          expect(await tx.getStaging(key)).toMatchObject({ got: 0, expiresAt: 1000 });
          expect(await tx.stagedParts(key, 0, 10)).toEqual([]);
        });
        await expect(
          store.transaction((tx) => tx.startStaging(staging({ subscriber: Y }))),
        ).rejects.toThrow();
      });
    });

    it('rolls a transaction back entirely when it throws', async () => {
      await addSubscriber(X);
      await expect(
        store.transaction(async (tx) => {
          await tx.putRecord(
            X,
            { category: 'contacts', recordId: 'a', body: body(1), origin: 't', editedAt: 1 },
            1,
          );
          await tx.putTerminal(terminal('pc-1', X));
          throw new Error('power cut');
        }),
      ).rejects.toThrow('power cut');
      expect(await store.getRecord(X, 'contacts', 'a')).toBeUndefined();
      expect(await store.getTerminal('pc-1')).toBeUndefined();
      expect(await store.changeLog(X)).toEqual([]);
      const seq = await store.transaction((tx) =>
        tx.putRecord(X, { category: 'contacts', recordId: 'a', body: body(1), origin: 't', editedAt: 1 }, 1),
      );
      expect(seq).toBe(1);
    });

    it('isolates concurrent transactions: read-then-write never interleaves', async () => {
      await addSubscriber(X);
      const bump = () =>
        store.transaction(async (tx) => {
          const seen = await tx.latestSeq(X);
          await new Promise((r) => setTimeout(r, 1));
          const seq = await tx.putRecord(
            X,
            { category: 'contacts', recordId: `r${seen}`, body: null, origin: 't', editedAt: 1 },
            1,
          );
          return seq === seen + 1;
        });
      expect(await Promise.all([bump(), bump(), bump(), bump()])).toEqual([true, true, true, true]);
      expect(await store.latestSeq(X)).toBe(4);
    });

    it('refuses a change for an unknown subscriber, and counts 0 changes for one', async () => {
      expect(await store.latestSeq(X)).toBe(0);
      await expect(
        store.transaction((tx) =>
          tx.putRecord(
            X,
            { category: 'contacts', recordId: 'a', body: body(1), origin: 't', editedAt: 1 },
            1,
          ),
        ),
      ).rejects.toThrow();
      await store.transaction(async (tx) => expect(await tx.latestSeq(X)).toBe(0));
      await addSubscriber(X);
      expect(await store.changeLog(X)).toEqual([]);
    });

    it('reports accepted revokes after a cursor, each once, from bookkeeping lines and transactions alike', async () => {
      await store.appendAudit(audit({ action: 'revoke', terminalId: 'old' }));
      const start = await store.revokedSince(null);
      expect(start.terminalIds).toEqual([]);
      await store.appendAudit(audit({ action: 'revoke', terminalId: 'pc-1' }));
      await store.appendAudit(audit({ action: 'revoke', terminalId: 'pc-2', outcome: 'refused' }));
      await store.appendAudit(audit({ action: 'upload', terminalId: 'pc-3' }));
      await store.transaction((tx) => tx.appendAudit(audit({ action: 'revoke', terminalId: 'pc-4' })));
      const first = await store.revokedSince(start.cursor);
      expect(first.terminalIds).toEqual(['pc-1', 'pc-4']);
      expect(first.cursor).toBeGreaterThanOrEqual(start.cursor);
      const again = await store.revokedSince(first.cursor);
      expect(again).toEqual({ cursor: again.cursor, terminalIds: [] });
      await store.appendAudit(audit({ action: 'revoke', terminalId: 'pc-5' }));
      expect((await store.revokedSince(again.cursor)).terminalIds).toEqual(['pc-5']);
    });

    it('keeps the audit log, found by requester or by terminal owner, oldest first', async () => {
      await store.appendAudit(audit({ at: 1, uploaded: 2, uploadedBytes: 30 }));
      await store.appendAudit(
        audit({ at: 2, subscriber: Y, terminalOwner: X, outcome: 'refused', reason: 'not-registered' }),
      );
      await store.appendAudit(audit({ at: 3, subscriber: Y, terminalId: 'y-1' }));
      await store.transaction((tx) => tx.appendAudit(audit({ at: 4, action: 'download', downloaded: 5 })));
      const x = await store.history(X);
      expect(x.map((e) => e.at)).toEqual([1, 2, 4]);
      expect(x[0]).toEqual(audit({ at: 1, uploaded: 2, uploadedBytes: 30 }));
      expect(x[1]).toMatchObject({ outcome: 'refused', reason: 'not-registered', terminalOwner: X });
      expect((await store.history(Y)).map((e) => e.at)).toEqual([2, 3]);
      expect((await store.history(X, 2)).map((e) => e.at)).toEqual([2, 4]);
    });
  });
}
