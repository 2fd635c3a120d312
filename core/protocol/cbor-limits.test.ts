import { decode, encode } from 'cborg';
import { describe, expect, it } from 'vitest';
import { BoundedTokenizer, CborLimitError, type CborLimits, type TopLevelWatcher } from './cbor-limits.js';

const LOOSE: CborLimits = {
  maxBytes: 8 * 1024 * 1024,
  maxItems: 10_000_000,
  maxContainers: 10_000_000,
  maxDepth: 64,
  maxLength: 10_000_000,
};

/** Bytes from hex, spaces ignored; a `[hex, n]` part is that hex n times. */
function hex(...parts: (string | readonly [string, number])[]): Uint8Array {
  const units = parts.map((p) => (typeof p === 'string' ? ([p, 1] as const) : p));
  const decoded = units.map(([h, n]) => {
    const clean = h.replace(/ /g, '');
    return [Uint8Array.from(clean.match(/../g) ?? [], (b) => Number.parseInt(b, 16)), n] as const;
  });
  const out = new Uint8Array(decoded.reduce((sum, [b, n]) => sum + b.length * n, 0));
  let at = 0;
  for (const [b, n] of decoded) {
    for (let i = 0; i < n; i++, at += b.length) out.set(b, at);
  }
  return out;
}

interface Outcome {
  value?: unknown;
  error?: Error;
  tokenizer: BoundedTokenizer;
}

function run(
  bytes: Uint8Array,
  limits: Partial<CborLimits>,
  options: Record<string, unknown> = {},
  watch?: TopLevelWatcher,
): Outcome {
  const opts = { strict: true, allowIndefinite: false, ...options };
  const tokenizer = new BoundedTokenizer(bytes, opts, { ...LOOSE, ...limits }, watch);
  try {
    return { value: decode(bytes, { ...opts, tokenizer }), tokenizer };
  } catch (e) {
    return { error: e as Error, tokenizer };
  }
}

function refusal(outcome: Outcome): CborLimitError {
  if (outcome.error instanceof CborLimitError) return outcome.error;
  throw new Error(`expected a CborLimitError, got ${outcome.error ?? JSON.stringify(outcome.value)}`);
}

