/**
 * Load generation, in the orchestrator's process (the servers are children): autocannon's
 * closed loop for throughput, and an open loop at a fixed rate for latency.
 */
import http from 'node:http';

import autocannon from 'autocannon';

import { sleep } from './abort.js';
import { fmt, preciseNow, progress } from './progress.js';
import { sized } from './quick.js';

export const LOAD = sized(
  { connections: 32, warmupSeconds: 2, seconds: 6 },
  { warmupSeconds: 1, seconds: 2 },
);

export interface LoadResult {
  perSecond: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  seconds: number;
}

function cannon(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** A warm-up, then the measured run; every request made by `request(n)` with a fresh n. */
export async function load(
  port: number,
  request: (n: number) => autocannon.Request,
  label: string,
): Promise<LoadResult> {
  let n = 0;
  const options = (duration: number): autocannon.Options => ({
    url: `http://127.0.0.1:${port}`,
    connections: LOAD.connections,
    duration,
    timeout: 10,
    requests: [{ setupRequest: (req) => ({ ...req, ...request(n++) }) }],
  });
  await cannon(options(LOAD.warmupSeconds));
  const result = await cannon(options(LOAD.seconds));
  const seconds = result.duration;
  const loadResult = {
    perSecond: result['2xx'] / seconds,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    seconds,
  };
  progress(
    `  ${label}: ${fmt(loadResult.perSecond)} req/s (p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors})`,
  );
  return loadResult;
}

export interface OpenLoopResult {
  /** When each request was issued (epoch ms, precise), by key. */
  sentAt: Map<string, number>;
  /** Answers per status code ('error' when none came). */
  statuses: Record<string, number>;
  /** Sorted response times, ms. */
  responseMs: number[];
  /** The longest a request was issued after its slot in the schedule, ms. */
  maxLagMs: number;
  seconds: number;
}

/**
 * Issues `rate × seconds` POSTs at a fixed rate whatever the server does (open loop: a slow
 * answer does not delay the next request), on keep-alive connections. `body(n)` gives the key
 * and the JSON body of request n.
 */
export async function openLoop(
  port: number,
  path: string,
  rate: number,
  seconds: number,
  body: (n: number) => { key: string; json: unknown },
): Promise<OpenLoopResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const sentAt = new Map<string, number>();
  const statuses: Record<string, number> = {};
  const responseMs: number[] = [];
  const pending = new Set<Promise<void>>();
  let maxLagMs = 0;
  const send = (n: number) => {
    const { key, json } = body(n);
    const payload = JSON.stringify(json);
    const issued = preciseNow();
    sentAt.set(key, issued);
    const done = new Promise<void>((resolve) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
          timeout: 30_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
            responseMs.push(preciseNow() - issued);
            resolve();
          });
        },
      );
      req.on('error', () => {
        statuses.error = (statuses.error ?? 0) + 1;
        resolve();
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end(payload);
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  };
  const started = preciseNow();
  for (let n = 0; n < total;) {
    const due = started + n * interval;
    const now = preciseNow();
    if (now < due) {
      await sleep(Math.max(0, due - now - 1));
      continue;
    }
    maxLagMs = Math.max(maxLagMs, now - due);
    send(n++);
  }
  const elapsed = (preciseNow() - started) / 1000;
  await Promise.all(pending);
  agent.destroy();
  responseMs.sort((a, b) => a - b);
  return { sentAt, statuses, responseMs, maxLagMs, seconds: elapsed };
}
