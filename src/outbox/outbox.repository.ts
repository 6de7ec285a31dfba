import { randomUUID } from 'node:crypto';

import { type EntityManager, In, type ObjectLiteral } from 'typeorm';

import type { Clock } from '../common/clock.js';
import type { PostbackDatabase } from '../database/postback-database.js';
import { rawQuery } from '../database/raw-sql.js';
import { insertMany } from '../database/raw-insert.js';
import { dataSourceOf } from '../database/typeorm-compat.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { settleAbandoned } from './abandoned-claims.js';
import type { ClaimCursor } from './claim-cursor.js';
import {
  type ClaimedPostback,
  claimedColumns,
  claimedRow,
  type DueRow,
  type Lease,
  type Settlement,
  tableOf,
} from './claimed-postback.js';
import { DeliveryAttempt } from './delivery-attempt.entity.js';
import {
  claimReturningSql,
  clockSql,
  DUE_COLUMNS,
  type DueQuery,
  dueRowColumns,
  dueSelectSql,
  leaseUpdateSql,
  ownedSelectSql,
} from './outbox.sql.js';
import { Postback } from './postback.entity.js';
import { refusedSince } from './refused-since.js';
import type { SendMarks } from './send-journal.js';
import { attemptRows, chunks, deliveredUpdateSql, groupSettlements } from './settlements.js';

/** The rows of an UPDATE … RETURNING: PostgreSQL's driver answers [rows, count]. */
function returned(result: unknown): ObjectLiteral[] {
  const [first] = result as unknown[];
  return Array.isArray(first) ? (first as ObjectLiteral[]) : (result as ObjectLiteral[]);
}

/**
 * The outbox's rows in the database: claims (a lease: the rows go `in_flight` with a fresh
 * claim token and `next_attempt_at` set to the lease expiry), settlements (checked against the
 * claim token) and the few reads the flusher makes. The only outbox code that runs SQL besides
 * the exchange rounds (see `ExchangeRound`), which build on it.
 */
export class OutboxRepository {
  constructor(
    private readonly db: PostbackDatabase,
    private readonly options: ResolvedPostbackOptions,
    private readonly clock: Clock,
    private readonly cursor: ClaimCursor,
    private readonly workerId: string,
    private readonly marks: SendMarks,
  ) {}

  newLease(now: number): Lease {
    return {
      state: 'in_flight',
      leaseOwner: this.workerId,
      claimToken: randomUUID(),
      nextAttemptAt: now + this.options.outbox.leaseMs,
      updatedAt: now,
    };
  }

  /** Claims up to `limit` due rows on `manager` (see `OutboxStore`); `sweep`: always sweep. */
  async claim(
    manager: EntityManager,
    limit: number,
    skip: string[],
    sweep: boolean,
  ): Promise<ClaimedPostback[]> {
    const now = this.clock.now();
    const lease = this.newLease(now);
    const { sweeping, from } = this.cursor.range(now, skip, sweep);
    let claimed: ClaimedPostback[] = [];
    if (sweeping) {
      const expired = await this.due(manager, { state: 'in_flight', now, limit, skip });
      const sentAt = (row: DueRow) => this.marks.sentAt(row);
      const kept = await settleAbandoned(manager, expired, now, this.options, sentAt);
      claimed = await this.lease(manager, kept, lease);
    }
    if (claimed.length >= limit) return claimed;
    const pending: DueQuery = {
      state: 'pending',
      now,
      limit: limit - claimed.length,
      skip,
      from,
    };
    const rows = this.db.dialect.updateReturning
      ? await this.claimReturning(manager, pending, lease)
      : await this.lease(manager, await this.due(manager, pending), lease);
    return claimed.concat(rows);
  }

