import { DataSource } from 'typeorm';

import type { AgentConfigFile } from '../../src/agent/agent-config.loader.js';
import { postbackDataSourceOptions } from '../../src/postback.data-source.js';
import type { OutboxOptions } from '../../src/interfaces/index.js';
import { Postback, type PostbackState } from '../../src/outbox/postback.entity.js';
import { FakeTracker, type ReceivedPostback } from '../../src/testing/index.js';
import { type AgentProcess, startAgentProcess, stopAllAgentProcesses } from './agent-process.js';
import { HMAC_SECRET } from './signing.js';
import type { TestDatabase } from './test-databases.js';
import { eventually } from './wait.js';

/**
 * Agent processes on one database posting to one stand-in tracker, and what a test reads
 * back: requests by process, outbox counts through /health or the database, ERROR lines.
 * Each request's path names the agent process that rendered it.
 */

export const TRACKER = 'network';
const SECRET_ENV = 'NETWORK_HMAC_SECRET';

/** Outbox rows per state. */
export type Counts = Record<PostbackState, number>;

/** One request the tracker received, as its query names it. */
export interface Request {
  /** `/postback/<agent name>`. */
  path: string;
  txid: string | null;
  pbId: string | null;
  cid: string | null;
  receivedAt: number;
  url: string;
}

export function parse(received: ReceivedPostback): Request {
  const url = new URL(received.url, 'http://tracker');
  return {
    path: url.pathname,
    txid: url.searchParams.get('txid'),
    pbId: url.searchParams.get('pb_id'),
    cid: url.searchParams.get('cid'),
    receivedAt: received.receivedAt,
    url: received.url,
  };
}

export function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

export function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  return Object.fromEntries([...groupBy(items, key)].map(([k, v]) => [k, v.length]));
}

/** Outbox rows per state, through the agent's own /health. */
export async function healthCounts(agent: AgentProcess): Promise<Counts | undefined> {
  try {
    const response = await agent.get<{ outbox?: Counts }>('/health');
    return response.status === 200 ? response.body.outbox : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits until /health counts `total` rows delivered or dead; fails with the last counts and
 * the agent's output. An agent that has exited ends the wait with `{ exited: true }`.
 */
export async function settledPerHealth(
  agent: AgentProcess,
  total: number,
  what: string,
): Promise<Counts | { exited: true }> {
  return eventually(
    async () => {
      if (!agent.running) return { exited: true } as const;
      const counts = await healthCounts(agent);
      return counts && counts.delivered + counts.dead === total ? counts : undefined;
    },
    60_000,
    what,
    250,
  ).catch(async (error: Error) => {
    throw new Error(
      `${error.message}; last counts ${JSON.stringify(await healthCounts(agent))}\n${agent.logs}`,
    );
  });
}

/** Outbox rows per state, straight from the database. */
export async function databaseCounts(dataSource: DataSource): Promise<Counts> {
  const rows: { state: PostbackState; count: string | number }[] = await dataSource
    .createQueryBuilder(Postback, 'p')
    .select('p.state', 'state')
    .addSelect('COUNT(*)', 'count')
    .groupBy('p.state')
    .getRawMany();
  const counts: Counts = { pending: 0, in_flight: 0, delivered: 0, dead: 0, cancelled: 0 };
  for (const row of rows) counts[row.state] = Number(row.count);
  return counts;
}

/** Lines an agent logged at ERROR level (Nest's console logger, without colours). */
export function errorLines(agent: AgentProcess): string[] {
  return (agent.stdout + agent.stderr).split('\n').filter((line) => /\bERROR\b/.test(line));
}

/**
 * What one test started — databases, the tracker, agents, its own connections — stopped and
 * removed by `cleanUp()`, agents first.
 */
export class Fleet {
  private readonly cleanups: (() => Promise<unknown>)[] = [];

  constructor(private readonly database: TestDatabase) {}

  /** Runs `cleanup` in `cleanUp()`, before what was registered earlier. */
  onCleanUp(cleanup: () => Promise<unknown>): void {
    this.cleanups.push(cleanup);
  }

  async cleanUp(): Promise<void> {
    // Agents first (SIGTERM, SIGKILL after the grace): nothing may hold the database or
    // post to the tracker while those go away.
    await stopAllAgentProcesses(5_000).catch((error: Error) => console.error(error));
    while (this.cleanups.length > 0) {
      const cleanup = this.cleanups.pop() as () => Promise<unknown>;
      await cleanup().catch((error: Error) =>
        console.error(`${this.database.label} cleanup failed: ${error.stack ?? error.message}`),
      );
    }
  }

  async startTracker(): Promise<FakeTracker> {
    const tracker = await new FakeTracker().start();
    this.onCleanUp(() => tracker.stop());
    return tracker;
  }

  async createDatabase() {
    const database = await this.database.create();
    this.onCleanUp(() => database.drop());
    return database;
  }

  /** A DataSource of the test's own on `url` (migrations run). */
  async openDatabase(url: string): Promise<DataSource> {
    const dataSource = await new DataSource(postbackDataSourceOptions({ url })).initialize();
    this.onCleanUp(async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
    });
    return dataSource;
  }

  /** An agent process posting purchases to `/postback/<name>`, signed with HMAC_SECRET. */
  startAgent(
    name: string,
    url: string,
    tracker: FakeTracker,
    outbox: OutboxOptions,
  ): Promise<AgentProcess> {
    return startAgentProcess({
      name,
      databaseUrl: url,
      config: { trackers: [trackerConfig(tracker, `/postback/${name}`)], outbox },
      env: { [SECRET_ENV]: HMAC_SECRET },
    });
  }
}

/** The tracker as the agent's config file names it: HMAC secret from the environment. */
function trackerConfig(tracker: FakeTracker, path: string): AgentConfigFile['trackers'][number] {
  return {
    name: TRACKER,
    clickParams: ['cid'],
    postback: { url: `${tracker.url(path)}?cid={click_id}&txid={order_id}` },
    events: ['purchase'],
    signing: { type: 'hmac', secretEnv: SECRET_ENV },
  };
}
