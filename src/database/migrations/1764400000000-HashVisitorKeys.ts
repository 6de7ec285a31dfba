import type { MigrationInterface, QueryRunner } from 'typeorm';

import { VISITOR_KEY_SECRET_ENV, visitorKeyDigest } from '../../click/visitor-key.js';
import { compile } from '../raw-sql.js';

/** Rows per statement: two parameters each, well under every engine's limit. */
const BATCH = 200;

/**
 * Replaces the visitor keys stored in clear (session IDs, custom keys) by their digest, the
 * form the module now stores and looks up (see `visitorKeyDigest`). Done here in code, in
 * batches, rather than in SQL: SQLite and MariaDB have no SHA-256 or HMAC function, and the
 * digest must be the module's own. Keyed with POSTBACK_VISITOR_KEY_SECRET when that is set,
 * as the module is then keyed with the same value (`capture.visitorKeySecret`).
 *
 * One-way: `down` cannot bring the keys back, and leaves the digests.
 */
export class HashVisitorKeys1764400000000 implements MigrationInterface {
  name = 'HashVisitorKeys1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const secret = process.env[VISITOR_KEY_SECRET_ENV] || undefined;
    await hashColumn(queryRunner, 'postback_clicks', secret);
    await hashColumn(queryRunner, 'postback_conversions', secret);
  }

  async down(): Promise<void> {
    // A hash cannot be undone; earlier code looking up keys in clear finds no visitor rows.
  }
}

async function hashColumn(
  queryRunner: QueryRunner,
  table: string,
  secret: string | undefined,
): Promise<void> {
  const dataSource = queryRunner.connection;
  const select = compile(
    dataSource,
    `SELECT "id", "visitor_key" FROM "${table}" WHERE "id" > :after AND "visitor_key" IS NOT NULL AND "visitor_key" <> '' ORDER BY "id" LIMIT ${BATCH}`,
    true,
  );
  // By id, in id order: each row is read and rewritten once, whatever the batch holds.
  for (let after = ''; ;) {
    const rows: { id: string; visitor_key: string }[] = await queryRunner.query(select.sql, [
      after,
    ]);
    if (rows.length === 0) return;
    const cases = rows.map((_, i) => `WHEN :id${i} THEN :key${i}`).join(' ');
    const ids = rows.map((_, i) => `:id${i}`).join(', ');
    const update = compile(
      dataSource,
      `UPDATE "${table}" SET "visitor_key" = CASE "id" ${cases} END WHERE "id" IN (${ids})`,
      true,
    );
    const values: Record<string, string> = {};
    rows.forEach((row, i) => {
      values[`id${i}`] = row.id;
      values[`key${i}`] = visitorKeyDigest(row.visitor_key, secret);
    });
    await queryRunner.query(
      update.sql,
      update.names.map((name) => values[name]),
    );
    after = rows[rows.length - 1].id;
  }
}
