import { readFileSync } from 'node:fs';
import { sign } from '../../receiver/sign.js';
import { CliError, EXIT_USAGE, print } from '../output.js';

/** `notion-rules sign --secret S FILE`: prints the X-Notion-Signature value for FILE's exact bytes. */
export function signCommand(file: string, opts: { secret?: string }): void {
  const secret = opts.secret ?? process.env.NOTION_WEBHOOK_SECRET;
  if (!secret) throw new CliError('sign: give --secret S (or set NOTION_WEBHOOK_SECRET)', EXIT_USAGE);
  let body: Buffer;
  try {
    body = readFileSync(file === '-' ? 0 : file);
  } catch (err) {
    throw new CliError(`sign: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT_USAGE);
  }
  print(sign(secret, body));
}
