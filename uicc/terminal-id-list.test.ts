import { describe, expect, it } from 'vitest';
import { adnTerminalIdCodec } from './terminal-id-adn.js';
import { readIdList } from './terminal-id-codec.js';
import { readTerminalIds, terminalIdStorage, writeTerminalIds } from './terminal-id-list.js';
import { UiccSession } from './uicc-session.js';
import { UiccSimCard } from './uicc-sim-card.js';
import type { VirtualUiccProfile } from './virtual-profile.js';
import { VirtualUicc } from './virtual-uicc.js';

/** A virtual card, and the SimCard every HAL would hand out for it. */
async function open(extra: Partial<VirtualUiccProfile> = {}) {
  const card = new VirtualUicc({ iccid: '8988211000000430010', imsi: '228062800000208', ...extra });
  const session = await UiccSession.open({ transmit: async (apdu) => card.process(apdu) }, card.powerOn());
  return { card, sim: new UiccSimCard({ session }) };
}

const modes: [string, Partial<VirtualUiccProfile>][] = [
  ['default card (both classes)', {}],
  ['t0GetResponse + strictLe', { t0GetResponse: true, strictLe: true }],
  ['usim-only', { classes: 'usim-only' }],
  ['sim-only + strictLe', { classes: 'sim-only', strictLe: true }],
];
const storages: [string, boolean, 'proprietary-file' | 'adn'][] = [
  ['with the proprietary file', true, 'proprietary-file'],
  ['without it (EF_ADN fallback)', false, 'adn'],
];

describe.each(modes)('terminal-ID list on a %s card', (_name, mode) => {
  describe.each(storages)('%s', (_s, terminalIdFile, storage) => {
    it(`FIG. 11-A: writes and reads the terminal-ID list in ${storage}`, async () => {
      const { sim } = await open({ ...mode, terminalIdFile });
      expect(await terminalIdStorage(sim)).toBe(storage);
      await expect(readTerminalIds(sim)).rejects.toMatchObject({ kind: 'pin-required' });
      await expect(writeTerminalIds(sim, ['1'])).rejects.toMatchObject({ kind: 'pin-required' });
      await sim.verifyPin('1234');
      expect(await readTerminalIds(sim)).toEqual([]);
      await writeTerminalIds(sim, ['356938035643809', '4711', '*42#']);
      expect(await readTerminalIds(sim)).toEqual(['356938035643809', '4711', '*42#']);
      await writeTerminalIds(sim, ['4711']);
      expect(await readTerminalIds(sim)).toEqual(['4711']);
    });

    it('the list survives a power cycle (EEPROM) and is read back by a new session', async () => {
      const { sim, card } = await open({ ...mode, terminalIdFile });
      await sim.verifyPin('1234');
      await writeTerminalIds(sim, ['123', '456']);
      await sim.close();
      card.powerOff();
      const session = await UiccSession.open({ transmit: async (a) => card.process(a) }, card.powerOn());
      const again = new UiccSimCard({ session });
      await expect(readTerminalIds(again)).rejects.toMatchObject({ kind: 'pin-required' });
      await again.verifyPin('1234');
      expect(await readTerminalIds(again)).toEqual(['123', '456']);
    });
  });
});

describe('terminal-ID list: arguments the storage cannot hold change nothing', () => {
  it("proprietary file: more IDs than records is 'no-space', an unstorable ID 'not-supported'; the card is unchanged", async () => {
    const { sim, card } = await open();
    await sim.verifyPin('1234');
    await writeTerminalIds(sim, ['a', 'b']);
    const before = card.snapshot();
    const nine = Array.from({ length: 9 }, (_, i) => `t${i}`);
    await expect(writeTerminalIds(sim, nine)).rejects.toMatchObject({ kind: 'no-space' });
    await expect(writeTerminalIds(sim, ['ok', 'x'.repeat(33)])).rejects.toMatchObject({
      kind: 'not-supported',
    });
    expect(card.snapshot()).toEqual(before);
    const eight = nine.slice(0, 8);
    await writeTerminalIds(sim, eight);
    expect(await readTerminalIds(sim)).toEqual(eight);
  });
});

describe('EF_ADN fallback keeps the user’s phonebook intact', () => {
  const phonebook = [
    { name: 'Mum', number: '0123456789' },
    { name: '', number: '112' },
    { name: 'Dad', number: '0049301234' },
  ];

  it('writes only into free records and leaves every user record byte-identical', async () => {
    const { sim, card } = await open({ terminalIdFile: false, adnRecords: 6, phonebook });
    const userRecords = card.snapshot().adnRecords.slice(0, 3);
    await sim.verifyPin('1234');
    await writeTerminalIds(sim, ['111', '222', '333']);
    const after = card.snapshot().adnRecords;
    expect(after.slice(0, 3)).toEqual(userRecords);
    expect(readIdList(after, adnTerminalIdCodec)).toEqual(['111', '222', '333']);
    expect(await readTerminalIds(sim)).toEqual(['111', '222', '333']);
  });

  it('shrinking the list empties our no-longer-needed records (all FF)', async () => {
    const { sim, card } = await open({ terminalIdFile: false, adnRecords: 6, phonebook });
    await sim.verifyPin('1234');
    await writeTerminalIds(sim, ['111', '222', '333']);
    await writeTerminalIds(sim, ['222']);
    const after = card.snapshot().adnRecords;
    expect(after.slice(3).filter((r) => r.every((b) => b === 0xff)).length).toBe(2);
    expect(await readTerminalIds(sim)).toEqual(['222']);
    await writeTerminalIds(sim, []);
    expect(
      card
        .snapshot()
        .adnRecords.slice(3)
        .every((r) => r.every((b) => b === 0xff)),
    ).toBe(true);
  });

  it("'no-space' when the free records are too few, changing nothing", async () => {
    const { sim, card } = await open({ terminalIdFile: false, adnRecords: 5, phonebook });
    await sim.verifyPin('1234');
    await writeTerminalIds(sim, ['111']);
    const before = card.snapshot();
    await expect(writeTerminalIds(sim, ['111', '222', '333'])).rejects.toMatchObject({ kind: 'no-space' });
    expect(card.snapshot()).toEqual(before);
    await writeTerminalIds(sim, ['111', '222']);
    expect(await readTerminalIds(sim)).toEqual(['111', '222']);
  });

  it("IDs outside 0-9 * # are 'not-supported' in this storage, changing nothing", async () => {
    const { sim, card } = await open({ terminalIdFile: false, phonebook });
    await sim.verifyPin('1234');
    const before = card.snapshot();
    await expect(writeTerminalIds(sim, ['123', 'pi-kitchen'])).rejects.toMatchObject({
      kind: 'not-supported',
    });
    expect(card.snapshot()).toEqual(before);
  });

  it("a phonebook with no free record is 'no-space' even for one ID", async () => {
    const { sim } = await open({ terminalIdFile: false, adnRecords: 3, phonebook });
    await sim.verifyPin('1234');
    await expect(writeTerminalIds(sim, ['1'])).rejects.toMatchObject({ kind: 'no-space' });
    expect(await readTerminalIds(sim)).toEqual([]);
  });
});
