import pg from 'pg';
import { numbered, type Row, type SqlExecutor, type StepResult } from '../core/sql.js';
import { StoreUnavailableError } from '../errors.js';

/** SQLSTATE classes that mean "the database is there but cannot take this now": connection (08), resources (53), shutdown (57P0x), system (58). */
const UNAVAILABLE_STATE = /^(08|53|57P0|58)/;
/** Node's socket errors on the way to the database. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);

/**
 * Whether an error means the database cannot be used now (answer 503, try again later) rather
 * than a bug (a stack trace). Errors without a code come from the driver losing its connection
 * ("Connection terminated unexpectedly", a connect timeout), unless they are JavaScript's own.
 */
export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return !(err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError || err instanceof ReferenceError);
  return UNAVAILABLE_STATE.test(code) || UNREACHABLE.has(code);
}

/**
 * The pool, with one way of running statements and one way of reporting that the database is
 * unavailable, for every statement and transaction of the store.
 */
export class Connection {
  /** The last "unavailable" error, until a statement succeeds again. */
  lastError: string | undefined;
  private closed = false;

  constructor(private readonly pool: pg.Pool) {}

  static open(url: string): Connection {
    const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 });
    pool.on('error', () => {}); // an idle client's error; the next query reports it
    return new Connection(pool);
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return this.guard(async () => (await this.pool.query(sql, params as unknown[])).rows as Row[]);
  }

  /** `fn`'s statements in one transaction; an error rolls all of them back. */
  async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.guard(async () => {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    });
  }

  /** The portable statements (written with `?`) run here. */
  readonly executor: SqlExecutor = {
    rows: (sql, params) => this.query(numbered(sql), params),
    change: async (sql, params) => (await this.guard(() => this.pool.query(numbered(sql), params as unknown[]))).rowCount ?? 0,
    atomically: (steps) =>
      this.tx(async (c) => {
        const out: StepResult[] = [];
        for (const s of steps) {
          const res = await c.query(numbered(s.sql), s.params as unknown[]);
          out.push({ changes: res.rowCount ?? 0, rows: res.rows as Row[] });
        }
        return out;
      }),
  };

  async end(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('store is closed');
    try {
      const out = await fn();
      this.lastError = undefined;
      return out;
    } catch (err) {
      if (err instanceof StoreUnavailableError || !isUnavailable(err)) throw err;
      const code = (err as { code?: string }).code;
      this.lastError = `${code ?? ''} ${(err as Error).message}`.trim();
      throw new StoreUnavailableError(this.lastError, code);
    }
  }
}
