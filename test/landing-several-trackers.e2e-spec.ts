import request from 'supertest';

import { Click, type TrackerOptions } from '../src/index.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { startAgent, type TestAgent } from './utils/agent.js';
import { useShop } from './fixtures/shop-app.js';
import { tempDir } from './utils/sqlite.js';
import { eventually } from './utils/wait.js';

/**
 * One landing URL with the click parameters of two trackers: the module's capture middleware
 * and the agent's POST /v1/clicks take the same one, the first tracker in configuration
 * order, whatever order the parameters come in (README, Several networks).
 */
const trackers = (url: string): TrackerOptions[] =>
  ['first', 'second'].map((name) => ({
    name,
    clickParams: [`${name}_cid`],
    postback: { url: `${url}?cid={click_id}&txid={order_id}` },
    events: ['purchase'],
  }));
const LANDING = '/landing?second_cid=S-1&first_cid=F-1';
const purchase = { orderId: 'ORDER-1', amount: '10.00', currency: 'EUR' };

describe('a landing with two trackers’ click IDs', () => {
  describe('in the module (capture middleware)', () => {
    const shop = useShop((trackerUrl, databaseUrl) => ({
      databaseUrl,
      options: { trackers: trackers(trackerUrl) },
    }));

    it('captures the first configured tracker’s click only, and credits it', async () => {
      const visitor = request.agent(shop.app.getHttpServer());
      await visitor.get(LANDING).expect(200, 'welcome');
      const db = shop.app.get(PostbackDatabase);
      const rows = await eventually(async () => {
        const found = await db.run((m) => m.find(Click));
        return found.length > 0 ? found : undefined;
      });
      const checkout = await visitor.post('/checkout').send(purchase).expect(200);
      expect(checkout.body).toMatchObject({ attribution: 'session', tracker: 'first' });
      expect(rows.map((r) => [r.tracker, r.clickId])).toEqual([['first', 'F-1']]);
      expect(await db.run((m) => m.count(Click))).toBe(1);
    });
  });

  describe('in the agent (POST /v1/clicks)', () => {
    let agent: TestAgent;
    let dir: ReturnType<typeof tempDir>;
    beforeEach(async () => {
      dir = tempDir();
      agent = await startAgent({
        databaseUrl: `sqlite:${dir.path}/agent.sqlite`,
        trackers: trackers('http://127.0.0.1:9/pb'),
      });
    });
    afterEach(async () => {
      await agent.app.close();
      dir.remove();
    });

    it('captures the first configured tracker’s click only, says why the other was ignored, and credits it', async () => {
      const api = () => request(agent.server as never);
      const click = await api()
        .post('/v1/clicks')
        .send({ landingUrl: `https://shop.example${LANDING}#top`, sessionKey: 'sess-1' })
        .expect(200);
      expect(click.body.captured).toEqual([
        expect.objectContaining({ tracker: 'first', clickId: 'F-1' }),
      ]);
      expect(click.body.ignored).toEqual([
        expect.stringMatching(/tracker "second" was ignored: a landing credits one tracker/),
      ]);
      const event = await api()
        .post('/v1/events')
        .send({ type: 'purchase', ...purchase, sessionKey: 'sess-1' })
        .expect(202);
      expect(event.body).toMatchObject({ attribution: 'session', tracker: 'first' });
      expect(await agent.db.run((m) => m.count(Click))).toBe(1);
    });
  });
});
