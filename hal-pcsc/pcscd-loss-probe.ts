/**
 * Test support for pcsc-context.test.ts, run as a child process whose
 * PCSCLITE_CSOCK_NAME points at a private pcscd (libpcsclite reads that
 * once per process). It follows the reader list and one reader, printing
 * each event as a JSON line, and keeps a virtual card in that reader
 * whenever the reader is listed. Argument: the private vpcd port.
 */
import { VirtualUicc } from '../uicc/index.js';
import { PcscCardReader } from './pcsc-card-reader.js';
import { PcscContext } from './pcsc-context.js';
import { VpcdCard } from './vpcd-card.js';

const port = Number(process.argv[2]);
const say = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`);
const uicc = new VirtualUicc({ iccid: '8988211000000430010', imsi: '001010000000102' });

const context = await PcscContext.open({ retryMs: 100 });
const name = context.readerNames()[0]!;
const reader = new PcscCardReader(context, name);
context.on('attached', (reader) => say({ event: 'attached', reader }));
context.on('detached', (reader) => say({ event: 'detached', reader }));
reader.on('inserted', () => say({ event: 'inserted' }));
reader.on('removed', () => {
  say({ event: 'removed' });
  reader.open().catch((e) => say({ event: 'open-failed', kind: e.kind }));
});
const insert = () =>
  VpcdCard.insert(uicc, { port }).catch((e) => say({ event: 'insert-failed', message: String(e) }));
context.on('attached', (n) => n === name && void insert());
await insert();
say({ event: 'ready', readers: context.readerNames() });
process.stdin.on('end', async () => {
  await reader.close();
  await context.close();
});
process.stdin.resume();
