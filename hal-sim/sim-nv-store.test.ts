import { describe, expect, it } from 'vitest';
import { isHalError, type NvOp } from '../hal/index.js';
import { describeNvStoreContract } from '../test/contracts/nv-store.contract.js';
import { SimNvStore } from './sim-nv-store.js';

describeNvStoreContract('SimNvStore', async () => ({ store: new SimNvStore() }));

const text = (s: string) => new TextEncoder().encode(s);
const put = (key: string, value: string): NvOp => ({ op: 'put', key, value: text(value) });
const del = (key: string): NvOp => ({ op: 'del', key });

/** A scripted history of batches touching overlapping keys. */
const SCRIPT: NvOp[][] = [
  [put('a', '1'), put('b', '1')],
  [put('a', '2'), del('b'), put('c', '1')],
  [],
  [put('b', '3'), put('c', '3'), put('d', '3')],
  [del('a'), del('c')],
  [put('a', '5'), put('e', '5'), put('b', '5')],
];

async function contents(store: SimNvStore): Promise<Record<string, string>> {
  const decoder = new TextDecoder();
  return Object.fromEntries((await store.scan('')).map((e) => [e.key, decoder.decode(e.value)]));
}

/** State after the first `n` batches of SCRIPT, computed on a store that never loses power. */
async function expectedAfter(n: number): Promise<Record<string, string>> {
  const reference = new SimNvStore();
  for (const batch of SCRIPT.slice(0, n)) await reference.commit(batch);
  return contents(reference);
}

async function runScriptWithCut(cutAt: number, tornAfterOps: number): Promise<SimNvStore> {
  const store = new SimNvStore();
  store.cutPowerAtCommit(cutAt, { tornAfterOps });
  for (const batch of SCRIPT) {
    try {
      await store.commit(batch);
    } catch (e) {
      expect(isHalError(e, 'power-lost')).toBe(true);
      break;
    }
  }
  return store;
}

describe('SimNvStore power loss', () => {
  it('a power cut at every commit index leaves exactly a prefix of whole batches', async () => {
    for (let cutAt = 1; cutAt <= SCRIPT.length; cutAt++) {
      const maxOps = Math.max(1, SCRIPT[cutAt - 1]?.length ?? 0);
      for (let torn = 0; torn < maxOps; torn++) {
        const store = await runScriptWithCut(cutAt, torn);
        expect(store.isOn()).toBe(false);
        store.powerOn();
        expect(await contents(store), `cut at commit ${cutAt}, torn after ${torn} ops`).toEqual(
          await expectedAfter(cutAt - 1),
        );
      }
    }
  });

  it("after a cut every call rejects 'power-lost' until powerOn()", async () => {
    const store = new SimNvStore();
    await store.commit([put('k', 'v')]);
    store.cutPowerAtCommit(1);
    await expect(store.commit([put('k', 'w')])).rejects.toMatchObject({ kind: 'power-lost' });
    for (const call of [() => store.get('k'), () => store.scan(''), () => store.commit([])]) {
      const error = await call().catch((e: unknown) => e);
      expect(isHalError(error, 'power-lost')).toBe(true);
    }
    store.powerOn();
    expect(await store.get('k')).toEqual(text('v'));
  });

  it('counts the n-th commit from now, 1-based', async () => {
    const store = new SimNvStore();
    store.cutPowerAtCommit(3);
    await store.commit([put('a', '1')]);
    await store.commit([put('b', '1')]);
    await expect(store.commit([put('c', '1')])).rejects.toMatchObject({ kind: 'power-lost' });
    store.powerOn();
    expect(await contents(store)).toEqual({ a: '1', b: '1' });
    await store.commit([put('c', '2')]);
    expect(await store.get('c')).toEqual(text('2'));
  });

  it('a torn write is in the data area until powerOn() rolls it back from the journal', async () => {
    const store = new SimNvStore();
    await store.commit([put('a', 'old')]);
    store.cutPowerAtCommit(1, { tornAfterOps: 2 });
    await expect(store.commit([put('a', 'new'), put('b', 'new'), put('c', 'new')])).rejects.toMatchObject({
      kind: 'power-lost',
    });
    expect(store.pendingRecovery()).toBe(2);
    store.powerOn();
    expect(store.pendingRecovery()).toBe(0);
    expect(await contents(store)).toEqual({ a: 'old' });
  });

  it('powerOff() between commits keeps every resolved commit', async () => {
    const store = new SimNvStore();
    await store.commit([put('a', '1')]);
    store.powerOff();
    store.powerOn();
    expect(await store.get('a')).toEqual(text('1'));
    expect(store.stats().powerCuts).toBe(1);
  });
});

describe('SimNvStore faults and figures', () => {
  it("rejects 'no-space' beyond capacity and keeps the previous state", async () => {
    const store = new SimNvStore({ capacityBytes: 10 });
    await store.commit([put('k', '12345')]);
    await expect(store.commit([put('k', '1234567890')])).rejects.toMatchObject({ kind: 'no-space' });
    expect(await store.get('k')).toEqual(text('12345'));
    await store.commit([del('k'), put('j', '123456789')]);
    expect(store.sizeBytes()).toBe(10);
  });

  it("a corrupted key rejects 'store-corrupt' on get and on a scan covering it", async () => {
    const store = new SimNvStore();
    await store.commit([put('a/1', 'x'), put('b/1', 'y')]);
    store.corrupt('a/1');
    await expect(store.get('a/1')).rejects.toMatchObject({ kind: 'store-corrupt' });
    await expect(store.scan('a/')).rejects.toMatchObject({ kind: 'store-corrupt' });
    expect(await store.scan('b/')).toHaveLength(1);
    await store.commit([put('a/1', 'fresh')]);
    expect(await store.get('a/1')).toEqual(text('fresh'));
  });

  it('counts commits and bytes written (keys + values, tombstones as keys) for wear figures', async () => {
    const store = new SimNvStore();
    await store.commit([put('ab', '123'), put('c', '')]);
    await store.commit([del('ab')]);
    store.cutPowerAtCommit(1);
    await store.commit([put('x', 'y')]).catch(() => {});
    expect(store.stats()).toEqual({ commits: 2, failedCommits: 1, bytesWritten: 5 + 1 + 2, powerCuts: 1 });
  });

  it('reset() restores an empty, powered store with no pending faults', async () => {
    const store = new SimNvStore();
    await store.commit([put('a', '1')]);
    store.cutPowerAtCommit(2);
    store.corrupt('a');
    store.reset();
    await store.commit([put('b', '1')]);
    await store.commit([put('c', '1')]);
    expect(await contents(store)).toEqual({ b: '1', c: '1' });
    expect(store.stats().commits).toBe(2);
  });
});