describe('bounded CBOR tokenizer (issue 13: decode bombs)', () => {
  it('decodes what is within its limits exactly as cborg does, counting every head', () => {
    // {"a": [1, -2, h'00ff', {"b": null}], "c": "é"}
    const bytes = hex('a2 6161 84 01 21 4200ff a1 6162 f6 6163 62c3a9');
    const { value, tokenizer } = run(bytes, {});
    expect(value).toEqual({ a: [1, -2, hex('00ff'), { b: null }], c: 'é' });
    expect(value).toEqual(decode(bytes));
    expect(tokenizer.items).toBe(11);
    expect(tokenizer.containers).toBe(3);
  });

  it('accepts an item count exactly at the limit and refuses one more', () => {
    const four = hex('83010203'); // [1, 2, 3]: 4 items
    expect(run(four, { maxItems: 4 }).value).toEqual([1, 2, 3]);
    const over = refusal(run(four, { maxItems: 3 }));
    expect(over.limit).toBe('items');
  });

  it('RFC 8949 §3.1: refuses 10,000 nested one-element arrays at the depth limit, reading no further', () => {
    const bytes = hex(['81', 10_000], '00');
    const outcome = run(bytes, { maxDepth: 8 });
    expect(refusal(outcome).limit).toBe('depth');
    expect(outcome.tokenizer.items).toBe(9);
  });

  it('refuses 4 MiB of nested one-entry maps ({"": {"": …}}) at the depth limit', () => {
    const bytes = hex(['a160', 2 * 1024 * 1024]);
    const outcome = run(bytes, { maxDepth: 6 });
    expect(refusal(outcome).limit).toBe('depth');
    expect(outcome.tokenizer.items).toBeLessThanOrEqual(2 * 7);
  });

  it('refuses an array header declaring 10^6 empty arrays at that header when the length limit is lower', () => {
    // 9a 000f4240: array of 1,000,000; then 10^6 × 80 (empty array).
    const bytes = hex('9a000f4240', ['80', 1_000_000]);
    const outcome = run(bytes, { maxLength: 100_000 });
    const error = refusal(outcome);
    expect(error.limit).toBe('length');
    expect(error.message).toBe('an array of 1000000 exceeds 100000');
    expect(outcome.tokenizer.items).toBe(1);
  });

  it('refuses 10^6 empty arrays split under the length limit once the container count is reached', () => {
    // 8a: 10 arrays of 100,000 (9a 000186a0) empty arrays each.
    const bytes = hex(
      '8a',
      ...Array.from({ length: 10 }, () => ['9a000186a0', ['80', 100_000]] as const).flat(),
    );
    const outcome = run(bytes, { maxLength: 100_000, maxContainers: 250_000 });
    expect(refusal(outcome).limit).toBe('containers');
    expect(outcome.tokenizer.containers).toBe(250_001);
    expect(outcome.tokenizer.items).toBe(250_001);
  });

  it('refuses an array header claiming 2^32 entries with nothing behind it (truncated), before any entry', () => {
    // 9b 0000000100000000: array of 2^32 (64-bit length).
    const outcome = run(hex('9b0000000100000000'), { maxLength: Number.MAX_SAFE_INTEGER });
    const error = refusal(outcome);
    expect(error.limit).toBe('truncated');
    expect(error.message).toBe('an array declares 4294967296 entries but 0 bytes remain');
    // 9a ffffffff: 2^32 − 1 with 1,000 bytes behind it.
    expect(refusal(run(hex('9affffffff', ['00', 1000]), { maxLength: 2 ** 32 })).limit).toBe('truncated');
    // Under a length limit, the same head fails on that limit first.
    expect(refusal(run(hex('9affffffff', ['00', 1000]), { maxLength: 100_000 })).limit).toBe('length');
  });

  it('counts a map of n pairs as 2n items against the bytes left', () => {
    // a3 "a" 01: claims 3 pairs (6 items), 3 bytes follow.
    const error = refusal(run(hex('a3616101'), {}));
    expect(error.limit).toBe('truncated');
    expect(error.message).toBe('a map declares 3 entries but 3 bytes remain');
    expect(refusal(run(hex('a3616101'), { maxLength: 2 })).limit).toBe('length');
  });

  it('counts what every open container still expects: [[5 items], x] needs 6 bytes after the inner head', () => {
    expect(run(hex('82 85 0000000000 00'), {}).value).toEqual([[0, 0, 0, 0, 0], 0]);
    const outcome = run(hex('82 85 0000000000'), {});
    expect(refusal(outcome).limit).toBe('truncated');
    expect(outcome.tokenizer.items).toBe(2);
  });

  it('RFC 8949 §3.2.2: bounds indefinite-length arrays by items and depth too', () => {
    const indefinite = { allowIndefinite: true };
    // 9f 00 … ff: an indefinite array of 10^6 zeros.
    const flat = run(hex('9f', ['00', 1_000_000], 'ff'), { maxItems: 1000 }, indefinite);
    expect(refusal(flat).limit).toBe('items');
    expect(flat.tokenizer.items).toBe(1001);
    const deep = run(hex(['9f', 10_000], ['ff', 10_000]), { maxDepth: 8 }, indefinite);
    expect(refusal(deep).limit).toBe('depth');
    // Within limits, a break closes its container: [_ 1, [_ 2]] then 3 as the outer's last.
    expect(run(hex('9f019f02ff03ff'), { maxDepth: 2 }, indefinite).value).toEqual([1, [2], 3]);
    // Refused by cborg itself where indefinite lengths are off.
    const off = run(hex('9f01ff'), {});
    expect(off.error).toBeDefined();
    expect(off.error).not.toBeInstanceOf(CborLimitError);
  });

  it('RFC 8949 §3.4: a tag holds one item and counts towards depth', () => {
    const tags: unknown[] = [];
    tags[1] = (inner: () => unknown) => inner();
    // c1 c1 … 00: tag 1 around tag 1 around … 0.
    const outcome = run(hex(['c1', 1000], '00'), { maxDepth: 4 }, { tags });
    expect(refusal(outcome).limit).toBe('depth');
    expect(run(hex('c1c100'), { maxDepth: 4 }, { tags }).value).toBe(0);
  });

  it('refuses an encoding over the byte limit before reading it', () => {
    expect(() => new BoundedTokenizer(new Uint8Array(5), {}, { ...LOOSE, maxBytes: 4 })).toThrow(
      CborLimitError,
    );
  });

  it('switches to the limits its watcher returns for a top-level entry, checking what was already read', () => {
    const small: CborLimits = { maxBytes: 64, maxItems: 5, maxContainers: 1, maxDepth: 1, maxLength: 2 };
    const watch: TopLevelWatcher = (key, value) => (key === 'type' && value === 'small' ? small : undefined);
    const seen: [string, unknown][] = [];
    const spy: TopLevelWatcher = (key, value) => {
      seen.push([key, value]);
      return watch(key, value);
    };
    // {"req": 7, "type": "small"}: 5 items, within.
    expect(run(encode({ req: 7, type: 'small' }), {}, {}, spy).value).toEqual({ req: 7, type: 'small' });
    expect(seen).toEqual([
      ['req', 7],
      ['type', 'small'],
    ]);
    // {"type": "small", "x": [1, 2]}: the array is past what small allows.
    const early = hex('a2 6474797065 65736d616c6c 6178 82 01 02');
    expect(refusal(run(early, {}, {}, watch)).limit).toBe('depth');
    // {"x": [1, 2, 3], "type": "small"} read under the loose limits, then refused at "small".
    const late = hex('a2 6178 83 01 02 03 6474797065 65736d616c6c');
    expect(refusal(run(late, {}, {}, watch)).limit).toBe('items');
    // Entries of nested maps are not top-level: {"m": {"type": "small"}, "y": [1, 2, 3]}.
    const nested = encode({ m: { type: 'small' }, y: [1, 2, 3] });
    expect(run(nested, {}, {}, watch).value).toEqual({ m: { type: 'small' }, y: [1, 2, 3] });
  });
});
