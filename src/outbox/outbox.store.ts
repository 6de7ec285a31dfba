import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import { Inject, Injectable } from '@nestjs/common';
import { type EntityManager, In } from 'typeorm';

import type { Clock } from '../common/clock.js';
import { PostbackDatabase } from '../database/postback-database.js';
import { POSTBACK_CLOCK, POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../resolve-postback-options.js';
import { DeliveryAttempt } from './delivery-attempt.entity.js';
import { duePostbacksQuery } from './due-postbacks.query.js';
import { Postback } from './postback.entity.js';

export type AttemptRecord = Omit<DeliveryAttempt, 'id' | 'postbackId'>;

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
   * Claims up to `limit` due rows: pending ones whose time has come and expired leases,
   * leaving out the trackers named in `skipTrackers` (circuit open, or no free slot).
   */
  claimDue(limit: number, skipTrackers: string[] = []): Promise<Postback[]> {
    return this.db.transaction(async (manager) => {
      const now = this.clock.now();
      const query = duePostbacksQuery(manager, now, limit, skipTrackers);
      // Competing instances skip each other's locked rows instead of waiting on them.
      if (!this.db.serialised) query.setLock('pessimistic_write').setOnLocked('skip_locked');
      const found = await query.getMany();
      const rows = await this.countAbandoned(manager, found, now);
      if (rows.length === 0) return rows;
      const lease = {
        state: 'in_flight' as const,
        leaseOwner: this.workerId,
        claimToken: randomUUID(),
        nextAttemptAt: now + this.options.outbox.leaseMs,
        updatedAt: now,
      };
      await manager.update(Postback, { id: In(rows.map((r) => r.id)) }, lease);
      return rows.map((row) => Object.assign(row, lease));
    });
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

  /**
   * Records an attempt and the row's new state in one transaction. Returns false when the
   * claim was lost (the lease expired and another worker took the row): the attempt is still
   * recorded, the row is left to its new owner.
   */
  settle(row: Postback, attempt: AttemptRecord, change: Partial<Postback>): Promise<boolean> {
    return this.db.transaction(async (manager) => {
      await manager.insert(DeliveryAttempt, { ...attempt, id: randomUUID(), postbackId: row.id });
      const result = await manager.update(
        Postback,
        { id: row.id, claimToken: row.claimToken as string },
        { ...change, leaseOwner: null, claimToken: null, updatedAt: this.clock.now() },
      );
      return (result.affected ?? 0) > 0;
    });
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
