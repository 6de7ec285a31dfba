import type { EntityMetadata } from 'typeorm';

import { ClickSql } from './click.sql.js';

/** Just what ClickSql reads of the clicks table's metadata. */
function metadataOf(tableName: string): EntityMetadata {
  const columns = ['id', 'tracker', 'click_id'].map((databaseName) => ({ databaseName }));
  return { tableName, columns } as unknown as EntityMetadata;
}

const COLUMNS = '"c"."id" AS "id", "c"."tracker" AS "tracker", "c"."click_id" AS "click_id"';

describe('ClickSql', () => {
  const sql = new ClickSql(metadataOf('postback_clicks'));

  it('writes the statements the service wrote before it, word for word', () => {
    expect(sql.forVisitor).toBe(
      `SELECT ${COLUMNS} FROM "postback_clicks" "c" WHERE "c"."tracker" = :tracker AND "c"."click_id" = :clickId AND "c"."visitor_key" = :visitorKey`,
    );
    expect(sql.recentOfCustomer).toBe(
      `SELECT ${COLUMNS} FROM "postback_clicks" "c" WHERE "c"."customer_id" = :key AND "c"."last_seen_at" >= :since AND "c"."first_seen_at" <= :firstSeenBy ORDER BY "c"."last_seen_at" DESC LIMIT 20`,
    );
    expect(sql.linkCustomer('visitorOrClick')).toBe(
      'UPDATE "postback_clicks" SET "customer_id" = :customerId WHERE "customer_id" IS NULL AND ("visitor_key" = :key OR "id" = :id)',
    );
    expect(sql.byClickId([{ name: 'net', windowMs: 5 }], 'C1')).toEqual({
      text: `SELECT ${COLUMNS} FROM "postback_clicks" "c" WHERE "c"."tracker" IN (:t0) AND "c"."click_id" = :clickId ORDER BY "c"."last_seen_at" DESC LIMIT 1`,
      parameters: { clickId: 'C1', t0: 'net' },
    });
  });

  it('ranks the rows of a click ID creditable at a time first, per tracker window', () => {
    const trackers = [
      { name: 'a', windowMs: 100 },
      { name: 'b', windowMs: 10 },
    ];
    const { text, parameters } = sql.byClickId(trackers, 'C1', { occurredAt: 1000, skewMs: 5 });
    expect(text).toContain(
      'ORDER BY CASE WHEN "c"."first_seen_at" <= :by AND (("c"."tracker" = :t0 AND "c"."last_seen_at" >= :s0) OR ("c"."tracker" = :t1 AND "c"."last_seen_at" >= :s1)) THEN 0 ELSE 1 END, CASE WHEN "c"."first_seen_at" <= :by THEN 0 ELSE 1 END, "c"."last_seen_at" DESC LIMIT 1',
    );
    expect(parameters).toEqual({ clickId: 'C1', t0: 'a', s0: 900, t1: 'b', s1: 990, by: 1005 });
  });

  it('names the table as the DataSource does (an entityPrefix)', () => {
    const prefixed = new ClickSql(metadataOf('shop_postback_clicks'));
    const texts = [
      prefixed.forVisitor,
      prefixed.recentOfVisitor,
      prefixed.recentOfCustomer,
      prefixed.linkCustomer('visitor'),
      prefixed.linkCustomer('click'),
      prefixed.byClickId([{ name: 'net', windowMs: 0 }], 'C1').text,
      prefixed.byClickId([{ name: 'net', windowMs: 0 }], 'C1', { occurredAt: 0, skewMs: 0 }).text,
    ];
    for (const text of texts) {
      expect(text).toContain('"shop_postback_clicks"');
      expect(text).not.toMatch(/(?<!shop_)postback_clicks/);
    }
  });
});
