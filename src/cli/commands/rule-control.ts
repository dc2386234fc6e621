import { loadOptionsOf } from '../../engine/load.js';
import { loadRules } from '../../engine/load.js';
import { pause, resume, RuleControlError } from '../../server/ops/rule-control.js';
import type { AuditRecord } from '../../store/types.js';
import { CliError, EXIT_PROBLEMS, EXIT_USAGE, print } from '../output.js';
import { withStore } from './ops.js';

/** `notion-rules pause RULE [--until T] [--reason R]`: the rule's matches make no jobs, on every replica, until resumed. */
export async function pauseCommand(id: string, opts: { config: string; until?: string; reason?: string; json?: boolean }): Promise<void> {
  await withStore(opts.config, async (store, config) => {
    const loaded = loadRules(config.rules.dir, loadOptionsOf(config.rules));
    try {
      const p = await pause(
        store,
        loaded.all.map((r) => r.id),
        id,
        { source: 'cli', ...(opts.until ? { until: opts.until } : {}), ...(opts.reason ? { reason: opts.reason } : {}) },
      );
      if (opts.json) return print(JSON.stringify({ rule: id, until: p.until ? new Date(p.until).toISOString() : null }));
      print(`rule ${id} paused ${p.until ? `until ${new Date(p.until).toISOString()}` : 'until resumed'}; a running server holds it from its next batch`);
    } catch (err) {
      if (err instanceof RuleControlError) throw new CliError(`pause: ${err.message}`, err.code === 'invalid_until' ? EXIT_USAGE : EXIT_PROBLEMS);
      throw err;
    }
  });
}

/** `notion-rules resume RULE`. */
export async function resumeCommand(id: string, opts: { config: string; json?: boolean }): Promise<void> {
  await withStore(opts.config, async (store) => {
    const resumed = await resume(store, id, 'cli');
    if (opts.json) return print(JSON.stringify({ rule: id, resumed }));
    if (!resumed) throw new CliError(`resume: rule ${id} is not paused`, EXIT_PROBLEMS);
    print(`rule ${id} resumed`);
  });
}

/** `notion-rules audit [--rule ID] [-n N] [--json]`: loads of the rules and operators' actions, newest first. */
export async function auditCommand(opts: { config: string; rule?: string; limit: string; json?: boolean }): Promise<void> {
  await withStore(opts.config, async (store) => {
    const entries = await store.listAudit({ limit: Number(opts.limit) || 50, ...(opts.rule ? { ruleId: opts.rule } : {}) });
    if (opts.json)
      return print(
        JSON.stringify(
          entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
          null,
          2,
        ),
      );
    for (const e of entries) print(auditLine(e));
    if (entries.length === 0) print('nothing recorded yet');
  });
}

export function auditLine(e: AuditRecord): string {
  const d = e.detail;
  const head = `${new Date(e.at).toISOString()}  ${e.action.padEnd(7)} ${(e.ruleId ?? '-').padEnd(24)} by ${e.source}`;
  const lists = (['added', 'removed', 'changed'] as const)
    .filter((k) => Array.isArray(d[k]) && (d[k] as unknown[]).length)
    .map((k) => `${k} ${(d[k] as string[]).join(', ')}`);
  switch (e.action) {
    case 'reload':
      return d.ok === false
        ? `${head}  FAILED, kept version ${String(d.activeVersion)}: ${(d.problems as string[] | undefined)?.join(' | ') ?? ''}`
        : `${head}  version ${String(d.version)}${lists.length ? `: ${lists.join('; ')}` : ''}`;
    case 'pause':
      return `${head}  ${d.until ? `until ${String(d.until)}` : 'until resumed'}${d.reason ? ` (${String(d.reason)})` : ''}`;
    default:
      return `${head}  ${JSON.stringify(d)}`;
  }
}
