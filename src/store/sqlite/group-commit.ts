import type Database from 'better-sqlite3';
import type { StoreUnavailableError } from '../errors.js';
import type { WalSync } from './wal-sync.js';

/** A write waiting for the next group commit. */
interface PendingWrite {
  run: () => unknown;
  /** Several statements: run in a savepoint, so a failure rolls back all of them and only them. */
  several: boolean;
  /** Settled after the fsync (what someone is told about); else as soon as the commit is made. */
  durable: boolean;
  resolve: (value: never) => void;
  reject: (e: Error) => void;
}

/**
 * Writes that arrive in the same tick share one transaction: one commit (one fsync) for many
 * events or action records, each promise settled only after that commit is on disk.
 */
export class GroupCommit {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private held = false;

  constructor(
    private readonly db: Database.Database,
    /** The commit's fsync on the thread pool; without it, SQLite syncs inside the commit. */
    private readonly walSync: WalSync | undefined,
    /** A write or commit failed: the error callers get. */
    private readonly failed: (err: unknown) => StoreUnavailableError,
    /** A commit succeeded: the store is writable. */
    private readonly committed: () => void,
  ) {}

  /**
   * `durable: false` for a write nobody is told about, whose loss in a crash is harmless (a lease
   * claimed by this process, released at the next start): it shares the transaction, so it costs
   * no commit of its own, and is answered without waiting for the fsync.
   */
  add<T>(run: () => T, several = false, durable = true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, several, durable, resolve: resolve as (v: never) => void, reject });
      this.schedule();
    });
  }

  /**
   * Writes wait (in memory, unanswered) until `release`: the checkpoint worker's last pass copies
   * the WAL while no commit adds to it, so the next commit starts the WAL afresh. The event loop
   * runs on meanwhile; only commits wait.
   */
  hold(): void {
    this.held = true;
  }

  /** Lets held writes commit; harmless when nothing is held. */
  release(): void {
    this.held = false;
    if (this.pending.length > 0) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.held) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.held) this.flush();
    });
  }

  /** Commits what waits now (also while held: closing the store flushes). */
  flush(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    // A write that fails is rolled back alone (a statement is atomic; several share a savepoint)
    // and only its caller hears of it; a failing commit (disk full, read-only) fails them all.
    let outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }>;
    try {
      outcomes = this.db.transaction(() =>
        batch.map((p) => {
          try {
            return { ok: true as const, value: p.several ? this.db.transaction(p.run)() : p.run() };
          } catch (error) {
            // SQLite rolls the whole transaction back on some errors (disk full, I/O): fail the batch.
            if (!this.db.inTransaction) throw error;
            return { ok: false as const, error };
          }
        }),
      )();
      this.committed();
    } catch (err) {
      const e = this.failed(err);
      for (const p of batch) p.reject(e);
      return;
    }
    const settle = (durable: boolean) =>
      batch.forEach((p, i) => {
        if (p.durable !== durable) return;
        const o = outcomes[i]!;
        if (o.ok) p.resolve(o.value as never);
        else p.reject(this.failed(o.error));
      });
    settle(false);
    if (!this.walSync) return settle(true);
    // Only claims (an idle runner's poll among them): nothing to wait for, and no fsync of its own;
    // what they wrote is made durable by the next commit that needs it.
    if (!batch.some((p) => p.durable)) return;
    // Committed, not yet on disk: nobody hears of it before the fsync.
    this.walSync.sync().then(
      () => settle(true),
      (err: unknown) => {
        const e = this.failed(err);
        for (const p of batch) if (p.durable) p.reject(e);
      },
    );
  }

  /** Resolves when every write made so far is on disk (at once when commits sync themselves). */
  durable(): Promise<void> {
    return this.walSync ? this.walSync.sync().catch((err: unknown) => Promise.reject(this.failed(err))) : Promise.resolve();
  }

  get waiting(): boolean {
    return this.pending.length > 0;
  }
}
