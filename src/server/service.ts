import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { buildApp } from './app.js';
import { createLogger } from './logger.js';

export interface ServiceOptions {
  log?: Logger;
  handshakeOnly?: boolean;
}

export interface Service {
  app: FastifyInstance;
  store: Store;
  log: Logger;
  /** `http://host:port` actually bound (port 0 picks a free one). */
  url: string;
  /** Stop accepting, finish in-flight requests (bounded by server.shutdownTimeoutMs), close the store. */
  stop(): Promise<void>;
}

/** Opens the store, builds the HTTP app and listens. */
export async function startService(config: Config, options: ServiceOptions = {}): Promise<Service> {
  const log = options.log ?? createLogger(config.log.level);
  const store = await openStore(config.store.url);
  let app: FastifyInstance;
  try {
    app = await buildApp({ config, store, log, handshakeOnly: options.handshakeOnly ?? false });
    await app.listen({ host: config.server.host, port: config.server.port });
  } catch (err) {
    await store.close();
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.server.port;
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info(
    { url, store: store.kind, handshakeOnly: options.handshakeOnly ?? false, unsigned: config.security.allowUnsigned },
    'notion-rules listening',
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('shutting down: no longer accepting requests');
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, config.server.shutdownTimeoutMs).unref());
      await Promise.race([app.close(), timeout]);
      await store.close();
      log.info('stopped');
    })());
  return { app, store, log, url, stop };
}
