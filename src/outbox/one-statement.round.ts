import type { ObjectLiteral } from 'typeorm';

import type { PostbackDatabase } from '../database/postback-database.js';
import { rawQuery } from '../database/raw-sql.js';
import { insertManySql } from '../database/raw-insert.js';
import { claimedColumns, tableOf } from './claimed-postback.js';
import { DeliveryAttempt } from './delivery-attempt.entity.js';
import type { ExchangeResult, ExchangeRound, SteadyRound } from './exchange-round.js';
import type { OutboxRepository } from './outbox.repository.js';
import {
  DUE_COLUMNS,
  dueSelectSql,
  markStatements,
  oneStatementSql,
  ROUND_PARTS,
} from './outbox.sql.js';
import { Postback } from './postback.entity.js';
import type { SendingMarks } from './send-marks.js';
import { attemptRows, chunks, deliveredUpdateSql } from './settlements.js';

/** One statement writes it all: no BEGIN/COMMIT needed (see `PostbackDatabase.transaction`). */
const ONE_STATEMENT = { anyIsolation: true, singleWrite: true };

/** PostgreSQL's steady round (data-modifying `WITH`, see `SqlDialect.writableCte`). */
export class OneStatementRound implements ExchangeRound {
  constructor(
    private readonly db: PostbackDatabase,
    private readonly rows: OutboxRepository,
  ) {}

  /**
   * A steady round on PostgreSQL in one statement: one round trip, no BEGIN/COMMIT. The
   * attempts' INSERT, each group's delivered UPDATE and the claim are parts of one `WITH`,
   * which PostgreSQL runs as a whole or not at all, each part on the same snapshot (the claim
   * takes pending rows only, never the rows being settled).
   */
  run(
    { finished, delivered, now, claim }: SteadyRound,
    marks?: SendingMarks,
  ): Promise<ExchangeResult> {
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
          parts.push(ROUND_PARTS.mark(m, update)),
        );
      }
      chunks(attemptRows(finished, now)).forEach((attempts, a) => {
        const insert = insertManySql(manager, DeliveryAttempt, attempts, params, `a${a}`);
        parts.push(ROUND_PARTS.attempts(a, insert));
      });
      delivered
        .flatMap((group) => chunks(group))
        .forEach((batch, g) => {
          const update = deliveredUpdateSql(table, batch, now, params, `s${g}`, true);
          parts.push(ROUND_PARTS.settled(g, update));
          outputs.push(ROUND_PARTS.settledOutput(g, columns));
        });
      if (claim) {
        Object.assign(params, this.rows.newLease(now));
        const select = dueSelectSql(this.db.dialect, table, claim, DUE_COLUMNS, params);
        parts.push(ROUND_PARTS.due(select));
        parts.push(ROUND_PARTS.claim(table, columns));
        outputs.unshift(ROUND_PARTS.claimOutput(columns));
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
      const claimed = this.rows.inDueOrder(
        manager,
        rows.filter((r) => typeof r.settled_id !== 'string'),
      );
      return { claimed, lost: finished.filter((s) => !owned.has(s.row.id)) };
    }, ONE_STATEMENT);
  }
}
