import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * The server's settings file (README "Running the server"): the same names as
 * the flags, so a unit or a cluster recipe can keep URLs and ports in one
 * place; flags given on the command line win, then the environment
 * (SIMSYNC_POSTGRES, SIMSYNC_REDIS), then this file, then the defaults.
 */
const Port = z.number().int().min(0).max(65535);
const Count = z.number().int().min(1);

export const ServerSettingsFile = z.strictObject({
  host: z.string().min(1).optional(),
  port: Port.optional(),
  postgres: z.string().startsWith('postgres').optional(),
  redis: z.string().startsWith('redis').optional(),
  proxyProtocol: z.boolean().optional(),
  tlsKey: z.string().optional(),
  tlsCert: z.string().optional(),
  tlsPort: Port.optional(),
  wsPort: Port.optional(),
  metricsPort: Port.optional(),
  metricsHost: z.string().optional(),
  authFreeFailures: Count.optional(),
  authMaxDelaySeconds: Count.optional(),
  authLockoutAfter: Count.optional(),
  authLockoutMinutes: Count.optional(),
  akaKeyFile: z.string().min(1).optional(),
});
export type ServerSettingsFile = z.infer<typeof ServerSettingsFile>;

export class ServerSettingsError extends Error {
  override readonly name = 'ServerSettingsError';
}

/** Reads `file`, or `<data>/server.json` when it exists; nothing when neither is there. */
export function readServerSettings(dataDir: string, file: string | undefined): ServerSettingsFile {
  const chosen = file ?? path.join(dataDir, 'server.json');
  if (!existsSync(chosen)) {
    if (file !== undefined) throw new ServerSettingsError(`no settings file ${file}`);
    return {};
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(chosen, 'utf8'));
  } catch (e) {
    throw new ServerSettingsError(`${chosen}: not JSON (${(e as Error).message})`);
  }
  const parsed = ServerSettingsFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ServerSettingsError(`${chosen}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data;
}

/**
 * Merges the file under the flags: a value whose source is the command line
 * or the environment stays; one that is only a default gives way to the file.
 */
export function withSettingsFile<T extends Record<string, unknown>>(
  opts: T,
  file: ServerSettingsFile,
  sourceOf: (key: string) => string | undefined,
): T {
  const merged: Record<string, unknown> = { ...opts };
  for (const [key, value] of Object.entries(file)) {
    const source = sourceOf(key);
    if (source === 'cli' || source === 'env') continue;
    merged[key] = value;
  }
  return merged as T;
}
