import { loadConfig } from '../../config/load.js';
import { VERIFICATION_TOKEN_KEY } from '../../server/routes/webhook.js';
import { openStore } from '../../store/open.js';
import { CliError, print } from '../output.js';

/**
 * `notion-rules token`: prints the verification token Notion sent in its handshake (the first one
 * received is kept). `--forget` drops it, so that the next handshake is kept instead.
 */
export async function tokenCommand(opts: { config: string; forget?: boolean; json?: boolean }): Promise<void> {
  const config = loadConfig(opts.config, { lenient: true });
  const store = await openStore(config.store.url);
  try {
    if (opts.forget) {
      await store.setMeta(VERIFICATION_TOKEN_KEY, '');
      print(opts.json ? JSON.stringify({ forgotten: true }) : 'the stored verification token is forgotten: the next handshake Notion sends is kept');
      return;
    }
    const token = await store.getMeta(VERIFICATION_TOKEN_KEY);
    if (!token) {
      throw new CliError(
        `no verification token received yet in ${config.store.url}: start \`notion-rules serve --handshake\` and create the webhook subscription in Notion`,
      );
    }
    print(opts.json ? JSON.stringify({ token }) : token);
  } finally {
    await store.close();
  }
}
