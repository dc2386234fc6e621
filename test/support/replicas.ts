import { join } from 'node:path';
import { writeConfig } from './child.js';
import { freshDatabase } from './pg.js';
import { rulesDir } from './rules.js';
import { tempDir } from './tmp.js';

/** A config file for replicas of a fresh PostgreSQL database with `rules`; `extra` adds or overrides top-level sections. */
export async function replicaConfig(rules: Record<string, string>, extra: Record<string, unknown> = {}): Promise<{ config: string; db: string }> {
  const dir = tempDir();
  const db = await freshDatabase();
  const config = writeConfig(dir, {
    server: { host: '127.0.0.1', port: 0 },
    store: { url: db },
    rules: { dir: rulesDir(rules, join(dir, 'rules')), watch: false },
    log: { level: 'info' },
    ...extra,
  });
  return { config, db };
}
