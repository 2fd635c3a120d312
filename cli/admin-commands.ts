import { existsSync, renameSync, writeFileSync } from 'node:fs';
import {
  AdminError,
  AkaAdminError,
  AkaVault,
  AkaVaultError,
  loadKeyring,
  newServerKey,
  parseKeyring,
  type SyncStore,
  startSyncServer,
} from '../broker/index.js';
import type { Category } from '../core/protocol/categories.js';
import { checkIccid, checkImsi, checkTerminalId, OperatorInputError } from './operator-input.js';
import { EXIT_CODES } from './process-guard.js';
import { openServerStore } from './server-store.js';
import { type Column, fields, iso, printRows, withIsoTimes } from './table.js';

/**
 * The operator's commands (`simsync register-shop`, `simsync admin …`). They
 * work on the server's store directly (SQLite WAL allows a running server
 * alongside; PostgreSQL through SIMSYNC_POSTGRES). cli/main.ts loads this
 * module only when one of them runs.
 */
type Admin = Awaited<ReturnType<typeof startSyncServer>>['admin'];

interface Common {
  data: string;
  json?: boolean;
}

/** FIG. 18/19 shop registration. Validation at the door (issue 16): nothing is written for a flag that cannot be right. */
export async function registerShop(
  opts: Common & {
    terminal: string;
    subscriber: string;
    iccid?: string;
    newSubscriber?: boolean;
    categories?: Category[];
    ttlHours: number;
  },
): Promise<void> {
  const terminalId = checkTerminalId(opts.terminal);
  const subscriber = checkImsi(opts.subscriber);
  const iccid = opts.iccid === undefined ? undefined : checkIccid(opts.iccid);
  await withAdmin(opts.data, async (admin, store) => {
    const known = await store.getSubscriber(subscriber);
    if (known === undefined && !opts.newSubscriber) {
      throw new OperatorInputError(
        `no subscriber ${subscriber}: add it with simsync admin add-subscriber, or pass --new-subscriber`,
      );
    }
    if (known?.iccid && iccid !== undefined && known.iccid !== iccid) {
      throw new OperatorInputError(`subscriber ${subscriber} has the SIM ${known.iccid}, not ${iccid}`);
    }
    const issued = await admin.registerShop({
      terminalId,
      subscriber,
      ...(iccid ? { iccid } : {}),
      ...(opts.categories ? { categories: opts.categories } : {}),
      ttlMs: opts.ttlHours * 3_600_000,
    });
    printOne({ terminal: terminalId, subscriber, code: issued.code, expiresAt: issued.expiresAt }, opts.json);
  });
}

export async function addSubscriber(
  opts: Common & {
    subscriber: string;
    iccid?: string;
    loginPassword?: string;
    ki?: string;
    opc?: string;
    op?: string;
    akaKeyFile?: string;
  },
): Promise<void> {
  const loginPassword = opts.loginPassword ?? process.env.SIMSYNC_LOGIN_PASSWORD;
  const subscriber = checkImsi(opts.subscriber);
  const iccid = opts.iccid === undefined ? undefined : checkIccid(opts.iccid);
  const k = opts.ki ?? process.env.SIMSYNC_AKA_KI;
  if (k !== undefined && opts.akaKeyFile === undefined) {
    throw new OperatorInputError('--ki needs --aka-key-file: the key is stored sealed under its server key');
  }
  await withAdmin(
    opts.data,
    async (a) => {
      // The key is checked before anything is written: a bad K leaves no half-made subscriber.
      if (k !== undefined) await a.checkAkaKey({ subscriber, k, ...akaParts(opts) });
      const info = await a.addSubscriber({
        subscriber,
        ...(iccid ? { iccid } : {}),
        ...(loginPassword ? { loginPassword } : {}),
      });
      if (k !== undefined) await a.setAkaKey({ subscriber, k, ...akaParts(opts) });
      printOne({ ...info, aka: k !== undefined || (await a.hasAkaKey(subscriber)) }, opts.json);
    },
    opts.akaKeyFile,
  );
}

function akaParts(opts: { opc?: string; op?: string }): { opc?: string; op?: string } {
  const opc = opts.opc ?? process.env.SIMSYNC_AKA_OPC;
  const op = opts.op ?? process.env.SIMSYNC_AKA_OP;
  return { ...(opc !== undefined ? { opc } : {}), ...(op !== undefined ? { op } : {}) };
}

