/**
 * A per-connection budget of refused work (issue 13, decode bombs). Decoding
 * is bounded per message (core/protocol/cbor-limits.ts), but a connection
 * could still send one bounded bomb after another and keep the event loop
 * busy with them. Each payload the server refuses as malformed or too large
 * is charged to its connection; once a connection has been refused more than
 * its burst, its next request is not read until the allowance has come back
 * (a token bucket, as in nginx `limit_req` with `burst`). While it waits,
 * Aedes holds its packets (the `published` hook has not called back), so the
 * socket's own flow control stops it. Terminals that send valid requests are
 * never charged.
 */
export interface RequestBudgetSettings {
  /** Bytes of refused payloads a connection may send before it is held back. */
  burstBytes: number;
  /** How fast that allowance comes back, bytes per second. */
  refillBytesPerSecond: number;
  /** The least a refusal costs, however small the payload (each one writes an audit line). */
  minChargeBytes: number;
  /** Payloads at least this large are decoded after a turn of the event loop, so other connections' packets get in first. */
  yieldAboveBytes: number;
}

/** Defaults scaled to the server's message limit: 4 messages at once, then one every 4 s. */
export function budgetSettings(maxMessageBytes: number): RequestBudgetSettings {
  return {
    burstBytes: 4 * maxMessageBytes,
    refillBytesPerSecond: maxMessageBytes / 4,
    minChargeBytes: 1024,
    yieldAboveBytes: 64 * 1024,
  };
}

interface Bucket {
  /** Allowance left at `at`, bytes; negative once overspent. */
  level: number;
  at: number;
  /** The connection's last request: the next one starts after it. */
  tail: Promise<void>;
}

export class RequestBudget {
  private readonly buckets = new WeakMap<object, Bucket>();

  constructor(
    readonly settings: RequestBudgetSettings,
    /** Monotonic milliseconds. */
    private readonly clock: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms).unref()),
  ) {}

  /** Charges a refused payload of `bytes` to `connection`. */
  charge(connection: object, bytes: number): void {
    const bucket = this.bucket(connection);
    bucket.level = this.levelOf(bucket) - Math.max(bytes, this.settings.minChargeBytes);
    bucket.at = this.clock();
  }

  /** How long `connection`'s next request waits before it is read, ms: 0 within its budget. */
  waitMs(connection: object): number {
    const bucket = this.buckets.get(connection);
    const level = bucket ? this.levelOf(bucket) : this.settings.burstBytes;
    return level >= 0 ? 0 : (-level / this.settings.refillBytesPerSecond) * 1000;
  }

  /**
   * Serves `connection`'s requests one at a time, in order: `serve` runs once
   * the previous one has settled and the connection's wait (waitMs) is over,
   * after a turn of the event loop when the payload is large. Resolves when
   * `serve` has; never rejects.
   */
  run(connection: object, bytes: number, serve: () => Promise<void>): Promise<void> {
    const bucket = this.bucket(connection);
    const turn = bucket.tail.then(async () => {
      const wait = this.waitMs(connection);
      if (wait > 0) await this.sleep(wait);
      else if (bytes >= this.settings.yieldAboveBytes) await new Promise((resolve) => setImmediate(resolve));
      await serve();
    });
    bucket.tail = turn.catch(() => undefined);
    return bucket.tail;
  }

  private bucket(connection: object): Bucket {
    let bucket = this.buckets.get(connection);
    if (!bucket) {
      bucket = { level: this.settings.burstBytes, at: this.clock(), tail: Promise.resolve() };
      this.buckets.set(connection, bucket);
    }
    return bucket;
  }

  private levelOf(bucket: Bucket): number {
    const refilled = ((this.clock() - bucket.at) / 1000) * this.settings.refillBytesPerSecond;
    return Math.min(this.settings.burstBytes, bucket.level + refilled);
  }
}

const budgets = new WeakMap<object, RequestBudget>();

/**
 * The budget of one server, found through an object only that server holds
 * (its Sessions), so that the request router, which charges refusals, and
 * the `published` hook, which waits, share it without a field of either.
 */
export function budgetOf(server: object, maxMessageBytes: number): RequestBudget {
  let budget = budgets.get(server);
  if (!budget) {
    budget = new RequestBudget(budgetSettings(maxMessageBytes));
    budgets.set(server, budget);
  }
  return budget;
}
