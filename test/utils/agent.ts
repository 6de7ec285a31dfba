import type { INestApplication } from '@nestjs/common';

import { createAgentApp } from '../../src/agent/agent.app.js';
import { loadAgentEnv } from '../../src/agent/agent-env.js';
import { PostbackDatabase } from '../../src/database/postback-database.js';
import type { OutboxOptions, TrackerOptions } from '../../src/index.js';
import { HMAC_SECRET } from './signing.js';

/** A tracker posting purchases to `url` with a 10 % commission, signed with HMAC. */
export function testTracker(url: string, overrides: Partial<TrackerOptions> = {}): TrackerOptions {
  return {
    name: 'network',
    clickParams: ['cid'],
    postback: { url: `${url}?cid={click_id}&payout={payout}&txid={order_id}` },
    commission: { purchase: { percent: '10' } },
    signing: { type: 'hmac', secret: HMAC_SECRET },
    ...overrides,
  };
}

/** Retries within milliseconds, so multi-attempt schedules run in a test. */
export const FAST_OUTBOX: OutboxOptions = {
  flushIntervalMs: 50,
  timeoutMs: 2_000,
  leaseMs: 5_000,
  retry: { initialDelayMs: 20, multiplier: 1, jitter: 0, maxAttempts: 5 },
};

export interface TestAgent {
  app: INestApplication;
  db: PostbackDatabase;
  /** The HTTP server to hand to supertest. */
  server: unknown;
}

export async function startAgent(settings: {
  databaseUrl: string;
  trackers: TrackerOptions[];
  outbox?: OutboxOptions;
  customEventTypes?: string[];
  apiKey?: string;
  adminKey?: string;
  /** The module's clock (default: the real one). */
  clock?: () => number;
}): Promise<TestAgent> {
  const env = loadAgentEnv({
    DATABASE_URL: settings.databaseUrl,
    ...(settings.apiKey && { POSTBACK_API_KEY: settings.apiKey }),
    ...(settings.adminKey && { POSTBACK_ADMIN_KEY: settings.adminKey }),
  });
  const app = await createAgentApp(
    env,
    {
      trackers: settings.trackers,
      outbox: settings.outbox ?? FAST_OUTBOX,
      ...(settings.customEventTypes && { customEventTypes: settings.customEventTypes }),
      ...(settings.clock && { clock: settings.clock }),
    },
    false,
  );
  await app.init();
  return { app, db: app.get(PostbackDatabase), server: app.getHttpServer() };
}
