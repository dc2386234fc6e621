import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packageRoot } from '../../util/paths.js';
import { CliError, EXIT_PROBLEMS, print } from '../output.js';
import { SCAFFOLD } from '../scaffold.js';

/**
 * `notion-rules init DIR`: a folder to start from — config.yaml, one rule with its test and
 * fixture, and the JSON Schemas the files' modelines point at (for completion in editors).
 * Writes nothing when DIR already holds any of these files.
 */
export function initCommand(dir: string, opts: { json?: boolean }): void {
  const files = Object.keys(SCAFFOLD).map((name) => join(dir, name));
  const schemas = ['config.schema.json', 'rule.schema.json', 'rule-test.schema.json'].map((name) => join(dir, 'schemas', name));
  const taken = [...files, ...schemas].filter((f) => existsSync(f));
  if (taken.length) throw new CliError(`init: ${taken.join(', ')} already exist${taken.length === 1 ? 's' : ''}; nothing was written`, EXIT_PROBLEMS);
  if (existsSync(join(dir, 'rules')) && readdirSync(join(dir, 'rules')).some((n) => !n.startsWith('.'))) {
    throw new CliError(`init: ${join(dir, 'rules')} is not empty; nothing was written`, EXIT_PROBLEMS);
  }
  for (const [name, text] of Object.entries(SCAFFOLD)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  for (const target of schemas) {
    mkdirSync(join(target, '..'), { recursive: true });
    copyFileSync(join(packageRoot, 'schemas', target.slice(target.lastIndexOf('/') + 1)), target);
  }
  const written = [...files, ...schemas].map((f) => relative(process.cwd(), f) || f);
  if (opts.json) {
    print(JSON.stringify({ dir, files: written }));
    return;
  }
  for (const f of written) print(`wrote ${f}`);
  print('');
  print(`next: cd ${dir} && npx notion-rules validate && npx notion-rules test`);
  print('      NOTION_WEBHOOK_SECRET=… npx notion-rules serve     (the rule logs every new page)');
}
