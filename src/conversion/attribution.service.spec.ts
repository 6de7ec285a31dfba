import type { EntityManager } from 'typeorm';

import type { ClickService } from '../click/click.service.js';
import { SESSION_CLICKS_KEY } from '../postback.constants.js';
import { resolvePostbackOptions } from '../resolve-postback-options.js';
import { AttributionService } from './attribution.service.js';

const HOUR_MS = 3_600_000;
const options = resolvePostbackOptions({
  trackers: ['early', 'late'].map((name) => ({
    name,
    clickParams: [`${name}_cid`],
    postback: { url: `https://${name}.example/pb?c={click_id}` },
  })),
});
// No stored clicks: only the session can attribute.
const noStoredClicks = {
  findRecent: async () => [],
  findByClickId: async () => null,
  findForVisitor: async () => null,
} as unknown as ClickService;
const manager = {} as EntityManager;

describe('AttributionService, from the session', () => {
  const service = new AttributionService(noStoredClicks, options);
  const occurredAt = Date.UTC(2026, 10, 26, 12);
  const session = (...clicks: { tracker: string; clickId: string; at: number }[]) => ({
    [SESSION_CLICKS_KEY]: clicks,
  });

  it('credits the latest click seen before the event', async () => {
    const attribution = await service.attribute(manager, {
      occurredAt,
      session: session(
        { tracker: 'early', clickId: 'e-1', at: occurredAt - 2 * HOUR_MS },
        { tracker: 'late', clickId: 'l-1', at: occurredAt - HOUR_MS },
      ),
    });
    expect(attribution).toMatchObject({ source: 'session', clickId: 'l-1' });
  });

  it('passes over a click captured after the event, however recent', async () => {
    const attribution = await service.attribute(manager, {
      occurredAt,
      session: session(
        { tracker: 'early', clickId: 'e-1', at: occurredAt - 2 * HOUR_MS },
        { tracker: 'late', clickId: 'l-1', at: occurredAt + HOUR_MS },
      ),
    });
    expect(attribution).toMatchObject({ source: 'session', clickId: 'e-1' });
  });

  it('allows a minute of disagreement between the shop clock and the capturing one', async () => {
    const attribution = await service.attribute(manager, {
      occurredAt,
      session: session({ tracker: 'late', clickId: 'l-1', at: occurredAt + 30_000 }),
    });
    expect(attribution).toMatchObject({ source: 'session', clickId: 'l-1' });
  });
});
