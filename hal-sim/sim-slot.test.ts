import { describe, expect, it } from 'vitest';
import { kindOf } from '../test/support/hal-error-kind.js';
import { type CardChip, SimSlot } from './sim-slot.js';
import { VirtualClock } from './virtual-clock.js';

/** A chip that answers every command with its INS byte and 90 00, and counts what it executed. */
function chip(): CardChip & { executed: number[]; powered: boolean } {
  const c = {
    executed: [] as number[],
    powered: false,
    powerOn: () => {
      c.powered = true;
      return Uint8Array.of(0x3b, 0x00);
    },
    powerOff: () => {
      c.powered = false;
    },
    process: (apdu: Uint8Array) => {
      c.executed.push(apdu[1] ?? -1);
      return Uint8Array.of(apdu[1] ?? 0, 0x90, 0x00);
    },
  };
  return c;
}

const apdu = (ins: number) => Uint8Array.of(0x00, ins, 0x00, 0x00, 0x00);

describe('SimSlot', () => {
  it("powering an empty slot throws 'no-card'; a second card is 'busy'", () => {
    const slot = new SimSlot();
    expect(() => slot.powerOn()).toThrow(expect.objectContaining({ kind: 'no-card' }));
    slot.insert(chip());
    expect(() => slot.insert(chip())).toThrow(expect.objectContaining({ kind: 'busy' }));
  });

  it('carries APDUs to the card and logs each exchange as hex', async () => {
    const clock = new VirtualClock({ start: 0 });
    const slot = new SimSlot({ clock });
    slot.insert(chip());
    const { atr, transport } = slot.powerOn();
    expect(atr).toEqual(Uint8Array.of(0x3b, 0x00));
    expect(await transport.transmit(apdu(0xb0))).toEqual(Uint8Array.of(0xb0, 0x90, 0x00));
    expect(slot.traffic()).toEqual([{ command: '00B0000000', response: 'B09000', at: 0 }]);
  });

  it("pulling the card mid-command rejects 'card-removed' at once, without the clock moving", async () => {
    const clock = new VirtualClock({ start: 0 });
    const slot = new SimSlot({ clock, apduDelayMs: 1000 });
    const card = chip();
    slot.insert(card);
    const { transport } = slot.powerOn();
    const pending = kindOf(transport.transmit(apdu(0xd6)));
    await clock.advance(500);
    slot.remove();
    expect(await pending).toBe('card-removed');
    expect(card.executed).toEqual([]);
    expect(card.powered).toBe(false);
    expect(clock.pending()).toBe(0);
  });

  it("a transport of an earlier insertion stays 'card-removed' after a card is put back", async () => {
    const slot = new SimSlot();
    slot.insert(chip());
    const first = slot.powerOn();
    slot.remove();
    slot.insert(chip());
    expect(await kindOf(first.transport.transmit(apdu(0xa4)))).toBe('card-removed');
    const second = slot.powerOn();
    first.powerOff();
    expect(await kindOf(second.transport.transmit(apdu(0xa4)))).toBe('resolved');
  });

  it('yankAfterApdus(n): n exchanges complete, the next is cut off and the card is gone', async () => {
    const slot = new SimSlot();
    let yanks = 0;
    slot.onYank = () => yanks++;
    const card = chip();
    slot.insert(card);
    const { transport } = slot.powerOn();
    slot.yankAfterApdus(2);
    expect(await kindOf(transport.transmit(apdu(1)))).toBe('resolved');
    expect(await kindOf(transport.transmit(apdu(2)))).toBe('resolved');
    expect(await kindOf(transport.transmit(apdu(3)))).toBe('card-removed');
    expect(card.executed).toEqual([1, 2]);
    expect(slot.card()).toBeUndefined();
    expect(yanks).toBe(1);
    expect(slot.traffic().at(-1)).toEqual({ command: '0003000000', at: undefined });
  });

  it('yankAfterApdus with processed: the card executes the command but its answer is lost', async () => {
    const slot = new SimSlot();
    const card = chip();
    slot.insert(card);
    const { transport } = slot.powerOn();
    slot.yankAfterApdus(0, { processed: true });
    expect(await kindOf(transport.transmit(apdu(0xdc)))).toBe('card-removed');
    expect(card.executed).toEqual([0xdc]);
  });

  it("an APDU delay without a clock is 'not-supported'; reset() empties the slot and the log", async () => {
    expect(() => new SimSlot({ apduDelayMs: 5 })).toThrow(expect.objectContaining({ kind: 'not-supported' }));
    const slot = new SimSlot();
    slot.insert(chip());
    await slot.powerOn().transport.transmit(apdu(1));
    slot.yankAfterApdus(0);
    slot.reset();
    expect(slot.card()).toBeUndefined();
    expect(slot.traffic()).toEqual([]);
    slot.insert(chip());
    expect(await kindOf(slot.powerOn().transport.transmit(apdu(1)))).toBe('resolved');
  });
});