  /** Due rows, locked where other instances compete (see `dueSelectSql`). */
  private async due(manager: EntityManager, due: DueQuery): Promise<DueRow[]> {
    const parameters: Record<string, unknown> = {};
    const claimed = claimedColumns(manager);
    const columns = dueRowColumns(claimed.map((c) => c.databaseName));
    const rows = await rawQuery<ObjectLiteral[]>(
      manager,
      dueSelectSql(this.db.dialect, tableOf(manager, Postback), due, columns, parameters),
      parameters,
    );
    const driver = dataSourceOf(manager).driver;
    return rows.map((row) => ({
      ...claimedRow(claimed, driver, row),
      state: row.state as Postback['state'],
      sendingAt: row.sending_at === null ? null : Number(row.sending_at),
    }));
  }

  /** Puts selected rows in flight under `lease`; notes the floor (see `ClaimCursor`). */
  private async lease(
    manager: EntityManager,
    rows: DueRow[],
    lease: Lease,
  ): Promise<ClaimedPostback[]> {
    if (rows.length === 0) return rows;
    const pending = rows.filter((row) => row.state === 'pending');
    if (pending.length > 0) this.cursor.noteFloor(pending[pending.length - 1].nextAttemptAt);
    for (const ids of chunks(rows.map((r) => r.id))) {
      const params: Record<string, unknown> = { ...lease };
      await rawQuery(manager, leaseUpdateSql(tableOf(manager, Postback), ids, params), params);
    }
    return rows.map((row) => Object.assign(row, lease));
  }

  /**
   * `due` then `lease` in one statement, one round trip, on the engines whose UPDATE has
   * RETURNING: the due rows' ids are selected (on PostgreSQL locked) in a `WITH`, the UPDATE
   * leases them and returns them whole.
   */
  private async claimReturning(
    manager: EntityManager,
    due: DueQuery,
    lease: Lease,
  ): Promise<ClaimedPostback[]> {
    const parameters: Record<string, unknown> = { ...lease };
    const text = this.claimSql(manager, due, parameters);
    return this.inDueOrder(manager, returned(await rawQuery(manager, text, parameters)));
  }

  /** The claim of `claimReturning`; `params` must hold the lease's values already. */
  claimSql(manager: EntityManager, due: DueQuery, params: Record<string, unknown>): string {
    const table = tableOf(manager, Postback);
    const select = dueSelectSql(this.db.dialect, table, due, DUE_COLUMNS, params);
    const claimed = claimedColumns(manager).map((c) => c.databaseName);
    return claimReturningSql(this.db.dialect, table, select, claimed);
  }

  /** Claimed rows as returned by an UPDATE, hydrated, in due order; notes the floor. */
  inDueOrder(manager: EntityManager, rows: ObjectLiteral[]): ClaimedPostback[] {
    if (rows.length === 0) return [];
    const columns = claimedColumns(manager);
    const driver = dataSourceOf(manager).driver;
    const claimed = rows
      .map((row) => ({
        dueAt: Number(row.due_at ?? row.created_at),
        row: claimedRow(columns, driver, row),
      }))
      .sort((a, b) => a.dueAt - b.dueAt);
    if (this.db.dialect.writableCte) this.cursor.noteFloor(claimed[claimed.length - 1].dueAt);
    return claimed.map((c) => c.row);
  }

  /**
   * Writes the attempts (multi-row INSERTs) and the rows' new states, each checked against
   * its claim token. Deliveries, nearly every settlement in a healthy outbox, are grouped:
   * one UPDATE for all rows of a claim that got the same answer.
   */
  async settle(manager: EntityManager, finished: Settlement[]): Promise<Settlement[]> {
    if (finished.length === 0) return [];
    const now = this.clock.now();
    for (const batch of chunks(finished)) {
      await insertMany(manager, DeliveryAttempt, attemptRows(batch, now));
    }
    const lost: Settlement[] = [];
    const { delivered, others } = groupSettlements(finished);
    for (const settlement of others) {
      const { row, change } = settlement;
      const result = await manager.update(
        Postback,
        { id: row.id, claimToken: row.claimToken as string },
        { ...change, leaseOwner: null, claimToken: null, updatedAt: now },
      );
      if (!result.affected) lost.push(settlement);
    }
    for (const group of delivered) {
      for (const batch of chunks(group)) {
        const ownedIds = await this.markDelivered(manager, batch, now);
        lost.push(...batch.filter((s) => !ownedIds.has(s.row.id)));
      }
    }
    return lost;
  }

