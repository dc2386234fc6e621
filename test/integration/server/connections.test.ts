import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { SECRET, startTestService, testConfig } from '../../support/server.js';

/** A raw TCP connection to `url`, with what it received and a promise of its close. */
function open(url: string): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    socket.on('error', () => undefined); // a reset is one way of being closed
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

describe('the client address (server.trustProxy)', () => {
  it('is the socket’s by default: a rotating X-Forwarded-For does not escape the rate limit', async () => {
    const svc = await startTestService(testConfig({ server: { rateLimit: { max: 3, timeWindowMs: 60_000 } }, log: { level: 'warn' } }));
    const answers = [];
    for (let i = 0; i < 6; i++)
      answers.push((await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET, { 'x-forwarded-for': `203.0.113.${i}` })).status);
    expect(answers).toEqual([200, 200, 200, 429, 429, 429]);
  });

  it('behind a listed proxy, X-Forwarded-For names the client', async () => {
    const svc = await startTestService(
      testConfig({ server: { trustProxy: ['127.0.0.1'], rateLimit: { max: 3, timeWindowMs: 60_000 } }, log: { level: 'warn' } }),
    );
    const answers = [];
    for (let i = 0; i < 6; i++)
      answers.push((await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET, { 'x-forwarded-for': `203.0.113.${i}` })).status);
    expect(answers).toEqual([200, 200, 200, 200, 200, 200]);
  });

  it('a hop count is refused by the config schema (it cannot tell a proxy from a client)', () => {
    expect(() => testConfig({ server: { trustProxy: 1 } })).toThrow(/server\.trustProxy/);
  });
});

describe('slow and idle clients cannot hold connections', () => {
  it('a body sent a byte at a time is cut off at server.requestTimeoutMs with 408', async () => {
    const svc = await startTestService(testConfig({ server: { requestTimeoutMs: 1000, headersTimeoutMs: 1000 }, log: { level: 'warn' } }));
    const conn = await open(svc.url);
    conn.socket.write('POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    const drip = setInterval(() => conn.socket.writable && conn.socket.write('1\r\n{\r\n'), 100);
    await conn.closed;
    clearInterval(drip);
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a connection that sends nothing is closed at server.headersTimeoutMs', async () => {
    const svc = await startTestService(testConfig({ server: { headersTimeoutMs: 1000 }, log: { level: 'warn' } }));
    const idle = await open(svc.url);
    await idle.closed;
    expect(idle.received()).toMatch(/^(|HTTP\/1\.1 408 .*)$/s);
    expect((await fetch(`${svc.url}/health`)).status).toBe(200);
  });

  it('beyond server.maxConnections, connections are closed at once; those within it are served', async () => {
    const svc = await startTestService(testConfig({ server: { maxConnections: 10 }, log: { level: 'warn' } }));
    const conns = await Promise.all(Array.from({ length: 30 }, () => open(svc.url)));
    let closedCount = 0;
    await new Promise<void>((resolve) => conns.forEach((c) => void c.closed.then(() => ++closedCount === 20 && resolve())));
    const alive = conns.filter((c) => !c.socket.destroyed);
    expect(alive).toHaveLength(10);
    for (const c of alive) c.socket.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await Promise.all(alive.map((c) => c.closed));
    expect(alive.map((c) => c.received().split(' ')[1])).toEqual(Array(10).fill('200'));
  });
});
