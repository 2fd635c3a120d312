/**
 * The flags of `npm run bench -- <name> …` as the options of the bench's
 * `run()` (bench/main.ts): `--quick` starts from the bench's `quick`
 * options, every other `--some-name value` sets `someName` over them (a
 * value that reads as a number is one, numbers with commas between them
 * a list, `--terminals 1,10,100`; a flag with no value is true).
 * Undefined when no flag is given: run() then uses its full-size defaults.
 */
export function benchOptions(flags: readonly string[], quick: unknown): Record<string, unknown> | undefined {
  const options: Record<string, unknown> = {};
  let isQuick = false;
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i] as string;
    if (!flag.startsWith('--')) throw new Error(`unexpected argument ${flag}`);
    if (flag === '--quick') {
      isQuick = true;
      continue;
    }
    const key = flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const next = flags[i + 1];
    if (next === undefined || next.startsWith('--')) {
      options[key] = true;
      continue;
    }
    i++;
    options[key] =
      next.includes(',') && next.split(',').every(isNumber)
        ? next.split(',').map(Number)
        : isNumber(next)
          ? Number(next)
          : next;
  }
  if (isQuick) return { ...(quick as Record<string, unknown>), ...options };
  return Object.keys(options).length > 0 ? options : undefined;
}

function isNumber(text: string): boolean {
  return text.trim() !== '' && Number.isFinite(Number(text));
}
