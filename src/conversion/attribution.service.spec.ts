import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { Click } from '../click/click.entity.js';

import type { ClickService } from '../click/click.service.js';
import { SESSION_CLICKS_KEY } from '../postback.constants.js';
import { resolvePostbackOptions } from '../options/resolve-options.js';
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
    const attribution = await service.attribute(
      manager,
      {
        occurredAt,
        session: session(
          { tracker: 'early', clickId: 'e-1', at: occurredAt - 2 * HOUR_MS },
          { tracker: 'late', clickId: 'l-1', at: occurredAt - HOUR_MS },
        ),
      },
      null,
    );
    expect(attribution).toMatchObject({ source: 'session', clickId: 'l-1' });
  });

  it('passes over a click captured after the event, however recent', async () => {
    const attribution = await service.attribute(
      manager,
      {
        occurredAt,
        session: session(
          { tracker: 'early', clickId: 'e-1', at: occurredAt - 2 * HOUR_MS },
          { tracker: 'late', clickId: 'l-1', at: occurredAt + HOUR_MS },
        ),
      },
      null,
    );
    expect(attribution).toMatchObject({ source: 'session', clickId: 'e-1' });
  });

  it('allows a minute of disagreement between the shop clock and the capturing one', async () => {
    const attribution = await service.attribute(
      manager,
      {
        occurredAt,
        session: session({ tracker: 'late', clickId: 'l-1', at: occurredAt + 30_000 }),
      },
      null,
    );
    expect(attribution).toMatchObject({ source: 'session', clickId: 'l-1' });
  });
});

describe('AttributionService, an explicit click ID', () => {
  const DAY_MS = 24 * HOUR_MS;
  const occurredAt = Date.UTC(2026, 10, 26, 12);
  /** A ClickService that has stored click "given" of tracker "early", captured at `at`. */
  const storedAt = (at: number) =>
    new AttributionService(
      {
        ...noStoredClicks,
        findByClickId: async (_m: EntityManager, clickId: string) =>
          clickId === 'given'
            ? ({ id: 'row-1', tracker: 'early', clickId, firstSeenAt: at, lastSeenAt: at } as Click)
            : null,
      } as unknown as ClickService,
      options,
    );
  const fromSession = {
    [SESSION_CLICKS_KEY]: [{ tracker: 'late', clickId: 'l-1', at: occurredAt - HOUR_MS }],
  };
  let warn: ReturnType<typeof jest.spyOn>;
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('is credited when it was captured before the event, inside the window', async () => {
    const attribution = await storedAt(occurredAt - 29 * DAY_MS).attribute(
      manager,
      {
        occurredAt,
        clickId: 'given',
        session: fromSession,
      },
      null,
    );
    expect(attribution).toMatchObject({ source: 'click_id', clickId: 'given' });
    expect(warn).not.toHaveBeenCalled();
  });

  it('is not credited 90 days after its capture (30-day window), and says why', async () => {
    const attribution = await storedAt(occurredAt - 90 * DAY_MS).attribute(
      manager,
      {
        occurredAt,
        clickId: 'given',
        type: 'purchase',
        orderId: 'ORDER-1',
      },
      null,
    );
    expect(attribution).toEqual({ source: 'none' });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(
      /^purchase "ORDER-1": its click ID \(tracker "early"\) is not credited: it was last captured 90 day\(s\) before the event, outside the tracker's 30-day attribution window/,
    );
  });

  it('is not credited to an event ten days before its capture; the session click is', async () => {
    const attribution = await storedAt(occurredAt + 10 * DAY_MS).attribute(
      manager,
      {
        occurredAt,
        clickId: 'given',
        session: fromSession,
      },
      null,
    );
    expect(attribution).toMatchObject({ source: 'session', clickId: 'l-1' });
    expect(String(warn.mock.calls[0][0])).toMatch(/it was captured after the event/);
  });

  it('is credited as given when it was never captured here (no capture time to check)', async () => {
    const attribution = await storedAt(occurredAt).attribute(
      manager,
      {
        occurredAt,
        clickId: 'kept-by-the-shop',
        tracker: 'late',
      },
      null,
    );
    expect(attribution).toMatchObject({ source: 'click_id', clickId: 'kept-by-the-shop' });
    expect(attribution.tracker?.name).toBe('late');
  });
});
