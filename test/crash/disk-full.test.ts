import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore, type SyncServer, startSyncServer } from '../../broker/index.js';
import { registerVia } from '../../broker/test-support.js';
import { failureLine } from '../../cli/failure-text.js';
import { KeyringAgent, SimWorld } from '../../cli/sim-world.js';
import { categoryCode, encodeRequest, type Reply, type Request, Terminal, utf8 } from '../../core/index.js';
import { HalError } from '../../hal/index.js';
import { FileNvStore, SystemClock, TcpLink } from '../../hal-linux/index.js';
import { SimCardReader } from '../../hal-sim/index.js';
import { FuzzClient } from '../fuzz/broker-client.js';
import { mountTmpfs, type Tmpfs } from './tmpfs.js';

const X = '001010000000102';
const BODY = 16 * 1024;

function upload(batch: number): Uint8Array {
  return encodeRequest({
    type: 'upload',
    req: batch,
    subscriber: X,
    batch,
    changes: [
      [categoryCode('contacts'), `r${batch}`, 0, Date.now(), new Uint8Array(BODY).fill(batch & 0xff)],
    ],
  } as Request);
}

describe('issue 21: disk full on the server (a 2 MiB tmpfs as its data directory)', () => {
  let disk: Tmpfs;
  let server: SyncServer;
  const file = () => path.join(disk.dir, 'simsync.db');

  beforeAll(async () => {
    disk = await mountTmpfs('2m');
    server = await startSyncServer({ store: openSqliteStore(file()), host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await server?.store.close().catch(() => undefined);
    await disk?.unmount();
  });

  it('uploads are refused with the retryable `unavailable` while the disk is full, nothing acknowledged is lost, and the same batch is applied once space returns', async () => {
    const client = await FuzzClient.open(server.port as number, 'pc', await registerVia(server, 'pc', X));
    // Room for ~a dozen uploads, held by a file that is removed later.
    const filler = path.join(disk.dir, 'filler');
    await writeFile(filler, new Uint8Array(1024 * 1024 + 512 * 1024)).catch(() => undefined);
    const acked: number[] = [];
    let refused: Reply | undefined;
    let batch = 0;
    while (refused === undefined && batch < 200) {
      batch++;
      const reply = await client.send(upload(batch));
      if (reply.type === 'upload-ack') acked.push(batch);
      else refused = reply;
    }
    expect(acked.length).toBeGreaterThan(0);
    expect(refused).toMatchObject({ type: 'error', code: 'unavailable' });
    // Still full: the same batch is refused again, and nothing of it was applied.
    expect(await client.send(upload(batch))).toMatchObject({ type: 'error', code: 'unavailable' });
    expect((await server.store.changeLog(X, 0, 1000)).map((e) => e.recordId)).toEqual(
      acked.map((b) => `r${b}`),
    );

    await rm(filler);
    expect(await client.send(upload(batch))).toMatchObject({ type: 'upload-ack', batch });
    expect(await client.send(upload(batch))).toMatchObject({ type: 'upload-ack', batch });
    await client.end();

    // Reopened from the file: every acknowledged upload, each once.
    await server.close();
    await server.store.close();
    server = await startSyncServer({ store: openSqliteStore(file()), host: '127.0.0.1', port: 0 });
    const log = await server.store.changeLog(X, 0, 1000);
    expect(log.map((e) => e.recordId)).toEqual([...acked, batch].map((b) => `r${b}`));
  }, 60_000);
});

describe('issue 21: disk full on the terminal (FileNvStore on a 256 KiB tmpfs)', () => {
  let disk: Tmpfs;

  beforeAll(async () => {
    disk = await mountTmpfs('256k');
  });
  afterAll(async () => {
    await disk?.unmount();
  });

  it('an edit that does not fit is refused with HalError no-space and a clear line; the records before it stay, and the store opens again', async () => {
    const dir = path.join(disk.dir, 'nv');
    const nv = await FileNvStore.open(dir);
    // A registered terminal, edits made as a user makes them (Terminal.edit, the SIM in); its server on the real disk.
    const server = await startSyncServer({ store: openSqliteStore(':memory:'), host: '127.0.0.1', port: 0 });
    await server.admin.addSubscriber({ subscriber: '001010000000102', loginPassword: 'disk-full-login' });
    const reader = new SimCardReader({ name: 'pc-reader' });
    const terminal = await Terminal.create(
      {
        reader,
        nv,
        link: new TcpLink({ host: '127.0.0.1', port: server.port ?? 0, timeoutMs: 5000 }),
        clock: new SystemClock(),
        agent: new KeyringAgent({ pin: '1234', terminalPassword: 'disk-full-pw' }),
      },
      { timeoutMs: 5000 },
    );
    reader.insert(SimWorld.sim());
    await terminal.setTerminalPassword('disk-full-pw');
    await terminal.register({
      policy: 'fig10-subscriber-binding',
      secret: 'disk-full-login',
      categories: ['contacts'],
    });
    const kept: string[] = [];
    let error: unknown;
    for (let i = 0; i < 100 && error === undefined; i++) {
      try {
        await terminal.edit('contacts', `c${i}`, utf8(`c${i}`.padEnd(8 * 1024, '.')));
        kept.push(`c${i}`);
      } catch (e) {
        error = e;
      }
    }
    await server.close();
    await server.store.close();
    expect(kept.length).toBeGreaterThan(3);
    expect(error).toBeInstanceOf(HalError);
    expect(error).toMatchObject({ kind: 'no-space' });
    const line = failureLine(error, 'edit');
    expect(line).toMatch(/^! edit failed: .*no space/i);
    // The refused edit left nothing behind; what was there before is all there.
    const data = await terminal.personalData('read');
    expect((await data.list('contacts')).map((r) => r.id).sort()).toEqual([...kept].sort());
    await terminal.stop();
    await nv.close();
    const again = await FileNvStore.open(dir);
    expect((await again.scan('')).length).toBeGreaterThan(kept.length);
    await again.close();
  }, 60_000);
});
