import request from 'supertest';

import type { PostbackDatabase } from '../../src/database/postback-database.js';
import { DeliveryAttempt, Postback, type PostbackState } from '../../src/index.js';
import type { TestAgent } from './agent.js';
import { eventually } from './wait.js';

/**
 * What a test does to an agent and reads back from its outbox, in the agent's own terms.
 * The readers take anything with the module's database: a TestAgent, or a shop app's.
 */

/** The agent's answer to an accepted event (POST /v1/events, 202). */
export interface Recorded {
  conversionId: string;
  postbackId: string;
  duplicate: boolean;
  queued: boolean;
  [field: string]: unknown;
}

type WithDatabase = { db: PostbackDatabase };

/** Reports `event` through the agent's API and expects it accepted (202). */
export async function record(agent: TestAgent, event: object): Promise<Recorded> {
  const response = await request(agent.server as never)
    .post('/v1/events')
    .send(event)
    .expect(202);
  return response.body as Recorded;
}

/** The outbox row of postback `id`. */
export function rowOf({ db }: WithDatabase, id: string): Promise<Postback> {
  return db.run((m) => m.findOneByOrFail(Postback, { id }));
}

/** The delivery attempts of postback `postbackId`, oldest first. */
export function attemptsOf({ db }: WithDatabase, postbackId: string): Promise<DeliveryAttempt[]> {
  return db.run((m) =>
    m.find(DeliveryAttempt, {
      where: { postbackId },
      order: { startedAt: 'ASC', attempt: 'ASC' },
    }),
  );
}

/** Waits until postback `id` is in `state`, and resolves with its row. */
export function waitForState(
  agent: WithDatabase,
  id: string,
  state: PostbackState,
  timeoutMs = 10_000,
): Promise<Postback> {
  return eventually(
    async () => {
      const row = await rowOf(agent, id);
      return row.state === state ? row : undefined;
    },
    timeoutMs,
    `postback ${state}`,
  );
}
