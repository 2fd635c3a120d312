import { afterEach, beforeEach, vi } from 'vitest';

/**
 * Helpers for contract suites, which run against simulated and real
 * hardware alike. Every wait has a real-time bound so a broken
 * implementation fails the test instead of hanging it.
 */

/**
 * A fresh implementation for every test of a suite: `make` runs before each
 * test and hands it to `use`; its `cleanup` runs after the test.
 */
export function eachFresh<T extends { cleanup?: () => Promise<void> | void }>(
  make: () => Promise<T>,
  use: (made: T) => void,
): void {
  let made: T | undefined;
  beforeEach(async () => {
    made = await make();
    use(made);
  });
  afterEach(async () => {
    await made?.cleanup?.();
  });
}

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

/** The rejection of `promise`; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
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
