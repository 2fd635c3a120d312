import { fromUtf8 } from '../core/index.js';

/**
 * The bytes an OMA DS (SyncML 1.2) session would put on the wire for the
 * same changes, built as XML text from the standard's message structure
 * (OMA-TS-DS_Protocol-V1_2 §5–6 packages, OMA-TS-DS_RepPro-V1_2 §5–6
 * elements, OMA-TS-DS_MetInf-V1_2 for the Meta children) and measured.
 * Plain XML, not WBXML, and no HTTP framing. Where the standard allows a
 * choice, the smaller one is taken: all changed items in ONE Replace command
 * (RepPro §6.6.11 Replace allows several Items) acknowledged by ONE Status
 * listing every SourceRef (RepPro §6.6.14 Status: SourceRef may repeat), and
 * no DevInf exchange, and every package in one message however large
 * (no MaxMsgSize split, §5.9 multiple messages). So the figure is SyncML's
 * best case.
 */
export interface SyncMlChange {
  id: string;
  /** vCard text (RFC 2426), carried as character data. */
  body: Uint8Array;
}

const SERVER = 'https://sync.example.org/ds';
const DEVICE = 'IMEI:490154203237518';
const DB = './contacts';
const CONTENT_TYPE = 'text/x-vcard';

/** RepPro §5.1 SyncHdr: VerDTD, VerProto, SessionID, MsgID, Target, Source, and Cred on the first message. */
function syncHdr(msgId: number, fromClient: boolean, cred: boolean): string {
  const [target, source] = fromClient ? [SERVER, DEVICE] : [DEVICE, SERVER];
  const credential = cred
    ? // RepPro §6.6.4 Cred with MetInf Format b64 / Type syncml:auth-md5 (DS Protocol §6.3).
      '<Cred><Meta><Format xmlns="syncml:metinf">b64</Format><Type xmlns="syncml:metinf">syncml:auth-md5</Type></Meta><Data>Zz6EivR3yeaaENcRN6lpAQ==</Data></Cred>'
    : '';
  return `<SyncHdr><VerDTD>1.2</VerDTD><VerProto>SyncML/1.2</VerProto><SessionID>1</SessionID><MsgID>${msgId}</MsgID><Target><LocURI>${target}</LocURI></Target><Source><LocURI>${source}</LocURI></Source>${credential}</SyncHdr>`;
}

/** RepPro §6.6.14 Status: CmdID, MsgRef, CmdRef, Cmd, TargetRef/SourceRef, Data (the status code). */
function status(
  cmdId: number,
  msgRef: number,
  cmdRef: number,
  cmd: string,
  refs: string,
  code: number,
): string {
  return `<Status><CmdID>${cmdId}</CmdID><MsgRef>${msgRef}</MsgRef><CmdRef>${cmdRef}</CmdRef><Cmd>${cmd}</Cmd>${refs}<Data>${code}</Data></Status>`;
}

/** DS Protocol §5.5 Alert 200 (two-way sync) with the MetInf Anchor Last/Next of the database. */
function alert(cmdId: number, target: string, source: string): string {
  return `<Alert><CmdID>${cmdId}</CmdID><Data>200</Data><Item><Target><LocURI>${target}</LocURI></Target><Source><LocURI>${source}</LocURI></Source><Meta><Anchor xmlns="syncml:metinf"><Last>20261124T101500Z</Last><Next>20261125T101500Z</Next></Anchor></Meta></Item></Alert>`;
}

/** RepPro §6.6.15 Sync with one Replace (§6.6.11) of every change: Meta Type, then Item Source/LocURI + Data. */
function sync(cmdId: number, target: string, source: string, changes: readonly SyncMlChange[]): string {
  const items = changes
    .map(
      (c) =>
        `<Item><Source><LocURI>${c.id}</LocURI></Source><Data><![CDATA[${fromUtf8(c.body)}]]></Data></Item>`,
    )
    .join('');
  const replace =
    changes.length === 0
      ? ''
      : `<Replace><CmdID>${cmdId + 1}</CmdID><Meta><Type xmlns="syncml:metinf">${CONTENT_TYPE}</Type></Meta>${items}</Replace>`;
  return `<Sync><CmdID>${cmdId}</CmdID><Target><LocURI>${target}</LocURI></Target><Source><LocURI>${source}</LocURI></Source><NumberOfChanges>${changes.length}</NumberOfChanges>${replace}</Sync>`;
}

function message(hdr: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><SyncML xmlns="SYNCML:SYNCML1.2">${hdr}<SyncBody>${body}<Final/></SyncBody></SyncML>`;
}

const sourceRefs = (changes: readonly SyncMlChange[]) =>
  changes.map((c) => `<SourceRef>${c.id}</SourceRef>`).join('');

/**
 * A two-way sync session (DS Protocol §5: packages 1–4, and 5 when the
 * server sent changes) in which the client sends `up` and the server `down`.
 * Returns the messages' XML, in order.
 */
export function syncMlSession(up: readonly SyncMlChange[], down: readonly SyncMlChange[]): string[] {
  const messages = [
    // Pkg 1: client initialisation.
    message(syncHdr(1, true, true), alert(1, DB, DB)),
    // Pkg 2: server initialisation.
    message(
      syncHdr(1, false, false),
      status(1, 1, 0, 'SyncHdr', `<TargetRef>${SERVER}</TargetRef><SourceRef>${DEVICE}</SourceRef>`, 212) +
        status(2, 1, 1, 'Alert', `<TargetRef>${DB}</TargetRef><SourceRef>${DB}</SourceRef>`, 200) +
        alert(3, DB, DB),
    ),
    // Pkg 3: client modifications.
    message(
      syncHdr(2, true, false),
      status(1, 1, 0, 'SyncHdr', `<TargetRef>${DEVICE}</TargetRef><SourceRef>${SERVER}</SourceRef>`, 200) +
        status(2, 1, 3, 'Alert', `<TargetRef>${DB}</TargetRef><SourceRef>${DB}</SourceRef>`, 200) +
        sync(3, DB, DB, up),
    ),
    // Pkg 4: server status of the client's changes, and the server's modifications.
    message(
      syncHdr(2, false, false),
      status(1, 2, 0, 'SyncHdr', `<TargetRef>${SERVER}</TargetRef><SourceRef>${DEVICE}</SourceRef>`, 200) +
        status(2, 2, 3, 'Sync', `<TargetRef>${DB}</TargetRef><SourceRef>${DB}</SourceRef>`, 200) +
        (up.length > 0 ? status(3, 2, 4, 'Replace', sourceRefs(up), 200) : '') +
        sync(4, DB, DB, down),
    ),
  ];
  if (down.length > 0) {
    // Pkg 5: client status of the server's changes (no Map: Replace needs none).
    messages.push(
      message(
        syncHdr(3, true, false),
        status(1, 2, 0, 'SyncHdr', `<TargetRef>${DEVICE}</TargetRef><SourceRef>${SERVER}</SourceRef>`, 200) +
          status(2, 2, 4, 'Sync', `<TargetRef>${DB}</TargetRef><SourceRef>${DB}</SourceRef>`, 200) +
          status(3, 2, 5, 'Replace', sourceRefs(down), 200),
      ),
    );
  }
  return messages;
}

/** UTF-8 bytes of a session's messages. */
export function syncMlBytes(up: readonly SyncMlChange[], down: readonly SyncMlChange[]): number {
  const encoder = new TextEncoder();
  return syncMlSession(up, down).reduce((n, xml) => n + encoder.encode(xml).length, 0);
}
