import { DataSource } from 'typeorm';

import { ClickService, ConversionService, PostbackQueryService } from '../src/index.js';
import { useShop } from './fixtures/shop-app.js';
import { testTracker } from './utils/agent.js';

/**
 * JSON columns whose text no longer parses (edited by hand, damaged): a row like that must
 * not fail every read of it, and above all must not make events unrecordable.
 */
describe('JSON text that does not parse', () => {
  const shop = useShop((trackerUrl, databaseUrl) => ({
    databaseUrl,
    options: {
      trackers: [testTracker(trackerUrl, { subParams: ['sub1'] })],
      outbox: { enabled: false },
    },
  }));
  const damage = (table: string, column: string) =>
    shop.app.get(DataSource).query(`UPDATE ${table} SET ${column} = '{"sub1": "a'`);

  it('still records an event attributed to a click whose sub-parameters do not parse', async () => {
    await shop.app
      .get(ClickService)
      .capture({ tracker: 'network', clickId: 'c-1', subParams: { sub1: 'a' } });
    await damage('postback_clicks', 'sub_params');
    const result = await shop.app.get(ConversionService).record({
      type: 'purchase',
      orderId: 'O-1',
      amount: '10.00',
      currency: 'EUR',
      clickId: 'c-1',
    });
    expect(result).toMatchObject({ attributed: true, queued: true, tracker: 'network' });
    // Sent without the sub-parameters it can no longer read.
    const [postback] = await shop.app.get(PostbackQueryService).listPostbacks({});
    expect(postback.fields).toMatchObject({ clickId: 'c-1', sub: {} });
  });

  it('still lists an outbox row whose fields do not parse, with its fields empty', async () => {
    await shop.app.get(ConversionService).record({
      type: 'purchase',
      orderId: 'O-2',
      amount: '10.00',
      currency: 'EUR',
      clickId: 'c-2',
      tracker: 'network',
    });
    await damage('postback_outbox', 'fields');
    const listed = await shop.app.get(PostbackQueryService).listPostbacks({});
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ state: 'pending', fields: null });
  });
});
