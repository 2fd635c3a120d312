import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import {
  AdminError,
  openPostgresStore,
  openSqliteStore,
  ServerMetrics,
  type SyncStore,
  startSyncServer,
  trackConnections,
} from '../broker/index.js';
import { CATEGORIES, type Category, isCategory } from '../core/index.js';
import { AgentLoop, EXIT } from './agent-loop.js';
import { joinWords } from './command-words.js';
import { runThroughAgent, socketPath } from './control-socket.js';
import { runDemo } from './demo.js';
import { failureLine } from './failure-text.js';
import { LineIO } from './line-io.js';
import { checkIccid, checkImsi, checkTerminalId, OperatorInputError } from './operator-input.js';
import { EXIT_CODES, guardProcess, notePort, setVerbose } from './process-guard.js';
import { readServerSettings, withSettingsFile } from './server-settings.js';
import { type Column, fields, iso, printRows, withIsoTimes } from './table.js';
import { TerminalAgent } from './terminal-agent.js';
import { loadSettings, SettingsError } from './terminal-settings.js';

guardProcess();

/**
 * The `simsync` command (DESIGN.md "Layers": cli/ is the only place that reads
 * flags, env and config files).
 */
const program = new Command()
  .name('simsync')
  .description('SIM-anchored data sync: terminals, the sync server and the operator tools')
  .version(packageVersion(), '--version', 'print the version')
  .option('-v, --verbose', 'more detail: debug logs, and where an unexpected error came from')
  .option('-q, --quiet', 'less output: warnings and errors only')
  .showHelpAfterError('(simsync <command> --help lists the options)')
  .hook('preAction', () => setVerbose(program.opts().verbose === true));

function packageVersion(): string {
  const file = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('not a TCP port');
  return n;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('not a whole number of at least 1');
  return n;
}

function categories(value: string): Category[] {
  const list = value.split(',').map((s) => s.trim());
  for (const c of list)
    if (!isCategory(c)) throw new InvalidArgumentError(`unknown category ${c} (${CATEGORIES.join(', ')})`);
  return list as Category[];
}

function storeIn(dataDir: string) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return openSqliteStore(path.join(dataDir, 'simsync.db'));
}

/**
 * The server's store: PostgreSQL when a URL is given (`--postgres`, or
 * SIMSYNC_POSTGRES for `simsync admin`), shared by every broker process of a
 * cluster; otherwise the SQLite file in the data directory.
 */
async function openServerStore(dataDir: string, postgres: string | undefined) {
  return postgres ? openPostgresStore(postgres) : storeIn(dataDir);
}

const dataOption = [
  '--data <dir>',
  'server data directory (SQLite database inside)',
  process.env.SIMSYNC_DATA ?? './simsync-data',
] as const;

program
  .command('demo')
  .description(
    'FIG. 16: a server and three simulated terminals pass one SIM around; non-zero exit if any ends inconsistent',
  )
  .action(async () => {
    const problems = await runDemo();
    process.exitCode = problems === 0 ? 0 : 1;
  });

