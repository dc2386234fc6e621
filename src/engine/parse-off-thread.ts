import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parseRuleFile, type ParsedFile } from './rule-file.js';

/** A batch of rule files whose parse takes longer than this is refused (and the parser restarted). */
const PARSE_TIMEOUT_MS = 10_000;

const workerFile = fileURLToPath(new URL('./rule-parse-worker.js', import.meta.url));

/**
 * Parses rule files in a worker thread, so a large rules folder never stalls requests: the server
 * keeps answering while a reload reads. One worker, started on first use and kept (unref'd). A
 * batch that exhausts its heap or its time ends that worker and is parsed again file by file, so
 * only the hostile file fails; the next parse starts a new worker. Run from TypeScript sources
 * (no compiled worker next to this module), files are parsed in-thread.
 */
export class OffThreadParser {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (p: ParsedFile[]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  /** Parses several files in one round trip; rejects only for a file that cannot be parsed at all. */
  async parseAll(texts: string[]): Promise<Array<ParsedFile | Error>> {
    if (!existsSync(workerFile)) return texts.map(parseRuleFile);
    try {
      return await this.send(texts);
    } catch (err) {
      if (texts.length === 1) return [err as Error];
      const one: Array<ParsedFile | Error> = [];
      for (const text of texts)
        one.push(
          await this.send([text]).then(
            (p) => p[0]!,
            (e: Error) => e,
          ),
        );
      return one;
    }
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }

  private send(texts: string[]): Promise<ParsedFile[]> {
    const worker = (this.worker ??= this.spawn());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(worker, new Error(`parsing took longer than ${PARSE_TIMEOUT_MS / 1000} s`)), PARSE_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      worker.ref(); // a parse in progress keeps the process alive
      worker.postMessage({ id, texts });
    });
  }

  private spawn(): Worker {
    const worker = new Worker(workerFile, { resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 16 } });
    worker.unref();
    worker.on('message', (m: { id: number; parsed: ParsedFile[] }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      clearTimeout(p.timer);
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      p.resolve(m.parsed);
    });
    worker.on('error', (err) => this.fail(worker, err.message.includes('memory') ? new Error('the parser ran out of memory') : err));
    worker.on('exit', () => this.fail(worker, new Error('the parser stopped')));
    return worker;
  }

  /** Fails every parse in progress on `worker` and lets the next parse start a new one. */
  private fail(worker: Worker, err: Error): void {
    if (this.worker === worker) this.worker = undefined;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
    void worker.terminate();
  }
}