  /**
   * Marks delivered those of `ids` that still carry the claim token; returns their ids (the
   * others were taken over by another worker). PostgreSQL and SQLite say which in the UPDATE
   * itself (RETURNING); MySQL/MariaDB select them first, locked so that no takeover slips in
   * between.
   */
  private async markDelivered(
    manager: EntityManager,
    batch: Settlement[],
    now: number,
  ): Promise<Set<string>> {
    const table = tableOf(manager, Postback);
    if (this.db.dialect.updateReturning) {
      const params: Record<string, unknown> = {};
      const rows = returned(
        await rawQuery(manager, deliveredUpdateSql(table, batch, now, params, '', true), params),
      );
      return new Set(rows.map((r) => r.id as string));
    }
    const select: Record<string, unknown> = { token: batch[0].row.claimToken };
    const ids = batch.map((s) => s.row.id);
    const owned = await rawQuery<{ id: string }[]>(
      manager,
      ownedSelectSql(this.db.dialect, table, ids, select),
      select,
    );
    const ownedIds = new Set(owned.map((r) => r.id));
    const kept = batch.filter((s) => ownedIds.has(s.row.id));
    if (kept.length === 0) return ownedIds;
    const params: Record<string, unknown> = {};
    await rawQuery(manager, deliveredUpdateSql(table, kept, now, params), params);
    return ownedIds;
  }

  /**
   * How far the database's clock is ahead of this instance's (negative: behind), in
   * milliseconds, give or take `uncertaintyMs` (half the query's round trip). Undefined on
   * SQLite, which one process owns. Leases are written and judged on each instance's own
   * clock: instances that disagree by more than a lease's safety margin take over each
   * other's rows while they are being sent (see `OutboxFlusher`).
   */
  async clockSkew(): Promise<{ skewMs: number; uncertaintyMs: number } | undefined> {
    const sql = clockSql(this.db.dialect);
    if (sql === undefined) return undefined;
    const before = this.clock.now();
    const [row] = await this.db.run((manager) => manager.query(sql) as Promise<{ now: unknown }[]>);
    const after = this.clock.now();
    return { skewMs: Number(row.now) - (before + after) / 2, uncertaintyMs: (after - before) / 2 };
  }

  /** The state of one postback (a reversal's original), or undefined if it is gone. */
  async stateOf(id: string): Promise<Postback['state'] | undefined> {
    const row = await this.db.run((manager) =>
      manager.findOne(Postback, { select: { id: true, state: true }, where: { id } }),
    );
    return row?.state;
  }

  /** See `refusedSince`: when this run of a postback first met that refusal. */
  refusedSince(postbackId: string, status: number, reason: string): Promise<number | undefined> {
    return this.db.run((manager) => refusedSince(manager, postbackId, status, reason));
  }

  /** Hands claimed rows that were never attempted back, due at `dueAt` (default: now). */
  async release(rows: ClaimedPostback[], dueAt?: number): Promise<void> {
    const now = this.clock.now();
    for (const token of new Set(rows.map((r) => r.claimToken as string))) {
      const ids = rows.filter((r) => r.claimToken === token).map((r) => r.id);
      await this.db.run((manager) =>
        manager.update(
          Postback,
          { id: In(ids), claimToken: token },
          {
            state: 'pending',
            leaseOwner: null,
            claimToken: null,
            nextAttemptAt: dueAt ?? now,
            updatedAt: now,
          },
        ),
      );
    }
  }
}
