import { existsSync, readFileSync } from 'node:fs';

import { Logger } from '@nestjs/common';
import { jest } from '@jest/globals';
import request from 'supertest';

import { Click, ClickService, Conversion, ConversionService } from '../src/index.js';
import { createAgentApp } from '../src/agent/agent.app.js';
import { loadAgentEnv } from '../src/agent/agent-env.js';
import { visitorKeyDigest } from '../src/click/visitor-key.js';
import { type VisitorDigest, VisitorKeys } from '../src/click/visitor-keys.js';
import { VisitorKeyMismatchError } from '../src/errors/visitor-key-mismatch.error.js';
import { PostbackDatabase } from '../src/database/postback-database.js';
import { startAgentProcess, stopAllAgentProcesses } from './utils/agent-process.js';
import { startShopApp, useShop } from './fixtures/shop-app.js';
import { tempDir } from './utils/sqlite.js';
import { initError } from './utils/init-error.js';

/** The session ID inside express-session's signed cookie (`s:<id>.<signature>`). */
function sessionIdOf(response: request.Response): string {
  const cookie = ([] as string[]).concat(response.headers['set-cookie'] ?? [])[0] ?? '';
  const match = /connect\.sid=s%3A([^.;]+)\./.exec(cookie);
  if (!match) throw new Error(`no session cookie in ${cookie}`);
  return decodeURIComponent(match[1]);
}

describe('session IDs are stored hashed, never in clear', () => {
  const shop = useShop((trackerUrl, databaseUrl) => ({
    databaseUrl,
    options: {
      trackers: [
        { name: 'net', clickParams: ['cid'], postback: { url: `${trackerUrl}?c={click_id}` } },
      ],
      outbox: { enabled: false },
    },
  }));

  it('hashes the visitor key of an event once, however many lookups use it', async () => {
    await shop.app
      .get(ClickService)
      .capture({ tracker: 'net', clickId: 'CLICK-2', visitorKey: 'visitor-2' });
    const digest = jest.spyOn(VisitorKeys.prototype, 'digest');
    try {
      const registration = await shop.app.get(ConversionService).record({
        type: 'registration',
        customerId: 'K-2',
        sessionKey: 'visitor-2',
      });
      expect(registration).toMatchObject({ attribution: 'session', duplicate: false });
      // The conversion row, the lookup by visitor key, the customer link: one HMAC for all.
      expect(digest).toHaveBeenCalledTimes(1);
    } finally {
      digest.mockRestore();
    }
  });

  it('keeps the session ID out of the database file and its WAL, and still attributes by it', async () => {
    const visitor = request.agent(shop.app.getHttpServer());
    const landing = await visitor.get('/landing').query({ cid: 'CLICK-1' }).expect(200);
    const sessionId = sessionIdOf(landing);
    await visitor
      .post('/checkout')
      .send({ orderId: 'O-1', amount: '10.00', currency: 'EUR' })
      .expect(200);

    // Looked up by the same digest: the stored click of this session, without its cookie.
    const conversions = shop.app.get(ConversionService);
    const later = await conversions.record({
      type: 'purchase',
      orderId: 'O-2',
      amount: '5.00',
      currency: 'EUR',
      sessionKey: sessionId,
    });
    expect(later).toMatchObject({ attributed: true, attribution: 'session' });
    const db = shop.app.get(PostbackDatabase);
    const [click] = await db.run((m) => m.find(Click));
    expect(click.visitorKey).toBe(visitorKeyDigest(sessionId, undefined));
    const found = await db.run((m) =>
      shop.app
        .get(ClickService)
        .findRecent(m, { visitor: click.visitorKey as VisitorDigest }, 0, Date.now()),
    );
    expect(found.map((c) => c.clickId)).toEqual(['CLICK-1']);
    const stored = await db.run((m) => m.find(Conversion));
    expect(stored.map((c) => c.visitorKey)).toEqual([click.visitorKey, click.visitorKey]);

    const file = db.dataSource.options.database as string;
    const bytes = [file, `${file}-wal`]
      .filter((path) => existsSync(path))
      .map((path) => readFileSync(path).toString('latin1'));
    // The rows are there (in the file or still in the WAL); the session ID is not.
    expect(bytes.join('')).toContain('CLICK-1');
    for (const text of bytes) expect(text).not.toContain(sessionId);
  });
});

