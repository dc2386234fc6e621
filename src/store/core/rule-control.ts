import type { AuditEntry, AuditRecord, RulePause } from '../types.js';
import type { SqlExecutor } from './sql.js';

/*
 * Operators' hold on rules, kept with the data so that a restart and every replica see it: the
 * paused rules, and the audit log of what was done to the rules and by whom (reloads, pauses,
 * resumes, replays). Portable SQL; `id` is the database's auto-increment key.
 */

export function ruleControlTables(id: string): string {
  return `
    CREATE TABLE rule_pauses (
      rule_id TEXT PRIMARY KEY,
      until BIGINT,
      paused_at BIGINT NOT NULL,
      source TEXT NOT NULL,
      reason TEXT
    );
    CREATE TABLE audit_log (
      id ${id},
      at BIGINT NOT NULL,
      action TEXT NOT NULL,
      rule_id TEXT,
      source TEXT NOT NULL,
      detail TEXT NOT NULL
    );
    CREATE INDEX audit_log_at ON audit_log (at);
  `;
}

const AUDIT = 'INSERT INTO audit_log (at, action, rule_id, source, detail) VALUES (?, ?, ?, ?, ?)';
const auditParams = (e: AuditEntry) => [e.at, e.action, e.ruleId ?? null, e.source, JSON.stringify(e.detail ?? {})];

/** Pauses a rule (again: the new `until` and source win) and records it, in one transaction. */
export async function pauseRule(sql: SqlExecutor, ruleId: string, p: { until?: number; source: string; reason?: string }, now: number): Promise<void> {
  await sql.atomically([
    {
      sql: `INSERT INTO rule_pauses (rule_id, until, paused_at, source, reason) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (rule_id) DO UPDATE SET until = excluded.until, paused_at = excluded.paused_at, source = excluded.source, reason = excluded.reason`,
      params: [ruleId, p.until ?? null, now, p.source, p.reason ?? null],
    },
    {
      sql: AUDIT,
      params: auditParams({
        at: now,
        action: 'pause',
        ruleId,
        source: p.source,
        detail: { ...(p.until ? { until: new Date(p.until).toISOString() } : {}), ...(p.reason ? { reason: p.reason } : {}) },
      }),
    },
  ]);
}

/** Resumes a paused rule and records it; false when it was not paused (nothing recorded). */
export async function resumeRule(sql: SqlExecutor, ruleId: string, source: string, now: number): Promise<boolean> {
  const active = 'FROM rule_pauses WHERE rule_id = ? AND (until IS NULL OR until > ?)';
  // Recorded first, only if the rule is paused; then the pause goes: one transaction.
  const [, deleted] = await sql.atomically([
    {
      sql: `INSERT INTO audit_log (at, action, rule_id, source, detail)
            SELECT CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT) WHERE EXISTS (SELECT 1 ${active})`,
      params: [...auditParams({ at: now, action: 'resume', ruleId, source }), ruleId, now],
    },
    { sql: `DELETE ${active}`, params: [ruleId, now] },
  ]);
  return (deleted?.changes ?? 0) > 0;
}

/** The rules paused now, with when each pause ends (null: until resumed). Expired pauses are not listed. */
export async function pausedRules(sql: SqlExecutor, now: number): Promise<RulePause[]> {
  const rows = await sql.rows('SELECT rule_id, until, paused_at, source, reason FROM rule_pauses WHERE until IS NULL OR until > ? ORDER BY rule_id', [now]);
  return rows.map((r) => ({
    ruleId: String(r.rule_id),
    until: r.until === null || r.until === undefined ? null : Number(r.until),
    pausedAt: Number(r.paused_at),
    source: String(r.source),
    reason: r.reason === null || r.reason === undefined ? null : String(r.reason),
  }));
}

export async function recordAudit(sql: SqlExecutor, entry: AuditEntry): Promise<void> {
  await sql.change(AUDIT, auditParams(entry));
}

/** The audit log, newest first. */
export async function listAudit(sql: SqlExecutor, filter: { limit: number; ruleId?: string; before?: number }): Promise<AuditRecord[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.ruleId) {
    where.push('(rule_id = ? OR (rule_id IS NULL AND detail LIKE ?))');
    params.push(filter.ruleId, `%"${filter.ruleId.replace(/[%_"\\]/g, '')}"%`);
  }
  if (filter.before !== undefined) {
    where.push('id < ?');
    params.push(filter.before);
  }
  const rows = await sql.rows(
    `SELECT id, at, action, rule_id, source, detail FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
    [...params, filter.limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    at: Number(r.at),
    action: String(r.action) as AuditRecord['action'],
    ruleId: r.rule_id === null || r.rule_id === undefined ? null : String(r.rule_id),
    source: String(r.source),
    detail: JSON.parse(String(r.detail)) as Record<string, unknown>,
  }));
}
