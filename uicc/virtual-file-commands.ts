import type { CommandApdu } from './apdu.js';
import { encodeFcp } from './fcp.js';
import { FID } from './file-ids.js';
import { encodeGsmDfResponse, encodeGsmEfResponse } from './gsm-response.js';
import { SW } from './status-words.js';
import { encodeSja2AdfFcp } from './virtual-adf-fcp.js';
import {
  allowed,
  answerWithLe,
  type CardState,
  deliver,
  type Generation,
  ok,
  SWS,
  sw,
} from './virtual-card-state.js';
import {
  type Selection,
  selectByAid,
  selectByFid,
  selectByPath,
  type VirtualDf,
  type VirtualEf,
} from './virtual-file-system.js';

/** Command handlers for file access (ISO 7816-4 §7.1–7.3, TS 51.011 §9.2, TS 102 221 §11.1). */

function efSize(ef: VirtualEf): number {
  return ef.body.kind === 'transparent' ? ef.body.data.length : ef.body.records.length * ef.body.recordLength;
}

function recordLength(ef: VirtualEf): number {
  return ef.body.kind === 'records' ? ef.body.recordLength : 0;
}

function gsmDfResponse(state: CardState, df: VirtualDf): Uint8Array {
  return encodeGsmDfResponse({
    fid: df.fid,
    isMf: df.fid === FID.MF,
    freeMemory: 0x1000,
    childDfs: df.children.filter((c) => c.kind === 'df').length,
    childEfs: df.children.filter((c) => c.kind === 'ef').length,
    chv1Enabled: state.pin1Enabled,
    chv1RetriesLeft: state.pin.left,
    pukRetriesLeft: state.puk.left,
  });
}

function fileResponse(state: CardState, gen: Generation, sel: Selection): Uint8Array {
  const ef = sel.ef;
  const df = sel.path[sel.path.length - 1]!;
  if (gen === 'sim') {
    if (ef === undefined) return gsmDfResponse(state, df);
    return encodeGsmEfResponse({ ...ef, size: efSize(ef), recordLength: recordLength(ef) });
  }
  if (ef === undefined && df.aid !== undefined && state.profile.adfFcpWithoutFileId) {
    return encodeSja2AdfFcp(df.aid, state.pin1Enabled);
  }
  if (ef === undefined) {
    const aid = df.aid === undefined ? {} : { aid: df.aid };
    return encodeFcp({ kind: 'df', fid: df.fid, ...aid, pin1Enabled: state.pin1Enabled });
  }
  return encodeFcp({ ...ef, size: efSize(ef), recordLength: recordLength(ef) });
}

function fidsOf(data: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < data.length; i += 2) out.push((data[i]! << 8) | data[i + 1]!);
  return out;
}

/** SELECT (TS 51.011 §9.2.1; TS 102 221 §11.1.1). A failed SELECT keeps the current selection. */
export function select(state: CardState, gen: Generation, cmd: CommandApdu): Uint8Array {
  const data = cmd.data;
  const s = SWS[gen];
  let found: Selection | undefined;
  if (gen === 'sim') {
    if (cmd.p1 !== 0 || cmd.p2 !== 0) return sw(s.badP1P2);
    if (data === undefined || data.length !== 2) return sw(SW.WRONG_LENGTH);
    found = selectByFid(state.fs, state.sel, fidsOf(data)[0]!, false);
  } else {
    if (cmd.p2 !== 0x04 && cmd.p2 !== 0x0c) return sw(s.badP1P2);
    if (data === undefined) return sw(SW.WRONG_LENGTH);
    if (cmd.p1 === 0x00) {
      if (data.length !== 2) return sw(SW.WRONG_LENGTH);
      found = selectByFid(state.fs, state.sel, fidsOf(data)[0]!, state.adfActive);
    } else if (cmd.p1 === 0x04) {
      found = selectByAid(state.fs, data);
      if (found) state.adfActive = true;
    } else if (cmd.p1 === 0x08) {
      if (data.length % 2 !== 0) return sw(SW.WRONG_LENGTH);
      found = selectByPath(state.fs, fidsOf(data), state.adfActive);
    } else {
      return sw(s.badP1P2);
    }
  }
  if (found === undefined) return sw(s.fileNotFound);
  state.sel = found;
  if (gen === 'usim' && cmd.p2 === 0x0c) return ok();
  return deliver(state, gen, cmd, fileResponse(state, gen, found));
}

/** STATUS (TS 51.011 §9.2.2; TS 102 221 §11.1.2): the current DF's response, nothing selected changes. */
export function status(state: CardState, gen: Generation, cmd: CommandApdu): Uint8Array {
  const current: Selection = { path: state.sel.path, ef: undefined };
  if (gen === 'sim') {
    if (cmd.p1 !== 0 || cmd.p2 !== 0) return sw(SW.WRONG_P1P2);
    return answerWithLe(state, gen, cmd, fileResponse(state, gen, current));
  }
  if (cmd.p1 > 0x02) return sw(SW.INCORRECT_P1P2);
  if (cmd.p2 === 0x0c) return cmd.le === undefined && cmd.data === undefined ? ok() : sw(SW.WRONG_LENGTH);
  if (cmd.p2 !== 0x00) return sw(SW.INCORRECT_P1P2);
  return answerWithLe(state, gen, cmd, fileResponse(state, gen, current));
}

