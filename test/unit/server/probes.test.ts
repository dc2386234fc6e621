import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { probeRoutes } from '../../../src/server/routes/probes.js';

/** The probes over a store whose health is given (a store that cannot be reached is costly to make for real). */
async function probes(health: () => Promise<{ ok: boolean; error?: string }>, stopping = false) {
  const app = Fastify();
  await app.register(probeRoutes, {
    store: { kind: 'sqlite', health: async () => ({ kind: 'sqlite', schemaVersion: 7, ...(await health()) }) },
    stopping: () => stopping,
    rulesVersion: () => 'abc123',
  });
  return app;
}

describe('/readyz', () => {
  it('is 503 with the reason while the store is unavailable or throws, and while shutting down; /livez stays 200', async () => {
    const down = await probes(async () => ({ ok: false, error: 'disk I/O error' }));
    expect((await down.inject('/readyz')).json()).toEqual({ status: 'not ready', reasons: ['store unavailable: disk I/O error'] });
    expect((await down.inject('/readyz')).statusCode).toBe(503);
    expect((await down.inject('/livez')).statusCode).toBe(200);
    const throws = await probes(async () => {
      throw new Error('connection refused');
    });
    expect((await throws.inject('/readyz')).json()).toEqual({ status: 'not ready', reasons: ['store unavailable: connection refused'] });
    const stopping = await probes(async () => ({ ok: true }), true);
    expect((await stopping.inject('/readyz')).json()).toEqual({ status: 'not ready', reasons: ['shutting down'] });
  });
});
