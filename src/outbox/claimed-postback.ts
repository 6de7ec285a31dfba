import type { EntityManager, EntityMetadata, ObjectLiteral } from 'typeorm';
import type { Driver } from 'typeorm/driver/Driver.js';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';

import { dataSourceOf } from '../database/typeorm-compat.js';
import type { DeliveryAttempt } from './delivery-attempt.entity.js';
import { columnList } from './outbox.sql.js';
import { Postback } from './postback.entity.js';

export type AttemptRecord = Omit<DeliveryAttempt, 'id' | 'postbackId'>;

/**
 * What the flusher holds of a claimed row, from its claim to the write of its outcome: what
 * the send and that write read, no more. A backlog's worth of these passes through memory,
 * each living long enough (queued, then waiting for its round to commit) to reach V8's old
 * generation, so the other columns (the conversion, the lease owner, the state, the
 * timestamps) are left out.
 */
export interface ClaimedPostback extends Pick<
  Postback,
  'id' | 'tracker' | 'attempts' | 'nextAttemptAt' | 'afterPostbackId' | 'claimToken' | 'createdAt'
> {
  /**
   * The postback's fields as the column holds them, JSON text: parsed at the send, so the
   * queue holds one string per row rather than an object of strings, and a row whose text
   * does not parse is that postback's failure, not its claim's.
   */
  fieldsJson: string;
}

/** A due row as a claim selects it: what it keeps, whether its lease expired, and was sent. */
export type DueRow = ClaimedPostback & Pick<Postback, 'state' | 'sendingAt'>;

/** A finished attempt waiting to be written: the row as claimed, what happened, its new state. */
export interface Settlement {
  row: ClaimedPostback;
  attempt: AttemptRecord;
  change: Partial<Postback>;
}

/** What a claim writes on the rows it takes (`LEASE_SET` binds it). */
export interface Lease {
  state: 'in_flight';
  leaseOwner: string;
  claimToken: string;
  nextAttemptAt: number;
  updatedAt: number;
}

/** The entity's table name as the host's DataSource has it (entityPrefix included). */
export function tableOf(manager: EntityManager, entity: typeof Postback): string {
  return dataSourceOf(manager).getMetadata(entity).tableName;
}

const claimedColumnsOf = new WeakMap<EntityMetadata, ColumnMetadata[]>();

/** The columns of a `ClaimedPostback`, in the order `claimedRow` reads them. */
export function claimedColumns(manager: EntityManager): ColumnMetadata[] {
  const metadata = dataSourceOf(manager).getMetadata(Postback);
  let columns = claimedColumnsOf.get(metadata);
  if (!columns) {
    const properties: (keyof Postback)[] = [
      'id',
      'tracker',
      'fields',
      'attempts',
      'nextAttemptAt',
      'afterPostbackId',
      'claimToken',
      'createdAt',
    ];
    columns = properties.map(
      (property) => metadata.findColumnWithPropertyName(property) as ColumnMetadata,
    );
    claimedColumnsOf.set(metadata, columns);
  }
  return columns;
}

/** `"alias"."column"`, … of a `ClaimedPostback`, for a RETURNING or SELECT list. */
export function claimedColumnList(manager: EntityManager, alias?: string): string {
  return columnList(
    claimedColumns(manager).map((c) => c.databaseName),
    alias,
  );
}

/**
 * A claimed row, each column as the driver hydrates it (transformers applied; `fields` left
 * as its text), built as one literal: eight fields of a fixed shape, where `hydrate` adds an
 * entity's fifteen one by one.
 */
export function claimedRow(
  columns: ColumnMetadata[],
  driver: Driver,
  row: ObjectLiteral,
): ClaimedPostback {
  const value = (i: number): unknown =>
    driver.prepareHydratedValue(row[columns[i].databaseName], columns[i]);
  return {
    id: value(0) as string,
    tracker: value(1) as string,
    fieldsJson: row[columns[2].databaseName] as string,
    attempts: value(3) as number,
    nextAttemptAt: value(4) as number,
    afterPostbackId: value(5) as string | null,
    claimToken: value(6) as string | null,
    createdAt: value(7) as number,
  };
}
