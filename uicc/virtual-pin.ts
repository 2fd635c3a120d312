import { bytesEqual } from './hex.js';

/**
 * A secret code with its retry counter, as a card keeps it in EEPROM
 * (TS 102 221 §9.5 for PIN/PUK, TS 51.011 §9.3 for CHV/UNBLOCK CHV):
 * each wrong presentation costs a try, a right one restores the maximum,
 * zero tries left means blocked.
 */
export class RetryCounter {
  #value: Uint8Array;
  #left: number;
  readonly max: number;

  /** `left`: tries remaining, as a card's EEPROM kept them (default `max`, a fresh card). */
  constructor(value: Uint8Array, max: number, left = max) {
    this.#value = value.slice();
    this.max = max;
    this.#left = left;
  }

  get left(): number {
    return this.#left;
  }

  get blocked(): boolean {
    return this.#left === 0;
  }

  /** Compares a presented block; the card, not the terminal, decides (DESIGN.md "Identity"). */
  present(block: Uint8Array): 'ok' | 'wrong' | 'blocked' {
    if (this.blocked) return 'blocked';
    if (bytesEqual(block, this.#value)) {
      this.#left = this.max;
      return 'ok';
    }
    this.#left -= 1;
    return this.blocked ? 'blocked' : 'wrong';
  }

  /** New value with a full counter (UNBLOCK PIN, TS 102 221 §11.1.13). */
  replace(value: Uint8Array): void {
    this.#value = value.slice();
    this.#left = this.max;
  }

  /** The stored block, for snapshots in tests. */
  value(): Uint8Array {
    return this.#value.slice();
  }
}