program
  .command('server')
  .description('run the sync server (Aedes MQTT broker; SQLite in --data, or PostgreSQL with --postgres)')
  .option(...dataOption)
  .option(
    '--host <address>',
    'interface to listen on: 127.0.0.1 = this machine only; 0.0.0.0 = every interface, reachable from the network',
    '127.0.0.1',
  )
  .option('--postgres <url>', 'keep the sync store in this PostgreSQL database', process.env.SIMSYNC_POSTGRES)
  .option(
    '--redis <url>',
    'run as one of several broker processes sharing this Redis (fan-out, sessions, attempt limits)',
    process.env.SIMSYNC_REDIS,
  )
  .option('--proxy-protocol', 'plain TCP connections come through a load balancer sending a PROXY header')
  .option('--port <port>', 'MQTT over TCP port', port, 1883)
  .option('--tls-key <file>', 'TLS private key (PEM), enables MQTT over TLS')
  .option('--tls-cert <file>', 'TLS certificate (PEM)')
  .option('--tls-port <port>', 'MQTT over TLS port', port, 8883)
  .option('--ws-port <port>', 'also serve MQTT over WebSocket on this port', port)
  .option('--metrics-port <port>', 'serve Prometheus metrics at /metrics on this port (0 = off)', port, 9464)
  .option('--metrics-host <address>', 'interface for the metrics endpoint', '127.0.0.1')
  .option('--auth-free-failures <n>', 'failed CONNECTs per address or subscriber before back-off', count, 5)
  .option(
    '--auth-max-delay-seconds <n>',
    'longest back-off between attempts (it doubles from 1 s)',
    count,
    60,
  )
  .option('--auth-lockout-after <n>', 'failed CONNECTs per address or subscriber before a lockout', count, 20)
  .option('--auth-lockout-minutes <n>', 'how long a lockout lasts', count, 15)
  .option('--config <file>', "settings file (JSON, the flags' names; default <data>/server.json); flags win")
  .action(async (flags, command: Command) => {
    const opts = withSettingsFile(flags, readServerSettings(flags.data, flags.config), (key) =>
      command.getOptionValueSource(key),
    );
    const logger = pino({ name: 'simsync-server' });
    if (Boolean(opts.tlsKey) !== Boolean(opts.tlsCert))
      throw new InvalidArgumentError('--tls-key and --tls-cert go together');
    // A port already taken becomes one line naming the flag (process-guard.ts).
    notePort(opts.port, '--port');
    notePort(opts.metricsPort, '--metrics-port');
    if (opts.tlsKey) notePort(opts.tlsPort, '--tls-port');
    notePort(opts.wsPort, '--ws-port');
    const metrics = new ServerMetrics();
    const store = await openServerStore(opts.data, opts.postgres);
    const server = await startSyncServer({
      store: metrics.meter(store),
      host: opts.host,
      port: opts.port,
      logger,
      ...(opts.redis ? { redis: opts.redis } : {}),
      ...(opts.proxyProtocol ? { proxyProtocol: true } : {}),
      attemptLimits: {
        freeFailures: opts.authFreeFailures,
        maxDelayMs: opts.authMaxDelaySeconds * 1000,
        lockoutAfter: opts.authLockoutAfter,
        lockoutMs: opts.authLockoutMinutes * 60_000,
      },
      onAuthFailure: (reason) => metrics.authFailures.inc({ reason }),
      ...(opts.tlsKey ? { tls: { key: opts.tlsKey, cert: opts.tlsCert, port: opts.tlsPort } } : {}),
      ...(opts.wsPort !== undefined ? { ws: { port: opts.wsPort } } : {}),
    });
    trackConnections(metrics, server.broker);
    const endpoint =
      opts.metricsPort === 0 ? undefined : await metrics.serve(opts.metricsPort, opts.metricsHost);
    const reach = ['127.0.0.1', '::1', 'localhost'].includes(opts.host)
      ? 'this machine only (--host 0.0.0.0 for the network)'
      : 'the network';
    logger.info(
      {
        host: opts.host,
        port: server.port,
        tlsPort: server.tlsPort,
        wsPort: server.wsPort,
        metricsPort: endpoint?.port,
        data: opts.data,
        cluster: opts.redis ? 'redis' : undefined,
      },
      `server ready on ${opts.host}:${server.port}, reachable from ${reach}`,
    );
    const stop = async () => {
      logger.info('shutting down');
      await endpoint?.close();
      await server.close();
      await store.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('register-shop')
  .description(
    'FIG. 18/19 shop registration: pair a terminal with a subscriber; prints the one-time code the terminal claims its credential with',
  )
  .option(...dataOption)
  .requiredOption('--terminal <id>', 'terminal ID, 18 digits, as the terminal shows it')
  .requiredOption('--subscriber <imsi>', 'subscriber ID (IMSI read from the SIM, 6–15 digits)')
  .option('--iccid <iccid>', "the SIM's ICCID (18–20 digits, Luhn-checked)")
  .option('--new-subscriber', 'create the subscriber if it does not exist yet (otherwise refused)')
  .option('--categories <list>', `sync-target categories (${CATEGORIES.join(',')})`, categories)
  .option('--ttl-hours <n>', 'how long the code stays valid', count, 24)
  .option('--json', 'one JSON line instead of the table (scripts)')
  .action(async (opts) => {
    // Validation at the door (issue 16): nothing is written for a flag that cannot be right.
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
      printOne(
        { terminal: terminalId, subscriber, code: issued.code, expiresAt: issued.expiresAt },
        opts.json,
      );
    });
  });

const admin = program
  .command('admin')
  .description('operator tools: subscribers, terminals, codes, revocation, history');

admin
  .command('add-subscriber')
  .description('create a subscriber (or update its ICCID / login password)')
  .option(...dataOption)
  .requiredOption('--subscriber <imsi>', 'subscriber ID (IMSI, 6–15 digits)')
  .option('--iccid <iccid>', 'ICCID of the SIM (18–20 digits, Luhn-checked)')
  .option(
    '--login-password <password>',
    'login password for FIG. 8 registration (or set SIMSYNC_LOGIN_PASSWORD)',
  )
  .option('--json', 'one JSON line instead of the table (scripts)')
  .action(async (opts) => {
    const loginPassword = opts.loginPassword ?? process.env.SIMSYNC_LOGIN_PASSWORD;
    const subscriber = checkImsi(opts.subscriber);
    const iccid = opts.iccid === undefined ? undefined : checkIccid(opts.iccid);
    await withAdmin(opts.data, async (a) => {
      const info = await a.addSubscriber({
        subscriber,
        ...(iccid ? { iccid } : {}),
        ...(loginPassword ? { loginPassword } : {}),
      });
      printOne(info, opts.json);
    });
  });

admin
  .command('issue-code')
  .description("a one-time registration code for a subscriber's next terminal")
  .option(...dataOption)
  .requiredOption('--subscriber <imsi>', 'subscriber ID (IMSI)')
  .option('--terminal <id>', 'only for this terminal (the operator vouches for its ID)')
  .option('--json', 'one JSON line instead of the table (scripts)')
  .action(async (opts) => {
    const terminalId = opts.terminal === undefined ? undefined : checkTerminalId(opts.terminal);
    await withAdmin(opts.data, async (a) => {
      const issued = await a.issueCode(opts.subscriber, undefined, terminalId);
      printOne(
        { subscriber: opts.subscriber, ...(terminalId ? { terminal: terminalId } : {}), ...issued },
        opts.json,
      );
    });
  });

admin
  .command('revoke')
  .description('refuse a lost or stolen terminal from now on')
  .option(...dataOption)
  .requiredOption('--terminal <id>', 'terminal ID')
  .option('--json', 'one JSON line instead of the text (scripts)')
  .action(async (opts) => {
    await withAdmin(opts.data, async (a) => {
      await a.revoke(opts.terminal);
      if (opts.json) console.log(JSON.stringify({ revoked: opts.terminal }));
      else console.log(`revoked ${opts.terminal}: refused from now on, its connections closed`);
    });
  });

admin
  .command('subscribers')
  .description('list subscribers')
  .option(...dataOption)
  .option('--json', 'JSON lines instead of the table (scripts)')
  .action(async (opts) => {
    await withAdmin(opts.data, async (a) =>
      printRows(await a.listSubscribers(), SUBSCRIBER_COLUMNS, opts.json),
    );
  });

admin
  .command('terminals')
  .description("list terminals, all or a subscriber's")
  .option(...dataOption)
  .option('--subscriber <imsi>', "only this subscriber's")
  .option('--json', 'JSON lines instead of the table (scripts)')
  .action(async (opts) => {
    await withAdmin(opts.data, async (a) =>
      printRows(await a.listTerminals(opts.subscriber), TERMINAL_COLUMNS, opts.json),
    );
  });

admin
  .command('history')
  .description("a subscriber's sync history (audit log)")
  .option(...dataOption)
  .requiredOption('--subscriber <imsi>', 'subscriber ID (IMSI)')
  .option('--limit <n>', 'at most this many entries', count, 100)
  .option('--json', 'JSON lines instead of the table (scripts)')
  .action(async (opts) => {
    await withAdmin(opts.data, async (a) =>
      printRows(await a.history(opts.subscriber, opts.limit), HISTORY_COLUMNS, opts.json),
    );
  });

program
  .command('terminal')
  .description(
    'the terminal agent: registers on first run, follows the SIM and syncs; or runs one command and exits',
  )
  .argument(
    '[command...]',
    'sync | status | categories | ls | get | put | rm | erase | conflicts | resolve | import-vcard | export-vcard | import-ical | export-ical | register | passwd | unblock (help at the prompt says more)',
  )
  .option('--data <dir>', 'terminal data directory (NV store, config.json)')
  .option('--config <file>', 'config file (JSON; default <data>/config.json)')
  .option('--card <spec>', 'sim | pcsc[:READER] | modem:/dev/ttyX | none (no reader: no SIM)')
  .option('--server <url>', 'mqtt://host:1883, mqtts://host:8883, ws://host:8080')
  .option('--ca <file>', 'CA certificate to trust for mqtts/wss')
  .option(
    '--policy <name>',
    'authentication policy chosen at set-up (fig9-pin-password, fig10-subscriber-binding, …)',
  )
  .option('--categories <list>', 'sync-target categories', categories)
  .option('--sim-iccid <iccid>', 'ICCID of the virtual SIM (--card sim)')
  .option('--sim-imsi <imsi>', 'IMSI of the virtual SIM (--card sim)')
  .option('--sim-pin <pin>', 'PIN of the virtual SIM (--card sim)')
  .option('-y, --yes', 'do not ask before erasing (erase, erase factory): for scripts')
  // A command's own flags (resolve N --keep mine) pass through to it.
  .allowUnknownOption()
  .action(async (command: string[], opts, self: Command) => {
    if (command[0]?.startsWith('-'))
      self.error(`error: unknown option '${command[0]}'`, { exitCode: EXIT_CODES.usage });
    const sim =
      opts.simImsi || opts.simIccid
        ? { iccid: opts.simIccid, imsi: opts.simImsi, ...(opts.simPin ? { pin: opts.simPin } : {}) }
        : undefined;
    let settings: ReturnType<typeof loadSettings>;
    try {
      settings = loadSettings(
        {
          data: opts.data,
          card: opts.card,
          server: opts.server,
          ca: opts.ca,
          policy: opts.policy,
          categories: opts.categories,
          sim,
          assumeYes: opts.yes === true ? true : undefined,
          quiet: program.opts().quiet === true ? true : undefined,
        },
        opts.config,
      );
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      console.error(`simsync terminal: ${e.message}`);
      process.exitCode = 2;
      return;
    }
    const io = new LineIO(process.stdin, process.stdout);
    if (command.length > 0) {
      // An agent running on this data directory takes the command over its control socket.
      const viaAgent = await runThroughAgent(socketPath(settings.data), joinWords(command), io);
      if (viaAgent !== undefined) {
        io.close();
        process.exitCode = viaAgent;
        return;
      }
    }
    let agent: TerminalAgent;
    try {
      agent = await TerminalAgent.open(settings, io);
    } catch (e) {
      // No NV store (held by another agent), no reader: one line, and the agent did not start.
      io.close();
      console.error(`simsync terminal: ${failureLine(e, 'start').replace(/^[!•] /, '')}`);
      process.exitCode = EXIT.failed;
      return;
    }
    const loop = new AgentLoop(agent, io, settings.data);
    try {
      process.exitCode = command.length > 0 ? await loop.once(joinWords(command)) : await loop.serve();
    } finally {
      io.close();
    }
    // Nothing of the agent is left to wait for; a socket still closing must not keep the process.
    setTimeout(() => process.exit(), 2000).unref();
  });

const sim = program.command('sim').description('a virtual SIM for PC/SC (vsmartcard-vpcd)');
sim
  .command('serve')
  .description('connect a virtual SIM to vpcd, so pcscd shows a card in "Virtual PCD 00 00" until stopped')
  .option('--iccid <iccid>', 'ICCID (with its Luhn check digit)')
  .option('--imsi <imsi>', 'IMSI')
  .option('--pin <pin>', 'PIN1 (default 1234)')
  .option('--puk <puk>', 'PUK (default 12345678)')
  .option('--profile <file>', 'JSON file with the card profile (phonebook, adnRecords, …); flags override it')
  .option('--host <address>', 'vpcd host', '127.0.0.1')
  .option('--port <port>', 'vpcd port (35963 = reader 00 00, 35964 = 00 01)', port)
  .option('--no-terminal-id-file', 'behave like an operator SIM: keep the terminal-ID list in EF_ADN')
  .option('--t0', 'answer case-4 commands with 61xx and need GET RESPONSE (T=0 cards)')
  .option('--strict-le', 'answer a wrong Le with 6Cxx')
  .option('--classes <which>', 'both | usim-only | sim-only', 'both')
  .option('--pin1-disabled', 'a card with PIN1 disabled (needs no PIN)')
  .option('--adf-fcp-without-fid', 'ADF_USIM answers SELECT like a sysmoISIM-SJA2: 84, no 83')
  .action(async (opts, command: Command) => {
    const { simServe, SimServeUsageError } = await import('./sim-serve.js');
    await simServeOrUsage(command, SimServeUsageError, () =>
      simServe(
        {
          ...(opts.iccid ? { iccid: opts.iccid } : {}),
          ...(opts.imsi ? { imsi: opts.imsi } : {}),
          ...(opts.pin ? { pin: opts.pin } : {}),
          ...(opts.puk ? { puk: opts.puk } : {}),
          ...(opts.profile ? { profileFile: opts.profile } : {}),
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          host: opts.host,
          terminalIdFile: opts.terminalIdFile,
          t0GetResponse: opts.t0 === true,
          strictLe: opts.strictLe === true,
          classes: opts.classes,
          ...(opts.pin1Disabled ? { pin1Enabled: false } : {}),
          ...(opts.adfFcpWithoutFid ? { adfFcpWithoutFileId: true } : {}),
        },
        pino({ name: 'simsync-sim' }),
      ),
    );
  });

/** A usage mistake in `sim serve` (no ICCID, a bad IMSI) is a usage error: the message, the help, exit 2. */
async function simServeOrUsage(
  command: Command,
  usage: new (...args: never[]) => Error,
  run: () => Promise<void>,
): Promise<void> {
  try {
    await run();
  } catch (e) {
    if (!(e instanceof usage)) throw e;
    command.error(`error: ${e.message}`, { exitCode: EXIT_CODES.usage });
  }
}

const modem = program.command('modem').description('cellular modem tools');
modem
  .command('simulate')
  .description(
    'a simulated Quectel or SIMCom modem with a virtual SIM on a pseudo-terminal (try the Pi set-up on a PC)',
  )
  .option('--dialect <name>', 'quectel | simcom', 'quectel')
  .option('--link <path>', 'path of the tty to create for the terminal')
  .option('--iccid <iccid>', 'ICCID of the simulated SIM', '8988211000000430010')
  .option('--imsi <imsi>', 'IMSI of the simulated SIM', '001010000000102')
  .option('--pin <pin>', 'PIN1 of the simulated SIM', '1234')
  .option('--pin1-disabled', 'a SIM with PIN1 disabled (needs no PIN)')
  .option('--adf-fcp-without-fid', 'ADF_USIM answers SELECT like a sysmoISIM-SJA2: 84, no 83')
  .option('--classes <which>', 'both | usim-only | sim-only', 'both')
  .option('--sim-busy-ms <ms>', 'SIM busy (+CME ERROR: 14) after insertion and boot', Number)
  .action(async (opts) => {
    if (opts.dialect !== 'quectel' && opts.dialect !== 'simcom')
      throw new InvalidArgumentError('--dialect is quectel or simcom');
    if (!['both', 'usim-only', 'sim-only'].includes(opts.classes))
      throw new InvalidArgumentError('--classes is both, usim-only or sim-only');
    const { modemSimulate } = await import('./modem-simulate.js');
    await modemSimulate(
      {
        dialect: opts.dialect,
        iccid: opts.iccid,
        imsi: opts.imsi,
        pin: opts.pin,
        ...(opts.link ? { link: opts.link } : {}),
        ...(opts.pin1Disabled ? { pin1Enabled: false } : {}),
        classes: opts.classes,
        ...(opts.adfFcpWithoutFid ? { adfFcpWithoutFileId: true } : {}),
        ...(opts.simBusyMs !== undefined ? { simBusyMs: opts.simBusyMs } : {}),
      },
      (line) => console.log(line),
    );
  });

/** Operator commands work on the server's store directly (SQLite WAL allows a running server alongside). */
async function withAdmin(
  dataDir: string,
  fn: (admin: Awaited<ReturnType<typeof startSyncServer>>['admin'], store: SyncStore) => Promise<void>,
) {
  const store = await openServerStore(dataDir, process.env.SIMSYNC_POSTGRES);
  const server = await startSyncServer({ store, port: null, revocationPollMs: 60_000 });
  try {
    await fn(server.admin, store);
  } catch (e) {
    if (e instanceof AdminError || e instanceof OperatorInputError) {
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

type Admin = Awaited<ReturnType<typeof startSyncServer>>['admin'];
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

await program.parseAsync(process.argv);
