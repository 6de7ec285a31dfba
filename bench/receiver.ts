/**
 * Child process: the local "tracking service" postbacks go to, the FakeTracker the demo and
 * the tests use (answers 200 "OK"). Its own process, so its CPU is not charged to the agent
 * or to the load generator. Reports how many requests it received (and how many distinct
 * txid values, to see duplicates) when asked.
 */
import { FakeTracker } from '../src/demo/fake-tracker.js';
import { fail, onParentMessage, send } from './common.js';

async function main(): Promise<void> {
  const tracker = await new FakeTracker().start();
  onParentMessage(async (message) => {
    if (message.type === 'stats') {
      const received = tracker.received;
      const txids = new Set(
        received.map((r) => new URL(r.url, 'http://receiver').searchParams.get('txid')),
      );
      const data = { received: received.length, distinctTxids: txids.size };
      if ((message as { reset?: boolean }).reset) received.length = 0;
      await send({ type: 'stats', data });
    } else if (message.type === 'stop') {
      await tracker.stop();
      process.exit(0);
    }
  });
  await send({ type: 'ready', port: tracker.port, url: tracker.url('').replace(/\/$/, '') });
}

main().catch(fail);
