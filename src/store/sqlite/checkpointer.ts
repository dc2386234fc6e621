import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

// Runs in the worker: a second connection to the same file that copies the WAL back into the
// database when asked (PASSIVE: it never blocks the writer) and says how long that took.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = FULL');
parentPort.on('message', (m) => {
  if (m === 'checkpoint') {
    const began = performance.now();
    try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* disk full or read-only: the writer reports it; try again */ }
    parentPort.postMessage({ checkpointed: performance.now() - began });
  } else if (m === 'stop') {
    db.close();
    parentPort.postMessage('stopped');
  }
});
`;

const DEFAULT_AUTOCHECKPOINT = 1000;
/** A pass that took longer than this left enough behind to copy once more before holding commits. */
const SHORT_PASS_MS = 15;
/** Passes without holding commits before the last one, at most. */
const MAX_OPEN_PASSES = 3;
/** Commits are held no longer than this, whatever the disk does. */
const MAX_HOLD_MS = 250;

/** What holds commits while the last pass runs (the store's group commit); `release` may come twice. */
export interface CommitGate {
  hold(): void;
  release(): void;
}

/**
 * Takes WAL checkpoints off the event loop: with synchronous=FULL a checkpoint writes and fsyncs
 * the database file, which on the event loop would stall every request behind it — the more so
 * as the store grows and each commit's pages land all over a large file. Every `intervalMs` the
 * worker copies the WAL back while commits go on (again at once while a pass took long); then
 * commits are held for one last, short pass, which leaves nothing uncopied, so the next commit
 * starts the WAL from the beginning and the file stays small under constant load. While commits
 * are held the event loop keeps reading and verifying requests; their answers wait for the
 * commit, as they always do. The writer's own automatic checkpoints are off while this runs,
 * and come back if the worker fails or exits.
 */
export class Checkpointer {
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  private passes = 0;
  /** The pass under way is the last one, run while commits are (or were, until MAX_HOLD_MS) held. */
  private lastPass = false;

  private constructor(
    private readonly worker: Worker,
    db: Database.Database,
    private readonly gate: CommitGate,
    private readonly intervalMs: number,
  ) {
    const fallback = () => {
      this.release();
      if (this.stopped || !db.open) return;
      this.stopped = true;
      clearTimeout(this.timer);
      db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT}`);
    };
    worker.once('error', fallback);
    worker.once('exit', fallback);
    worker.on('message', (m: unknown) => {
      if (typeof m !== 'object' || m === null || !('checkpointed' in m)) return;
      if (this.stopped) return this.release();
      this.passed((m as { checkpointed: number }).checkpointed);
    });
    worker.unref();
    this.schedule();
  }

  static start(db: Database.Database, path: string, gate: CommitGate, intervalMs = 200): Checkpointer {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    // The worker only runs checkpoints: a small heap of its own is plenty.
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { driver, path },
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
    });
    db.pragma('wal_autocheckpoint = 0');
    return new Checkpointer(worker, db, gate, intervalMs);
  }

  /** A pass ended after `ms`: copy again, hold commits for a last pass, or wait for the next round. */
  private passed(ms: number): void {
    if (this.lastPass) {
      this.lastPass = false;
      this.release();
      this.schedule();
      return;
    }
    this.passes++;
    if (ms > SHORT_PASS_MS && this.passes < MAX_OPEN_PASSES) {
      this.worker.postMessage('checkpoint');
      return;
    }
    this.lastPass = true;
    this.gate.hold();
    // A disk that stalls does not stall the commits with it: they go on, and the WAL restarts later.
    this.holdTimer = setTimeout(() => this.release(), MAX_HOLD_MS);
    this.worker.postMessage('checkpoint');
  }

  /** Lets held commits go (harmless when none are held). */
  private release(): void {
    clearTimeout(this.holdTimer);
    this.gate.release();
  }

  private schedule(): void {
    this.passes = 0;
    this.timer = setTimeout(() => this.worker.postMessage('checkpoint'), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the worker; the writer's close then checkpoints what is left. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.release();
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