export async function issueCode(opts: Common & { subscriber: string; terminal?: string }): Promise<void> {
  const terminalId = opts.terminal === undefined ? undefined : checkTerminalId(opts.terminal);
  await withAdmin(opts.data, async (a) => {
    const issued = await a.issueCode(opts.subscriber, undefined, terminalId);
    printOne(
      { subscriber: opts.subscriber, ...(terminalId ? { terminal: terminalId } : {}), ...issued },
      opts.json,
    );
  });
}

export async function revoke(opts: Common & { terminal: string }): Promise<void> {
  await withAdmin(opts.data, async (a) => {
    await a.revoke(opts.terminal);
    if (opts.json) console.log(JSON.stringify({ revoked: opts.terminal }));
    else console.log(`revoked ${opts.terminal}: refused from now on, its connections closed`);
  });
}

export async function listSubscribers(opts: Common): Promise<void> {
  await withAdmin(opts.data, async (a) =>
    printRows(await a.listSubscribers(), SUBSCRIBER_COLUMNS, opts.json === true),
  );
}

export async function listTerminals(opts: Common & { subscriber?: string }): Promise<void> {
  await withAdmin(opts.data, async (a) =>
    printRows(await a.listTerminals(opts.subscriber), TERMINAL_COLUMNS, opts.json === true),
  );
}

export async function history(opts: Common & { subscriber: string; limit: number }): Promise<void> {
  await withAdmin(opts.data, async (a) =>
    printRows(await a.history(opts.subscriber, opts.limit), HISTORY_COLUMNS, opts.json === true),
  );
}

