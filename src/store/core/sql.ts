/*
 * What the portable store (SqlStore) needs of a database: statements written once with `?`
 * placeholders, run by the database's executor, and the few fragments where dialects differ.
 */

export type Row = Record<string, unknown>;

export interface Statement {
  sql: string;
  params?: readonly unknown[];
}

/** One statement's outcome inside `atomically`: rows changed, and rows returned (a SELECT, a RETURNING). */
export interface StepResult {
  changes: number;
  rows: Row[];
}

export interface SqlExecutor {
  /** Rows of a read. */
  rows(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** A write, durable when it resolves; how many rows it changed. */
  change(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Statements in one transaction, in order, durable when it resolves; all or none. */
  atomically(steps: readonly Statement[]): Promise<StepResult[]>;
}

/** Where the databases' SQL differs in the portable statements. */
export interface Dialect {
  /** The assignments that release a row's lease (PostgreSQL also forgets its owner). */
  readonly release: string;
  /** A tie-break after `received_at` that follows arrival order, on events aliased `e`. */
  readonly arrival: string;
  /** Appended to a sub-select of rows about to be taken or deleted, so concurrent writers skip them (PostgreSQL). */
  readonly skipLocked: string;
  /** The condition that picks the event with id `value` (a placeholder or a column), on events aliased `alias` (`e.` or ''). */
  eventWithId(alias: string, value: string): string;
  /** The column retention deletes events by. */
  readonly eventKey: string;
  /** Whether deleting an event deletes its jobs (a foreign key's cascade); else retention deletes them first. */
  readonly jobsCascade: boolean;
}

/** `?` placeholders as PostgreSQL's `$1, $2, …` (the portable statements hold no `?` in literals). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
