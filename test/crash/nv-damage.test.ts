import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HalError } from '../../hal/index.js';
import { FileNvStore } from '../../hal-linux/index.js';
import { Seeded } from '../fuzz/seeded.js';
import { BATCHES, type Fixture, LOG, makeLog, openLog, recordStart } from './nv-damage.js';

describe('issue 21: FileNvStore damage is detected on open, never used', () => {
  let root: string;
  let fixture: Fixture;
  const seed = Number(process.env.SIMSYNC_SEED ?? 21);

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'simsync-nv-damage-'));
    fixture = await makeLog(root, seed);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('a bit flipped at any byte, the final record included: open rejects store-corrupt naming the file and the damaged record', async () => {
    const { log, ends } = fixture;
    const random = new Seeded(seed);
    for (let at = 0; at < log.length; at++) {
      const damaged = log.slice();
      damaged[at] = (damaged[at] as number) ^ (1 << random.int(8));
      const opened = await openLog(root, 'flip', damaged);
      expect(opened, `bit flip at byte ${at} of ${log.length} (seed ${seed}): opened`).toHaveProperty(
        'error',
      );
      expect('error' in opened && opened.error, `bit flip at byte ${at} (seed ${seed})`).toBeInstanceOf(
        HalError,
      );
      expect(opened, `bit flip at byte ${at} (seed ${seed})`).toMatchObject({
        error: { kind: 'store-corrupt', file: path.join(opened.dir, LOG), offset: recordStart(ends, at) },
      });
    }
  }, 60_000);

  it('the final record with a sector never written (zeros, as power loss leaves it): a torn append, dropped whole and reported', async () => {
    const { log, states, ends } = fixture;
    const last = ends[BATCHES - 1] as number;
    const damaged = log.slice();
    damaged.fill(0, Math.max(last, Math.floor((log.length - 1) / 512) * 512));
    const opened = await openLog(root, 'unwritten', damaged);
    expect(opened).toMatchObject({ state: states[BATCHES - 1], torn: log.length - last });
  });

  it('truncated at any length: a prefix of whole batches, with the cut-off bytes reported; a cut into the file header is store-corrupt at byte 0', async () => {
    const { log, states, ends } = fixture;
    // Every length in the header and around each record boundary, and one in four elsewhere (each open fsyncs).
    const random = new Seeded(seed);
    const lengths = [...Array(log.length).keys()].filter(
      (n) => n <= (ends[0] as number) || ends.some((end) => Math.abs(n - end) <= 2) || random.chance(0.25),
    );
    for (const length of lengths) {
      const opened = await openLog(root, 'cut', log.subarray(0, length));
      const where = `truncated to ${length} of ${log.length} bytes (seed ${seed})`;
      if (length < (ends[0] as number)) {
        expect(opened, where).toMatchObject({
          error: { kind: 'store-corrupt', file: path.join(opened.dir, LOG), offset: 0 },
        });
        continue;
      }
      const whole = ends.filter((end) => end <= length).length - 1;
      expect(opened, where).toMatchObject({ torn: length - (ends[whole] as number) });
      if ('state' in opened) expect(opened.state, where).toEqual(states[whole]);
    }
  }, 60_000);

  it('moveAside: the damaged log is kept under another name and the next open starts empty', async () => {
    const damaged = fixture.log.slice();
    const at = (fixture.ends[1] as number) + 3;
    damaged[at] = (damaged[at] as number) ^ 0x10;
    const opened = await openLog(root, 'aside', damaged);
    expect(opened).toMatchObject({ error: { kind: 'store-corrupt', offset: fixture.ends[1] } });
    const moved = await FileNvStore.moveAside(opened.dir, new Date('2026-12-02T00:00:00Z'));
    expect(path.basename(moved)).toBe('nv.log.corrupt-2026-12-02T00-00-00-000Z');
    expect(new Uint8Array(await readFile(moved))).toEqual(damaged);
    const fresh = await FileNvStore.open(opened.dir);
    try {
      expect(await fresh.scan('')).toEqual([]);
      await fresh.commit([{ op: 'put', key: 'again', value: new Uint8Array([1]) }]);
    } finally {
      await fresh.close();
    }
    expect((await readdir(opened.dir)).sort()).toEqual([LOG, path.basename(moved)].sort());
  });
});
