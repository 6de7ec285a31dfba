import { Injectable } from '@nestjs/common';
import type { EntityManager, ObjectLiteral } from 'typeorm';

import { PostbackDatabase } from '../database/postback-database.js';
import { rawQuery } from '../database/raw-sql.js';
import { hydrate } from '../database/raw-insert.js';
import { dataSourceOf } from '../database/typeorm-compat.js';
import { Click } from './click.entity.js';
import { takeClicks } from './click-intake.js';
import { type CustomerLink, ClickSql, type LookupTracker } from './click.sql.js';
import { storeClick } from './click-store.js';
import type { VisitorDigest } from './visitor-keys.js';

/**
 * The only code that reads or writes click rows for ClickService (the capture buffer's batches
 * go through click-batch-writer.ts). Reads take the caller's manager: attribution runs them
 * inside the conversion's transaction.
 */
@Injectable()
export class ClickRepository {
  private sql?: ClickSql;

  constructor(private readonly db: PostbackDatabase) {}

  /** Writes a click row now (a repeated landing refreshes the stored one) and reads it back. */
  store(row: Click): Promise<Click> {
    return storeClick(this.db, row);
  }

  /** `store()` for several rows, refused at once when the database cannot take them now. */
  storeAtOnce(rows: Click[]): Promise<Click[]> {
    return takeClicks(this.db, rows);
  }

  /** The row of a click ID under these trackers that `ClickSql.byClickId` ranks first. */
  async findByClickId(
    manager: EntityManager,
    clickId: string,
    trackers: readonly LookupTracker[],
    creditableAt?: { occurredAt: number; skewMs: number },
  ): Promise<Click | null> {
    const { text, parameters } = this.statements(manager).byClickId(
      trackers,
      clickId,
      creditableAt,
    );
    return this.one(manager, await rawQuery(manager, text, parameters));
  }

  /** The row of this click for this visitor, if they landed with it. */
  async findForVisitor(
    manager: EntityManager,
    clickId: string,
    tracker: string,
    visitor: VisitorDigest,
  ): Promise<Click | null> {
    const rows = await rawQuery(manager, this.statements(manager).forVisitor, {
      tracker,
      clickId,
      visitorKey: visitor,
    });
    return this.one(manager, rows);
  }

  /** Up to 20 clicks of a visitor or a customer last seen since `since`, newest first. */
  async findRecent(
    manager: EntityManager,
    by: { visitor: VisitorDigest } | { customerId: string },
    since: number,
    firstSeenBy: number,
  ): Promise<Click[]> {
    const sql = this.statements(manager);
    const rows =
      'visitor' in by
        ? await rawQuery(manager, sql.recentOfVisitor, { key: by.visitor, since, firstSeenBy })
        : await rawQuery(manager, sql.recentOfCustomer, { key: by.customerId, since, firstSeenBy });
    return rows.map((row) => hydrate(manager, Click, row));
  }

  /**
   * Sets the customer on the clicks without one of this visitor and of this row (`clickRowId`);
   * with neither, sends nothing.
   */
  async linkCustomer(
    manager: EntityManager,
    customerId: string,
    visitor: VisitorDigest | null,
    clickRowId: string | undefined,
  ): Promise<void> {
    if (visitor === null && clickRowId === undefined) return;
    const link: CustomerLink =
      visitor === null ? 'click' : clickRowId === undefined ? 'visitor' : 'visitorOrClick';
    await rawQuery(manager, this.statements(manager).linkCustomer(link), {
      customerId,
      ...(visitor !== null && { key: visitor }),
      ...(clickRowId !== undefined && { id: clickRowId }),
    });
  }

  /** Built from the first manager's DataSource: the module has one. */
  private statements(manager: EntityManager): ClickSql {
    return (this.sql ??= new ClickSql(dataSourceOf(manager).getMetadata(Click)));
  }

  private one(manager: EntityManager, rows: ObjectLiteral[]): Click | null {
    return rows.length > 0 ? hydrate(manager, Click, rows[0]) : null;
  }
}
