import request from 'supertest';

import {
  Click,
  ClickService,
  Conversion,
  ConversionService,
  InvalidInputError,
} from '../src/index.js';
import { FakeTracker } from '../src/testing/index.js';
import { startAgent, type TestAgent, testTracker } from './utils/agent.js';
import { tempDir } from './utils/sqlite.js';

const API_KEY = 'test-api-key-0123456789abcdef';
const ADMIN_KEY = 'test-admin-key-0123456789abcdef';

/** A JSON body as raw bytes: text, with the bytes given as numbers spliced in. */
const rawJson = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((part) => Buffer.from(part as string)));

/** `levels` objects nested in one another around a string. */
function nested(levels: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

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
  const conversions = () => agent.db.run((m) => m.find(Conversion));
  const postRaw = (path: string, body: Buffer, key = API_KEY) =>
    request(agent.server as never)
      .post(path)
      .set('authorization', `Bearer ${key}`)
      .set('content-type', 'application/json')
      // As they are: a Buffer would otherwise be sent as its JSON form.
      .serialize((bytes: Buffer) => bytes as never)
      .send(body);

  beforeEach(async () => {
    tracker = await new FakeTracker().start();
    dir = tempDir();
    agent = await startAgent({
      databaseUrl: `sqlite:${dir.path}/agent.sqlite`,
      trackers: [testTracker(tracker.url(), { subParams: ['sub1'] })],
      apiKey: API_KEY,
      adminKey: ADMIN_KEY,
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

  describe('invisible and separator characters in IDs', () => {
    it.each([
      ['a zero-width space', 'c\u200b1', 'U+200B'],
      ['a byte order mark', '\ufeffc1', 'U+FEFF'],
      ['a right-to-left mark', 'c1\u200f', 'U+200F'],
      ['an Arabic letter mark', 'c\u061c1', 'U+061C'],
      ['a soft hyphen', 'c\u00ad1', 'U+00AD'],
      ['a line separator', 'c\u20281', 'U+2028'],
      ['a paragraph separator', 'c\u20291', 'U+2029'],
    ])('refuses a click ID with %s, naming the field and the character', async (_l, id, code) => {
      const response = await post('/v1/clicks')
        .send({ clickId: id, tracker: 'network' })
        .expect(400);
      expect(response.body.fields.clickId).toEqual([expect.stringContaining(code)]);
      expect(response.body.fields.clickId[0]).toMatch(/^clickId contains /);
      expect(await clicks()).toHaveLength(0);
    });

    it('refuses them in order IDs, session keys and customer IDs of events', async () => {
      const response = await post('/v1/events')
        .send({
          type: 'purchase',
          orderId: 'O-\u200b1',
          amount: '1.00',
          currency: 'EUR',
          sessionKey: 'sess\u2028',
          customerId: '\ufeffcust',
        })
        .expect(400);
      expect(Object.keys(response.body.fields).sort()).toEqual([
        'customerId',
        'orderId',
        'sessionKey',
      ]);
      expect(await agent.db.run((m) => m.count(Conversion))).toBe(0);
    });

    it('does not capture a landing whose click ID has one, and says why', async () => {
      const response = await post('/v1/clicks')
        .send({ landingUrl: 'https://shop.example/?cid=c%E2%80%8B1' })
        .expect(200);
      expect(response.body.captured).toEqual([]);
      expect(response.body.ignored).toEqual([expect.stringContaining('U+200B')]);
      expect(await clicks()).toHaveLength(0);
    });

    it('refuses them, and lone surrogates, from the module API of a host app too', async () => {
      const service = agent.app.get(ClickService);
      for (const clickId of ['c\u200b1', 'c\ud8001', 'c\u20291']) {
        await expect(service.capture({ tracker: 'network', clickId })).rejects.toThrow(
          InvalidInputError,
        );
      }
      await expect(
        service.capture({ tracker: 'network', clickId: 'c-1', visitorKey: 'v\udfff' }),
      ).rejects.toThrow(/visitorKey contains a lone surrogate/);
      await expect(
        agent.app.get(ConversionService).record({
          type: 'purchase',
          orderId: 'O-\udc00',
          amount: '1.00',
          currency: 'EUR',
          clickId: 'c-ok',
          tracker: 'network',
        }),
      ).rejects.toThrow(/orderId contains a lone surrogate/);
      expect(await clicks()).toHaveLength(0);
    });

    it('keeps every other character byte for byte', async () => {
      const clickId = 'e\u0301\u00a0\u2764\ufe0f\u{1f468}\u{1f3fd}';
      await post('/v1/clicks').send({ clickId, tracker: 'network' }).expect(200);
      const [stored] = await clicks();
      expect(Buffer.from(stored.clickId)).toEqual(Buffer.from(clickId));
    });
  });

  describe('sub-parameters of POST /v1/clicks', () => {
    it('stores only those the tracker configures, and lists the others as ignored', async () => {
      const response = await post('/v1/clicks')
        .send({ clickId: 'c-sub', tracker: 'network', subParams: { sub1: 'a', sub9: 'b' } })
        .expect(200);
      expect(response.body.ignored).toEqual([
        `sub-parameter "sub9" is not in tracker "network"'s subParams; left out`,
      ]);
      const [stored] = await clicks();
      expect(stored.subParams).toEqual({ sub1: 'a' });
    });

    it('keeps the same ones from a landing URL', async () => {
      await post('/v1/clicks')
        .send({ landingUrl: 'https://shop.example/?cid=c-url&sub1=a&sub9=b' })
        .expect(200);
      const [stored] = await clicks();
      expect(stored.subParams).toEqual({ sub1: 'a' });
    });
  });

  describe('occurredAt in the future', () => {
    const NOW = Date.parse('2026-11-25T10:00:00Z');
    const purchase = (orderId: string, occurredAt: string) => ({
      type: 'purchase',
      orderId,
      amount: '10.00',
      currency: 'EUR',
      clickId: 'c-1',
      tracker: 'network',
      occurredAt,
    });

    beforeEach(async () => {
      await agent.app.close();
      agent = await startAgent({
        databaseUrl: `sqlite:${dir.path}/agent.sqlite`,
        trackers: [testTracker(tracker.url())],
        apiKey: API_KEY,
        clock: () => NOW,
      });
    });

    it('accepts an event up to 5 minutes ahead of the clock (clocks differ a little)', async () => {
      await post('/v1/events').send(purchase('O-1', '2026-11-25T10:05:00Z')).expect(202);
      await post('/v1/events').send(purchase('O-2', '2026-11-25T12:04:00+02:00')).expect(202);
      expect(await agent.db.run((m) => m.count(Conversion))).toBe(2);
    });

    it('refuses one later than that with 400, saying by how much, and stores nothing', async () => {
      const late = await post('/v1/events')
        .send(purchase('O-3', '2026-11-25T10:05:00.001Z'))
        .expect(400);
      expect(late.body.fields.occurredAt).toEqual([
        expect.stringMatching(/^occurredAt is 6 minutes in the future .*time zone$/),
      ]);
      const tomorrow = await post('/v1/events')
        .send(purchase('O-4', '2026-11-26T10:00:00Z'))
        .expect(400);
      expect(tomorrow.body.fields.occurredAt[0]).toMatch(/24 hours in the future/);
      expect(await agent.db.run((m) => m.count(Conversion))).toBe(0);
    });

    it('makes record() throw for a future Date or epoch time in a host app too', async () => {
      const conversions = agent.app.get(ConversionService);
      const event = { ...purchase('O-5', ''), occurredAt: undefined };
      await expect(
        conversions.record({ ...event, occurredAt: new Date(NOW + 86_400_000) }),
      ).rejects.toThrow(InvalidInputError);
      await expect(conversions.record({ ...event, occurredAt: NOW + 300_001 })).rejects.toThrow(
        /occurredAt is 6 minutes in the future/,
      );
      await expect(conversions.record({ ...event, occurredAt: NOW + 300_000 })).resolves.toEqual(
        expect.objectContaining({ duplicate: false }),
      );
    });
  });

  describe('bodies that are not UTF-8', () => {
    const purchase = (orderId: (string | number[])[]) =>
      rawJson('{"type":"purchase","orderId":"', ...orderId, '","amount":"1.00","currency":"EUR"}');

    it('refuses two order IDs differing only in invalid bytes, instead of merging them', async () => {
      const first = await postRaw('/v1/events', purchase(['O-', [0xff]])).expect(400);
      const second = await postRaw('/v1/events', purchase(['O-', [0xfe]])).expect(400);
      for (const response of [first, second]) {
        expect(Object.keys(response.body.fields)).toEqual(['orderId']);
        expect(response.body.fields.orderId[0]).toMatch(
          /^orderId is not valid UTF-8 \(byte 32 of the body, 0xf[ef]\)/,
        );
      }
      expect(await conversions()).toHaveLength(0);
      // A real U+FFFD, sent as UTF-8, is a character like another.
      const replacement = await postRaw('/v1/events', purchase(['O-\ufffd'])).expect(202);
      expect(replacement.body.duplicate).toBe(false);
      expect((await conversions()).map((c) => c.orderId)).toEqual(['O-\ufffd']);
    });

    it('names the field of a click, nested ones included, and stores nothing', async () => {
      const sessionKey = await postRaw(
        '/v1/clicks',
        rawJson('{"clickId":"c-1","tracker":"network","sessionKey":"s', [0xc3, 0x28], '"}'),
      ).expect(400);
      expect(Object.keys(sessionKey.body.fields)).toEqual(['sessionKey']);
      const sub = await postRaw(
        '/v1/clicks',
        rawJson(
          '{"clickId":"c-1","tracker":"network","subParams":{"sub1":"',
          [0xed, 0xa0, 0x80],
          '"}}',
        ),
      ).expect(400);
      expect(Object.keys(sub.body.fields)).toEqual(['subParams.sub1']);
      expect(await clicks()).toHaveLength(0);
    });

    it('names the body when the bad bytes are in a field name', async () => {
      const response = await postRaw(
        '/v1/events',
        rawJson('{"type":"purchase","order', [0x80], 'Id":"O-1"}'),
      ).expect(400);
      expect(response.body.fields.body[0]).toMatch(/field name that is not valid UTF-8/);
    });
  });

  describe('deeply nested bodies', () => {
    // As text: JSON.stringify itself overflows long before the 10,000 levels of record()'s test.
    const deepJson = (levels: number) => '{"a":'.repeat(levels) + '"x"' + '}'.repeat(levels);
    const deep = deepJson(5_000);

    it.each([
      ['an event', '/v1/events', `{"type":"purchase","orderId":${deep}}`, API_KEY],
      [
        'a click',
        '/v1/clicks',
        `{"clickId":"c-1","tracker":"network","subParams":${deep}}`,
        API_KEY,
      ],
      ['an admin selection', '/v1/admin/postbacks/cancel', `{"ids":[${deep}]}`, ADMIN_KEY],
      [
        'a replay',
        '/v1/admin/postbacks/replay',
        `{"tracker":"network","state":${deep}}`,
        ADMIN_KEY,
      ],
    ])('answers 400 to %s 5,000 levels deep, not 500', async (_label, path, body, key) => {
      const response = await postRaw(path, Buffer.from(body), key).expect(400);
      expect(response.body.fields).toEqual({
        body: ['the body nests deeper than 32 levels of objects and arrays'],
      });
    });

    it('makes record() refuse a deep event in a host app too, not overflow', async () => {
      await expect(
        agent.app
          .get(ConversionService)
          .record({ type: 'purchase', orderId: nested(10_000) as string }),
      ).rejects.toThrow(/the event nests deeper than 32 levels/);
    });

    it('takes 32 levels to validation, and refuses 33 as too deep', async () => {
      const at = (levels: number) =>
        postRaw(
          '/v1/events',
          Buffer.from(JSON.stringify({ type: 'purchase', orderId: nested(levels - 1) })),
        ).expect(400);
      expect(Object.keys((await at(32)).body.fields)).toContain('orderId');
      expect(Object.keys((await at(33)).body.fields)).toEqual(['body']);
      expect(await conversions()).toHaveLength(0);
    });
  });
});