/** The current EF if it is of `kind` and `op` is allowed, or the SW that refuses it. */
function currentEf(
  state: CardState,
  gen: Generation,
  kind: 'transparent' | 'records',
  op: 'read' | 'update',
): VirtualEf | number {
  const s = SWS[gen];
  const ef = state.sel.ef;
  if (ef === undefined) return s.noEf;
  if (ef.body.kind !== kind) return s.wrongStructure;
  if (!allowed(state, ef[op])) return s.accessDenied;
  return ef;
}

/** Offset in P1-P2; b8 of P1 set would mean a short file identifier, which this card does not offer. */
function binaryOffset(cmd: CommandApdu): number | undefined {
  return (cmd.p1 & 0x80) !== 0 ? undefined : (cmd.p1 << 8) | cmd.p2;
}

export function readBinary(state: CardState, gen: Generation, cmd: CommandApdu): Uint8Array {
  if (cmd.le === undefined || cmd.data !== undefined) return sw(SW.WRONG_LENGTH);
  const ef = currentEf(state, gen, 'transparent', 'read');
  if (typeof ef === 'number') return sw(ef);
  const offset = binaryOffset(cmd);
  if (ef.body.kind !== 'transparent' || offset === undefined || offset >= ef.body.data.length) {
    return sw(SW.WRONG_P1P2);
  }
  return answerWithLe(state, gen, cmd, ef.body.data.subarray(offset));
}

export function updateBinary(state: CardState, gen: Generation, cmd: CommandApdu): Uint8Array {
  if (cmd.data === undefined || cmd.le !== undefined) return sw(SW.WRONG_LENGTH);
  const ef = currentEf(state, gen, 'transparent', 'update');
  if (typeof ef === 'number') return sw(ef);
  const offset = binaryOffset(cmd);
  if (ef.body.kind !== 'transparent' || offset === undefined || offset >= ef.body.data.length) {
    return sw(SW.WRONG_P1P2);
  }
  if (offset + cmd.data.length > ef.body.data.length) return sw(SW.WRONG_LENGTH);
  ef.body.data.set(cmd.data, offset);
  return ok();
}

/** Record number for absolute mode (P2 = 04, current EF), or the SW refusing it. */
function recordIndex(gen: Generation, cmd: CommandApdu, ef: VirtualEf): number | Uint8Array {
  if (cmd.p2 !== 0x04) return sw(SWS[gen].badP1P2);
  const count = ef.body.kind === 'records' ? ef.body.records.length : 0;
  if (cmd.p1 < 1 || cmd.p1 > count) return sw(SWS[gen].recordOutOfRange);
  return cmd.p1 - 1;
}

export function readRecord(state: CardState, gen: Generation, cmd: CommandApdu): Uint8Array {
  if (cmd.le === undefined || cmd.data !== undefined) return sw(SW.WRONG_LENGTH);
  const ef = currentEf(state, gen, 'records', 'read');
  if (typeof ef === 'number') return sw(ef);
  const index = recordIndex(gen, cmd, ef);
  if (typeof index !== 'number') return index;
  if (ef.body.kind !== 'records') return sw(SWS[gen].wrongStructure);
  return answerWithLe(state, gen, cmd, ef.body.records[index]!, true);
}

export function updateRecord(state: CardState, gen: Generation, cmd: CommandApdu): Uint8Array {
  if (cmd.data === undefined || cmd.le !== undefined) return sw(SW.WRONG_LENGTH);
  const ef = currentEf(state, gen, 'records', 'update');
  if (typeof ef === 'number') return sw(ef);
  const index = recordIndex(gen, cmd, ef);
  if (typeof index !== 'number') return index;
  if (ef.body.kind !== 'records') return sw(SWS[gen].wrongStructure);
  // Records are written whole (TS 51.011 §9.2.6): a partial body is a length error.
  if (cmd.data.length !== ef.body.recordLength) return sw(SW.WRONG_LENGTH);
  ef.body.records[index] = cmd.data.slice();
  return ok();
}

/**
 * GET RESPONSE (ISO 7816-4 §7.6.1; TS 51.011 §9.2.18). A wrong Le keeps the
 * data waiting so the corrected command can fetch it; on 3G a short Le leaves
 * the rest waiting behind 61xx.
 */
export function getResponse(
  state: CardState,
  gen: Generation,
  cmd: CommandApdu,
  pending: Uint8Array | undefined,
): Uint8Array {
  if (cmd.p1 !== 0 || cmd.p2 !== 0) return sw(SW.WRONG_P1P2);
  if (cmd.le === undefined || cmd.data !== undefined) return sw(SW.WRONG_LENGTH);
  if (pending === undefined) return sw(SWS[gen].noPendingResponse);
  const le = cmd.le;
  if (le > pending.length && state.profile.strictLe) {
    state.pending = pending;
    return sw(SWS[gen].wrongLe(pending.length));
  }
  if (le < pending.length && gen === 'usim') {
    state.pending = pending.slice(le);
    return Uint8Array.from([...pending.subarray(0, le), 0x61, (pending.length - le) & 0xff]);
  }
  return ok(pending.subarray(0, Math.min(le, pending.length)));
}
