/** A tracker a click ID is looked up under, with its attribution window. */
export interface LookupTracker {
  name: string;
  windowMs: number;
}

const texts = new Map<string, string>();

/**
 * The statement of `ClickService.findByClickId`: one probe per tracker of the unique (tracker,
 * click_id, visitor_key) index (no index on the click ID alone: every click would pay for it).
 * A click ID can have several rows (several visitors). Without `creditableAt`, the latest
 * seen; with it, a creditable row first (notCreditable's rule), then the latest captured
 * before the event, then the latest: the first row tells whether any is creditable, or why not.
 */
export function clickIdLookup(
  columns: string,
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
  const key = `${trackers.length}\0${creditableAt !== undefined}\0${columns}`;
  let text = texts.get(key);
  if (text === undefined)
    texts.set(key, (text = lookupText(columns, trackers.length, !!creditableAt)));
  return { text, parameters };
}

function lookupText(columns: string, trackers: number, ranked: boolean): string {
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
  return `SELECT ${columns} FROM "postback_clicks" "c" WHERE ${where} ORDER BY ${order} LIMIT 1`;
}
