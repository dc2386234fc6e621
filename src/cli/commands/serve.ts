import { loadConfig } from '../../config/load.js';
import { limitHeapGrowth } from '../../server/heap.js';
import { startService } from '../../server/service.js';
import { CliError, EXIT_USAGE } from '../output.js';

export interface ServeOptions {
  config: string;
  handshake?: boolean;
}

/** `notion-rules serve`: runs until SIGTERM/SIGINT, then shuts down gracefully. */
export async function serve(opts: ServeOptions): Promise<void> {
  const config = loadConfig(opts.config);
  const handshakeOnly = opts.handshake === true;
  if (!handshakeOnly && !config.notion.verificationToken && !config.security.allowUnsigned) {
    throw new CliError(
      `${config.source}: notion.verificationToken is not set: set NOTION_WEBHOOK_SECRET to your subscription's verification token ` +
        '(no token yet? run `notion-rules serve --handshake` and create the subscription in Notion; ' +
        'for local testing only: security.allowUnsigned: true)',
      EXIT_USAGE,
    );
  }
  // Before the rules load: their parse garbage is collected under the same growth.
  const heapGrowth = limitHeapGrowth(config.server.heapGrowthPercent);
  const service = await startService(config, { handshakeOnly });
  service.log.debug({ heapGrowth }, 'heap growth set');
  if (handshakeOnly) {
    service.log.warn("handshake-only mode: waiting for Notion's verification token; events are refused until you restart with NOTION_WEBHOOK_SECRET set");
  }
  // Logged (and counted) by the service, like every other reload trigger.
  process.on('SIGHUP', () => void service.rules.reload('SIGHUP'));
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      service.log.info({ signal }, 'signal received');
      void service.stop().then(resolve, resolve);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}
