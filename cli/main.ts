import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { CATEGORIES, type Category, isCategory } from '../core/protocol/categories.js';
import { EXIT_CODES, guardProcess, setVerbose } from './process-guard.js';

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
    const { runDemo } = await import('./demo.js');
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
  .option(...akaKeyFileOptionForServer())
  .option('--config <file>', "settings file (JSON, the flags' names; default <data>/server.json); flags win")
  .action(async (flags, command: Command) => {
    const { runServer } = await import('./server-command.js');
    await runServer(flags, command);
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
  .action(async (opts) => (await adminCommands()).registerShop(opts));

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
  .option('--ki <hex>', "a programmable SIM's AKA key K (needs --aka-key-file; see aka-set)")
  .option('--opc <hex>', 'its OPc, with --ki')
  .option('--op <hex>', 'or its OP, with --ki')
  .option(...akaKeyFileOptionForServer())
  .option('--json', 'one JSON line instead of the table (scripts)')
  .action(async (opts) => (await adminCommands()).addSubscriber(opts));

admin
  .command('issue-code')
  .description("a one-time registration code for a subscriber's next terminal")
  .option(...dataOption)
  .requiredOption('--subscriber <imsi>', 'subscriber ID (IMSI)')
  .option('--terminal <id>', 'only for this terminal (the operator vouches for its ID)')
  .option('--json', 'one JSON line instead of the table (scripts)')
  .action(async (opts) => (await adminCommands()).issueCode(opts));

admin
  .command('revoke')
  .description('refuse a lost or stolen terminal from now on')
  .option(...dataOption)
  .requiredOption('--terminal <id>', 'terminal ID')
  .option('--json', 'one JSON line instead of the text (scripts)')
  .action(async (opts) => (await adminCommands()).revoke(opts));

admin
  .command('subscribers')
  .description('list subscribers')
  .option(...dataOption)
  .option('--json', 'JSON lines instead of the table (scripts)')
  .action(async (opts) => (await adminCommands()).listSubscribers(opts));

admin
  .command('terminals')
  .description("list terminals, all or a subscriber's")
  .option(...dataOption)
  .option('--subscriber <imsi>', "only this subscriber's")
  .option('--json', 'JSON lines instead of the table (scripts)')
  .action(async (opts) => (await adminCommands()).listTerminals(opts));

const akaKeyFileOption = [
  '--aka-key-file <file>',
  "server keys that seal the SIMs' AKA keys (JSON; see admin aka-keygen)",
  process.env.SIMSYNC_AKA_KEY_FILE,
] as const;

admin
  .command('aka-keygen')
  .description('add a new server key to the AKA key file (created, mode 600) and make it current')
  .requiredOption(...akaKeyFileOption)
  .option('--id <id>', 'name of the new key (default: today, e.g. 2026-12-02)')
  .action(async (opts) => (await adminCommands()).akaKeygen(opts));

admin
  .command('aka-set')
  .description("a programmable SIM's K and OPc (or OP): from then on its card proves itself at every sync")
  .option(...dataOption)
  .requiredOption(...akaKeyFileOption)
  .requiredOption('--subscriber <imsi>', 'subscriber ID (IMSI)')
  .option('--ki <hex>', 'K, 32 hex digits (or set SIMSYNC_AKA_KI)')
  .option('--opc <hex>', 'OPc, 32 hex digits (or set SIMSYNC_AKA_OPC)')
  .option('--op <hex>', 'OP instead of OPc, 32 hex digits (or set SIMSYNC_AKA_OP)')
  .option('--sqn <n>', "the card's last SQN, when known", count)
  .option('--json', 'one JSON line instead of the text (scripts)')
  .action(async (opts) => (await adminCommands()).akaSet(opts));

admin
  .command('aka-remove')
  .description("forget a subscriber's AKA key: its card is no longer asked to prove itself")
  .option(...dataOption)
  .requiredOption('--subscriber <imsi>', 'subscriber ID (IMSI)')
  .option('--json', 'one JSON line instead of the text (scripts)')
  .action(async (opts) => (await adminCommands()).akaRemove(opts));

admin
  .command('aka-rotate')
  .description("re-seal every AKA key under the key file's current server key")
  .option(...dataOption)
  .requiredOption(...akaKeyFileOption)
  .option('--json', 'one JSON line instead of the text (scripts)')
  .action(async (opts) => (await adminCommands()).akaRotate(opts));

admin
  .command('history')
  .description("a subscriber's sync history (audit log)")
  .option(...dataOption)
  .requiredOption('--subscriber <imsi>', 'subscriber ID (IMSI)')
  .option('--limit <n>', 'at most this many entries', count, 100)
  .option('--json', 'JSON lines instead of the table (scripts)')
  .action(async (opts) => (await adminCommands()).history(opts));

program
  .command('terminal')
  .description(
    'the terminal agent: registers on first run, follows the SIM and syncs; or runs one command and exits',
  )
  .argument(
    '[command...]',
    'sync | status | categories | ls | get | put | rm | erase | restore | conflicts | resolve | import-vcard | export-vcard | import-ical | export-ical | register | passwd | unblock (help at the prompt says more)',
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
  .option('--sim-ki <hex>', 'AKA key K of the virtual SIM, 32 hex digits (--card sim)')
  .option('--sim-opc <hex>', 'OPc of the virtual SIM, 32 hex digits (--card sim, with --sim-ki)')
  .option('-y, --yes', 'do not ask before erasing (erase, erase factory): for scripts')
  .option(
    '--sealed',
    'keep the data sealed at rest: it opens only with this SIM, its PIN and the terminal password',
  )
  // A command's own flags (resolve N --keep mine) pass through to it.
  .allowUnknownOption()
  .action(async (command: string[], opts, self: Command) => {
    const { runTerminal } = await import('./terminal-command.js');
    await runTerminal(command, opts, self, program.opts().quiet === true);
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
  .option('--ki <hex>', 'Milenage key K (32 hex digits; with --opc or --op): the card answers AUTHENTICATE')
  .option('--opc <hex>', 'Milenage OPc (32 hex digits)')
  .option('--op <hex>', 'Milenage OP (32 hex digits; OPc is derived from it)')
  .action(async (opts, command: Command) => {
    const { simServe, SimServeUsageError } = await import('./sim-serve.js');
    const { pino } = await import('pino');
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
          ...(opts.ki ? { ki: opts.ki } : {}),
          ...(opts.opc ? { opc: opts.opc } : {}),
          ...(opts.op ? { op: opts.op } : {}),
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
  .option(
    '--ki <hex>',
    'Milenage key K of the SIM (32 hex digits; with --opc or --op): it answers AUTHENTICATE',
  )
  .option('--opc <hex>', 'Milenage OPc (32 hex digits)')
  .option('--op <hex>', 'Milenage OP (32 hex digits; OPc is derived from it)')
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
        ...(opts.ki ? { ki: opts.ki } : {}),
        ...(opts.opc ? { opc: opts.opc } : {}),
        ...(opts.op ? { op: opts.op } : {}),
      },
      (line) => console.log(line),
    );
  });

/** The operator's commands, loaded when one of them runs. */
function akaKeyFileOptionForServer() {
  return [
    '--aka-key-file <file>',
    "server keys sealing the SIMs' AKA keys (needed once any subscriber has one)",
    process.env.SIMSYNC_AKA_KEY_FILE,
  ] as const;
}

function adminCommands() {
  return import('./admin-commands.js');
}

await program.parseAsync(process.argv);
