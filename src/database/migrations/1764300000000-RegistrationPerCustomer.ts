import type { MigrationInterface, QueryRunner } from 'typeorm';

const BATCH = 500;

/**
 * Registrations become idempotent on the customer ID (see idempotencyKey): a registration
 * that carried an order ID was keyed by that order ID, so the same customer could register
 * again under another one. Each customer's earliest registration is re-keyed by the customer
 * ID, so a repeat after the upgrade is recognised as one. Later registrations recorded before
 * the upgrade keep their key: they are history, and the unique (type, reference) index
 * allows one row per customer key only.
 */
export class RegistrationPerCustomer1764300000000 implements MigrationInterface {
  name = 'RegistrationPerCustomer1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Unquoted lowercase names: the same text on SQLite, PostgreSQL and MySQL/MariaDB.
    const rows: { id: string; customer_id: string }[] = await queryRunner.query(
      `SELECT r.id AS id, r.customer_id AS customer_id FROM postback_conversions r
        WHERE r.type = 'registration' AND r.customer_id IS NOT NULL
          AND r.reference <> r.customer_id
          AND NOT EXISTS (SELECT 1 FROM postback_conversions k
                           WHERE k.type = 'registration' AND k.reference = r.customer_id)
        ORDER BY r.created_at, r.id`,
    );
    const earliest = new Map<string, string>();
    for (const row of rows)
      if (!earliest.has(row.customer_id)) earliest.set(row.customer_id, row.id);
    const ids = [...earliest.values()];
    for (let i = 0; i < ids.length; i += BATCH) {
      await update(
        queryRunner,
        'UPDATE postback_conversions SET reference = customer_id WHERE id IN (:...ids)',
        ids.slice(i, i + BATCH),
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `UPDATE postback_conversions SET reference = order_id
        WHERE type = 'registration' AND order_id IS NOT NULL AND reference = customer_id`,
    );
  }
}

function update(queryRunner: QueryRunner, sql: string, ids: string[]): Promise<unknown> {
  const [text, parameters] = queryRunner.connection.driver.escapeQueryWithParameters(sql, { ids });
  return queryRunner.query(text, parameters);
}
