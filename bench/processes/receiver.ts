/**
 * Child process: the receiver every figure's postbacks go to (bench/lib/counting-receiver.ts),
 * in its own process so that its CPU is not charged to the agent or to the load generator.
 *
 * Parent messages: {type:'stats', reset?, arrivals?} answers {received, distinctTxids,
 * duplicates, withoutTxid, byPath, firstArrivalAt, lastArrivalAt, cpu (µs used since the last
 * reset)[, arrivals: {txid: ms}]}; reset forgets everything after answering. 'stop' exits.
 */
import type { AddressInfo } from 'node:net';

import { countingReceiver } from '../lib/counting-receiver.js';
import { fail, onParentMessage, send } from './child.js';

async function main(): Promise<void> {
  const { server, stats } = countingReceiver();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  onParentMessage(async (message) => {
    if (message.type === 'stats') {
      const { reset, arrivals } = message as { reset?: boolean; arrivals?: boolean };
      await send({ type: 'stats', data: { ...stats({ reset, arrivals }) } });
    } else if (message.type === 'stop') {
      server.closeAllConnections();
      server.close();
      process.exit(0);
    }
  });
  await send({ type: 'ready', port, url: `http://127.0.0.1:${port}` });
}

main().catch(fail);
