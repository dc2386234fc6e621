/**
 * The reference: the fastest honest receiver of the same requests — a bare Fastify route that
 * parses the JSON body with Fastify's own parser and answers 200 (no signature, no store). Run as
 * its own process, like notion-rules, so both pay the same costs. notion-rules parses the same
 * body (after checking its signature over the raw bytes): like is compared with like.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
app.post('/webhook', async (req) => ({ ok: typeof req.body === 'object' }));
await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
process.stdout.write(`listening http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
