import { afterEach, describe, expect, it } from 'vitest';
import { KeyringAgent, SimWorld } from '../../cli/sim-world.js';
import { CATEGORIES, utf8 } from '../../core/index.js';
import { worldOptions } from '../support/backend.js';
import { ICCID, IMSI, LOGIN, TERMINAL_PASSWORD } from './world.js';

/**
 * Issue 14 item 2: a card with PIN1 disabled (PS_DO '70' in its PIN status
 * template, TS 102 221 §9.5.2; real cards still answer a VERIFY with 63Cx)
 * needs no PIN: the terminal asks none, at registration or at a sync, and
 * never sends a VERIFY the card would count.
 */
class CountingAgent extends KeyringAgent {
  pinPrompts = 0;
  override async askPin(): Promise<string | undefined> {
    this.pinPrompts++;
    return super.askPin();
  }
}

describe('a SIM with PIN1 disabled', () => {
  let world: SimWorld;
  afterEach(async () => world.close());

  for (const classes of ['usim-only', 'sim-only'] as const) {
    it(`FIG. 8 and FIG. 9 on a ${classes} card: registers and syncs with no PIN asked`, async () => {
      world = await SimWorld.start(await worldOptions());
      await world.server.admin.addSubscriber({ subscriber: IMSI, iccid: ICCID, loginPassword: LOGIN });
      const sim = SimWorld.sim({ pin1Enabled: false, classes });
      const agent = new CountingAgent({ pin: '0000', terminalPassword: TERMINAL_PASSWORD });
      const t = await world.addTerminal('pc', agent);
      t.reader.insert(sim);
      await world.register(t, {
        policy: 'fig9-pin-password',
        loginPassword: LOGIN,
        terminalPassword: TERMINAL_PASSWORD,
        categories: [...CATEGORIES],
      });
      await t.terminal.edit('contacts', 'c1', utf8('BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEND:VCARD\r\n'));
      const report = await t.terminal.sync();
      expect(report.uploaded).toHaveLength(1);
      expect(agent.pinPrompts).toBe(0);
      // The card's counter was never touched by a VERIFY.
      expect((await t.terminal.pinStatus()).retriesLeft).toBe(3);
    });
  }
});
