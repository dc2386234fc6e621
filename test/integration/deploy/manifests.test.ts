import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../../../src/config/load.js';
import { loadRules } from '../../../src/engine/load.js';
import { repoRoot } from '../../support/fixtures.js';
import { parseProm } from '../../support/prom.js';
import { startTestService, testConfig } from '../../support/server.js';

// Manifests are free-form YAML, read as such.
type Obj = Record<string, any>;

const deploy = (...p: string[]) => join(repoRoot, 'deploy', ...p);
const yamlFile = (...p: string[]) => parse(readFileSync(deploy(...p), 'utf8')) as Obj;

/** `kubectl kustomize DIR` when kubectl is installed; undefined otherwise (the files are then checked as written). */
function render(dir: string): Obj[] | undefined {
  try {
    const out = execFileSync('kubectl', ['kustomize', deploy(dir)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return parseAllDocuments(out).map((d) => d.toJS() as Obj);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** What the pod's configuration says, read by notion-rules' own loader (variables left unset). */
function podConfig(file: string) {
  return parseConfig(readFileSync(file, 'utf8'), file, { env: {}, lenient: true });
}

/** The `${file:…}` paths a configuration reads. */
const fileRefs = (text: string) => [...text.matchAll(/\$\{file:([^}]+)\}/g)].map((m) => m[1]!);

function checkDeployment(objects: Obj[], replicas: number) {
  const deployment = objects.find((o) => o.kind === 'Deployment')!;
  expect(deployment.spec.replicas).toBe(replicas);
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers as Obj[];
  const port = container!.ports.find((p: Obj) => p.name === 'http').containerPort;
  const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'notion-rules-config')!.data['config.yaml'] as string;
  expect(parse(config).server.port).toBe(port); // the probes' port is the one the server listens on
  expect(container!.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'http' });
  expect(container!.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
  expect(container!.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
  expect(pod.securityContext.runAsNonRoot).toBe(true);
  const mounts = Object.fromEntries((container!.volumeMounts as Obj[]).map((m) => [m.name, m])) as Obj;
  expect(Object.values(mounts).some((m) => m.subPath)).toBe(false); // subPath mounts never update
  expect(mounts.rules).toMatchObject({ mountPath: parse(config).rules.dir, readOnly: true });
  const volumes = Object.fromEntries((pod.volumes as Obj[]).map((v) => [v.name, v])) as Obj;
  expect(volumes.rules.configMap.name).toBe('notion-rules-rules');
  expect(objects.some((o) => o.kind === 'ConfigMap' && o.metadata.name === 'notion-rules-rules')).toBe(true);
  // Every secret file the configuration reads is in the mounted Secret.
  expect(volumes.secrets.secret.secretName).toBe('notion-rules-secrets');
  for (const ref of fileRefs(config)) expect(ref.startsWith(`${mounts.secrets.mountPath}/`)).toBe(true);
  expect(container!.env.find((e: Obj) => e.name === 'NOTION_RULES_CONFIG').value).toBe(`${mounts.config.mountPath}/config.yaml`);
  return { deployment, container: container!, volumes, config };
}

describe('deploy/kubernetes', () => {
  // The files as written: resources and generated ConfigMaps assembled as kustomize would.
  const base = yamlFile('kubernetes/base/kustomization.yaml');
  const written: Obj[] = [
    ...(base.resources as string[]).map((f) => yamlFile('kubernetes/base', f)),
    { kind: 'ConfigMap', metadata: { name: 'notion-rules-config' }, data: { 'config.yaml': readFileSync(deploy('kubernetes/base/config.yaml'), 'utf8') } },
    { kind: 'ConfigMap', metadata: { name: 'notion-rules-rules' }, data: {} },
  ];

  it('base (SQLite): probes on the configured port, resources, non-root, the rules ConfigMap mounted whole and read-only, secrets as files, a volume claim', () => {
    for (const gen of base.configMapGenerator as Obj[]) for (const f of gen.files as string[]) expect(existsSync(deploy('kubernetes/base', f)), f).toBe(true);
    expect(base.generatorOptions.disableNameSuffixHash).toBe(true); // an edit updates the mounted files in place
    for (const objects of [written, render('kubernetes/base')].filter((o): o is Obj[] => o !== undefined)) {
      const { deployment, volumes } = checkDeployment(objects, 1);
      expect(deployment.spec.strategy.type).toBe('Recreate'); // one SQLite writer
      const claim = objects.find((o) => o.kind === 'PersistentVolumeClaim')!;
      expect(volumes.data.persistentVolumeClaim.claimName).toBe(claim.metadata.name);
    }
    const config = podConfig(deploy('kubernetes/base/config.yaml'));
    expect(config.rules.watch).toBe(true);
    expect(loadRules(deploy('kubernetes/base/rules'), { evalTimeoutMs: 100 }).problems).toEqual([]);
  });

  it('the PostgreSQL overlay: two replicas rolling one at a time, the store URL from the Secret, no volume claim', () => {
    const overlay = yamlFile('kubernetes/overlays/postgres/kustomization.yaml');
    expect(overlay.resources).toEqual(['../../base']);
    const patch = yamlFile('kubernetes/overlays/postgres/deployment.yaml');
    expect(patch.spec.replicas).toBe(2);
    const rendered = render('kubernetes/overlays/postgres');
    if (!rendered) return; // no kubectl here: the patch itself was checked above
    const { deployment, container, volumes } = checkDeployment(rendered, 2);
    expect(deployment.spec.strategy).toMatchObject({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } });
    expect(container.env.find((e: Obj) => e.name === 'NOTION_RULES_STORE').valueFrom.secretKeyRef).toEqual({ name: 'notion-rules-secrets', key: 'store-url' });
    expect(volumes.data).toEqual({ name: 'data', emptyDir: {} });
    expect(rendered.some((o) => o.kind === 'PersistentVolumeClaim')).toBe(false);
  });
});

describe('deploy/compose', () => {
  for (const variant of ['sqlite', 'postgres']) {
    it(`${variant}: every notion-rules service is probed, mounts the rules read-only and reads its secrets from files`, () => {
      const compose = yamlFile(`compose/${variant}/compose.yaml`);
      const replicas = Object.entries(compose.services as Record<string, Obj>).filter(([, s]) => String(s.image).includes('notion-rules'));
      expect(replicas.length).toBe(variant === 'sqlite' ? 1 : 2);
      const configText = readFileSync(deploy(`compose/${variant}/config.yaml`), 'utf8');
      for (const [, s] of replicas) {
        expect(s.healthcheck.test).toEqual(['CMD', 'node', 'dist/cli/health-probe.js']);
        expect(s.init).toBe(true);
        expect(s.user).toBe('1000:1000');
        expect(s.volumes).toContain('./rules:/app/rules:ro');
        expect(s.environment.NOTION_RULES_CONFIG).toBe('/etc/notion-rules/config.yaml');
        const targets = (s.secrets as Obj[]).map((x) => x.target);
        for (const ref of fileRefs(configText)) expect(targets).toContain(ref);
        for (const x of s.secrets as Obj[]) expect(compose.secrets[x.source].file).toBeDefined();
      }
      if (variant === 'sqlite') expect(replicas[0]![1].volumes).toContain('data:/data');
      else {
        expect(compose.services.postgres.healthcheck).toBeDefined();
        expect(compose.services.proxy.command.join(' ')).toContain('--to replica-a:3000 --to replica-b:3000');
        expect(replicas.every(([, s]) => String(s.environment.NOTION_RULES_STORE).startsWith('postgres://'))).toBe(true);
      }
      expect(podConfig(deploy(`compose/${variant}/config.yaml`)).rules.dir).toBe('/app/rules');
      expect(loadRules(deploy(`compose/${variant}/rules`), { evalTimeoutMs: 100 }).problems).toEqual([]);
    });
  }
});

describe('deploy/grafana', () => {
  it('the dashboard queries only metrics that /metrics serves', async () => {
    const dashboard = JSON.parse(readFileSync(deploy('grafana/notion-rules-dashboard.json'), 'utf8')) as {
      panels: Array<{ targets: Array<{ expr: string }> }>;
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    const used = new Set(
      exprs.flatMap((e) => [...e.matchAll(/\b((?:notion_rules|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''))),
    );
    const svc = await startTestService(testConfig());
    const served = new Set(parseProm(await (await fetch(`${svc.url}/metrics`)).text()).map((s) => s.name.replace(/_(bucket|sum|count)$/, '')));
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    for (const name of used) expect(served.has(name) || text.includes(`# TYPE ${name} `), name).toBe(true);
    expect(used.size).toBeGreaterThan(15);
  });
});
