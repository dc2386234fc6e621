import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

// Runs in the worker: a second connection to the same file that copies the WAL back into the
// database when asked (PASSIVE: it never blocks the writer).
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = FULL');
parentPort.on('message', (m) => {
  if (m === 'checkpoint') {
    try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* disk full or read-only: the writer reports it; try again */ }
    parentPort.postMessage('checkpointed');
  } else if (m === 'stop') {
    db.close();
    parentPort.postMessage('stopped');
  }
});
`;

const DEFAULT_AUTOCHECKPOINT = 1000;

/**
 * Takes WAL checkpoints off the event loop: with synchronous=FULL a checkpoint writes and fsyncs
 * the database file, which inside a commit would stall every request waiting behind it. Every
 * `intervalMs` the worker copies the WAL back; then the writer copies the few frames written
 * since (cheap), so that its next transaction starts the WAL from the beginning and the file stays
 * small under constant load. The writer's own automatic checkpoints are off while this runs, and
 * come back if the worker fails or exits.
 */
export class Checkpointer {
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly db: Database.Database,
    private readonly intervalMs: number,
  ) {
    const fallback = () => {
      if (this.stopped || !db.open) return;
      this.stopped = true;
      clearTimeout(this.timer);
      db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT}`);
    };
    worker.once('error', fallback);
    worker.once('exit', fallback);
    worker.on('message', (m) => {
      if (m !== 'checkpointed' || this.stopped || !db.open) return;
      try {
        db.pragma('wal_checkpoint(PASSIVE)');
      } catch {
        // The writer's next commit reports a store that cannot be written.
      }
      this.schedule();
    });
    worker.unref();
    this.schedule();
  }

  static start(db: Database.Database, path: string, intervalMs = 200): Checkpointer {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    // The worker only runs checkpoints: a small heap of its own is plenty.
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { driver, path },
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
    });
    db.pragma('wal_autocheckpoint = 0');
    return new Checkpointer(worker, db, intervalMs);
  }

  private schedule(): void {
    this.timer = setTimeout(() => this.worker.postMessage('checkpoint'), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the worker; the writer's close then checkpoints what is left. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    const done = new Promise<void>((resolve) => {
      this.worker.on('message', (m) => m === 'stopped' && resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.ref(); // keeps the process alive until the worker has closed its connection
    this.worker.postMessage('stop');
    await Promise.race([done, new Promise((r) => setTimeout(r, 2000).unref())]);
    await this.worker.terminate();
  }
}
