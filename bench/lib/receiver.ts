/**
 * The receiver postbacks go to (bench/processes/receiver.ts): one child for the whole run,
 * started by the first figure that asks for its URL.
 */
import { throwIfAborted } from './abort.js';
import { Child } from './children.js';
import type { CountingReceiverStats } from './counting-receiver.js';

let receiver: { child: Child; url: string } | undefined;

export async function receiverUrl(): Promise<string> {
  throwIfAborted();
  if (!receiver) {
    const child = Child.start('receiver', 'receiver.js');
    const ready = await child.next('ready', 15_000);
    receiver = { child, url: String(ready.url) };
  }
  return receiver.url;
}

/** What the receiver process counted: its own stats, sent over IPC. */
export type ReceiverStats = CountingReceiverStats;

/** What the receiver saw since the last reset; `reset` starts counting afresh. */
export async function receiverStats(
  options: { reset?: boolean; arrivals?: boolean } = { reset: true },
): Promise<ReceiverStats> {
  throwIfAborted();
  if (!receiver) await receiverUrl();
  const child = (receiver as { child: Child }).child;
  child.send({ type: 'stats', ...options });
  return (await child.next('stats', 30_000)).data as unknown as ReceiverStats;
}

export async function stopReceiver(): Promise<void> {
  await receiver?.child.stop();
  receiver = undefined;
}

/** Kills the receiver at once (the run is over or interrupted). */
export function killReceiver(): void {
  receiver?.child.kill();
  receiver = undefined;
}
