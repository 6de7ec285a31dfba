import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import { Inject, Injectable } from '@nestjs/common';
import {
  type DataSource,
  type EntityManager,
  type EntityMetadata,
  In,
  type ObjectLiteral,
} from 'typeorm';
import type { Driver } from 'typeorm/driver/Driver.js';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';

import type { Clock } from '../common/clock.js';
import { uuidV7 } from '../common/uuid-v7.js';
import { PostbackDatabase } from '../database/postback-database.js';
import type { WriterStatement } from '../database/sqlite-writer-thread.js';
import {
  boundStatement,
  compile,
  insertMany,
  insertManyBound,
  insertManySql,
  rawQuery,
} from '../database/raw-sql.js';
import { dataSourceOf } from '../database/typeorm-compat.js';
import { POSTBACK_CLOCK, POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../resolve-postback-options.js';
import { settleAbandoned } from './abandoned-claims.js';
import { DeliveryAttempt } from './delivery-attempt.entity.js';
import { refusedSince } from './refused-since.js';
import { Postback } from './postback.entity.js';
import { type SendMarks, sendMarksFor } from './send-journal.js';
import {
  claimReturningSql,
  clockSql,
  columnList,
  DELIVERED_NAMES,
  deliveredReturningText,
  deliveredUpdateText,
  DUE_COLUMNS,
  type DueQuery,
  dueRowColumns,
  dueSelectSql,
  LEASE_SET,
  leaseUpdateSql,
  markStatements,
  oneStatementSql,
  ownedSelectSql,
} from './outbox.sql.js';
import { markSendingIn, type SendingMarks } from './send-marks.js';

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
type DueRow = ClaimedPostback & Pick<Postback, 'state' | 'sendingAt'>;

/** A finished attempt waiting to be written: the row as claimed, what happened, its new state. */
export interface Settlement {
  row: ClaimedPostback;
  attempt: AttemptRecord;
  change: Partial<Postback>;
}

/** Rows per multi-row statement: well within every engine's limit on bound parameters. */
const ROWS_PER_STATEMENT = 100;
/**
 * Most settlements a steady round writes (see `OutboxStore.steadyRound`): on PostgreSQL about
 * 20 bound values each, far from its limit of 65,535 per statement.
 */
const MAX_STEADY_ROUND = 1_000;

/** How often the flusher's claims look for expired leases and late commits (see `sweptAt`). */
const SWEEP_MS = 1_000;
/** How far behind the floor such a sweep looks: a row is committed within this of its due time. */
const LATE_COMMIT_MS = 1_000;
/** How often they look at the whole due index (see `OutboxStore.fullySweptAt`). */
const FULL_SWEEP_MS = 5_000;

/** What a claim writes on the rows it takes (`LEASE_SET` binds it). */
interface Lease {
  state: 'in_flight';
  leaseOwner: string;
  claimToken: string;
  nextAttemptAt: number;
  updatedAt: number;
}

/** The rows of an UPDATE … RETURNING: PostgreSQL's driver answers [rows, count]. */
function returned(result: unknown): ObjectLiteral[] {
  const [first] = result as unknown[];
  return Array.isArray(first) ? (first as ObjectLiteral[]) : (result as ObjectLiteral[]);
}

/** The attempt rows of `settlements`, with time-ordered ids (appended to the key index). */
function attemptRows(settlements: Settlement[], now: number): DeliveryAttempt[] {
  // Spelled out, not spread: a spread object carries more into V8's old generation, once per
  // postback of a backlog.
  return settlements.map(({ row, attempt }) => ({
    id: uuidV7(now),
    postbackId: row.id,
    attempt: attempt.attempt,
    startedAt: attempt.startedAt,
    durationMs: attempt.durationMs,
    requestUrl: attempt.requestUrl,
    statusCode: attempt.statusCode,
    outcome: attempt.outcome,
    error: attempt.error,
    responseExcerpt: attempt.responseExcerpt,
  }));
}

/**
 * Deliveries, nearly every settlement in a healthy outbox, grouped by what their UPDATE
 * writes (claim token, attempt count, status), so that one UPDATE serves each group; the
 * other settlements (retries, dead letters) are written one by one.
 */
function groupSettlements(finished: Settlement[]): {
  delivered: Settlement[][];
  others: Settlement[];
} {
  const delivered = new Map<string, Settlement[]>();
  const others: Settlement[] = [];
  for (const settlement of finished) {
    const { row, change } = settlement;
    if (change.state !== 'delivered' || typeof change.attempts !== 'number') {
      others.push(settlement);
      continue;
    }
    const key = `${row.claimToken}\u0000${change.attempts}\u0000${change.lastStatus}`;
    const group = delivered.get(key);
    if (group) group.push(settlement);
    else delivered.set(key, [settlement]);
  }
  return { delivered: [...delivered.values()], others };
}

/** The latest delivery of a group: within one write they are milliseconds apart. */
function deliveredAtOf(batch: Settlement[], now: number): number {
  let latest = Number.NEGATIVE_INFINITY;
  for (const { change } of batch) latest = Math.max(latest, change.deliveredAt ?? now);
  return latest;
}

/** The values of `deliveredUpdateText` but the ids, in placeholder order. */
function deliveredValues(batch: Settlement[], now: number): unknown[] {
  const [{ row, change }] = batch;
  return [
    'delivered',
    change.attempts,
    change.lastStatus,
    deliveredAtOf(batch, now),
    now,
    row.claimToken,
  ];
}

/**
 * `deliveredUpdateText` for `batch`, its values added to `params` (named with `prefix`), for a
 * larger statement or `rawQuery`.
 */
function deliveredUpdateSql(
  table: string,
  batch: Settlement[],
  now: number,
  params: Record<string, unknown>,
  prefix = '',
  returning = false,
): string {
  deliveredValues(batch, now).forEach(
    (value, i) => (params[`${prefix}${DELIVERED_NAMES[i]}`] = value),
  );
  batch.forEach((s, i) => (params[`${prefix}id${i}`] = s.row.id));
  return returning
    ? deliveredReturningText(table, batch.length, prefix)
    : deliveredUpdateText(table, batch.length, prefix);
}

/** A writer thread's delivered UPDATE (RETURNING the ids it still held) for each row count. */
const deliveredOffThreadSql = new WeakMap<DataSource, Map<string, string>>();

/**
 * `deliveredUpdateSql … RETURNING "id"` for a SQLite writer thread, its `?` text compiled once
 * per row count and its values put in order directly: a steady drain writes one such UPDATE a
 * round, and naming a hundred ids, joining a new text and looking it up in the compiled cache
 * each time cost the event loop a few microseconds per postback sent.
 */
function deliveredUpdateOffThread(
  dataSource: DataSource,
  table: string,
  batch: Settlement[],
  now: number,
): WriterStatement {
  let texts = deliveredOffThreadSql.get(dataSource);
  if (!texts) deliveredOffThreadSql.set(dataSource, (texts = new Map()));
  const key = `${table}\u0000${batch.length}`;
  let sql = texts.get(key);
  if (sql === undefined) {
    const text = deliveredReturningText(table, batch.length);
    sql = compile(dataSource, text, true).sql;
    texts.set(key, sql);
  }
  const values = deliveredValues(batch, now);
  for (const { row } of batch) values.push(row.id);
  return { sql, values };
}

/**
 * An exchange is correct under any isolation level: it writes only rows it locks (its own
 * claims, checked by token, and rows it selects FOR UPDATE), and under REPEATABLE READ or
 * SERIALIZABLE a row another worker changed since the snapshot fails its lock with a
 * serialization failure, upon which the exchange runs again. On PostgreSQL that spares the
 * `SET TRANSACTION` round trip (see `PostbackDatabase.transaction`).
 */
const EXCHANGE_ISOLATION = { anyIsolation: true };
/** One statement writes it all: no BEGIN/COMMIT needed (see `PostbackDatabase.transaction`). */
const ONE_STATEMENT = { anyIsolation: true, singleWrite: true };

/** A round of the flusher's steady state (see `OutboxStore.steadyRound`). */
interface SteadyRound {
  finished: Settlement[];
  /** `finished`, all deliveries, grouped by what their UPDATE writes. */
  delivered: Settlement[][];
  now: number;
  /** The claim riding along, if any: pending rows only. */
  claim?: DueQuery;
}

/** The entity's table name as the host's DataSource has it (entityPrefix included). */
function tableOf(manager: EntityManager, entity: typeof Postback): string {
  return dataSourceOf(manager).getMetadata(entity).tableName;
}

const claimedColumnsOf = new WeakMap<EntityMetadata, ColumnMetadata[]>();

/** The columns of a `ClaimedPostback`, in the order `claimedRow` reads them. */
function claimedColumns(manager: EntityManager): ColumnMetadata[] {
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
function claimedColumnList(manager: EntityManager, alias?: string): string {
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
function claimedRow(
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

function chunks<T>(items: T[], size = ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Claims and settles outbox rows. A claim is a lease: the rows go `in_flight` with a fresh
 * claim token and `next_attempt_at` set to the lease expiry, so a crashed worker's rows fall
 * due again by themselves. Settling checks the token, so a worker whose lease was taken over
 * cannot overwrite the newer owner's outcome.
 */
@Injectable()
export class OutboxStore {
  /** Who holds a lease, for operators reading the table. */
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`.slice(0, 64);

  /**
   * PostgreSQL and MySQL/MariaDB keep a row's old entry in the due index until VACUUM (or
   * InnoDB's purge) removes it, and a claim's index scan walks over the entries of every row
   * claimed before it, by this instance and the others: on a draining backlog, about 500 rows
   * read per postback sent, measured. The floor is the due time of the last pending row this
   * instance claimed; its claims start there. SQLite updates its index in place: no floor.
   */
  private pendingFloor: number | undefined;
  /**
   * When a claim last looked for expired leases, and (with a floor) a little behind the floor,
   * for rows committed a moment after their due time. The flusher's claims do so once every
   * SWEEP_MS; `claimDue` always.
   */
  private sweptAt = Number.NEGATIVE_INFINITY;
  /**
   * When a claim last started from the bottom of the due index, for whatever else the floor
   * passed: a reversal whose original was still on its way, rows of a claim that rolled back.
   * Once every FULL_SWEEP_MS, not every second: on a draining backlog the bottom of the index
   * is every row drained so far. Also as soon as a tracker skipped before is claimed for again,
   * since its rows were passed over meanwhile.
   */
  private fullySweptAt = Number.NEGATIVE_INFINITY;
  private skippedBefore = new Set<string>();
  /** Where requests are marked as started (see `markSending`). */
  private readonly marks: SendMarks;
  /**
   * Whether the flusher hands its send marks to the next `exchange` instead of writing them
   * before the requests go out (see `sendMarksFor`).
   */
  readonly marksRideExchanges: boolean;

  constructor(
    private readonly db: PostbackDatabase,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
    @Inject(POSTBACK_CLOCK) private readonly clock: Clock,
  ) {
    this.marks = sendMarksFor(db);
    this.marksRideExchanges = !db.serialised;
  }

  /**
   * Claims up to `limit` due rows: expired leases first (they have waited longest), then
   * pending rows whose time has come, leaving out the trackers named in `skipTrackers`
   * (circuit open, or no free slot).
   */
  claimDue(limit: number, skipTrackers: string[] = []): Promise<ClaimedPostback[]> {
    return this.db.transaction((manager) => this.claimIn(manager, limit, skipTrackers, true));
  }

  /**
   * Records finished attempts and, when `claim` is given, claims more due rows, in one
   * transaction: the flusher's steady state costs one commit (one fsync on SQLite) per round
   * of sends, not two per postback. Returns the rows claimed and the settlements whose claim
   * was lost (the lease expired and another worker took the row: the attempt is still
   * recorded, the row is left to its new owner).
   */
  exchange(
    finished: Settlement[],
    claim?: { limit: number; skipTrackers?: string[] },
    marks?: SendingMarks,
  ): Promise<{ claimed: ClaimedPostback[]; lost: Settlement[] }> {
    const marking = marks && marks.rows.length > 0 ? marks : undefined;
    if (marking && !this.marksRideExchanges) {
      throw new Error('send marks ride exchanges only where they are a column (see SendMarks)');
    }
    const round = this.steadyRound(finished, claim);
    if (round && finished.length === 0 && !round.claim && !marking) {
      return Promise.resolve({ claimed: [], lost: [] });
    }
    if (round && this.db.dialect.writableCte) return this.exchangeInOneStatement(round, marking);
    if (round && this.db.offThread) return this.exchangeOffThread(round);
    return this.db.transaction(async (manager) => {
      const lost = await this.settleIn(manager, finished);
      if (marking) await markSendingIn(manager, marking.rows, marking.at);
      const claimed =
        claim && claim.limit > 0
          ? await this.claimIn(manager, claim.limit, claim.skipTrackers ?? [], false)
          : [];
      return { claimed, lost };
    }, EXCHANGE_ISOLATION);
  }

  /**
   * Records an attempt and the row's new state in one transaction. Returns false when the
   * claim was lost (see `exchange`).
   */
  async settle(
    row: ClaimedPostback,
    attempt: AttemptRecord,
    change: Partial<Postback>,
  ): Promise<boolean> {
    const { lost } = await this.exchange([{ row, attempt, change }]);
    return lost.length === 0;
  }

  /**
   * The flusher's steady state, which PostgreSQL writes in one statement and a SQLite writer
   * thread in one batch: every settlement a delivery, no more than one statement's rows, no
   * sweep due (a sweep counts expired leases as attempts first). Undefined otherwise, for the
   * transaction's way; also on the engines and set-ups that have neither.
   */
  private steadyRound(
    finished: Settlement[],
    claim?: { limit: number; skipTrackers?: string[] },
  ): SteadyRound | undefined {
    if (!this.db.dialect.writableCte && !this.db.offThread) return undefined;
    if (finished.length > MAX_STEADY_ROUND) return undefined;
    const { delivered, others } = groupSettlements(finished);
    if (others.length > 0) return undefined;
    const now = this.clock.now();
    const claiming = claim !== undefined && claim.limit > 0;
    if (claiming && now - this.sweptAt >= SWEEP_MS) return undefined;
    if (!claiming) return { finished, delivered, now };
    const skip = claim.skipTrackers ?? [];
    const due: DueQuery = {
      state: 'pending',
      now,
      limit: claim.limit,
      skip,
      from: this.claimRange(now, skip, false).from,
    };
    return { finished, delivered, now, claim: due };
  }

  /**
   * A steady round on PostgreSQL in one statement: one round trip, no BEGIN/COMMIT. The
   * attempts' INSERT, each group's delivered UPDATE and the claim are parts of one `WITH`,
   * which PostgreSQL runs as a whole or not at all, each part on the same snapshot (the claim
   * takes pending rows only, never the rows being settled).
   */
  private exchangeInOneStatement(
    { finished, delivered, now, claim }: SteadyRound,
    marks?: SendingMarks,
  ): Promise<{ claimed: ClaimedPostback[]; lost: Settlement[] }> {
    return this.db.transaction(async (manager) => {
      const table = tableOf(manager, Postback);
      const columns = claimedColumns(manager).map((c) => c.databaseName);
      const params: Record<string, unknown> = {};
      const parts: string[] = [];
      const outputs: string[] = [];
      // Rows still in flight (the flusher leaves out those settled here): no other part of
      // the statement touches them.
      if (marks) {
        markStatements(table, marks.rows, marks.at, params).forEach((update, m) =>
          parts.push(`"m${m}" AS (${update})`),
        );
      }
      chunks(attemptRows(finished, now)).forEach((attempts, a) => {
        const insert = insertManySql(manager, DeliveryAttempt, attempts, params, `a${a}`);
        parts.push(`"a${a}" AS (${insert})`);
      });
      delivered
        .flatMap((group) => chunks(group))
        .forEach((batch, g) => {
          parts.push(
            `"s${g}" AS (${deliveredUpdateSql(table, batch, now, params, `s${g}`, true)})`,
          );
          outputs.push(
            `SELECT ${columns.map(() => 'NULL').join(', ')}, NULL, "id" AS "settled_id" FROM "s${g}"`,
          );
        });
      if (claim) {
        Object.assign(params, this.newLease(now));
        const select = dueSelectSql(this.db.dialect, table, claim, DUE_COLUMNS, params);
        parts.push(`"due" AS (${select})`);
        parts.push(
          `"c" AS (UPDATE "${table}" AS "u" SET ${LEASE_SET} FROM "due" WHERE "u"."id" = "due"."id" RETURNING ${claimedColumnList(manager, 'u')}, "due"."due_at" AS "due_at")`,
        );
        outputs.unshift(
          `SELECT ${columns.map((c) => `"c"."${c}"`).join(', ')}, "c"."due_at", NULL AS "settled_id" FROM "c"`,
        );
      }
      const rows = await rawQuery<ObjectLiteral[]>(
        manager,
        oneStatementSql(parts, outputs),
        params,
        {
          prepare: false,
        },
      );
      const owned = new Set(rows.map((r) => r.settled_id).filter((id) => typeof id === 'string'));
      const claimed = this.inDueOrder(
        manager,
        rows.filter((r) => typeof r.settled_id !== 'string'),
      );
      return { claimed, lost: finished.filter((s) => !owned.has(s.row.id)) };
    }, ONE_STATEMENT);
  }

  /**
   * A steady round on SQLite's writer thread: the attempts' INSERT, each group's delivered
   * UPDATE (RETURNING the rows it still held) and the claim, as one batch in one transaction,
   * while the event loop goes on sending (see PostbackDatabase.writeOffThread).
   */
  private async exchangeOffThread({
    finished,
    delivered,
    now,
    claim,
  }: SteadyRound): Promise<{ claimed: ClaimedPostback[]; lost: Settlement[] }> {
    const manager = this.db.dataSource.manager;
    const dataSource = this.db.dataSource;
    const table = tableOf(manager, Postback);
    const inserts: WriterStatement[] = [];
    for (const attempts of chunks(attemptRows(finished, now))) {
      inserts.push(insertManyBound(dataSource, DeliveryAttempt, attempts));
    }
    const updates: WriterStatement[] = [];
    for (const batch of delivered.flatMap((group) => chunks(group))) {
      updates.push(deliveredUpdateOffThread(dataSource, table, batch, now));
    }
    const claiming: WriterStatement[] = [];
    if (claim) {
      const params: Record<string, unknown> = { ...this.newLease(now) };
      claiming.push(boundStatement(dataSource, this.claimSql(manager, claim, params), params));
    }
    const results = await this.db.writeOffThread([...inserts, ...updates, ...claiming]);
    const settled = results.slice(inserts.length, inserts.length + updates.length);
    const owned = new Set(settled.flatMap((rows) => (rows as ObjectLiteral[]).map((r) => r.id)));
    const claimed = claim ? this.inDueOrder(manager, results.at(-1) as ObjectLiteral[]) : [];
    return { claimed, lost: finished.filter((s) => !owned.has(s.row.id)) };
  }

  private newLease(now: number): Lease {
    return {
      state: 'in_flight',
      leaseOwner: this.workerId,
      claimToken: randomUUID(),
      nextAttemptAt: now + this.options.outbox.leaseMs,
      updatedAt: now,
    };
  }

  private async claimIn(
    manager: EntityManager,
    limit: number,
    skip: string[],
    sweep: boolean,
  ): Promise<ClaimedPostback[]> {
    const now = this.clock.now();
    const lease = this.newLease(now);
    const { sweeping, from } = this.claimRange(now, skip, sweep);
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

  /**
   * Whether this claim sweeps (looks for expired leases) and where its pending rows start:
   * the floor, a little behind it on a sweep, the bottom on a full sweep (see the fields).
   */
  private claimRange(
    now: number,
    skip: string[],
    always: boolean,
  ): { sweeping: boolean; from?: number } {
    const released = [...this.skippedBefore].some((tracker) => !skip.includes(tracker));
    this.skippedBefore = new Set(skip);
    const sweeping = always || now - this.sweptAt >= SWEEP_MS;
    if (sweeping) this.sweptAt = now;
    const floor = this.pendingFloor;
    if (this.db.serialised) return { sweeping };
    if (floor === undefined || always || released || now - this.fullySweptAt >= FULL_SWEEP_MS) {
      this.fullySweptAt = now;
      return { sweeping };
    }
    return { sweeping, from: sweeping ? floor - LATE_COMMIT_MS : floor };
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

  /** Puts selected rows in flight under `lease`; notes the floor (see `pendingFloor`). */
  private async lease(
    manager: EntityManager,
    rows: DueRow[],
    lease: Lease,
  ): Promise<ClaimedPostback[]> {
    if (rows.length === 0) return rows;
    const pending = rows.filter((row) => row.state === 'pending');
    if (pending.length > 0) this.pendingFloor = pending[pending.length - 1].nextAttemptAt;
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
  private claimSql(manager: EntityManager, due: DueQuery, params: Record<string, unknown>): string {
    const table = tableOf(manager, Postback);
    const select = dueSelectSql(this.db.dialect, table, due, DUE_COLUMNS, params);
    const claimed = claimedColumns(manager).map((c) => c.databaseName);
    return claimReturningSql(this.db.dialect, table, select, claimed);
  }

  /** Claimed rows as returned by an UPDATE, hydrated, in due order; notes the floor. */
  private inDueOrder(manager: EntityManager, rows: ObjectLiteral[]): ClaimedPostback[] {
    if (rows.length === 0) return [];
    const columns = claimedColumns(manager);
    const driver = dataSourceOf(manager).driver;
    const claimed = rows
      .map((row) => ({
        dueAt: Number(row.due_at ?? row.created_at),
        row: claimedRow(columns, driver, row),
      }))
      .sort((a, b) => a.dueAt - b.dueAt);
    if (this.db.dialect.writableCte) this.pendingFloor = claimed[claimed.length - 1].dueAt;
    return claimed.map((c) => c.row);
  }

  /**
   * Writes the attempts (multi-row INSERTs) and the rows' new states, each checked against
   * its claim token. Deliveries, nearly every settlement in a healthy outbox, are grouped:
   * one UPDATE for all rows of a claim that got the same answer.
   */
  private async settleIn(manager: EntityManager, finished: Settlement[]): Promise<Settlement[]> {
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

  /** Notes that the requests of `rows` started `at` (default: now; see SendMarks). */
  markSending(rows: ClaimedPostback[], at = this.clock.now()): Promise<void> {
    return this.marks.mark(rows, at);
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
