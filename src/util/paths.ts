import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package root, from both src/util (tests) and dist/util (built). */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

export function readSchema<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(`${packageRoot}schemas/${name}`, 'utf8')) as T;
}

export const version: string = (JSON.parse(readFileSync(`${packageRoot}package.json`, 'utf8')) as { version: string }).version;
