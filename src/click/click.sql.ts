import type { EntityMetadata } from 'typeorm';

import { selectList } from '../database/raw-insert.js';

/** A tracker a click ID is looked up under, with its attribution window. */
export interface LookupTracker {
  name: string;
  windowMs: number;
}

/** Which of a visitor's clicks `linkCustomer` links: theirs, one chosen row, or both. */
export type CustomerLink = 'visitor' | 'click' | 'visitorOrClick';

/**
 * The statements ClickRepository runs on the clicks table (the upsert is click-upsert-sql.ts),
 * in rawQuery's portable form: `"double-quoted"` identifiers, `:name` parameters. The table's
 * name is the DataSource's (an `entityPrefix` included); rows are selected as `selectList`
 * aliases them, for `hydrate`. Each text is built once per DataSource.
 */
export class ClickSql {
  /** This visitor's row of a click: `:tracker`, `:clickId`, `:visitorKey`. */
  readonly forVisitor: string;
  /** Recent rows of a visitor (`:key`), newest first: `:since`, `:firstSeenBy`. */
  readonly recentOfVisitor: string;
  /** Recent rows of a customer (`:key`), newest first: `:since`, `:firstSeenBy`. */
  readonly recentOfCustomer: string;
  private readonly table: string;
  private readonly columns: string;
  private readonly lookups = new Map<string, string>();

  constructor(metadata: EntityMetadata) {
    this.table = `"${metadata.tableName}"`;
    this.columns = selectList(metadata, 'c');
    const select = `SELECT ${this.columns} FROM ${this.table} "c" WHERE`;
    this.forVisitor = `${select} "c"."tracker" = :tracker AND "c"."click_id" = :clickId AND "c"."visitor_key" = :visitorKey`;
    // Served by IDX_postback_clicks_visitor_seen and IDX_postback_clicks_customer_seen.
    const recent = `"c"."last_seen_at" >= :since AND "c"."first_seen_at" <= :firstSeenBy ORDER BY "c"."last_seen_at" DESC LIMIT 20`;
    this.recentOfVisitor = `${select} "c"."visitor_key" = :key AND ${recent}`;
    this.recentOfCustomer = `${select} "c"."customer_id" = :key AND ${recent}`;
  }

  /**
   * Sets `:customerId` on the clicks that have none yet: a visitor's (`:key`), one row
   * (`:id`), or both.
   */
  linkCustomer(link: CustomerLink): string {
    const set = `UPDATE ${this.table} SET "customer_id" = :customerId WHERE "customer_id" IS NULL`;
    if (link === 'visitorOrClick') return `${set} AND ("visitor_key" = :key OR "id" = :id)`;
    return link === 'visitor' ? `${set} AND "visitor_key" = :key` : `${set} AND "id" = :id`;
  }

  /**
   * One row of a click ID: one probe per tracker of the unique (tracker, click_id,
   * visitor_key) index (no index on the click ID alone: every click would pay for it). A click
   * ID can have several rows (several visitors). Without `creditableAt`, the latest seen; with
   * it, a creditable row first (notCreditable's rule), then the latest captured before the
   * event, then the latest: the first row tells whether any is creditable, or why not.
   */
  byClickId(
    trackers: readonly LookupTracker[],
    clickId: string,
    creditableAt?: { occurredAt: number; skewMs: number },
  ): { text: string; parameters: Record<string, unknown> } {
    const parameters: Record<string, unknown> = { clickId };
    trackers.forEach((tracker, i) => {
      parameters[`t${i}`] = tracker.name;
      if (creditableAt) parameters[`s${i}`] = creditableAt.occurredAt - tracker.windowMs;
    });
    if (creditableAt) parameters.by = creditableAt.occurredAt + creditableAt.skewMs;
    const key = `${trackers.length}\0${creditableAt !== undefined}`;
    let text = this.lookups.get(key);
    if (text === undefined) {
      text = this.lookupText(trackers.length, creditableAt !== undefined);
      this.lookups.set(key, text);
    }
    return { text, parameters };
  }

  private lookupText(trackers: number, ranked: boolean): string {
    const names = Array.from({ length: trackers }, (_, i) => i);
    const where =
      `"c"."tracker" IN (${names.map((i) => `:t${i}`).join(', ')})` +
      ` AND "c"."click_id" = :clickId`;
    const latest = `"c"."last_seen_at" DESC`;
    const order = ranked
      ? [
          `CASE WHEN "c"."first_seen_at" <= :by AND (${names
            .map((i) => `("c"."tracker" = :t${i} AND "c"."last_seen_at" >= :s${i})`)
            .join(' OR ')}) THEN 0 ELSE 1 END`,
          `CASE WHEN "c"."first_seen_at" <= :by THEN 0 ELSE 1 END`,
          latest,
        ].join(', ')
      : latest;
    return `SELECT ${this.columns} FROM ${this.table} "c" WHERE ${where} ORDER BY ${order} LIMIT 1`;
  }
}
