/**
 * A per-connection budget of refused work (issue 13, decode bombs). Decoding
 * is bounded per message (core/protocol/cbor-limits.ts), but a connection
 * could still send one bounded bomb after another and keep the event loop
 * busy with them. Each payload the server refuses as malformed or too large
 * is charged to the terminal that sent it (its channel and ID: reconnecting
 * starts no fresh budget); once a terminal has been refused more than its
 * burst, its next request is not read until the allowance has come back (a
 * token bucket, as in nginx `limit_req` with `burst`). While it waits, Aedes
 * holds its packets (the `published` hook has not called back), so the
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

/** Whose budget a session spends: its terminal on its channel, as the request router queues them. */
export function budgetKey(session: { channel: string; terminalId: string }): string {
  return `${session.channel}:${session.terminalId}`;
}

interface Spent {
  /** Allowance left at `at`, bytes; negative once overspent. */
  level: number;
  at: number;
}

export class RequestBudget {
  /** Only terminals refused lately: one back at its full burst is forgotten. */
  private readonly spent = new Map<string, Spent>();
  /** Each terminal's last request: the next one starts after it. */
  private readonly tails = new Map<string, Promise<void>>();

  constructor(
    readonly settings: RequestBudgetSettings,
    /** Monotonic milliseconds. */
    private readonly clock: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms).unref()),
  ) {}

  /** Charges a refused payload of `bytes` to `key`. */
  charge(key: string, bytes: number): void {
    const now = this.clock();
    this.spent.set(key, {
      level: this.levelOf(key, now) - Math.max(bytes, this.settings.minChargeBytes),
      at: now,
    });
  }

  /** How long `key`'s next request waits before it is read, ms: 0 within its budget. */
  waitMs(key: string): number {
    const level = this.levelOf(key, this.clock());
    return level >= 0 ? 0 : (-level / this.settings.refillBytesPerSecond) * 1000;
  }

  /**
   * Serves `key`'s requests one at a time, in order: `serve` runs once the
   * previous one has settled and the wait (waitMs) is over, after a turn of
   * the event loop when the payload is large. Resolves when `serve` has
   * settled; never rejects.
   */
  run(key: string, bytes: number, serve: () => Promise<void>): Promise<void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const turn = previous
      .then(async () => {
        const wait = this.waitMs(key);
        if (wait > 0) await this.sleep(wait);
        else if (bytes >= this.settings.yieldAboveBytes)
          await new Promise((resolve) => setImmediate(resolve));
        await serve();
      })
      .catch(() => undefined);
    this.tails.set(key, turn);
    void turn.then(() => {
      if (this.tails.get(key) === turn) this.tails.delete(key);
    });
    return turn;
  }

  private levelOf(key: string, now: number): number {
    const spent = this.spent.get(key);
    if (!spent) return this.settings.burstBytes;
    const level = spent.level + ((now - spent.at) / 1000) * this.settings.refillBytesPerSecond;
    if (level < this.settings.burstBytes) return level;
    this.spent.delete(key);
    return this.settings.burstBytes;
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
