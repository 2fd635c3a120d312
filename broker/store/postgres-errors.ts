import { DatabaseError } from 'pg';

/**
 * What went wrong in the PostgreSQL store, for callers to switch on (STYLE.md §2):
 * - `unavailable`: the server cannot be reached, the connection was lost, or
 *   the server is starting, stopping or out of connections. Retryable with
 *   back-off; a transaction cut off this way was rolled back by the server,
 *   except when the connection died during COMMIT, when it may have committed
 *   (an upload's retry is then answered from the stored ack, never applied twice).
 * - `conflict`: a deadlock or serialization failure that the store's own
 *   retries did not get past. Retryable.
 * - `constraint`: the write broke an integrity rule (a terminal or code of an
 *   unknown subscriber). Not retryable.
 * - `other`: anything else.
 */
export type PostgresStoreErrorKind = 'unavailable' | 'conflict' | 'constraint' | 'other';

export class PostgresStoreError extends Error {
  override readonly name = 'PostgresStoreError';
  constructor(
    readonly kind: PostgresStoreErrorKind,
    message: string,
    /** PostgreSQL's SQLSTATE, when the server answered one. */
    readonly sqlState: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Whether the same request may succeed later. */
  get retryable(): boolean {
    return this.kind === 'unavailable' || this.kind === 'conflict';
  }
}

/** Node's socket errors that mean the server is out of reach. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * pg reports a lost or refused connection as a plain Error without a code;
 * these are its messages for that (pg/lib/client.js, pg-pool).
 */
const LOST_CONNECTION =
  /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Client was closed/i;

function kindOfSqlState(code: string): PostgresStoreErrorKind {
  // SQLSTATE classes (PostgreSQL manual, Appendix A).
  if (code.startsWith('08') || code.startsWith('53') || code.startsWith('57P')) return 'unavailable';
  if (code === '40001' || code === '40P01') return 'conflict';
  if (code.startsWith('23')) return 'constraint';
  return 'other';
}

/** The store's error for whatever pg threw; errors that are not pg's pass through unchanged. */
export function storeError(e: unknown): unknown {
  if (e instanceof PostgresStoreError) return e;
  if (e instanceof DatabaseError) {
    const code = e.code ?? '';
    return new PostgresStoreError(kindOfSqlState(code), e.message, e.code, { cause: e });
  }
  if (!(e instanceof Error)) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if ((code !== undefined && SOCKET_CODES.has(code)) || LOST_CONNECTION.test(e.message)) {
    return new PostgresStoreError('unavailable', `PostgreSQL unavailable: ${e.message}`, undefined, {
      cause: e,
    });
  }
  return e;
}
