import { describe, expect, it } from 'vitest';
import { utf8 } from '../../core/index.js';
import type { ByteStream, NvOp, RadioLink } from '../../hal/index.js';
import { SimNvStore } from '../../hal-sim/index.js';
import { TerminalRequests } from '../support/terminal-requests.js';
import { member, sceneEachTest, syncWithSim, WrappedLink, withSim } from './scene.js';

const s = sceneEachTest();

/** Logs each request the terminal sends, by type. */
class RequestLog extends WrappedLink {
  private readonly requests = new TerminalRequests();

  constructor(
    inner: RadioLink,
    private readonly log: string[],
  ) {
    super(inner);
  }

  async open(): Promise<ByteStream> {
    const stream = await this.inner.open();
    return {
      write: (bytes) => {
        for (const request of this.requests.push(bytes)) this.log.push(request.type);
        return stream.write(bytes);
      },
      onData: (listener) => stream.onData(listener),
      onClose: (listener) => stream.onClose(listener),
      close: () => stream.close(),
    };
  }
}

/** A flash whose commits take a while, logged as they end. */
class SlowFlash extends SimNvStore {
  constructor(private readonly log: string[]) {
    super();
  }

  override async commit(batch: readonly NvOp[]): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    await super.commit(batch);
    this.log.push('commit');
  }
}

describe('issue 20: a download asks for its next page while it applies the one that came', () => {
  it('the request for page 2 leaves before page 1 is committed, and every page arrives once, in order; a catch-up too', async () => {
    const a = await member(s, 'a');
    await withSim(s, a, async () => {
      for (let i = 0; i < 40; i++) await a.terminal.edit('contacts', `c${i}`, utf8(`${i}`.padEnd(1000, '.')));
    });
    await syncWithSim(s, a);

    const log: string[] = [];
    const b = await member(s, 'b', {
      nv: new SlowFlash(log),
      link: new RequestLog(s.world.link(), log),
      options: { pageBytes: 4096 },
    });
    log.splice(0);
    const report = await syncWithSim(s, b);

    expect(report.downloaded.map((d) => d.id).sort()).toEqual(
      Array.from({ length: 40 }, (_, i) => `c${i}`).sort(),
    );
    const first = log.indexOf('download');
    expect(first).toBeGreaterThanOrEqual(0);
    // Pages of 4 records: ten of them, each asked for once.
    expect(log.filter((e) => e === 'download').length).toBe(10);
    // Page 2 was asked for before page 1 went into NV (asked for after it, before issue 20).
    expect(log.indexOf('download', first + 1)).toBeLessThan(log.indexOf('commit', first + 1));
    for (let i = 0; i < 40; i++) {
      expect((await b.terminal.records.get('contacts', `c${i}`))?.body?.length).toBe(1000);
    }

    // A catch-up ([0033], FIG. 20 restore after an erase) pages the same way: page 2 asked for
    // before page 1 is in NV, each page once, everything back.
    b.reader.insert(s.sim);
    try {
      await b.terminal.erase({ categories: ['contacts'] });
      log.splice(0);
      const restored = await b.terminal.restore(['contacts']);
      expect(restored.downloaded).toHaveLength(40);
    } finally {
      b.reader.remove();
    }
    const again = log.indexOf('download');
    // Ten pages of the catch-up, then the sync's own download after the anchor, which finds nothing.
    expect(log.filter((e) => e === 'download').length).toBe(11);
    expect(log.indexOf('download', again + 1)).toBeLessThan(log.indexOf('commit', again + 1));
    for (let i = 0; i < 40; i++) {
      expect((await b.terminal.records.get('contacts', `c${i}`))?.body?.length).toBe(1000);
    }
  });
});
