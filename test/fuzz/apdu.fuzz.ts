import {
  decodeAdnRecord,
  decodeApplicationTemplate,
  decodeFcp,
  decodeGsmResponse,
  decodeIccid,
  decodeImsi,
  describeSw,
  encodeFcp,
  encodeGsmDfResponse,
  encodeGsmEfResponse,
  fromHex,
  isUiccError,
  parseResponse,
  retriesFromSw,
} from '../../uicc/index.js';
import { crash, type FuzzOptions, type FuzzResult, hex, mutateBytes, newResult } from './fuzz-result.js';
import { Seeded } from './seeded.js';

/** Valid response bodies to mutate: real-card vectors (DESIGN.md "Facts") and the encoders' own output. */
const SEEDS: Uint8Array[] = [
  fromHex('98881201000040031 0f0'.replaceAll(' ', '')),
  fromHex('080910100000001020'),
  fromHex('082982608200002080'),
  encodeFcp({ kind: 'df', fid: 0x3f00, pin1Enabled: true }),
  encodeFcp({ kind: 'df', fid: 0x7fff, aid: fromHex('a0000000871002ff49ff0589'), pin1Enabled: false }),
  encodeFcp({
    kind: 'ef',
    fid: 0x2fe2,
    structure: 'transparent',
    size: 10,
    recordLength: 0,
    read: 'always',
    update: 'never',
  }),
  encodeFcp({
    kind: 'ef',
    fid: 0x6f3a,
    structure: 'linear-fixed',
    size: 280,
    recordLength: 28,
    read: 'pin1',
    update: 'pin1',
  }),
  encodeGsmDfResponse({
    fid: 0x3f00,
    isMf: true,
    freeMemory: 1000,
    childDfs: 2,
    childEfs: 3,
    chv1Enabled: true,
    chv1RetriesLeft: 3,
    pukRetriesLeft: 10,
  }),
  encodeGsmEfResponse({
    fid: 0x6f07,
    structure: 'transparent',
    size: 9,
    recordLength: 0,
    read: 'pin1',
    update: 'never',
  }),
  fromHex('61124f10a0000000871002ff49ff058950045553494dffff'),
  fromHex('4a6f686effffffffffffffffffff0681214365870900ffffffffffff'),
];

/** Every decoder of card answers, each given the same bytes: each returns or throws UiccError. */
const DECODERS: [string, (bytes: Uint8Array) => unknown][] = [
  [
    'response',
    (b) => {
      const r = parseResponse(b);
      describeSw(r.sw);
      retriesFromSw(r.sw);
      return r;
    },
  ],
  ['fcp', decodeFcp],
  ['gsm-response', decodeGsmResponse],
  ['iccid', decodeIccid],
  ['imsi', decodeImsi],
  ['ef-dir', decodeApplicationTemplate],
  ['adn', decodeAdnRecord],
];

/**
 * Issue 21 fuzzing: the APDU response parsers of uicc/ (SW split, FCP and
 * GSM SELECT responses, EF_ICCID, EF_IMSI, EF_DIR, ADN records) with mutated
 * real answers (with their SW appended half the time) and random bytes.
 * An input counts as accepted when at least one decoder takes it, refused
 * when every one throws UiccError.
 */
export function fuzzApdu(options: FuzzOptions): FuzzResult {
  const random = new Seeded(options.seed);
  const result = newResult('apdu', options.seed);
  for (let i = 0; i < options.count; i++) {
    let input = mutateBytes(random, random.pick(SEEDS));
    if (random.chance(0.5))
      input = Uint8Array.from([...input, random.pick([0x90, 0x91, 0x61, 0x63, 0x6a]), random.int(256)]);
    result.inputs++;
    let taken = false;
    for (const [name, decode] of DECODERS) {
      try {
        decode(input);
        taken = true;
      } catch (e) {
        if (!isUiccError(e)) crash(result, i, `${name} ${hex(input)}`, e);
      }
    }
    if (taken) result.accepted++;
    else result.refused++;
  }
  return result;
}
