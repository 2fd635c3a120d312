import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { TtyUserAgent } from './tty-agent.js';

/** Issue 15 item 7: the download bar showed 270/271, 540/541, … while the total was not known. */
describe('the sync progress bar', () => {
  it('says "so far, more to come" until the last page, then the real total', async () => {
    const output = new PassThrough();
    let text = '';
    output.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const agent = new TtyUserAgent({
      interactive: false,
      output,
      print: (line) => {
        text += `${line}\n`;
      },
      question: async () => undefined,
    });
    agent.notify({ kind: 'progress', phase: 'download', done: 270 });
    agent.notify({ kind: 'progress', phase: 'download', done: 540 });
    agent.notify({ kind: 'progress', phase: 'download', done: 600, total: 600 });
    agent.notify({ kind: 'sync-done', uploaded: 0, downloaded: 600 });
    await vi.waitFor(() => expect(text).toContain('600/600 records'));
    expect(text).toContain('270 records so far, more to come');
    expect(text).not.toMatch(/270\/271|540\/541/);
  });
});
