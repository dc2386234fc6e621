import { existsSync } from 'node:fs';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';

/**
 * The configuration for the authoring commands (validate, test, run): the config file when it
 * exists, read without requiring secrets; defaults otherwise.
 */
export function authoringConfig(file: string, explicit: boolean): Config {
  if (!explicit && !existsSync(file)) return loadConfig(undefined, { lenient: true });
  return loadConfig(file, { lenient: true });
}
