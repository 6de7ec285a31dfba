import type { DataSource } from 'typeorm';

import { Click } from './click.entity.js';

/**
 * The multi-row INSERT … ON CONFLICT / ON DUPLICATE KEY of the clicks table, per engine.
 * Not TypeORM's InsertQueryBuilder, too slow at building large statements on the event loop
 * (docs/internals/performance-notes.md); a few fixed sizes, so each text is built and
 * prepared once.
 */
export interface ClickUpsertSql {
  /** The statement for `rows` rows that overwrites these columns of an existing row. */
  statement(rows: number, overwrite: readonly ClickColumn[]): string;
  /** The parameters of `rows`, in the statement's order. */
  parameters(rows: readonly Click[]): unknown[];
}

/** Properties of Click a repeated landing may overwrite. */
export type ClickColumn = 'lastSeenAt' | 'landingPath' | 'customerId' | 'subParams';

const PROPERTIES = [
  'id',
  'tracker',
  'clickId',
  'visitorKey',
  'customerId',
  'landingPath',
  'subParams',
  'firstSeenAt',
  'lastSeenAt',
] as const;
const KEY = ['tracker', 'clickId', 'visitorKey'] as const;

const cache = new WeakMap<DataSource, ClickUpsertSql>();

export function clickUpsertSql(dataSource: DataSource): ClickUpsertSql {
  let sql = cache.get(dataSource);
  if (!sql) {
    sql = build(dataSource);
    cache.set(dataSource, sql);
  }
  return sql;
}

function build(dataSource: DataSource): ClickUpsertSql {
  const type = dataSource.options.type;
  const mysql = type === 'mysql' || type === 'mariadb';
  const postgres = type === 'postgres';
  if (!mysql && !postgres && !['better-sqlite3', 'sqljs', 'capacitor'].includes(type)) {
    throw new Error(`nestjs-postback cannot store clicks on a "${type}" database`);
  }
  const metadata = dataSource.getMetadata(Click);
  const q = (name: string) => dataSource.driver.escape(name);
  const column = (property: string) =>
    q(metadata.findColumnWithPropertyName(property)!.databaseName);
  const table = metadata.tablePath.split('.').map(q).join('.');
  const head = `INSERT INTO ${table} (${PROPERTIES.map(column).join(', ')}) VALUES `;
  const update = (property: string) =>
    mysql
      ? `${column(property)} = VALUES(${column(property)})`
      : `${column(property)} = EXCLUDED.${column(property)}`;
  const texts = new Map<string, string>();

  return {
    statement(rows, overwrite) {
      const name = `${rows}:${overwrite.join()}`;
      let text = texts.get(name);
      if (text === undefined) {
        let n = 0;
        const tuple = () => `(${PROPERTIES.map(() => (postgres ? `$${++n}` : '?')).join(', ')})`;
        const values = Array.from({ length: rows }, tuple).join(', ');
        const set = overwrite.map(update).join(', ');
        text = mysql
          ? `${head}${values} ON DUPLICATE KEY UPDATE ${set}`
          : `${head}${values} ON CONFLICT (${KEY.map(column).join(', ')}) DO UPDATE SET ${set}`;
        texts.set(name, text);
      }
      return text;
    },
    parameters(rows) {
      const parameters: unknown[] = [];
      for (const row of rows) {
        for (const property of PROPERTIES) {
          const value = row[property];
          // subParams: the jsonText transformer's work, JSON in a TEXT column.
          parameters.push(
            property === 'subParams' && value !== null ? JSON.stringify(value) : value,
          );
        }
      }
      return parameters;
    },
  };
}