describe('a custom visitor key is stored under an HMAC', () => {
  const SECRET = 'visitor-key-secret-0123456789';
  let dir: ReturnType<typeof tempDir>;
  afterEach(() => dir?.remove());

  const start = (visitorKeySecret?: string) => {
    dir = tempDir();
    return startShopApp({
      databaseUrl: `sqlite:${dir.path}/shop.sqlite`,
      options: {
        trackers: [
          {
            name: 'net',
            clickParams: ['cid'],
            postback: { url: 'https://t.example/?c={click_id}' },
          },
        ],
        capture: { visitorKey: (req) => req.header('x-customer-email'), visitorKeySecret },
        outbox: { enabled: false },
      },
    });
  };

  it('keyed with capture.visitorKeySecret: a guess of the e-mail cannot be checked', async () => {
    const app = await start(SECRET);
    try {
      await request(app.getHttpServer())
        .get('/landing?cid=C-7')
        .set('x-customer-email', 'ann@example.com')
        .expect(200);
      await app.get(ClickService).flushPending();
      const [click] = await app.get(PostbackDatabase).run((m) => m.find(Click));
      expect(click.visitorKey).toBe(visitorKeyDigest('ann@example.com', SECRET));
      expect(click.visitorKey).not.toBe(visitorKeyDigest('ann@example.com', undefined));
      const result = await app.get(ConversionService).record({
        type: 'purchase',
        orderId: 'O-7',
        amount: '1.00',
        currency: 'EUR',
        sessionKey: 'ann@example.com',
      });
      expect(result).toMatchObject({ attributed: true, attribution: 'session' });
    } finally {
      await app.close();
    }
  });

  it('warns at start-up when a custom visitor key has no secret', async () => {
    const warnings: string[] = [];
    const spy = jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
    try {
      const app = await start();
      await app.close();
    } finally {
      spy.mockRestore();
    }
    expect(warnings).toEqual([
      expect.stringMatching(/capture\.visitorKeySecret is not[\s\S]*POSTBACK_VISITOR_KEY_SECRET/),
    ]);
  });
});

describe('the agent keys stored session keys with POSTBACK_VISITOR_KEY_SECRET', () => {
  const SECRET = 'agent-visitor-key-secret-42';
  let dir: ReturnType<typeof tempDir>;
  afterEach(() => dir?.remove());

  it('stores the HMAC of a sessionKey given to POST /v1/clicks, and finds it for an event', async () => {
    dir = tempDir();
    const env = loadAgentEnv({
      DATABASE_URL: `sqlite:${dir.path}/agent.sqlite`,
      POSTBACK_VISITOR_KEY_SECRET: SECRET,
    });
    const app = await createAgentApp(
      env,
      {
        trackers: [
          {
            name: 'net',
            clickParams: ['cid'],
            postback: { url: 'https://t.example/?c={click_id}' },
          },
        ],
        outbox: { enabled: false },
      },
      false,
    );
    await app.init();
    try {
      const server = app.getHttpServer();
      await request(server)
        .post('/v1/clicks')
        .send({ landingUrl: 'https://shop.example/?cid=A-1', sessionKey: 'bob@example.com' })
        .expect(200);
      const event = await request(server)
        .post('/v1/events')
        .send({ type: 'registration', customerId: 'K-1', sessionKey: 'bob@example.com' })
        .expect(202);
      expect(event.body).toMatchObject({ attributed: true, attribution: 'session' });
      const [click] = await app.get(PostbackDatabase).run((m) => m.find(Click));
      expect(click.visitorKey).toBe(visitorKeyDigest('bob@example.com', SECRET));
    } finally {
      await app.close();
    }
  });
});

describe('a start with another visitor-key secret than the stored keys were made with', () => {
  const SECRET = 'agent-visitor-key-secret-42';
  const trackers = [
    { name: 'net', clickParams: ['cid'], postback: { url: 'https://t.example/?c={click_id}' } },
  ];
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir()));
  afterEach(async () => {
    await stopAllAgentProcesses();
    dir.remove();
  });

  /** Starts the agent in this process under `secret`, then closes it; its error if any. */
  const startError = async (secret: string | undefined) => {
    const env = loadAgentEnv({
      DATABASE_URL: `sqlite:${dir.path}/agent.sqlite`,
      ...(secret && { POSTBACK_VISITOR_KEY_SECRET: secret }),
    });
    return initError(await createAgentApp(env, { trackers, outbox: { enabled: false } }, false));
  };

  it('is refused when the secret is set after a first start, naming the fix', async () => {
    expect(await startError(undefined)).toBeUndefined();
    expect(await startError(undefined)).toBeUndefined();
    // The secret set after a first start: the keys stored so far are plain SHA-256.
    const error = await startError(SECRET);
    expect(error).toBeInstanceOf(VisitorKeyMismatchError);
    expect((error as Error).message).toMatch(
      /hashed without a secret \(plain SHA-256\), but this start hashes them with a secret of fingerprint [0-9a-f]{8} \(capture\.visitorKeySecret; POSTBACK_VISITOR_KEY_SECRET for the agent\)[\s\S]*DELETE FROM postback_meta WHERE name = 'visitor_key_hash'/,
    );
  });

  it('stops the agent process with the reason, not a silent start', async () => {
    const url = `sqlite:${dir.path}/agent.sqlite`;
    const config = { trackers, outbox: { enabled: false } };
    const first = await startAgentProcess({
      databaseUrl: url,
      config,
      env: { POSTBACK_VISITOR_KEY_SECRET: SECRET },
    });
    await first.kill('SIGTERM');
    await expect(
      startAgentProcess({
        databaseUrl: url,
        config,
        env: { POSTBACK_VISITOR_KEY_SECRET: 'a-different-secret-0000' },
      }),
    ).rejects.toThrow(
      /exited before \/health answered \(code 1[\s\S]*could not start:\nThe stored visitor keys were hashed with a secret of fingerprint/,
    );
  }, 60_000);
});
