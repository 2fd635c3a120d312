import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyringAgent, SimWorld } from '../../cli/sim-world.js';
import { fromUtf8, Terminal, utf8 } from '../../core/index.js';
import { HalError } from '../../hal/index.js';
import { FileNvStore } from '../../hal-linux/index.js';
import { SimCardReader } from '../../hal-sim/index.js';

const IMSI = '001010000000102';
const ICCID = '8988211000000430010';
const LOGIN = 'login-secret-1';
const KEYRING = { pin: '1234', terminalPassword: 'terminal-pw' };

/**
 * Issue 21: a terminal whose FileNvStore is damaged gets a typed error
 * naming the file and offset, and the store-level way back: set the log
 * aside, open an empty store, register again, and download everything the
 * server holds. (The agent's prompt for it is cli/'s; this is the path it
 * will take.)
 */
describe('issue 21: a damaged terminal store, set aside and resynced from the server', () => {
  let world: SimWorld;
  let root: string;

  beforeAll(async () => {
    world = await SimWorld.start();
    await world.server.admin.addSubscriber({ subscriber: IMSI, iccid: ICCID, loginPassword: LOGIN });
    root = await mkdtemp(path.join(tmpdir(), 'simsync-resync-'));
  });
  afterAll(async () => {
    await world.close();
    await rm(root, { recursive: true, force: true });
  });

  async function terminalOn(nv: FileNvStore): Promise<{ terminal: Terminal; reader: SimCardReader }> {
    const reader = new SimCardReader({ name: 'pc-reader' });
    const terminal = await Terminal.create(
      { reader, nv, link: world.link(), clock: world.clock, agent: new KeyringAgent(KEYRING) },
      { timeoutMs: 5000 },
    );
    reader.insert(SimWorld.sim());
    await terminal.setTerminalPassword(KEYRING.terminalPassword);
    await terminal.register({ policy: 'fig10-subscriber-binding', secret: LOGIN, categories: ['contacts'] });
    return { terminal, reader };
  }

  it('open rejects store-corrupt with file and offset; moveAside, register again, and one sync brings back every record the server holds', async () => {
    const dir = path.join(root, 'nv');
    const nv = await FileNvStore.open(dir);
    const first = await terminalOn(nv);
    for (let i = 0; i < 5; i++) await first.terminal.edit('contacts', `c${i}`, utf8(`contact ${i}`));
    await first.terminal.sync();
    await first.terminal.stop();
    await nv.close();

    // A bit flipped in the middle of the log (a worn flash cell).
    const log = path.join(dir, 'nv.log');
    const bytes = await readFile(log);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] as number) ^ 0x08;
    await writeFile(log, bytes);
    const error = await FileNvStore.open(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HalError);
    expect(error).toMatchObject({ kind: 'store-corrupt', file: log });
    expect((error as HalError).offset).toBeLessThanOrEqual(at);

    const aside = await FileNvStore.moveAside(dir);
    const fresh = await FileNvStore.open(dir);
    const again = await terminalOn(fresh);
    await again.terminal.sync();
    const records = await again.terminal.records.list('contacts');
    expect(Object.fromEntries(records.map((r) => [r.id, fromUtf8(r.body as Uint8Array)]))).toEqual(
      Object.fromEntries([0, 1, 2, 3, 4].map((i) => [`c${i}`, `contact ${i}`])),
    );
    expect(again.terminal.terminalId).not.toBe(first.terminal.terminalId);
    await again.terminal.stop();
    await fresh.close();
    expect((await readFile(aside)).equals(bytes)).toBe(true);
  }, 60_000);
});
