import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

// Runs in the worker: a second connection to the same file that copies the WAL back into the
// database (PASSIVE: it never blocks the writer) every `intervalMs`.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = FULL');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* disk full or read-only: the writer reports it; try again */ }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.postMessage('stopped');
});
parentPort.postMessage('ready');
`;

const DEFAULT_AUTOCHECKPOINT = 1000;

/**
 * Takes WAL checkpoints off the event loop: with synchronous=FULL a checkpoint writes and fsyncs
 * the database file, which inside a commit would stall every request waiting behind it. While the
 * checkpointer runs the writer's own automatic checkpoints are off; if it fails or exits, they are
 * turned back on, so the WAL never grows without bound.
 */
export class Checkpointer {
  private stopped = false;

  private constructor(
    private readonly worker: Worker,
    private readonly db: Database.Database,
  ) {
    const fallback = () => {
      if (this.stopped || !db.open) return;
      this.stopped = true;
      db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT}`);
    };
    worker.once('error', fallback);
    worker.once('exit', fallback);
    worker.unref();
  }

  static start(db: Database.Database, path: string, intervalMs = 200): Checkpointer {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER, { eval: true, workerData: { driver, path, intervalMs } });
    db.pragma('wal_autocheckpoint = 0');
    return new Checkpointer(worker, db);
  }

  /** Stops the worker; the writer's close then checkpoints what is left. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const done = new Promise<void>((resolve) => {
      this.worker.once('message', (m) => m === 'stopped' && resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.ref(); // keeps the process alive until the worker has closed its connection
    this.worker.postMessage('stop');
    await Promise.race([done, new Promise((r) => setTimeout(r, 2000).unref())]);
    await this.worker.terminate();
  }
}
