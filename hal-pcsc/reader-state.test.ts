import { describe, expect, it } from 'vitest';
import { slotChange } from './reader-state.js';

// dwEventState as pcscd reported it through vpcd: counter in the high word, then the state bits.
const EMPTY = 0x10;
const PRESENT = 0x20;
const CHANGED = 0x2;
const at = (events: number, bits: number) => ((events << 16) | bits | CHANGED) >>> 0;

describe('slotChange (dwEventState, pcsc-lite)', () => {
  it('reads presence from SCARD_STATE_PRESENT / EMPTY', () => {
    expect(slotChange(at(0x48, EMPTY), -1, false)).toEqual({ present: false, swapped: false, events: 0x48 });
    expect(slotChange(at(0x49, PRESENT), 0x48, false)).toEqual({
      present: true,
      swapped: false,
      events: 0x49,
    });
  });

  it('a counter that jumped by 2 while present both times is a removal and an insertion', () => {
    expect(slotChange(at(0x4b, PRESENT), 0x49, true).swapped).toBe(true);
    expect(slotChange(at(0x4a, PRESENT), 0x49, true).swapped).toBe(false);
    expect(slotChange(at(0x4b, PRESENT), -1, true).swapped).toBe(false);
  });

  it('an unplugged reader (UNKNOWN or UNAVAILABLE) has no card', () => {
    expect(slotChange(at(0x4c, PRESENT | 0x4), 0x4b, true).present).toBe(false);
    expect(slotChange(at(0x4c, PRESENT | 0x8), 0x4b, true).present).toBe(false);
  });
});
