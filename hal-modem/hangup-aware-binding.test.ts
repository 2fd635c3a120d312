import { EventEmitter } from 'node:events';
import type { LinuxPortBinding } from '@serialport/bindings-cpp';
import { describe, expect, it } from 'vitest';
import { type FdRead, HangupError, readUntilHangup } from './hangup-aware-binding.js';
import { openLinePort } from './serial-lines.js';
import { PtyPair } from './sim-modem/pty-pair.js';
import { rejection } from './test-support.js';

/** A Linux port as `readUntilHangup` sees it: a descriptor and a poller that says when it is readable. */
const fakePort = () => {
  const poller = new EventEmitter();
  return { port: { fd: 7, poller } as unknown as LinuxPortBinding & { fd: number | null }, poller };
};

const errno = (code: string) => Object.assign(new Error(code), { code });

describe('a hung-up tty is the end of the port (serialport/node-serialport#2043)', () => {
  it('a zero-byte read rejects as a disconnect, not a retry', async () => {
    const { port } = fakePort();
    let reads = 0;
    const read: FdRead = async () => {
      reads++;
      return { bytesRead: 0 };
    };
    const e = await rejection(readUntilHangup(port, '/dev/ttyUSB2', Buffer.alloc(8), 0, 8, read));
    expect(e).toBeInstanceOf(HangupError);
    expect(e).toMatchObject({ disconnect: true, message: expect.stringContaining('/dev/ttyUSB2') });
    expect((e as { canceled?: boolean }).canceled).toBeUndefined();
    expect(reads).toBe(1);
  });

  it('EAGAIN waits for the poller and then returns the bytes; EIO is passed on as it is', async () => {
    const { port, poller } = fakePort();
    const answers: Array<() => { bytesRead: number }> = [
      () => {
        throw errno('EAGAIN');
      },
      () => ({ bytesRead: 3 }),
      () => {
        throw errno('EIO');
      },
    ];
    const read: FdRead = async () => answers.shift()!();
    const buffer = Buffer.alloc(8);
    const first = readUntilHangup(port, '/dev/ttyUSB2', buffer, 0, 8, read);
    await expect.poll(() => poller.listenerCount('readable')).toBe(1);
    poller.emit('readable', null);
    expect(await first).toEqual({ bytesRead: 3, buffer });
    expect(await rejection(readUntilHangup(port, '/dev/ttyUSB2', buffer, 0, 8, read))).toMatchObject({
      code: 'EIO',
    });
  });

  it('a port closed while waiting is a cancel (the stream then neither reads again nor reports a loss)', async () => {
    const { port, poller } = fakePort();
    const read: FdRead = async () => {
      throw errno('EAGAIN');
    };
    const pending = readUntilHangup(port, '/dev/ttyUSB2', Buffer.alloc(8), 0, 8, read);
    await expect.poll(() => poller.listenerCount('readable')).toBe(1);
    port.fd = null;
    poller.emit('readable', Object.assign(new Error('Canceled'), { canceled: true }));
    expect(await rejection(pending)).toMatchObject({ canceled: true });
    const again = readUntilHangup(port, '/dev/ttyUSB2', Buffer.alloc(8), 0, 8, read);
    expect(await rejection(again)).toMatchObject({ canceled: true });
  });

  it('a real pty whose other end vanished while this process was busy is reported lost (the kernel says 0, not EIO)', async () => {
    // Blocking the event loop while socat exits lets the kernel finish the hang-up before the first read, so
    // that read meets hung_up_tty_read()'s 0: the case that, before this binding, spun and never closed.
    const pair = await PtyPair.open();
    try {
      let lost: Error | undefined;
      const port = await openLinePort(pair.link, 115200, {
        onLine: () => {},
        onLost: (e) => {
          lost = e;
        },
      });
      try {
        const unplugged = pair.unplug();
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
        await unplugged;
        await expect.poll(() => lost, { timeout: 3000, interval: 10 }).toBeDefined();
        expect(lost).toMatchObject({ kind: 'device-unavailable' });
      } finally {
        await port.close();
      }
    } finally {
      await pair.close();
    }
  });
});
