import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './hex.js';
import { RecordingTransport } from './recording-transport.js';
import { UiccSession } from './uicc-session.js';

/**
 * Cards replayed from their dumps, not the project's virtual UICC: FCPs and
 * contents exactly as pySim's card_sanitizer backups recorded them
 * (osmocom/pysim tests/card_sanitizer/*.script). The replay answers SELECT
 * (by FID from the MF, by AID), READ BINARY / RECORD of the selected file,
 * and the PIN status commands, with the status words the issue's real
 * cards gave; anything else gets 6D00, and CLA A0 gets what the card model says.
 */
interface DumpFile {
  fcp: string;
  body?: string;
  records?: string[];
}

interface CardModel {
  /** Files by FID, or by AID for an ADF. */
  files: Record<string, DumpFile>;
  /** Exact command hex → response hex, for everything else (PIN status, CLA A0, …). */
  answers: Record<string, string>;
  /** Answer to any other CLA A0 command. */
  cla2g: string;
}

function replay(model: CardModel) {
  let current: DumpFile | undefined;
  return new RecordingTransport({
    transmit: async (apdu) => {
      const hex = toHex(apdu);
      const fixed = model.answers[hex];
      if (fixed !== undefined) return fromHex(fixed);
      if (apdu[0] === 0xa0) return fromHex(model.cla2g);
      const [, ins, p1, p2, lc = 0] = apdu;
      if (ins === 0xa4) {
        const key = hex.slice(10, 10 + lc * 2);
        const file = model.files[key] ?? Object.entries(model.files).find(([k]) => k.startsWith(key))?.[1];
        if (file === undefined || (p1 !== 0 && p1 !== 4)) return fromHex('6A82');
        current = file;
        return fromHex(p2 === 0x0c ? '9000' : `${file.fcp}9000`);
      }
      if (ins === 0xb0 && current?.body !== undefined) return fromHex(`${current.body}9000`);
      if (ins === 0xb2 && current?.records?.[p1! - 1] !== undefined) {
        return fromHex(`${current.records[p1! - 1]}9000`);
      }
      return fromHex('6D00');
    },
  });
}

const FF = 'FF'.repeat(43);

/**
 * sysmoISIM-SJA2, ICCID 8988211000000467343 (card_backup_3b9f96801f878031e073fe211b674a4c753034054ba9_…):
 * ADF_USIM's FCP has 84 and no 83; PS_DO 70 = PIN1 disabled. Modelled here
 * as a USIM-only card (CLA A0 → 6E00, as modern cards and eSIM profiles
 * answer), with VERIFY / UNBLOCK without data answering 63C3 / 63CA.
 */
const SJA2_USIM_ONLY: CardModel = {
  files: {
    '3F00': {
      fcp: '622D8202782183023F00A509800171830400018D088A01058C04261A0000C60F90017083010183018183010A83010B',
    },
    '2F00': {
      fcp: '622282054221002B0883022F00A506D00120D2010B8A01058B032F0604800201588801F0',
      records: [
        '61294F10A0000000871002FFFFFFFF890709000050055553696D31730EA00C80011781025F608203454150',
        '61194F10A0000000871004FFFFFFFF890709000050054953696D31FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF',
        FF,
        FF,
        FF,
        FF,
        FF,
        FF,
      ],
    },
    '2FE2': {
      fcp: '621F8202412183022FE2A506D00120D201058A01058B032F06028002000A880110',
      body: '988812010000407643F3',
    },
    A0000000871002FFFFFFFF8907090000: {
      fcp: '6238820278218410A0000000871002FFFFFFFF8907090000A509800171830400018D088A01058C0100C60F90017083010183018183010A83010B',
    },
    '6F07': {
      fcp: '621F8202412183026F07A506D00120D2010F8A01058B036F060380020009880138',
      body: '080910100000001020',
    },
  },
  answers: { '00200001': '63C3', '002C0001': '63CA' },
  cla2g: '6E00',
};

/**
 * sysmoSIM-GR1, a 2G SIM (card_backup_3b991800118822334455667760_2222334455667788990):
 * the MF's GSM response has byte 14 = 93 (b8: CHV1 disabled), CHV1 3 tries,
 * UNBLOCK CHV1 10; it answers CLA 00 with 6E00 and VERIFY CHV1 with 9808.
 */
const GR1_MF = '0000125C3F000100000000000A9303020C00838A838A00';
const GR1: CardModel = {
  files: {},
  answers: {
    A0A40000023F00: '9F17',
    A0C0000017: `${GR1_MF}9000`,
    A02000010831323334FFFFFFFF: '9808',
  },
  cla2g: '6D00',
};

function cla00Refused(model: CardModel): CardModel {
  return {
    ...model,
    answers: { ...model.answers, '00A4000C023F00': '6E00', '00A40004022F0000': '6E00' },
  };
}

describe('issue 14 item 1: a USIM-only card whose ADF FCP has no 83 (sysmoISIM-SJA2 answers)', () => {
  it('opens as a USIM over CLA 00 and reads ICCID and IMSI, never needing CLA A0', async () => {
    const transport = replay(SJA2_USIM_ONLY);
    const session = await UiccSession.open(
      transport,
      fromHex('3B9F96801F878031E073FE211B674A4C753034054BA9'),
    );
    expect(session.application).toBe('usim');
    expect(await session.iccid()).toBe('8988211000000467343');
    expect(await session.imsi()).toBe('001010000000102');
    expect(transport.log.some((x) => x.command[0] === 0xa0)).toBe(false);
  });
});

describe('issue 14 item 2: PIN1 state from the card, not from the VERIFY status word', () => {
  it('3G: PS_DO 70 in the ADF FCP says PIN1 disabled, though VERIFY without data answers 63C3', async () => {
    const session = await UiccSession.open(replay(SJA2_USIM_ONLY), new Uint8Array(0));
    expect(await session.pinStatus()).toEqual({
      enabled: false,
      verified: true,
      retriesLeft: 3,
      blocked: false,
      pukRetriesLeft: 10,
    });
  });

  it("3G: verifyPin on a card with PIN1 disabled is 'disabled' and presents nothing (no try at risk)", async () => {
    const transport = replay(SJA2_USIM_ONLY);
    const session = await UiccSession.open(transport, new Uint8Array(0));
    transport.reset();
    expect(await session.verifyPin('5563')).toEqual({ status: 'disabled' });
    expect(transport.log.some((x) => x.command[1] === 0x20)).toBe(false);
  });

  it("2G (TS 51.011 §9.2.1): byte 14 b8 says CHV1 disabled; VERIFY's 9808 reads as 'disabled', not a raw SW", async () => {
    const session = await UiccSession.open(replay(cla00Refused(GR1)), new Uint8Array(0));
    expect(session.application).toBe('sim');
    expect(await session.pinStatus()).toEqual({
      enabled: false,
      verified: true,
      retriesLeft: 3,
      blocked: false,
      pukRetriesLeft: 10,
    });
    expect(await session.verifyPin('1234')).toEqual({ status: 'disabled' });
  });
});
