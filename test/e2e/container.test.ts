import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { eventFrom, repoRoot } from '../support/fixtures.js';
import { postEvent } from '../support/http.js';
import { tempDir } from '../support/tmp.js';

const run = promisify(execFile);
const SECRET = 'image-test-secret-0123456789';
/** The image's `node` user. */
const NODE_UID = 1000;
/** Root can drop to the image's user for the run, as the container does; anyone else runs as themselves. */
const asNodeUser = process.getuid?.() === 0;

interface Running {
  proc: ChildProcess;
  url: string;
  logs: Array<{ msg: string; [k: string]: unknown }>;
  waitFor(match: (l: { msg: string; [k: string]: unknown }) => boolean, timeoutMs?: number): Promise<void>;
}

/** Starts the built app as the image's ENTRYPOINT and CMD would (serve, config from NOTION_RULES_CONFIG). */
async function startImage(app: string, env: Record<string, string>): Promise<Running> {
  const argv = [process.execPath, 'dist/cli/main.js', 'serve'];
  const cmd = asNodeUser ? ['setpriv', `--reuid=${NODE_UID}`, `--regid=${NODE_UID}`, '--clear-groups', ...argv] : argv;
  const proc = spawn(cmd[0]!, cmd.slice(1), { cwd: app, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const logs: Running['logs'] = [];
  const waiters: Array<{ match: (l: Running['logs'][number]) => boolean; resolve: () => void }> = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const entry = JSON.parse(line) as Running['logs'][number];
    logs.push(entry);
    for (const w of [...waiters]) {
      if (!w.match(entry)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  const waitFor: Running['waitFor'] = (match, timeoutMs = 30_000) =>
    logs.some(match)
      ? Promise.resolve()
      : new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`no such log line in ${timeoutMs} ms: ${JSON.stringify(logs.slice(-5))}`)), timeoutMs);
          waiters.push({ match, resolve: () => (clearTimeout(t), resolve()) });
        });
  const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`exited ${code}`))));
  await Promise.race([waitFor((l) => l.msg === 'notion-rules listening'), exited]);
  const url = String(logs.find((l) => l.msg === 'notion-rules listening')!.url);
  return { proc, url, logs, waitFor };
}

async function stop(r: Running): Promise<void> {
  const done = new Promise((resolve) => r.proc.once('exit', resolve));
  r.proc.kill('SIGTERM');
  await done;
}

describe('container image steps', () => {
  it('scripts/image-steps.sh mirrors every RUN npm and COPY of the Dockerfile; the image runs as node under tini', () => {
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    const script = readFileSync(join(repoRoot, 'scripts/image-steps.sh'), 'utf8');
    const steps = dockerfile
      .split('\n')
      .filter((l) => /^(RUN npm|COPY )/.test(l))
      .map((l) => l.trim());
    expect(steps.length).toBeGreaterThan(6);
    for (const step of steps) expect(script, `image-steps.sh lacks "# ${step}"`).toContain(`# ${step}`);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/\nUSER node\n/);
    expect(runtime).toMatch(/ENTRYPOINT \["\/usr\/bin\/tini", "--", "node", "dist\/cli\/main\.js"\]/);
    expect(runtime).toMatch(/LABEL org\.opencontainers\.image\.title="notion-rules"/);
    expect(runtime).toContain('CMD ["node", "dist/cli/health-probe.js"]');
    expect(readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['node_modules', '.git', 'data']));
  });

  it('as the image runs: not root, a read-only rules mount hot-reloaded, the store on the volume kept across a restart, probes on the configured port', async () => {
    const dest = tempDir('nr-image-');
    await run('bash', [join(repoRoot, 'scripts/image-steps.sh'), dest], { maxBuffer: 64 * 1024 * 1024 });
    const app = join(dest, 'app');
    // Production install: no dev dependencies; the shipped rules folder holds no rule.
    expect(() => readFileSync(join(app, 'node_modules/vitest/package.json'))).toThrow();
    expect(() => readFileSync(join(app, 'node_modules/typescript/package.json'))).toThrow();
    const { stdout: shipped } = await run(process.execPath, ['dist/cli/main.js', 'validate', '--rules', 'rules'], { cwd: app });
    expect(shipped).toMatch(/^ok: 0 rules in 0 files/);

    // A rules folder mounted read-only, a data volume owned by the image's user, the app owned by root.
    const mounted = join(dest, 'mounted-rules');
    mkdirSync(mounted);
    writeFileSync(join(mounted, 'a.yaml'), 'id: first\non: page.created\nactions:\n  - log: { message: "first {{ event.id }}" }\n');
    chmodSync(mounted, 0o555);
    chmodSync(join(mounted, 'a.yaml'), 0o444);
    const data = join(dest, 'data');
    chmodSync(dest, 0o755);
    if (asNodeUser) chownSync(data, NODE_UID, NODE_UID);

    const env = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      NOTION_RULES_CONFIG: join(app, 'config.yaml'),
      NOTION_RULES_STORE: `sqlite:${join(data, 'notion-rules.db')}`,
      NOTION_RULES_DIR: mounted,
      NOTION_WEBHOOK_SECRET: SECRET,
      HOST: '127.0.0.1',
      PORT: '0',
    };
    let server = await startImage(app, env);
    try {
      if (asNodeUser) {
        const status = readFileSync(`/proc/${server.proc.pid}/status`, 'utf8');
        expect(/^Uid:\s+(\d+)/m.exec(status)![1]).toBe(String(NODE_UID));
      }
      expect((await fetch(`${server.url}/livez`)).status).toBe(200);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      // The HEALTHCHECK entry point finds the port the config gives (here through PORT, as the image's env may).
      const port = new URL(server.url).port;
      await expect(run(process.execPath, ['dist/cli/health-probe.js'], { cwd: app, env: { ...env, PORT: port } })).resolves.toBeTruthy();

      const first = eventFrom('page.created.json');
      expect((await postEvent(`${server.url}/webhook`, first, SECRET)).status).toBe(200);
      await server.waitFor((l) => l.msg === `first ${String(first.id)}`);

      // A rule added to the mounted folder (as a ConfigMap update would) is live within seconds.
      chmodSync(mounted, 0o755);
      writeFileSync(join(mounted, 'b.yaml'), 'id: second\non: page.created\nactions:\n  - log: { message: "second {{ event.id }}" }\n');
      chmodSync(mounted, 0o555);
      await server.waitFor((l) => l.msg === 'rules reloaded', 20_000);
      const next = eventFrom('page.created.json');
      await postEvent(`${server.url}/webhook`, next, SECRET);
      await server.waitFor((l) => l.msg === `second ${String(next.id)}`);

      // Restarted on the same volume: what was stored is still there (a redelivery is a duplicate).
      await stop(server);
      server = await startImage(app, env);
      expect((await postEvent(`${server.url}/webhook`, first, SECRET)).body).toMatchObject({ ok: true, duplicate: true });
    } finally {
      await stop(server);
    }
  }, 600_000);
});
