/**
 * Child process: the local "tracking service" postbacks go to. Answers every request 200 "OK"
 * (what FakeTracker answers by default) and keeps only what the figures ask about, so that it
 * stays small and cheap at a million requests: how many arrived, the distinct txid values
 * (duplicates show as received > distinct) and, per txid, when it first arrived (epoch ms with
 * sub-millisecond precision, comparable with the other bench processes' clocks). Its own
 * process, so its CPU is not charged to the agent or to the load generator.
 *
 * Parent messages: {type:'stats', reset?, arrivals?} answers {received, distinctTxids,
 * duplicates, withoutTxid, byPath, firstArrivalAt, lastArrivalAt, cpu (µs used since the last
 * reset)[, arrivals: {txid: ms}]};
 * reset forgets everything after answering.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

import { fail, onParentMessage, send } from './common.js';

const now = () => performance.timeOrigin + performance.now();

let received = 0;
let withoutTxid = 0;
let duplicates = 0;
let arrivals = new Map<string, number>();
/** Requests per path: the agents of a multi-process figure each post to their own. */
let byPath = new Map<string, number>();
let firstArrivalAt: number | undefined;
let lastArrivalAt: number | undefined;
/** CPU used since the last reset: what the receiver's side of a figure cost this machine. */
let cpuSince = process.cpuUsage();

/** The `txid` query parameter, without parsing the whole URL for every request. */
function txidOf(url: string): string | undefined {
  const at = url.indexOf('txid=');
  if (at < 0 || (url[at - 1] !== '?' && url[at - 1] !== '&')) return undefined;
  const end = url.indexOf('&', at);
  return decodeURIComponent(url.slice(at + 5, end < 0 ? undefined : end));
}

const server = http.createServer((req, res) => {
  const arrivedAt = now();
  received++;
  firstArrivalAt ??= arrivedAt;
  lastArrivalAt = arrivedAt;
  const url = req.url ?? '';
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  byPath.set(path, (byPath.get(path) ?? 0) + 1);
  const txid = txidOf(url);
  if (txid === undefined) withoutTxid++;
  else if (arrivals.has(txid)) duplicates++;
  else arrivals.set(txid, arrivedAt);
  // Consume the body (GET postbacks have none) before answering.
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('OK');
  });
});
server.keepAliveTimeout = 65_000;

async function main(): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  onParentMessage(async (message) => {
    if (message.type === 'stats') {
      const { reset, arrivals: withArrivals } = message as { reset?: boolean; arrivals?: boolean };
      const data = {
        received,
        distinctTxids: arrivals.size,
        duplicates,
        withoutTxid,
        byPath: Object.fromEntries(byPath),
        firstArrivalAt,
        lastArrivalAt,
        cpu: process.cpuUsage(cpuSince),
        ...(withArrivals && { arrivals: Object.fromEntries(arrivals) }),
      };
      if (reset) {
        received = withoutTxid = duplicates = 0;
        arrivals = new Map();
        byPath = new Map();
        firstArrivalAt = lastArrivalAt = undefined;
        cpuSince = process.cpuUsage();
      }
      await send({ type: 'stats', data });
    } else if (message.type === 'stop') {
      server.closeAllConnections();
      server.close();
      process.exit(0);
    }
  });
  await send({ type: 'ready', port, url: `http://127.0.0.1:${port}` });
}

main().catch(fail);
