/** Peak memory of the agent while it drains a million pending postbacks, against it idle. */
import { sleep } from '../lib/abort.js';
import { finish, measureInChild, start } from '../lib/children.js';
import type { FigureSpec } from '../lib/figure.js';
import { fmt, preciseNow, progress } from '../lib/progress.js';
import { sized } from '../lib/quick.js';
import { receiverStats, receiverUrl } from '../lib/receiver.js';
import { tempDir } from '../lib/temp-dir.js';

export const RSS = sized(
  { pending: 1_000_000, windowSeconds: 360, idleSeconds: 3, limitMb: 150 },
  { pending: 20_000, windowSeconds: 60, idleSeconds: 1 },
);

/**
 * The baseline: the same agent on an empty outbox, after start-up (2 s to settle, then the
 * peak over a few seconds); its status then, and at the end of start-up.
 */
async function idleAgent(url: string) {
  const agent = start('rss-idle-agent', 'events-server.js', { receiver: url, outbox: '{}' });
  await agent.next('ready', 30_000);
  await sleep(2_000);
  const idleStartUp = await agent.status({ resetPeak: true });
  await sleep(RSS.idleSeconds * 1_000);
  const idle = await agent.status();
  await finish(agent);
  return { idle, idleStartUp };
}

export const RSS_FIGURE: FigureSpec = {
  id: 'rss',
  figure: `peak RSS draining ${fmt(RSS.pending)} pending postbacks (SQLite)`,
  unit: 'MB',
  target: `≤ idle + ${RSS.limitMb} MB`,
  // Seeding (~25 s), the idle sample, and a drain of the whole million (~5 min here).
  timeBoxMs: 480_000,
  settings: { key: 'rss', values: RSS },
  async run() {
    const url = await receiverUrl();
    const dir = tempDir('rss');
    const database = `sqlite:${dir.path}/agent.sqlite`;
    try {
      const seeded = await measureInChild(
        'rss-seed',
        'seed.js',
        { url: database, count: RSS.pending, how: 'raw' },
        180_000,
      );
      progress(
        `  seeded ${fmt(RSS.pending)} pending postbacks in ${fmt(seeded.seconds as number, 1)} s`,
      );

      const { idle, idleStartUp } = await idleAgent(url);
      const idleMb = idle.peakRssMb as number;
      progress(`  idle agent: ${idleMb} MB`);

      // Draining: the agent's defaults, started on the seeded file; it drains from boot.
      await receiverStats({ reset: true });
      const agent = start('rss-drain-agent', 'events-server.js', {
        receiver: url,
        database,
        outbox: '{}',
      });
      const started = preciseNow();
      await agent.next('ready', 60_000);
      // From here on: start-up's own peak (both agents have one; the idle figure leaves it
      // out too) is reported apart.
      const atReady = await agent.status({ resetPeak: true });
      const deadline = started + RSS.windowSeconds * 1_000;
      let received = await receiverStats({ reset: false });
      while (received.received < RSS.pending && preciseNow() < deadline) {
        await sleep(1_000);
        received = await receiverStats({ reset: false });
      }
      const drainSeconds = (preciseNow() - started) / 1000;
      const complete = received.received >= RSS.pending;
      // The peak first: counting a million rows is not part of draining them.
      const atPeak = await agent.status();
      const peakMb = atPeak.peakRssMb as number;
      const outboxRows = (await agent.status({ counts: true }, 60_000)).outbox as Record<
        string,
        number
      >;
      const stats = await finish(agent);
      await receiverStats({ reset: true });
      progress(
        `  peak ${peakMb} MB; ${fmt(received.received)} sent in ${fmt(drainSeconds, 0)} s (${fmt(received.received / drainSeconds)}/s)${complete ? '' : `, window of ${RSS.windowSeconds} s over`}`,
      );
      return {
        value: peakMb,
        baseline: idleMb,
        ratio: peakMb / idleMb,
        met: peakMb <= idleMb + RSS.limitMb && received.duplicates === 0,
        ...(!complete && {
          caveat: `${fmt(received.received)} of ${fmt(RSS.pending)} sent in the window`,
        }),
        display: complete
          ? undefined
          : {
              value: `${fmt(peakMb)} MB (first ${RSS.windowSeconds} s)`,
            },
        details: {
          pending: RSS.pending,
          window: complete
            ? `drained all ${fmt(RSS.pending)}`
            : `stopped after the ${RSS.windowSeconds} s window: ${fmt(received.received)} of ${fmt(RSS.pending)} sent`,
          complete,
          sent: received.received,
          duplicates: received.duplicates,
          drainSeconds,
          perSecond: received.received / drainSeconds,
          outboxAtEnd: outboxRows,
          growthOverIdleMb: peakMb - idleMb,
          mainThreadAtPeakMb: atPeak.atPeakMb,
          idle: { ...idle, startUpPeakMb: idleStartUp.peakRssMb },
          rssTimelineMb: stats?.rssTimelineMb,
          seedSeconds: seeded.seconds,
          errorsLogged: stats?.errorsLogged,
          rssAtReadyMb: atReady.rssMb,
          startUpPeakMb: atReady.peakRssMb,
        },
      };
    } finally {
      dir.remove();
    }
  },
  notes: (details) => [`peak RSS figure: ${details.window}`],
};
