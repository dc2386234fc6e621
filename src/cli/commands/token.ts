import { loadConfig } from '../../config/load.js';
import { VERIFICATION_TOKEN_KEY } from '../../server/routes/webhook.js';
import { openStore } from '../../store/open.js';
import { CliError, print } from '../output.js';

/** `notion-rules token`: prints the verification token Notion sent in its handshake. */
export async function tokenCommand(opts: { config: string }): Promise<void> {
  const config = loadConfig(opts.config, { lenient: true });
  const store = await openStore(config.store.url);
  try {
    const token = await store.getMeta(VERIFICATION_TOKEN_KEY);
    if (!token) {
      throw new CliError(
        `no verification token received yet in ${config.store.url}: start \`notion-rules serve --handshake\` and create the webhook subscription in Notion`,
      );
    }
    print(token);
  } finally {
    await store.close();
  }
}
