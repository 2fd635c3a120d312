import { vi } from 'vitest';

/**
 * Waiting helpers for contract suites, which run against simulated and real
 * hardware alike. Every wait has a real-time bound so a broken
 * implementation fails the test instead of hanging it.
 */

/** Resolves after `ms` of real time. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => globalThis.setTimeout(resolve, ms));
}

/**
 * Waits until `condition` holds, calling `step` between tries (a virtual
 * clock passes its advance there; real hardware passes nothing and waits).
 * Rejects after `timeoutMs` of real time (vitest's `vi.waitFor`).
 */
export async function waitFor(
  condition: () => boolean,
  options: { step?: () => Promise<void>; timeoutMs?: number; what?: string } = {},
): Promise<void> {
  await vi.waitFor(
    async () => {
      if (condition()) return;
      await options.step?.();
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}`);
    },
    { timeout: options.timeoutMs ?? 5000, interval: 1 },
  );
}

/** Concatenates chunks (streams may split or merge writes). */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
