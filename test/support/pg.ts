import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach } from 'vitest';

/** Set by .ci/run to the local server; PostgreSQL tests are skipped (and say so) without it. */
export const PG_URL = process.env.NOTION_RULES_TEST_PG;

const created: string[] = [];
afterEach(async () => {
  if (!PG_URL || created.length === 0) return;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  for (const db of created.splice(0)) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.end();
});

/** A fresh, empty database on the test server, dropped after the test; returns its URL. */
export async function freshDatabase(): Promise<string> {
  if (!PG_URL) throw new Error('NOTION_RULES_TEST_PG is not set');
  const name = `nr_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  created.push(name);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
