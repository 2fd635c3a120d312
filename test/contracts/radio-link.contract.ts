import { describe, expect, it } from 'vitest';
import { isHalError, type LinkState, type RadioLink } from '../../hal/index.js';
import { eachFresh, rejection } from './wait.js';

export interface RadioLinkUnderTest {
  /** A link that is up (registered, reachable) when handed over. */
  link: RadioLink;
  /**
   * The link goes away the way this implementation learns it — the radio is
   * lost, the modem deregisters, the server stops answering — and the link
   * has had the chance to notice (a round trip, a failed open).
   */
  goDown: () => Promise<void>;
  /** The link comes back, and has had the chance to notice. */
  goUp: () => Promise<void>;
  cleanup?: () => Promise<void> | void;
}

/**
 * The shared RadioLink state contract (hal/radio-link.ts): `state()` answers
 * at once with a copy, `onState` fires once per change and never for an
 * unchanged state, and `open()` follows the state. Run against the
 * simulated link, the modem's and the host links (TCP, WebSocket).
 */
export function describeRadioLinkContract(name: string, makeLink: () => Promise<RadioLinkUnderTest>): void {
  describe(`RadioLink contract: ${name}`, () => {
    let ut: RadioLinkUnderTest;
    let heard: LinkState[];

    eachFresh(makeLink, (made) => {
      ut = made;
      // This run's own array: a link of an earlier run that changes late cannot write into it.
      const mine: LinkState[] = [];
      heard = mine;
      ut.link.onState((s) => mine.push(s));
    });

    it('state() is up at first, well formed, and a copy the caller cannot change', () => {
      const state = ut.link.state();
      expect(state.up).toBe(true);
      expect(typeof state.metered).toBe('boolean');
      if (state.signalDbm !== undefined) expect(Number.isFinite(state.signalDbm)).toBe(true);
      state.up = false;
      state.metered = !state.metered;
      expect(ut.link.state()).not.toEqual(state);
      expect(ut.link.state().up).toBe(true);
    });

    it("going down is heard once, with the new state; open() then rejects 'link-down'", async () => {
      await ut.goDown();
      expect(ut.link.state().up).toBe(false);
      expect(heard.map((s) => s.up)).toEqual([false]);
      expect(heard[0]).toEqual(ut.link.state());
      expect(isHalError(await rejection(ut.link.open()), 'link-down')).toBe(true);
    });

    it('coming back up is heard, and open() gives a stream', async () => {
      await ut.goDown();
      await ut.goUp();
      expect(ut.link.state().up).toBe(true);
      expect(heard.map((s) => s.up)).toEqual([false, true]);
      const stream = await ut.link.open();
      stream.close();
    });

    it('an unchanged state is not announced again', async () => {
      await ut.goDown();
      await ut.goDown();
      expect(heard.map((s) => s.up)).toEqual([false]);
      await ut.goUp();
      await ut.goUp();
      expect(heard.map((s) => s.up)).toEqual([false, true]);
      for (let i = 1; i < heard.length; i++) expect(heard[i]).not.toEqual(heard[i - 1]);
    });

    it('an unsubscribed listener hears nothing more; the state still follows', async () => {
      const late: LinkState[] = [];
      const off = ut.link.onState((s) => late.push(s));
      off();
      await ut.goDown();
      expect(late).toEqual([]);
      expect(ut.link.state().up).toBe(false);
    });
  });
}
