import request from 'supertest';

import { Click, type TrackerOptions } from '../src/index.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { startAgent, type TestAgent } from './utils/agent.js';
import { useShop } from './fixtures/shop-app.js';
import { tempDir } from './utils/sqlite.js';
import { eventually } from './utils/wait.js';

/**
 * A raw `+` in a landing parameter is a space (form decoding), unless the tracker keeps it
 * (`landingPlusAsSpace: false`, README: click capture): the same in the capture middleware and
 * in the agent's POST /v1/clicks. The click ID as the network wrote it: `a+b c+d`, pasted
 * unencoded but for the space and one `+` (`a+b%20c%2Bd`).
 */
const trackers = (url: string): TrackerOptions[] => [
  { name: 'forms', clickParams: ['fcid'], postback: { url: `${url}?cid={click_id}` } },
  {
    name: 'pluses',
    clickParams: ['pcid'],
    subParams: ['sub'],
    landingPlusAsSpace: false,
    postback: { url: `${url}?cid={click_id}&s={sub.sub}` },
  },
];
const QUERY = 'a+b%20c%2Bd';

describe('a raw + in a landing parameter', () => {
  describe('in the module (capture middleware)', () => {
    const shop = useShop((trackerUrl, databaseUrl) => ({
      databaseUrl,
      options: { trackers: trackers(trackerUrl) },
    }));

    it('is a space by default, and a + for a tracker with landingPlusAsSpace: false', async () => {
      const server = shop.app.getHttpServer();
      await request(server).get(`/landing?fcid=${QUERY}`).expect(200);
      await request(server).get(`/landing?pcid=${QUERY}&sub=x+y`).expect(200);
      const db = shop.app.get(PostbackDatabase);
      const rows = await eventually(async () => {
        const found = await db.run((m) => m.find(Click, { order: { tracker: 'ASC' } }));
        return found.length === 2 ? found : undefined;
      });
      expect(rows.map((r) => [r.tracker, r.clickId, r.subParams])).toEqual([
        ['forms', 'a b c+d', null],
        ['pluses', 'a+b c+d', { sub: 'x+y' }],
      ]);
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

    it.each([
      ['fcid', 'forms', 'a b c+d'],
      ['pcid', 'pluses', 'a+b c+d'],
    ])('reads %s of a landing URL for tracker %s as %j', async (param, tracker, clickId) => {
      const click = await request(agent.server as never)
        .post('/v1/clicks')
        .send({ landingUrl: `https://shop.example/landing?${param}=${QUERY}`, sessionKey: 's' })
        .expect(200);
      expect(click.body.captured).toEqual([expect.objectContaining({ tracker, clickId })]);
      const rows = await agent.db.run((m) => m.find(Click));
      expect(rows.map((r) => r.clickId)).toEqual([clickId]);
    });
  });
});
