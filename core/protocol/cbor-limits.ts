import { type DecodeOptions, type Token, Tokenizer } from 'cborg';

/**
 * Bounds on one CBOR data item (RFC 8949), checked token by token as the
 * decoder pulls them, so a violation throws before the decoder builds more:
 * the work done on a hostile input is linear in these limits, not in its
 * size (issue 13: 4 MiB of empty maps took seconds and a gigabyte to refuse).
 */
export interface CborLimits {
  /** The whole encoding, bytes. */
  maxBytes: number;
  /** Data items in all: every head (RFC 8949 §3) of a container, a map key or a scalar. */
  maxItems: number;
  /** Arrays, maps and tags in all: each becomes an object (an empty map costs ~150 ns and ~64 B). */
  maxContainers: number;
  /** Nesting: the top-level item is at depth 1, what it holds at depth 2. */
  maxDepth: number;
  /** Entries of one array, pairs of one map. */
  maxLength: number;
}

/** Which bound an input broke; `truncated`: a container declares more entries than the bytes left could hold. */
export type CborLimit = 'bytes' | 'items' | 'containers' | 'depth' | 'length' | 'truncated';

export class CborLimitError extends Error {
  override readonly name = 'CborLimitError';
  constructor(
    readonly limit: CborLimit,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Sees each entry of the top-level map whose value is a scalar, in order;
 * may return the limits to apply from then on (say, once a message's `type`
 * is known), which are checked at once against what was already read.
 */
export type TopLevelWatcher = (key: string, value: unknown) => CborLimits | undefined;

interface Frame {
  /** Items this container holds (a map: keys and values), Infinity when of indefinite length. */
  length: number;
  /** Items read so far. */
  read: number;
  map: boolean;
}

const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;
const MAJOR_TAG = 6;
const MAJOR_SIMPLE = 7;

/**
 * cborg's own tokeniser with {@link CborLimits} enforced on the way (cborg 6
 * has no depth or item options; its `tokenizer` option takes this instead).
 * Each item needs at least one byte, so the items every open container still
 * expects must fit in the bytes left: a head claiming 2^32 entries fails at
 * that head.
 */
export class BoundedTokenizer {
  private readonly inner: Tokenizer;
  private readonly frames: Frame[] = [];
  /** The innermost open container. */
  private top: Frame | undefined;
  /** Items still expected by the open containers of definite length. */
  private outstanding = 0;
  private topKey: string | undefined;
  /** Data items read so far (the work done). */
  items = 0;
  containers = 0;

  constructor(
    private readonly data: Uint8Array,
    options: DecodeOptions,
    private limits: CborLimits,
    private readonly watch?: TopLevelWatcher,
  ) {
    this.inner = new Tokenizer(data, options);
    if (data.length > limits.maxBytes) {
      throw new CborLimitError('bytes', `${data.length} bytes exceed ${limits.maxBytes}`);
    }
  }

  done(): boolean {
    return this.inner.done();
  }

  pos(): number {
    return this.inner.pos();
  }

  next(): Token {
    const token = this.inner.next();
    const major = token.type.major;
    if (major === MAJOR_SIMPLE && token.type.name === 'break') {
      // Ends the innermost container of indefinite length (cborg refuses a stray one).
      if (this.top?.length === Infinity) this.frames.pop();
      this.closeFinished();
      return token;
    }
    if (++this.items > this.limits.maxItems) {
      throw new CborLimitError('items', `more than ${this.limits.maxItems} data items`);
    }
    const parent = this.top;
    if (parent !== undefined) {
      const index = parent.read++;
      if (parent.length !== Infinity) this.outstanding--;
      if (this.watch && parent.map && this.frames.length === 1) this.watchEntry(index, token);
    }
    if (major === MAJOR_ARRAY || major === MAJOR_MAP || major === MAJOR_TAG) this.open(token, major);
    this.closeFinished();
    return token;
  }

  /** The top-level map's entry at `index`: a key, or the value of the key before it. */
  private watchEntry(index: number, token: Token): void {
    if (index % 2 === 0) {
      this.topKey = token.type.name === 'string' ? (token.value as string) : undefined;
      return;
    }
    const key = this.topKey;
    this.topKey = undefined;
    if (key === undefined || !token.type.terminal || !this.watch) return;
    const next = this.watch(key, token.value);
    if (next) this.apply(next);
  }

  private open(token: Token, major: number): void {
    const { maxDepth, maxContainers, maxLength } = this.limits;
    if (this.frames.length + 1 > maxDepth) {
      throw new CborLimitError('depth', `nested deeper than ${maxDepth}`);
    }
    if (++this.containers > maxContainers) {
      throw new CborLimitError('containers', `more than ${maxContainers} arrays and maps`);
    }
    const declared = token.value as number;
    const map = major === MAJOR_MAP;
    const length = major === MAJOR_TAG ? 1 : map ? declared * 2 : declared;
    if (length !== Infinity) {
      if (major !== MAJOR_TAG && declared > maxLength) {
        throw new CborLimitError(
          'length',
          `${map ? 'a map of' : 'an array of'} ${declared} exceeds ${maxLength}`,
        );
      }
      const left = this.data.length - this.inner.pos();
      if (this.outstanding + length > left) {
        throw new CborLimitError(
          'truncated',
          `${map ? 'a map' : major === MAJOR_TAG ? 'a tag' : 'an array'} declares ${declared} entries but ${left} bytes remain`,
        );
      }
      this.outstanding += length;
    }
    this.frames.push({ length, read: 0, map });
    this.top = this.frames[this.frames.length - 1];
  }

  /** Pops every container whose last item has been read. */
  private closeFinished(): void {
    let top = this.frames[this.frames.length - 1];
    while (top !== undefined && top.read === top.length) {
      this.frames.pop();
      top = this.frames[this.frames.length - 1];
    }
    this.top = top;
  }

  /** Switches to `next`, refusing at once what was already read beyond it. */
  private apply(next: CborLimits): void {
    this.limits = next;
    if (this.data.length > next.maxBytes) {
      throw new CborLimitError('bytes', `${this.data.length} bytes exceed ${next.maxBytes}`);
    }
    if (this.items > next.maxItems)
      throw new CborLimitError('items', `more than ${next.maxItems} data items`);
    if (this.containers > next.maxContainers) {
      throw new CborLimitError('containers', `more than ${next.maxContainers} arrays and maps`);
    }
    if (this.frames.length > next.maxDepth)
      throw new CborLimitError('depth', `nested deeper than ${next.maxDepth}`);
    for (const frame of this.frames) {
      const declared = frame.map ? frame.length / 2 : frame.length;
      if (declared !== Infinity && declared > next.maxLength) {
        throw new CborLimitError(
          'length',
          `${frame.map ? 'a map of' : 'an array of'} ${declared} exceeds ${next.maxLength}`,
        );
      }
    }
  }
}
