import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A scripted failure for the next matching requests. */
export type Fault =
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'hang' }
  /** Answer normally, but only after `ms`. */
  | { kind: 'slow'; ms: number }
  /** Do the work at once (the far end succeeded), but send the answer only after `ms`. */
  | { kind: 'late'; ms: number }
  /** Send the status line, the headers and part of the body, then drop the connection. */
  | { kind: 'cut' };

export interface Recorded {
  method: string;
  path: string;
  /** The request target as sent: path and query. */
  url: string;
  body: unknown;
  headers: IncomingMessage['headers'];
  at: number;
  /** What the fake answered. */
  status: number;
}

/** The shared plumbing of the fakes: a real HTTP server on 127.0.0.1 with scripted faults. */
export class HttpFake {
  readonly requests: Recorded[] = [];
  /** Requests that have arrived, answered or not yet. */
  arrived = 0;
  private readonly faults: Fault[] = [];
  private readonly targeted: Array<{ match: (req: { method: string; path: string }) => boolean; fault: Fault }> = [];
  private persistent: Fault | undefined;
  private readonly hung = new Set<ServerResponse>();
  private server: Server | undefined;
  private readonly waiters: Array<{ check: () => boolean; resolve: () => void }> = [];

  constructor(private readonly handle: (req: Recorded) => { status: number; body: unknown; headers?: Record<string, string> }) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.onRequest(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next `times` requests get `fault`. */
  failNext(times: number, fault: Fault): void {
    for (let i = 0; i < times; i++) this.faults.push(fault);
  }

  /** The next request that `match`es gets `fault` (others are answered as usual). */
  failNextWhere(match: (req: { method: string; path: string }) => boolean, fault: Fault): void {
    this.targeted.push({ match, fault });
  }

  /** Every request gets `fault` until `recover()`. */
  failAll(fault: Fault): void {
    this.persistent = fault;
  }

  recover(): void {
    this.persistent = undefined;
    this.faults.length = 0;
    this.targeted.length = 0;
  }

  /** Resolves once `check()` holds (checked after every request). */
  until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake: condition not met in ${timeoutMs} ms (${this.requests.length} requests seen)`)), timeoutMs);
      this.waiters.push({ check, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.arrived++;
    this.notify();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    const type = req.headers['content-type'] ?? '';
    let body: unknown = text;
    if (type.includes('json') && text) body = JSON.parse(text);
    else if (type.includes('x-www-form-urlencoded')) body = Object.fromEntries(new URLSearchParams(text));
    const rec: Recorded = {
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0]!,
      url: req.url ?? '/',
      body,
      headers: req.headers,
      at: Date.now(),
      status: 0,
    };

    const aimed = this.targeted.findIndex((t) => t.match(rec));
    const fault = (aimed >= 0 ? this.targeted.splice(aimed, 1)[0]!.fault : undefined) ?? this.faults.shift() ?? this.persistent;
    if (fault?.kind === 'hang') {
      rec.status = -1;
      this.requests.push(rec);
      this.hung.add(res);
      res.on('close', () => this.hung.delete(res));
      this.notify();
      return;
    }
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));
    const answer = fault?.kind === 'status' ? { status: fault.status, body: fault.body ?? {}, headers: fault.headers } : this.handle(rec);
    if (fault?.kind === 'late') await new Promise((r) => setTimeout(r, fault.ms));
    rec.status = answer.status;
    this.requests.push(rec);
    if (fault?.kind === 'cut') {
      const text = JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
      res.write(text.slice(0, Math.floor(text.length / 2)), () => res.destroy());
      this.notify();
      return;
    }
    res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
    res.end(JSON.stringify(answer.body));
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) {
      if (w.check()) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }
}
