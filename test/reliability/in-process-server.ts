import { Duplex } from 'node:stream';
import { openSqliteStore, type SyncServer, type SyncStore, startSyncServer } from '../../broker/index.js';
import type { ByteStream, Clock, LinkState, RadioLink, Unsubscribe } from '../../hal/index.js';
import { createDuplexPair, type SimPipe } from '../../hal-sim/index.js';

/**
 * The sync server in this process, reached through simulated pipes instead
 * of TCP (no ports, no sockets: faults land at an exact byte), with a
 * restart that keeps its store as a broker process restart does.
 */
export class InProcessServer {
  private constructor(
    private current: SyncServer,
    readonly store: SyncStore,
    private readonly clock: Clock,
  ) {}

  /** A server over the SQLite file at `path` (a copy of the template's database). */
  static async open(path: string, clock: Clock): Promise<InProcessServer> {
    const store = openSqliteStore(path);
    return new InProcessServer(await start(store, clock), store, clock);
  }

  get server(): SyncServer {
    return this.current;
  }

  /** The broker goes down (every connection closes) and comes back on the same store. */
  async restart(): Promise<void> {
    await this.current.close();
    this.current = await start(this.store, this.clock);
  }

  /** A terminal's radio link to this server, with byte-exact drops. */
  link(onTraffic: (bytes: number) => void = () => {}): PipeLink {
    // Through the server's own door (its packet guard, a source address), as a TCP connection would come.
    return new PipeLink((end) => this.current.accept(end, '127.0.0.3'), onTraffic);
  }

  async close(): Promise<void> {
    await this.current.close();
    await this.store.close();
  }
}

function start(store: SyncStore, clock: Clock): Promise<SyncServer> {
  return startSyncServer({ store, port: null, now: () => clock.now() });
}

/**
 * A RadioLink whose streams are SimPipes into the server: `dropAfterBytes`
 * breaks the open stream (or the next one opened) once that many more bytes
 * have crossed either way.
 */
export class PipeLink implements RadioLink {
  private pipe: SimPipe | undefined;
  private armed: number | undefined;
  /** The pipe a drop was armed on, and the byte count (both ways) it breaks at. */
  private drop: { pipe: SimPipe; at: number } | undefined;

  constructor(
    private readonly accept: (serverSide: Duplex) => void,
    private readonly onTraffic: (bytes: number) => void,
  ) {}

  state(): LinkState {
    return { up: true, metered: false };
  }

  onState(): Unsubscribe {
    return () => {};
  }

  async open(): Promise<ByteStream> {
    const pair = createDuplexPair();
    const [terminalEnd, serverEnd] = pair;
    this.pipe = pair.pipe;
    if (this.armed !== undefined) {
      this.arm(this.pipe, this.armed);
      this.armed = undefined;
    }
    this.accept(asDuplex(serverEnd, this.onTraffic));
    return terminalEnd;
  }

  /** The open stream (else the next) breaks after `bytes` more bytes. */
  dropAfterBytes(bytes: number): void {
    this.drop = undefined;
    if (this.pipe !== undefined && !this.pipe.isClosed()) this.arm(this.pipe, bytes);
    else this.armed = bytes;
  }

  /** Whether the drop armed last broke its stream (asked once: it is forgotten then). */
  dropFired(): boolean {
    const drop = this.drop;
    if (drop === undefined || !drop.pipe.isClosed()) return false;
    this.drop = undefined;
    return total(drop.pipe) >= drop.at;
  }

  /** No drop pending any more (the faults stop). */
  disarm(): void {
    this.armed = undefined;
    this.drop = undefined;
    if (this.pipe !== undefined && !this.pipe.isClosed()) this.pipe.reset();
  }

  private arm(pipe: SimPipe, bytes: number): void {
    pipe.dropAfterBytes(bytes);
    this.drop = { pipe, at: total(pipe) + bytes };
  }
}

function total(pipe: SimPipe): number {
  const { bytesUp, bytesDown } = pipe.stats();
  return bytesUp + bytesDown;
}

/** The server's end of a pipe as the Node stream Aedes handles. */
function asDuplex(end: ByteStream, onTraffic: (bytes: number) => void): Duplex {
  const duplex = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      onTraffic(chunk.length);
      end.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)).then(
        () => callback(),
        (e: Error) => callback(e),
      );
    },
    read() {},
    final(callback) {
      end.close();
      callback();
    },
    destroy(error, callback) {
      end.close();
      callback(error);
    },
  });
  end.onData((bytes) => {
    onTraffic(bytes.length);
    duplex.push(Buffer.from(bytes));
  });
  end.onClose(() => {
    duplex.push(null);
    duplex.destroy();
  });
  return duplex;
}
