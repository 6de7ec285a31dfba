import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import { Inject, Injectable } from '@nestjs/common';
import { type EntityManager, In } from 'typeorm';

import type { Clock } from '../common/clock.js';
import { PostbackDatabase } from '../database/postback-database.js';
import { insertMany, placeholders, rawQuery } from '../database/raw-sql.js';
import { POSTBACK_CLOCK, POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../resolve-postback-options.js';
import { DeliveryAttempt } from './delivery-attempt.entity.js';
import { duePostbacksQuery } from './due-postbacks.query.js';
import { Postback } from './postback.entity.js';

export type AttemptRecord = Omit<DeliveryAttempt, 'id' | 'postbackId'>;

/** A finished attempt waiting to be written: the row as claimed, what happened, its new state. */
export interface Settlement {
  row: Postback;
  attempt: AttemptRecord;
  change: Partial<Postback>;
}

/** Rows per multi-row statement: well within every engine's limit on bound parameters. */
const ROWS_PER_STATEMENT = 100;

/** The entity's table name as the host's DataSource has it (entityPrefix included). */
function tableOf(manager: EntityManager, entity: typeof Postback): string {
  return manager.connection.getMetadata(entity).tableName;
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

  constructor(
    private readonly db: PostbackDatabase,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
    @Inject(POSTBACK_CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Claims up to `limit` due rows: expired leases first (they have waited longest), then
   * pending rows whose time has come, leaving out the trackers named in `skipTrackers`
   * (circuit open, or no free slot).
   */
  claimDue(limit: number, skipTrackers: string[] = []): Promise<Postback[]> {
    return this.db.transaction((manager) => this.claimIn(manager, limit, skipTrackers));
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
  ): Promise<{ claimed: Postback[]; lost: Settlement[] }> {
    return this.db.transaction(async (manager) => {
      const lost = await this.settleIn(manager, finished);
      const claimed =
        claim && claim.limit > 0
          ? await this.claimIn(manager, claim.limit, claim.skipTrackers ?? [])
          : [];
      return { claimed, lost };
    });
  }

  /**
   * Records an attempt and the row's new state in one transaction. Returns false when the
   * claim was lost (see `exchange`).
   */
  async settle(row: Postback, attempt: AttemptRecord, change: Partial<Postback>): Promise<boolean> {
    const { lost } = await this.exchange([{ row, attempt, change }]);
    return lost.length === 0;
  }

  private async claimIn(
    manager: EntityManager,
    limit: number,
    skip: string[],
  ): Promise<Postback[]> {
    const now = this.clock.now();
    const found: Postback[] = [];
    for (const state of ['in_flight', 'pending'] as const) {
      if (found.length >= limit) break;
      const query = duePostbacksQuery(manager, { state, now, limit: limit - found.length, skip });
      // Competing instances skip each other's locked rows instead of waiting on them.
      if (!this.db.serialised) query.setLock('pessimistic_write').setOnLocked('skip_locked');
      found.push(...(await query.getMany()));
    }
    const rows = await this.countAbandoned(manager, found, now);
    if (rows.length === 0) return rows;
    const lease = {
      state: 'in_flight' as const,
      leaseOwner: this.workerId,
      claimToken: randomUUID(),
      nextAttemptAt: now + this.options.outbox.leaseMs,
      updatedAt: now,
    };
    for (const ids of chunks(rows.map((r) => r.id))) {
      const params: Record<string, unknown> = { ...lease };
      await rawQuery(
        manager,
        `UPDATE "${tableOf(manager, Postback)}" SET "state" = :state, "lease_owner" = :leaseOwner, "claim_token" = :claimToken, "next_attempt_at" = :nextAttemptAt, "updated_at" = :updatedAt WHERE "id" IN (${placeholders('id', ids, params)})`,
        params,
      );
    }
    return rows.map((row) => Object.assign(row, lease));
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
      await insertMany(
        manager,
        DeliveryAttempt,
        batch.map(({ row, attempt }) => ({ ...attempt, id: randomUUID(), postbackId: row.id })),
      );
    }
    const lost: Settlement[] = [];
    const delivered = new Map<string, Settlement[]>();
    for (const settlement of finished) {
      const { row, change } = settlement;
      if (change.state === 'delivered' && typeof change.attempts === 'number') {
        const key = JSON.stringify([row.claimToken, change.attempts, change.lastStatus]);
        const group = delivered.get(key);
        if (group) group.push(settlement);
        else delivered.set(key, [settlement]);
        continue;
      }
      const result = await manager.update(
        Postback,
        { id: row.id, claimToken: row.claimToken as string },
        { ...change, leaseOwner: null, claimToken: null, updatedAt: now },
      );
      if (!result.affected) lost.push(settlement);
    }
    for (const group of delivered.values()) {
      for (const batch of chunks(group)) {
        const [{ row, change }] = batch;
        const token = row.claimToken as string;
        const ids = batch.map((s) => s.row.id);
        // Which of them this worker still owns, locked so that no takeover slips in between.
        const select: Record<string, unknown> = { token };
        const owned = await rawQuery<{ id: string }[]>(
          manager,
          `SELECT "id" FROM "${tableOf(manager, Postback)}" WHERE "claim_token" = :token AND "id" IN (${placeholders('id', ids, select)})${this.db.serialised ? '' : ' FOR UPDATE'}`,
          select,
        );
        const ownedIds = new Set(owned.map((r) => r.id));
        lost.push(...batch.filter((s) => !ownedIds.has(s.row.id)));
        if (ownedIds.size === 0) continue;
        // Within one write the settlements are milliseconds apart: the group takes the latest.
        const deliveredAt = Math.max(...batch.map((s) => s.change.deliveredAt ?? now));
        const update: Record<string, unknown> = {
          state: 'delivered',
          attempts: change.attempts,
          lastStatus: change.lastStatus,
          deliveredAt,
          updatedAt: now,
          token,
        };
        await rawQuery(
          manager,
          `UPDATE "${tableOf(manager, Postback)}" SET "state" = :state, "attempts" = :attempts, "last_status" = :lastStatus, "delivered_at" = :deliveredAt, "last_error" = NULL, "lease_owner" = NULL, "claim_token" = NULL, "updated_at" = :updatedAt WHERE "claim_token" = :token AND "id" IN (${placeholders('id', [...ownedIds], update)})`,
          update,
        );
      }
    }
    return lost;
  }

  /**
   * A row still in flight whose lease ran out was being sent by a worker that stopped before
   * recording the outcome (a crash, a kill). That counts as an attempt, recorded as such, so a
   * postback that brings its worker down every time ends dead instead of looping forever.
   * Returns the rows still to send.
   */
  private async countAbandoned(
    manager: EntityManager,
    rows: Postback[],
    now: number,
  ): Promise<Postback[]> {
    const keep: Postback[] = [];
    for (const row of rows) {
      if (row.state !== 'in_flight') {
        keep.push(row);
        continue;
      }
      const attempt = row.attempts + 1;
      const maxAttempts =
        this.options.trackers.get(row.tracker)?.retry.maxAttempts ??
        this.options.outbox.retry.maxAttempts;
      const reason =
        'the worker sending it stopped before recording an outcome (its lease expired)';
      const dead = attempt >= maxAttempts;
      await manager.insert(DeliveryAttempt, {
        id: randomUUID(),
        postbackId: row.id,
        attempt,
        startedAt: now,
        durationMs: 0,
        requestUrl: '',
        statusCode: null,
        outcome: dead ? 'dead' : 'retry',
        error: reason,
        responseExcerpt: null,
      });
      const lastError = dead ? `gave up after ${attempt} attempts; last: ${reason}` : reason;
      await manager.update(
        Postback,
        { id: row.id },
        dead
          ? {
              attempts: attempt,
              state: 'dead',
              lastError,
              leaseOwner: null,
              claimToken: null,
              updatedAt: now,
            }
          : { attempts: attempt, lastError },
      );
      if (!dead) keep.push(Object.assign(row, { attempts: attempt, lastError }));
    }
    return keep;
  }

  /** The state of one postback (a reversal's original), or undefined if it is gone. */
  async stateOf(id: string): Promise<Postback['state'] | undefined> {
    const row = await this.db.run((manager) =>
      manager.findOne(Postback, { select: { id: true, state: true }, where: { id } }),
    );
    return row?.state;
  }

  /** Hands claimed rows that were never attempted back, due at `dueAt` (default: now). */
  async release(rows: Postback[], dueAt?: number): Promise<void> {
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