/** `admin aka-keygen`: a new current server key in the key file; the others stay so their seals still open. */
export async function akaKeygen(opts: { akaKeyFile: string; id?: string }): Promise<void> {
  const id = opts.id ?? new Date().toISOString().slice(0, 10);
  let keyring: { current: string; keys: Record<string, string> } = { current: id, keys: {} };
  if (existsSync(opts.akaKeyFile)) {
    try {
      const parsed = loadKeyring(opts.akaKeyFile);
      keyring = {
        current: id,
        keys: Object.fromEntries([...parsed.keys].map(([k, v]) => [k, Buffer.from(v).toString('hex')])),
      };
    } catch (e) {
      if (!(e instanceof AkaVaultError)) throw e;
      console.error(`simsync: ${e.message}`);
      process.exitCode = EXIT_CODES.usage;
      return;
    }
  }
  if (keyring.keys[id] !== undefined) {
    console.error(`simsync: ${opts.akaKeyFile} already has a key ${id}: give another --id`);
    process.exitCode = EXIT_CODES.usage;
    return;
  }
  keyring.keys[id] = newServerKey();
  parseKeyring(JSON.stringify(keyring), opts.akaKeyFile); // the file written is one the server reads
  const temporary = `${opts.akaKeyFile}.new`;
  writeFileSync(temporary, `${JSON.stringify(keyring, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, opts.akaKeyFile);
  console.log(
    `server key ${id} added to ${opts.akaKeyFile} and made current; keys sealed under an older one: simsync admin aka-rotate`,
  );
}

/** `admin aka-set`: K and OPc (or OP) from flags or the environment, sealed at once; never printed. */
export async function akaSet(
  opts: Common & {
    akaKeyFile: string;
    subscriber: string;
    ki?: string;
    opc?: string;
    op?: string;
    sqn?: number;
  },
): Promise<void> {
  const subscriber = checkImsi(opts.subscriber);
  const k = opts.ki ?? process.env.SIMSYNC_AKA_KI;
  const opc = opts.opc ?? process.env.SIMSYNC_AKA_OPC;
  const op = opts.op ?? process.env.SIMSYNC_AKA_OP;
  if (k === undefined) throw new OperatorInputError('give K: --ki <32 hex digits> or SIMSYNC_AKA_KI');
  await withAdmin(
    opts.data,
    async (a) => {
      await a.setAkaKey({
        subscriber,
        k,
        ...(opc !== undefined ? { opc } : {}),
        ...(op !== undefined ? { op } : {}),
        ...(opts.sqn !== undefined ? { sqn: opts.sqn } : {}),
      });
      if (opts.json) console.log(JSON.stringify({ subscriber, aka: true }));
      else
        console.log(
          `AKA key of ${subscriber} saved, sealed: its SIM proves itself at every sync from its next connection`,
        );
    },
    opts.akaKeyFile,
  );
}

export async function akaRemove(opts: Common & { subscriber: string }): Promise<void> {
  const subscriber = checkImsi(opts.subscriber);
  await withAdmin(opts.data, async (a) => {
    const had = await a.removeAkaKey(subscriber);
    if (opts.json) console.log(JSON.stringify({ subscriber, removed: had }));
    else console.log(had ? `AKA key of ${subscriber} removed` : `${subscriber} had no AKA key`);
  });
}

export async function akaRotate(opts: Common & { akaKeyFile: string }): Promise<void> {
  await withAdmin(
    opts.data,
    async (a) => {
      const moved = await a.rotateAkaKeys();
      if (opts.json) console.log(JSON.stringify({ resealed: moved }));
      else console.log(`${moved} AKA key(s) re-sealed under the current server key`);
    },
    opts.akaKeyFile,
  );
}

async function withAdmin(
  dataDir: string,
  fn: (admin: Admin, store: SyncStore) => Promise<void>,
  akaKeyFile?: string,
) {
  let akaVault: AkaVault | undefined;
  try {
    akaVault = akaKeyFile === undefined ? undefined : AkaVault.fromFile(akaKeyFile);
  } catch (e) {
    if (!(e instanceof AkaVaultError)) throw e;
    console.error(`simsync: ${e.message}`);
    process.exitCode = EXIT_CODES.usage;
    return;
  }
  const store = await openServerStore(dataDir, process.env.SIMSYNC_POSTGRES);
  const server = await startSyncServer({ store, port: null, revocationPollMs: 60_000, akaVault });
  try {
    await fn(server.admin, store);
  } catch (e) {
    if (
      e instanceof AdminError ||
      e instanceof OperatorInputError ||
      e instanceof AkaAdminError ||
      e instanceof AkaVaultError
    ) {
      console.error(`simsync: ${e.message}`);
      process.exitCode = EXIT_CODES.usage;
      return;
    }
    throw e;
  } finally {
    await server.close();
    await store.close();
  }
}

/** One answer: "key  value" lines with ISO times, or one JSON line with `--json`. */
function printOne(record: object, json: boolean | undefined): void {
  const row = withIsoTimes(record);
  if (json) console.log(JSON.stringify(row));
  else for (const line of fields(Object.entries(row))) console.log(line);
}

type Row<F extends keyof Admin> = Awaited<ReturnType<Admin[F]>> extends (infer R)[] ? R : never;

const SUBSCRIBER_COLUMNS: Column<Row<'listSubscribers'>>[] = [
  { header: 'SUBSCRIBER', value: (s) => s.subscriber },
  { header: 'ICCID', value: (s) => s.iccid },
  { header: 'LOGIN PASSWORD', value: (s) => s.hasLoginPassword },
  { header: 'CREATED', value: (s) => iso(s.createdAt) },
];

const TERMINAL_COLUMNS: Column<Row<'listTerminals'>>[] = [
  { header: 'TERMINAL', value: (t) => t.terminalId },
  { header: 'SUBSCRIBER', value: (t) => t.subscriber },
  {
    header: 'STATE',
    value: (t) =>
      t.revoked ? 'revoked' : t.online ? 'online' : t.hasCredential ? 'offline' : 'code not claimed',
  },
  { header: 'PASSWORD', value: (t) => t.hasTerminalPassword },
  { header: 'LAST SEEN', value: (t) => iso(t.lastSeenAt) },
  { header: 'CREATED', value: (t) => iso(t.createdAt) },
  { header: 'CATEGORIES', value: (t) => t.categories },
];

const HISTORY_COLUMNS: Column<Row<'history'>>[] = [
  { header: 'AT', value: (e) => iso(e.at) },
  { header: 'TERMINAL', value: (e) => e.terminalId },
  { header: 'ACTION', value: (e) => e.action },
  { header: 'OUTCOME', value: (e) => e.outcome },
  { header: 'UP', value: (e) => e.uploaded },
  { header: 'DOWN', value: (e) => e.downloaded },
  {
    header: 'WHY',
    value: (e) =>
      [e.reason, e.terminalOwner ? `terminal of ${e.terminalOwner}` : null].filter(Boolean).join('; '),
  },
];
