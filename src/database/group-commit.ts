// From node:timers rather than the global: a host's tests with fake timers must not stall
// every conversion until they advance the clock.
import { setImmediate } from 'node:timers';

import type { EntityManager } from 'typeorm';

import { InvalidInputError } from '../errors/invalid-input.error.js';

type Work<T> = (manager: EntityManager) => Promise<T>;

interface Unit {
  work: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Most units in one shared transaction: bounds its length and the wait of the last unit. */
export const MAX_UNITS_PER_COMMIT = 64;

/**
 * Group commit for SQLite. With `synchronous = FULL` every COMMIT waits for an fsync of the
 * WAL (about 0.2 ms on a fast disk, far more on a busy one), and better-sqlite3 waits
 * synchronously: the whole process stands still. Units of work that arrive while another
 * runs are therefore run together, in one transaction, each inside its own SAVEPOINT:
 *
 * - a unit that fails is rolled back to its savepoint, alone, and its caller gets its error;
 *   the others go on;
 * - every caller is answered only after the COMMIT that holds its rows, so nothing is
 *   acknowledged before it is durable, exactly as with a transaction of its own;
 * - if the shared transaction itself fails (the COMMIT, or an error that SQLite answers by
 *   rolling back the whole transaction), every unit in it fails: none is committed, and
 *   every caller hears so, with the batch's error unless its own input was refused.
 *
 * No unit waits for a batch to fill: a batch is whatever arrived in the same turn of the event
 * loop or while the previous work held the connection, so a lone caller commits after one
 * turn of the event loop, as good as at once.
 */
export class GroupCommit {
  private waiting: Unit[] = [];

  /**
   * @param schedule queues a job behind the connection's other work (the SQLite write queue)
   * @param transaction runs work in one transaction on the connection
   * @param stopsBatch an error the units after the failed one would all meet too (a lock held
   *   by another process): the batch stops there, and every unit in it gets an error
   */
  constructor(
    private readonly schedule: (job: () => Promise<void>) => void,
    private readonly transaction: <T>(work: Work<T>) => Promise<T>,
    private readonly stopsBatch: (error: unknown) => boolean = () => false,
  ) {}

  submit<T>(work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ work, resolve: resolve as (value: unknown) => void, reject });
      // The first unit waits one turn of the event loop, so that the requests already read
      // from the network in this turn join it: each HTTP request reaches here in its own
      // callback, and a job queued at once would commit each alone.
      if (this.waiting.length === 1) setImmediate(() => this.schedule(() => this.commitWaiting()));
    });
  }

  private async commitWaiting(): Promise<void> {
    const units = this.waiting.splice(0, MAX_UNITS_PER_COMMIT);
    if (this.waiting.length > 0) this.schedule(() => this.commitWaiting());
    if (units.length === 1) {
      // Alone: its own transaction, no savepoint needed.
      const [unit] = units;
      await this.transaction(unit.work).then(unit.resolve, unit.reject);
      return;
    }
    const outcomes: Outcome[] = [];
    try {
      await this.transaction(async (manager) => {
        for (const unit of units) {
          await runInSavepoint(manager, unit.work, outcomes, this.stopsBatch);
        }
      });
    } catch (error) {
      // Nothing was committed. Only a unit whose input was refused keeps its own error: that
      // answer holds whatever the batch did. Any other (a unique violation, a bug) was met in a
      // transaction that no longer exists; its caller must hear why the batch failed (an
      // outage: 503, send it again), not a duplicate that was never committed.
      units.forEach((unit, i) => {
        const outcome = outcomes[i];
        const own = outcome && !outcome.ok ? outcome.error : undefined;
        unit.reject(own instanceof InvalidInputError ? own : error);
      });
      return;
    }
    units.forEach((unit, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
  }
}

/** Runs one unit in a savepoint and adds its outcome to `outcomes`. */
async function runInSavepoint(
  manager: EntityManager,
  work: Work<unknown>,
  outcomes: Outcome[],
  stopsBatch: (error: unknown) => boolean,
): Promise<void> {
  await manager.query('SAVEPOINT postback_unit');
  try {
    outcomes.push({ ok: true, value: await work(manager) });
  } catch (error) {
    outcomes.push({ ok: false, error });
    if (stopsBatch(error)) throw error;
    // Fails the whole batch if SQLite already rolled the transaction back, as it may on a full
    // disk or an I/O error: the earlier units' rows are gone too, and every caller hears why
    // (this unit's error, not "no such savepoint").
    await manager.query('ROLLBACK TO SAVEPOINT postback_unit').catch(() => {
      throw error;
    });
  }
  await manager.query('RELEASE SAVEPOINT postback_unit');
}
