import { describe, expect, it } from 'vitest';
import { budgetKey, budgetOf, budgetSettings, RequestBudget } from './request-budget.js';

const MIB = 1024 * 1024;

function fakeBudget() {
  let now = 0;
  const slept: number[] = [];
  const budget = new RequestBudget(
    budgetSettings(4 * MIB),
    () => now,
    async (ms) => {
      slept.push(ms);
      now += ms;
    },
  );
  return { budget, slept, advance: (ms: number) => (now += ms) };
}

describe('per-connection budget of refused work (issue 13)', () => {
  it('lets 4 refused 4 MiB messages through at once, then holds the connection 4 s per further one', async () => {
    const { budget, slept } = fakeBudget();
    const connection = 't:bomber';
    const served: number[] = [];
    for (let i = 0; i < 6; i++) {
      await budget.run(connection, 4 * MIB, async () => {
        served.push(i);
        budget.charge(connection, 4 * MIB);
      });
    }
    expect(served).toEqual([0, 1, 2, 3, 4, 5]);
    // The fifth brought the level to −4 MiB: the sixth waited for 4 MiB at 1 MiB/s.
    expect(slept).toEqual([4000]);
    expect(budget.waitMs(connection)).toBe(4000);
  });

  it('charges each terminal alone, and never one that was not refused', async () => {
    const { budget } = fakeBudget();
    const bomber = 't:bomber';
    const other = 't:bystander';
    for (let i = 0; i < 5; i++) budget.charge(bomber, 4 * MIB);
    expect(budget.waitMs(bomber)).toBe(4000);
    expect(budget.waitMs(other)).toBe(0);
  });

  it('refills over time, up to the burst and no further', () => {
    const { budget, advance } = fakeBudget();
    const connection = 't:bomber';
    for (let i = 0; i < 5; i++) budget.charge(connection, 4 * MIB);
    advance(3000);
    expect(budget.waitMs(connection)).toBe(1000);
    advance(60_000);
    expect(budget.waitMs(connection)).toBe(0);
    // A minute idle gives back the burst (16 MiB), not 60 MiB.
    for (let i = 0; i < 5; i++) budget.charge(connection, 4 * MIB);
    expect(budget.waitMs(connection)).toBe(4000);
  });

  it('charges at least 1 KiB per refusal: 16,384 tiny ones spend the burst', () => {
    const { budget } = fakeBudget();
    const connection = 't:bomber';
    for (let i = 0; i < 16_384; i++) budget.charge(connection, 3);
    expect(budget.waitMs(connection)).toBe(0);
    budget.charge(connection, 3);
    expect(budget.waitMs(connection)).toBeGreaterThan(0);
  });

  it('serves one request of a terminal at a time, in order, even when one fails', async () => {
    const { budget } = fakeBudget();
    const connection = 't:bomber';
    const log: string[] = [];
    let release: () => void = () => {};
    const first = budget.run(connection, 10, async () => {
      log.push('first start');
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      log.push('first end');
      throw new Error('handler failed');
    });
    const second = budget.run(connection, 10, async () => {
      log.push('second');
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['first start']);
    release();
    await Promise.all([first, second]);
    expect(log).toEqual(['first start', 'first end', 'second']);
  });

  it("keys a session by its channel and terminal ID, so a terminal's every connection shares one budget", () => {
    expect(budgetKey({ channel: 't', terminalId: 'pc-1' })).toBe('t:pc-1');
    expect(budgetKey({ channel: 'reg', terminalId: 'pc-1' })).toBe('reg:pc-1');
  });

  it('is one budget per server, found through the object it is keyed by', () => {
    const a = {};
    expect(budgetOf(a, 4 * MIB)).toBe(budgetOf(a, 4 * MIB));
    expect(budgetOf({}, 4 * MIB)).not.toBe(budgetOf(a, 4 * MIB));
  });
});
