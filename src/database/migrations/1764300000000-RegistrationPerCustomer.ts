import { createHash } from 'node:crypto';

import type { MigrationInterface, QueryRunner } from 'typeorm';

import { dataSourceOf, escapeQueryWithParameters } from '../typeorm-compat.js';

const BATCH = 500;

/**
 * Registrations become idempotent on the customer ID, keyed `registration:<sha256 of the
 * customer ID>` (see registrationReference): a registration that carried an order ID was keyed
 * by that order ID, so the same customer could register again under another one. Each
 * customer's earliest registration is re-keyed into that namespace, so a repeat after the
 * upgrade is recognised as one. Later registrations recorded before the upgrade keep their
 * key: they are history. No old key can equal a new one, so a customer whose ID is another's
 * order ID is neither refused nor missed.
 */
export class RegistrationPerCustomer1764300000000 implements MigrationInterface {
  name = 'RegistrationPerCustomer1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Read in pages in (customer, time, id) order, so each customer's earliest registration is
    // the first of its rows, without holding every registration in memory. Collations are
    // binary on every engine (CreatePostbackTables): the order is the same byte order each time.
    // Unquoted lowercase names: the same text on SQLite, PostgreSQL and MySQL/MariaDB.
    const select = `SELECT id, customer_id, created_at, reference FROM postback_conversions
      WHERE type = 'registration' AND customer_id IS NOT NULL`;
    const order = `ORDER BY customer_id, created_at, id LIMIT ${BATCH}`;
    let last: Row | undefined;
    let previousCustomer: string | undefined;
    for (;;) {
      const page: Row[] = last
        ? await query(
            queryRunner,
            `${select} AND (customer_id > :c OR (customer_id = :c AND (created_at > :t
              OR (created_at = :t AND id > :id)))) ${order}`,
            { c: last.customer_id, t: last.created_at, id: last.id },
          )
        : await queryRunner.query(`${select} ${order}`);
      const keys = new Map<string, string>();
      for (const row of page) {
        if (row.customer_id === previousCustomer) continue;
        previousCustomer = row.customer_id;
        const key = registrationKey(row.customer_id);
        if (row.reference !== key) keys.set(row.id, key);
      }
      if (keys.size > 0) await rekey(queryRunner, keys);
      if (page.length < BATCH) return;
      last = page[page.length - 1];
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // The key a registration had before: its order ID, else its customer ID.
    await queryRunner.query(
      `UPDATE postback_conversions SET reference = COALESCE(order_id, customer_id)
        WHERE type = 'registration' AND reference LIKE 'registration:%'`,
    );
  }
}

interface Row {
  id: string;
  customer_id: string;
  created_at: string | number;
  reference: string;
}

/**
 * registrationReference as of this migration, written out here: a migration must keep doing
 * what it did when it was released, whatever the code's key becomes later.
 */
function registrationKey(customerId: string): string {
  return `registration:${createHash('sha256').update(customerId).digest('hex')}`;
}

/** One statement per page: `SET reference = CASE id WHEN … THEN … END WHERE id IN (…)`. */
function rekey(queryRunner: QueryRunner, keys: Map<string, string>): Promise<unknown> {
  const parameters: Record<string, string> = {};
  const cases: string[] = [];
  const ids: string[] = [];
  let i = 0;
  for (const [id, key] of keys) {
    parameters[`i${i}`] = id;
    parameters[`k${i}`] = key;
    cases.push(`WHEN :i${i} THEN :k${i}`);
    ids.push(`:i${i}`);
    i++;
  }
  return query(
    queryRunner,
    `UPDATE postback_conversions SET reference = CASE id ${cases.join(' ')} END
      WHERE id IN (${ids.join(', ')})`,
    parameters,
  );
}

function query(
  queryRunner: QueryRunner,
  sql: string,
  parameters: Record<string, unknown>,
): Promise<Row[]> {
  const [text, values] = escapeQueryWithParameters(
    dataSourceOf(queryRunner).driver,
    sql,
    parameters,
  );
  return queryRunner.query(text, values);
}
