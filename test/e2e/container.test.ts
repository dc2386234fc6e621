import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/fixtures.js';
import { tempDir } from '../support/tmp.js';

const run = promisify(execFile);

describe('container image steps', () => {
  it('scripts/image-steps.sh mirrors every RUN npm and COPY of the Dockerfile', () => {
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    const script = readFileSync(join(repoRoot, 'scripts/image-steps.sh'), 'utf8');
    const steps = dockerfile
      .split('\n')
      .filter((l) => /^(RUN npm|COPY )/.test(l))
      .map((l) => l.trim());
    expect(steps.length).toBeGreaterThan(6);
    for (const step of steps) expect(script, `image-steps.sh lacks "# ${step}"`).toContain(`# ${step}`);
  });

  it('production install, build, start and /health answer, as in the image', async () => {
    const dest = tempDir('nr-image-');
    await run('bash', [join(repoRoot, 'scripts/image-steps.sh'), dest], { maxBuffer: 64 * 1024 * 1024 });
    const app = join(dest, 'app');
    // Production install: no dev dependencies.
    expect(() => readFileSync(join(app, 'node_modules/vitest/package.json'))).toThrow();
    expect(() => readFileSync(join(app, 'node_modules/typescript/package.json'))).toThrow();

    const env = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      NOTION_RULES_STORE: `sqlite:${join(dest, 'data/notion-rules.db')}`,
      NOTION_RULES_DIR: join(app, 'rules'),
      NOTION_WEBHOOK_SECRET: 'image-test-secret',
      HOST: '127.0.0.1',
      PORT: '0',
    };
    const proc = spawn(process.execPath, ['dist/cli/main.js', 'serve', '--config', join(app, 'config.yaml')], {
      cwd: app,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        proc.once('exit', (code) => reject(new Error(`exited ${code}`)));
        createInterface({ input: proc.stdout! }).on('line', (line) => {
          const entry = JSON.parse(line) as { msg: string; url?: string };
          if (entry.msg === 'notion-rules listening') resolve(entry.url!);
        });
      });
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', counts: { queueDepth: 0 } });
      // The HEALTHCHECK entry point agrees.
      const port = new URL(url).port;
      await expect(run(process.execPath, ['dist/cli/health-probe.js'], { cwd: app, env: { ...env, PORT: port } })).resolves.toBeTruthy();
    } finally {
      proc.kill('SIGTERM');
    }
  }, 600_000);
});
