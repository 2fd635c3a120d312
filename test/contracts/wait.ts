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
 * Polls `condition` until it holds, calling `step` between polls (a virtual
 * clock passes its advance there; real hardware passes nothing and waits).
 * Rejects after `timeoutMs` of real time.
 */
export async function waitFor(
  condition: () => boolean,
  options: { step?: () => Promise<void>; timeoutMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'condition'}`);
    if (options.step) await options.step();
    await delay(1);
  }
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
