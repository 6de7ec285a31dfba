/**
 * What the server children (landing-server.ts, events-server.ts) share: a Nest app listening
 * on a free loopback port, its RSS sampled from the moment this module loads, and the
 * orchestrator's messages answered —
 *
 *   'status' {resetPeak?, ...}  → {type:'status', data: {rssMb, peakRssMb, errorsLogged,
 *                                  eventLoopDelayMaxMs, ...}} (the app's own fields from
 *                                  `status(message)`), then the peaks restart if `resetPeak`;
 *   'stop'                      → {type:'stats', data} from `stop()` (which closes the app),
 *                                  with the CPU each thread used since 'ready' (cpuMsByThread),
 *                                  then the process exits.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

import type { INestApplication } from '@nestjs/common';

import { threadCpuMs, threadCpuSince } from '../lib/cpu.js';
import type { ParentMessage } from '../lib/messages.js';
import { tempDir } from '../lib/temp-dir.js';
import { onParentMessage, send } from './child.js';
import { CountingLogger } from './counting-logger.js';
import { rssSampler } from './rss-sampler.js';

export const rss = rssSampler(50);
export const logger = new CountingLogger();
/** How late the event loop ran a 10 ms timer, at worst: a synchronous wait shows here. */
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

/** Nest's options for the bench apps: errors and warnings to the child's log, counted. */
export const nestOptions = { logger };

export interface ServeHooks {
  /** The app's own status fields. */
  status?(message: ParentMessage): Promise<Record<string, unknown>>;
  /** Closes the app and returns its final stats. */
  stop(): Promise<Record<string, unknown>>;
  /** More fields for the 'ready' message (e.g. the SQLite file, for the lock figure). */
  ready?: Record<string, unknown>;
}

/** A temp dir for the app's SQLite file, removed when the process exits. */
export function appDir(prefix: string): string {
  const dir = tempDir(prefix);
  process.once('exit', () => dir.remove());
  return dir.path;
}

/** Listens, answers the orchestrator's messages, and reports 'ready' with the port. */
export async function serve(app: INestApplication, hooks: ServeHooks): Promise<void> {
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as { port: number }).port;
  const cpuAtReady = threadCpuMs();
  onParentMessage(async (message) => {
    if (message.type === 'status') {
      const own = hooks.status ? await hooks.status(message) : {};
      const data = {
        rssMb: rss.currentMb(),
        peakRssMb: rss.peakMb(),
        atPeakMb: rss.atPeakMb(),
        errorsLogged: logger.errors,
        eventLoopDelayMaxMs: loopDelay.max / 1e6,
        ...own,
      };
      if (message.resetPeak) {
        rss.resetPeak();
        loopDelay.reset();
      }
      await send({ type: 'status', data });
    } else if (message.type === 'stop') {
      const data = await hooks.stop();
      const cpuMsByThread = threadCpuSince(cpuAtReady);
      await send({
        type: 'stats',
        data: {
          ...data,
          cpuMsByThread,
          errorsLogged: logger.errors,
          peakRssMb: rss.peakMb(),
          rssTimelineMb: rss.timeline(),
        },
      });
      process.exit(0);
    }
  });
  await send({ type: 'ready', port, ...hooks.ready });
}
