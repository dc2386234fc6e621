import { closeSync, fstatSync, fsync, openSync, statSync } from 'node:fs';

/**
 * Makes commits durable without blocking the event loop. The connection runs with
 * synchronous=NORMAL, so a commit only writes its WAL frames; this fsyncs the WAL file on libuv's
 * thread pool, and a writer hears "committed" only after an fsync that started after its commit.
 * The WAL is written in order, so that fsync covers every earlier commit as well: the same
 * guarantee as synchronous=FULL, with the disk's flush time off the event loop. (Checkpoints still
 * fsync the WAL before copying it and the database after, at NORMAL as at FULL.)
 *
 * Calls share fsyncs: one runs at a time; calls made while it runs share the next one.
 *
 * An fsync that fails means the kernel may have dropped written pages: every later call fails
 * too, so nothing more is acknowledged until the process restarts and SQLite recovers the WAL.
 */
export class WalSync {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private failed: Error | undefined;
  private closed = false;

  private constructor(
    private readonly fd: number,
    readonly path: string,
  ) {}

  /**
   * Opens the WAL file of an open WAL-mode connection. It stays open until `close`: SQLite
   * deletes the WAL only when its last connection closes, and takes no locks on it, so this
   * descriptor neither goes stale nor disturbs SQLite's locks when closed.
   */
  static open(databasePath: string): WalSync {
    const path = `${databasePath}-wal`;
    const fd = openSync(path, 'r');
    const mine = fstatSync(fd);
    const current = statSync(path);
    if (mine.ino !== current.ino || mine.dev !== current.dev) {
      closeSync(fd);
      throw new Error(`${path} changed while it was opened`);
    }
    return new WalSync(fd, path);
  }

  /** The fsync failure that stopped acknowledgements, if one did. */
  get failure(): Error | undefined {
    return this.failed;
  }

  /** Resolves once everything committed before this call is on disk. */
  sync(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.closed) return Promise.reject(new Error('WAL sync is closed'));
    if (!this.running) return (this.running = this.run());
    // The running fsync may have started before the caller's commit: the next one covers it.
    this.next ??= this.running.then(
      () => this.startNext(),
      () => this.startNext(),
    );
    return this.next;
  }

  /** Waits for the fsyncs under way, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([this.running, this.next]);
    closeSync(this.fd);
  }

  private startNext(): Promise<void> {
    this.next = undefined;
    if (this.failed) return Promise.reject(this.failed);
    return (this.running = this.run());
  }

  private run(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      fsync(this.fd, (err) => {
        this.running = undefined;
        if (err) {
          this.failed = new Error(`fsync of ${this.path} failed: ${err.message}`);
          Object.assign(this.failed, { code: err.code });
          reject(this.failed);
        } else resolve();
      });
    });
  }
}
