import {
  type MigrationInterface,
  type QueryRunner,
  Table,
  type TableColumnOptions,
  type TableOptions,
} from 'typeorm';

import { dataSourceOf } from '../typeorm-compat.js';

// Written with TypeORM's Table API rather than generated SQL, so that one migration creates
// the same schema on SQLite, PostgreSQL and MySQL/MariaDB.
const id = (name = 'id'): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: '36',
  isPrimary: name === 'id',
});
const text = (name: string, length: number, nullable = false): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable: nullable,
});
const time = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: 'bigint',
  isNullable: nullable,
});
const int = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: 'integer',
  isNullable: nullable,
});
const longText = (name: string, nullable = true): TableColumnOptions => ({
  name,
  type: 'text',
  isNullable: nullable,
});

/**
 * MySQL and MariaDB compare text case- and accent-insensitively by default (and ignore
 * trailing spaces under PAD SPACE collations): "ORD-A" would be a duplicate of "ord-a", and
 * click "AbCdE" would merge with "abcde". Every text column there gets a binary, no-pad
 * collation, so IDs compare byte for byte as on SQLite and PostgreSQL.
 */
async function exactCollation(queryRunner: QueryRunner): Promise<string | undefined> {
  const type = dataSourceOf(queryRunner).driver.options.type;
  if (type !== 'mysql' && type !== 'mariadb') return undefined;
  const [row] = await queryRunner.query('SELECT VERSION() AS version');
  return /mariadb/i.test(String(row.version)) ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin';
}

function withCollation(table: TableOptions, collation: string | undefined): Table {
  if (!collation) return new Table(table);
  return new Table({
    ...table,
    columns: table.columns?.map((column) =>
      column.type === 'varchar' || column.type === 'text'
        ? { ...column, charset: 'utf8mb4', collation }
        : column,
    ),
  });
}

export class CreatePostbackTables1764000000000 implements MigrationInterface {
  name = 'CreatePostbackTables1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const collation = await exactCollation(queryRunner);
    await queryRunner.createTable(
      withCollation(
        {
          name: 'postback_clicks',
          columns: [
            id(),
            text('tracker', 64),
            text('click_id', 512),
            { ...text('visitor_key', 128), default: "''" },
            text('customer_id', 255, true),
            { ...text('landing_path', 2048), default: "''" },
            longText('sub_params'),
            time('first_seen_at'),
            time('last_seen_at'),
          ],
          indices: [
            {
              name: 'UQ_postback_clicks_tracker_click_visitor',
              columnNames: ['tracker', 'click_id', 'visitor_key'],
              isUnique: true,
            },
            { name: 'IDX_postback_clicks_click_id', columnNames: ['click_id'] },
            {
              name: 'IDX_postback_clicks_visitor_seen',
              columnNames: ['visitor_key', 'last_seen_at'],
            },
            {
              name: 'IDX_postback_clicks_customer_seen',
              columnNames: ['customer_id', 'last_seen_at'],
            },
          ],
        },
        collation,
      ),
    );
    await queryRunner.createTable(
      withCollation(
        {
          name: 'postback_conversions',
          columns: [
            id(),
            text('type', 64),
            text('reference', 255),
            text('order_id', 255, true),
            text('customer_id', 255, true),
            text('visitor_key', 128, true),
            text('amount', 32, true),
            text('currency', 3, true),
            text('commission', 32, true),
            text('commission_currency', 3, true),
            text('tracker', 64, true),
            text('click_id', 512, true),
            text('attribution', 16),
            time('occurred_at'),
            time('created_at'),
          ],
          indices: [
            {
              name: 'UQ_postback_conversions_type_reference',
              columnNames: ['type', 'reference'],
              isUnique: true,
            },
            { name: 'IDX_postback_conversions_customer', columnNames: ['customer_id'] },
          ],
        },
        collation,
      ),
    );
    await queryRunner.createTable(
      withCollation(
        {
          name: 'postback_outbox',
          columns: [
            id(),
            id('conversion_id'),
            text('tracker', 64),
            text('state', 16),
            longText('fields', false),
            { ...int('attempts'), default: 0 },
            time('next_attempt_at'),
            text('after_postback_id', 36, true),
            text('lease_owner', 64, true),
            text('claim_token', 36, true),
            int('last_status', true),
            longText('last_error'),
            time('delivered_at', true),
            time('created_at'),
            time('updated_at'),
          ],
          indices: [
            { name: 'IDX_postback_outbox_state_due', columnNames: ['state', 'next_attempt_at'] },
            {
              name: 'UQ_postback_outbox_conversion_tracker',
              columnNames: ['conversion_id', 'tracker'],
              isUnique: true,
            },
          ],
        },
        collation,
      ),
    );
    await queryRunner.createTable(
      withCollation(
        {
          name: 'postback_attempts',
          columns: [
            id(),
            id('postback_id'),
            int('attempt'),
            time('started_at'),
            int('duration_ms'),
            longText('request_url', false),
            int('status_code', true),
            text('outcome', 16),
            longText('error'),
            longText('response_excerpt'),
          ],
          indices: [
            {
              name: 'IDX_postback_attempts_postback_started',
              columnNames: ['postback_id', 'started_at'],
            },
          ],
        },
        collation,
      ),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'postback_attempts',
      'postback_outbox',
      'postback_conversions',
      'postback_clicks',
    ]) {
      await queryRunner.dropTable(table);
    }
  }
}
