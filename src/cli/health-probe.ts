/**
 * The container's HEALTHCHECK: exit 0 when GET /livez answers 2xx on the configured port
 * (server.port of $NOTION_RULES_CONFIG or the file given as argument, PORT winning as in the
 * server). A separate small entry point, so the probe does not load the whole CLI every 30 s.
 */
import { loadConfig } from '../config/load.js';

const file = process.argv[2] ?? process.env.NOTION_RULES_CONFIG ?? 'config.yaml';
let host = '127.0.0.1';
let port = process.env.PORT ?? '3000';
try {
  const { server } = loadConfig(file, { lenient: true });
  port = String(server.port);
  if (server.host !== '0.0.0.0' && server.host !== '::') host = server.host.includes(':') ? `[${server.host}]` : server.host;
} catch {
  // no readable config: the defaults above
}
const controller = new AbortController();
const timer = setTimeout(() => controller.abort(), 4000);
try {
  const res = await fetch(`http://${host}:${port}/livez`, { signal: controller.signal });
  process.exitCode = res.ok ? 0 : 1;
} catch {
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
}
