/**
 * The local "tracking service" postbacks go to, as a plain HTTP server (bench/processes/
 * receiver.ts runs it as the bench's receiver child). Answers every request 200 "OK" (what
 * FakeTracker answers by default) and keeps only what the figures ask about, so that it stays
 * small and cheap at a million requests: how many arrived, the distinct txid values
 * (duplicates show as received > distinct) and, per txid, when it first arrived (epoch ms with
 * sub-millisecond precision, comparable with the other bench processes' clocks).
 */
import http from 'node:http';

import { preciseNow } from './progress.js';

export interface CountingReceiverStats {
  received: number;
  distinctTxids: number;
  duplicates: number;
  withoutTxid: number;
  /** Requests per path: the agents of a multi-process figure each post to their own. */
  byPath: Record<string, number>;
  firstArrivalAt?: number;
  lastArrivalAt?: number;
  /** CPU this process used since the last reset, µs. */
  cpu: NodeJS.CpuUsage;
  /** Per txid, when it first arrived (only when asked for). */
  arrivals?: Record<string, number>;
}

/** The `txid` query parameter, without parsing the whole URL for every request. */
function txidOf(url: string): string | undefined {
  const at = url.indexOf('txid=');
  if (at < 0 || (url[at - 1] !== '?' && url[at - 1] !== '&')) return undefined;
  const end = url.indexOf('&', at);
  return decodeURIComponent(url.slice(at + 5, end < 0 ? undefined : end));
}

export function countingReceiver(): {
  server: http.Server;
  /** What arrived since the last reset; `reset` forgets everything after answering. */
  stats(options: { reset?: boolean; arrivals?: boolean }): CountingReceiverStats;
} {
  let received = 0;
  let withoutTxid = 0;
  let duplicates = 0;
  let arrivals = new Map<string, number>();
  let byPath = new Map<string, number>();
  let firstArrivalAt: number | undefined;
  let lastArrivalAt: number | undefined;
  let cpuSince = process.cpuUsage();

  const server = http.createServer((req, res) => {
    const arrivedAt = preciseNow();
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

  const stats = (options: { reset?: boolean; arrivals?: boolean }): CountingReceiverStats => {
    const data = {
      received,
      distinctTxids: arrivals.size,
      duplicates,
      withoutTxid,
      byPath: Object.fromEntries(byPath),
      firstArrivalAt,
      lastArrivalAt,
      cpu: process.cpuUsage(cpuSince),
      ...(options.arrivals && { arrivals: Object.fromEntries(arrivals) }),
    };
    if (options.reset) {
      received = withoutTxid = duplicates = 0;
      arrivals = new Map();
      byPath = new Map();
      firstArrivalAt = lastArrivalAt = undefined;
      cpuSince = process.cpuUsage();
    }
    return data;
  };
  return { server, stats };
}
