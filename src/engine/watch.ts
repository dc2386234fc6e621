import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import type { RuleCoordinator } from './coordinator.js';
import { ruleSetVersion } from './rule-set.js';
import { folderFingerprint } from './test-gate.js';

export interface WatchOptions {
  /** Quiet time after the last change before reloading (editors and ConfigMaps write in bursts). */
  debounceMs: number;
  /** Content-hash poll, because watchers can miss a ConfigMap's `..data` symlink swap; 0 = off. */
  pollIntervalMs: number;
  log: Logger;
}

/**
 * Reloads the rules folder when it changes: any add, change, unlink or rename under it (symlinks
 * followed, hidden `..data` swaps included), debounced, backed by a content-hash poll.
 */
export class RulesWatcher {
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    private readonly rules: RuleCoordinator,
    private readonly o: WatchOptions,
  ) {}

  async start(): Promise<void> {
    const dirs = [this.rules.dir, ...(this.rules.loadOptions.shadowDir ? [this.rules.loadOptions.shadowDir] : [])];
    this.watcher = watch(dirs, { ignoreInitial: true, followSymlinks: true, persistent: true });
    this.watcher.on('all', () => this.changed());
    this.watcher.on('error', (err) => this.o.log.warn({ err: String(err) }, 'rules watcher error; the content-hash poll still runs'));
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
    if (this.o.pollIntervalMs > 0) {
      this.poll = setInterval(
        () => void this.check().catch((err: unknown) => this.o.log.warn({ err: String(err) }, 'rules poll failed')),
        this.o.pollIntervalMs,
      );
      this.poll.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.debounce) clearTimeout(this.debounce);
    if (this.poll) clearInterval(this.poll);
    await this.watcher?.close();
  }

  private changed(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.rules.reload('watch');
    }, this.o.debounceMs);
    this.debounce.unref();
  }

  /** Reloads when the folder's content differs from both the active rules and the last failed try. */
  private async check(): Promise<void> {
    if (this.debounce || this.checking) return;
    this.checking = true;
    try {
      const version = await ruleSetVersion(this.rules.dir, this.rules.loadOptions);
      const last = this.rules.lastReload;
      // A version that failed is tried again only when something else in the folder (a test, a fixture) changed.
      const failed = last.version === version && !last.ok && (last.testsFailedAt === undefined || last.testsFailedAt === folderFingerprint(this.rules.dir));
      if (version !== this.rules.current.version && !failed) await this.rules.reload('poll');
    } finally {
      this.checking = false;
    }
  }
}
