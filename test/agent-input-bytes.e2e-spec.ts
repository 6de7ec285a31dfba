import request from 'supertest';

import { Click, Conversion } from '../src/index.js';
import { FakeTracker } from '../src/demo/fake-tracker.js';
import { startAgent, type TestAgent, testTracker } from './utils/agent.js';
import { tempDir } from './utils/sqlite.js';

const API_KEY = 'test-api-key-0123456789abcdef';

/** What the agent takes as bytes and characters: the edges of its documented input limits. */
describe('agent input, byte by byte', () => {
  let tracker: FakeTracker;
  let agent: TestAgent;
  let dir: ReturnType<typeof tempDir>;
  const post = (path: string) =>
    request(agent.server as never)
      .post(path)
      .set('authorization', `Bearer ${API_KEY}`);
  const clicks = () => agent.db.run((m) => m.find(Click));

  beforeEach(async () => {
    tracker = await new FakeTracker().start();
    dir = tempDir();
    agent = await startAgent({
      databaseUrl: `sqlite:${dir.path}/agent.sqlite`,
      trackers: [testTracker(tracker.url(), { subParams: ['sub1'] })],
      apiKey: API_KEY,
    });
  });

  afterEach(async () => {
    await agent.app.close();
    await tracker.stop();
    dir.remove();
  });

  describe('landing URL length', () => {
    const landingUrlOf = (length: number) => {
      const start = 'https://shop.example/product?cid=long-1&utm=';
      return start + 'x'.repeat(length - start.length);
    };

    it('captures the click of a landing URL of 8,192 characters', async () => {
      const landingUrl = landingUrlOf(8192);
      expect(landingUrl).toHaveLength(8192);
      const response = await post('/v1/clicks').send({ landingUrl }).expect(200);
      expect(response.body.captured).toEqual([
        expect.objectContaining({ tracker: 'network', clickId: 'long-1' }),
      ]);
      expect(await clicks()).toHaveLength(1);
    });

    it('refuses one of 8,193 characters, saying how long it may be', async () => {
      const response = await post('/v1/clicks')
        .send({ landingUrl: landingUrlOf(8193) })
        .expect(400);
      expect(response.body.fields.landingUrl).toEqual([
        'landingUrl is longer than 8192 characters',
      ]);
      expect(await clicks()).toHaveLength(0);
    });
  });
});
