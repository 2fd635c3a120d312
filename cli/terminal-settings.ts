import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CATEGORIES, isPolicyName, POLICIES, type TriggerSettings } from '../core/index.js';

const Ms = z.number().int().min(0);
const Limits = z.strictObject({
  upBytes: z.number().int().min(1).optional(),
  downBytes: z.number().int().min(1).optional(),
  totalBytes: z.number().int().min(1).optional(),
  upMs: Ms.optional(),
  downMs: Ms.optional(),
  totalMs: Ms.optional(),
});

/**
 * core's TriggerSettings, as a config file spells them. `null` switches off
 * a trigger the agent has on by default (DEFAULT_TRIGGERS).
 */
const Triggers = z.strictObject({
  onMount: z.enum(['sync', 'check', 'none']).optional(),
  onDemount: z.boolean().optional(),
  periodicMs: Ms.optional(),
  afterEditMs: z.number().int().min(1).nullable().optional(),
  afterEditMaxMs: Ms.optional(),
  dirtyThreshold: z.number().int().min(1).optional(),
  askPermission: z.boolean().optional(),
  onAccess: z.strictObject({ minIntervalMs: Ms.optional() }).optional(),
  batteryLow: z
    .strictObject({
      percent: z.number().min(1).max(100),
      notify: z.enum(['before', 'after', 'both', 'ask', 'none']).optional(),
      download: z.boolean().optional(),
    })
    .optional(),
  idle: z
    .strictObject({
      checkEveryMs: z.number().int().min(1000),
      inputIdleMs: Ms.optional(),
      needNoForegroundWork: z.boolean().optional(),
      needLidClosed: z.boolean().optional(),
      limits: Limits.optional(),
      waitForNotice: z.boolean().optional(),
    })
    .optional(),
  remindUnsyncedMs: Ms.optional(),
  retry: z
    .strictObject({ firstMs: z.number().int().min(100), maxMs: z.number().int().min(100).optional() })
    .nullable()
    .optional(),
});

/**
 * What the agent syncs on when the config says nothing ([0042]): at mount
 * and before demount (core's own defaults), 5 s after a burst of edits ends
 * (a minute at most into a long one), and, while the server is out of reach,
 * again after 5 s, 10 s, … up to 5 minutes, until a sync gets through.
 */
export const DEFAULT_TRIGGERS = {
  afterEditMs: 5_000,
  afterEditMaxMs: 60_000,
  retry: { firstMs: 5_000, maxMs: 300_000 },
} as const satisfies TriggerSettings;

/** The config's triggers over the defaults; a trigger set to `null` is off. */
export function triggersOf(configured: TerminalSettings['triggers']): TriggerSettings {
  const merged: Record<string, unknown> = { ...DEFAULT_TRIGGERS, ...configured };
  for (const [key, value] of Object.entries(merged)) if (value === null) delete merged[key];
  if (merged.afterEditMs === undefined) delete merged.afterEditMaxMs;
  return merged as TriggerSettings;
}

/**
 * The terminal agent's settings: flags over a config file over defaults
 * (DESIGN.md: cli/ is the only place that reads flags, env and config files).
 * Validated where they enter.
 */
export const TerminalSettings = z.strictObject({
  /** Where the terminal keeps its NV store and state. */
  data: z.string().min(1),
  /** `sim` (a virtual SIM in-process), `pcsc[:READER]`, `modem:/dev/ttyX`, or `none` (no reader: no SIM). */
  card: z
    .string()
    .regex(/^(sim|none|pcsc(:.+)?|modem:.+)$/, 'card must be sim, none, pcsc[:READER] or modem:/dev/ttyX'),
  /** mqtt://host:port, mqtts://host:port or ws(s)://host:port/path */
  server: z
    .string()
    .regex(/^(mqtts?|wss?):\/\/[^/\s]+/, 'server must be an mqtt://, mqtts://, ws:// or wss:// URL'),
  /** CA certificate for mqtts/wss. */
  ca: z.string().optional(),
  policy: z
    .string()
    .refine(isPolicyName, `policy must be one of ${Object.keys(POLICIES).join(', ')}`)
    .optional(),
  categories: z.array(z.enum(CATEGORIES)).optional(),
  /**
   * [0023]/[0068]: without a SIM, the data opens only to the terminal
   * password; may it then be edited too? Default read-only.
   */
  withoutSim: z.enum(['read-only', 'editable']).optional(),
  /** When to sync ([0042]–[0044], FIG. 21, 22); see core's TriggerSettings. */
  triggers: Triggers.optional(),
  /** [0094]: items above this size come down as stubs, their substance fetched on access. */
  lazyAboveBytes: z.number().int().min(1024).optional(),
  /**
   * Body bytes per upload batch (core's default 1 MiB); a larger body goes
   * up in parts. On a slow uplink, lower it so that a batch gets up within
   * the request timeout (15 s: 1 MiB needs ~0.6 Mbit/s).
   */
  batchBytes: z
    .number()
    .int()
    .min(1024)
    .max(2 * 1024 * 1024)
    .optional(),
  /**
   * Issue 19: keep the personal data sealed at rest; it opens with the
   * registered SIM in, its PIN and the terminal password (core/auth/data-key.ts).
   */
  sealed: z.boolean().optional(),
  /** `--yes`: commands that ask before they erase (erase, erase factory) do not ask. */
  assumeYes: z.boolean().optional(),
  /** `-q`: only what needs the user (prompts, refusals, failures), no progress or sync lines. */
  quiet: z.boolean().optional(),
  /** The virtual SIM of `--card sim`. */
  sim: z
    .strictObject({
      iccid: z.string().regex(/^[0-9]{18,20}$/),
      imsi: z.string().regex(/^[0-9]{5,15}$/),
      pin: z
        .string()
        .regex(/^[0-9]{4,8}$/)
        .optional(),
      /** TS 33.102 AKA: the card's K and OPc, so it can answer a server that asks for the proof. */
      k: z
        .string()
        .regex(/^[0-9a-fA-F]{32}$/, 'K is 32 hex digits')
        .optional(),
      opc: z
        .string()
        .regex(/^[0-9a-fA-F]{32}$/, 'OPc is 32 hex digits')
        .optional(),
    })
    .refine((sim) => (sim.k === undefined) === (sim.opc === undefined), 'give K and OPc together')
    .optional(),
});
export type TerminalSettings = z.infer<typeof TerminalSettings>;

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

const DEFAULTS = { card: 'sim', server: 'mqtt://127.0.0.1:1883' };

/** Merges the config file (JSON; default `<data>/config.json`) under the flags and validates the result. */
export function loadSettings(flags: Record<string, unknown>, configFile?: string): TerminalSettings {
  const data = String(flags.data ?? process.env.SIMSYNC_TERMINAL_DATA ?? './simsync-terminal');
  const file = configFile ?? path.join(data, 'config.json');
  let fromFile: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new SettingsError(`${file}: not valid JSON (${(e as Error).message})`);
    }
  } else if (configFile !== undefined) {
    throw new SettingsError(`${file}: no such config file`);
  }
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  const merged = { ...DEFAULTS, ...fromFile, ...defined, data };
  const parsed = TerminalSettings.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SettingsError(`${issue.path.join('.') || 'settings'}: ${issue.message}`);
  }
  return parsed.data;
}
