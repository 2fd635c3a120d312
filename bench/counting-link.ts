import type { ByteStream, LinkState, RadioLink, Unsubscribe } from '../hal/index.js';

/**
 * A RadioLink that counts every byte of every stream it opens, both ways:
 * the whole session on the wire (MQTT CONNECT to DISCONNECT), where a
 * SyncReport counts only the requests inside an open session.
 */
export class CountingLink implements RadioLink {
  sent = 0;
  received = 0;

  constructor(private readonly inner: RadioLink) {}

  get total(): number {
    return this.sent + this.received;
  }

  reset(): void {
    this.sent = 0;
    this.received = 0;
  }

  state(): LinkState {
    return this.inner.state();
  }

  onState(listener: (state: LinkState) => void): Unsubscribe {
    return this.inner.onState(listener);
  }

  async open(): Promise<ByteStream> {
    const stream = await this.inner.open();
    stream.onData((bytes) => {
      this.received += bytes.length;
    });
    return {
      write: (bytes) => {
        this.sent += bytes.length;
        return stream.write(bytes);
      },
      onData: (listener) => stream.onData(listener),
      onClose: (listener) => stream.onClose(listener),
      close: () => stream.close(),
    };
  }
}
