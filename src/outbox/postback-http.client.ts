import http, { type ClientRequest, type RequestOptions } from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';

import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import axios, { type AxiosError, type AxiosInstance, type AxiosRequestConfig } from 'axios';
import axiosRetry, { isNetworkError } from 'axios-retry';

import { POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { PostbackRequest } from '../postback/postback-request.builder.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';

/** What one send produced: a status (and a bounded body), or an error. */
export interface SendResult {
  status?: number;
  retryAfter?: string;
  location?: string;
  /** The first bytes of the response body; the rest is never read. */
  body?: string;
  /** Set when the body went on past what was read. */
  bodyCutShort?: boolean;
  error?: string;
  durationMs: number;
}

/** Enough of a body to match a success marker; larger bodies are cut off unread. */
const BODY_READ_LIMIT = 64 * 1024;
/**
 * TCP keep-alive delay on pooled sockets: what axios sets on each request's socket (one
 * minute), so http.Agent does not set its own 1 s back on every socket it takes back.
 */
const TCP_KEEP_ALIVE_MS = 60_000;
/** How often overdue attempts are looked for: a timeout fires up to this much late. */
const SWEEP_INTERVAL_MS = 100;

/** One attempt in flight: its deadline, and the requests it made (a reconnect makes another). */
interface Attempt {
  deadline: number;
  requests: ClientRequest[];
  timedOut: boolean;
  /** Its index in `PostbackHttpClient.inFlight` while it is there, else -1. */
  slot: number;
}

/**
 * Sends postbacks over keep-alive connections. Every attempt is bounded as a whole by the
 * timeout (connect, headers, body), redirects are never followed, and the body is read only
 * up to a cap, so a hostile or broken tracker cannot hold a worker slot or fill memory.
 *
 * The timeout is enforced by one sweep over the attempts in flight, which destroys the
 * requests of those past their deadline, rather than by a timer and an AbortSignal per
 * request, which cost far more (docs/internals/performance-notes.md). Each attempt hands axios
 * its own `transport`, which notes the requests it makes.
 *
 * axios-retry repeats only a request that failed to connect or lost its connection, twice and
 * within the same timeout; the outbox row carries the long retry schedule. It never retries on a
 * status code, so a 5xx is one recorded attempt, not several hidden ones.
 */
@Injectable()
export class PostbackHttpClient implements OnApplicationShutdown {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly axios: AxiosInstance;
  private readonly timeoutMs: number;
  /**
   * The attempts in flight, in no order (see `untrack`). An array, not a Set: the tables a Set
   * replaces as it rehashes stay linked, and kept every attempt alive into the old generation
   * (docs/internals/performance-notes.md).
   */
  private readonly inFlight: Attempt[] = [];
  private sweeper?: NodeJS.Timeout;

  constructor(@Inject(POSTBACK_RESOLVED_OPTIONS) options: ResolvedPostbackOptions) {
    const { concurrency, timeoutMs } = options.outbox;
    this.timeoutMs = timeoutMs;
    const agentOptions = {
      keepAlive: true,
      keepAliveMsecs: TCP_KEEP_ALIVE_MS,
      maxSockets: concurrency * 2,
    };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
    this.axios = axios.create({
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      maxRedirects: 0,
      responseType: 'stream',
      validateStatus: () => true,
    });
    const { requestInterceptorId } = axiosRetry(this.axios, {
      retries: 2,
      retryDelay: (retryCount) => 100 * 2 ** retryCount,
      // Connection failures only: a timeout or an abort is final for this attempt.
      retryCondition: retryable,
    });
    // axios-retry's request interceptor only stamps each request's start time, which matters
    // for axios' own `timeout` (unused: the sweep bounds attempts). Any request interceptor
    // sends every request through axios' promise chain instead of its direct path, which cost
    // a tenth of the drain's throughput. Retrying is the response interceptor's work: it keeps
    // its count on the request's config, so it stops after two retries all the same.
    this.axios.interceptors.request.eject(requestInterceptorId);
    trimDefaults(this.axios);
  }

  async send(request: PostbackRequest): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const attempt: Attempt = {
      deadline: Date.now() + this.timeoutMs,
      requests: [],
      timedOut: false,
      slot: -1,
    };
    this.track(attempt);
    try {
      // Only the options this request has: axios merges every key given with its defaults.
      const config: AxiosRequestConfig & { transport: AttemptTransport } = {
        method: request.method,
        url: request.url,
        transport: new AttemptTransport(attempt),
      };
      if (hasKeys(request.headers)) config.headers = request.headers;
      if (request.body !== undefined) config.data = request.body;
      // Never `proxy: false` to skip axios' per-send proxy lookup: axios' direct-agent path
      // then keeps each send's objects alive longer, which costs more than the lookup.
      const response = await this.axios.request<Readable>(config);
      const { body, cutShort } = await readBounded(response.data, BODY_READ_LIMIT);
      const header = (name: string) => {
        const value = response.headers[name];
        return typeof value === 'string' ? value : undefined;
      };
      return {
        status: response.status,
        retryAfter: header('retry-after'),
        location: header('location'),
        body,
        ...(cutShort && { bodyCutShort: true }),
        durationMs: elapsed(),
      };
    } catch (error) {
      return {
        error: attempt.timedOut
          ? `timed out after ${this.timeoutMs} ms`
          : describe(error as AxiosError),
        durationMs: elapsed(),
      };
    } finally {
      this.untrack(attempt);
      // And lets go of its requests, so that an attempt kept past its end (by the kind of chain
      // described at `inFlight`) cannot keep them and their responses.
      attempt.requests.length = 0;
    }
  }

  private track(attempt: Attempt): void {
    attempt.slot = this.inFlight.push(attempt) - 1;
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  /** Takes an attempt out of `inFlight`: the last one moves into its slot. */
  private untrack(attempt: Attempt): void {
    if (attempt.slot < 0) return;
    const last = this.inFlight.pop() as Attempt;
    if (last !== attempt) {
      this.inFlight[attempt.slot] = last;
      last.slot = attempt.slot;
    }
    attempt.slot = -1;
  }

  /** Ends the attempts past their deadline, whatever phase they are in. */
  private sweep(): void {
    const now = Date.now();
    // From the end: `untrack` only ever moves an attempt already looked at.
    for (let i = this.inFlight.length - 1; i >= 0; i--) {
      const attempt = this.inFlight[i];
      if (now < attempt.deadline) continue;
      attempt.timedOut = true;
      for (const req of attempt.requests)
        req.destroy(new Error(`timed out after ${this.timeoutMs} ms`));
      this.untrack(attempt);
    }
  }

  // Not onModuleDestroy: that runs before the flusher's beforeApplicationShutdown, and would
  // cut the connections of the sends it is waiting for.
  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/**
 * Drops the instance defaults this client never uses, which axios would otherwise merge into
 * every request's config (deep copies of nested objects, per send): the bodies are strings
 * already (no transformRequest), responses are streams read here (no transformResponse), no
 * FormData or Blob (env), no browser (XSRF), limits and timeouts enforced here. The header
 * defaults become one flat set, sent as before.
 */
function trimDefaults(instance: AxiosInstance): void {
  const defaults = instance.defaults as unknown as Record<string, unknown>;
  for (const key of UNUSED_DEFAULTS) delete defaults[key];
  defaults.headers = {
    Accept: 'application/json, text/plain, */*',
    'User-Agent': 'nestjs-postback',
  };
}

const UNUSED_DEFAULTS = [
  'transitional',
  'transformRequest',
  'transformResponse',
  'env',
  'xsrfCookieName',
  'xsrfHeaderName',
  'maxContentLength',
  'maxBodyLength',
  'timeout',
];

function hasKeys(object: object): boolean {
  for (const _ in object) return true;
  return false;
}

function describe(error: AxiosError): string {
  return error.code ? `${error.code}: ${error.message}` : error.message;
}

/** A connection failure, retried within the attempt; never a timeout or a cancel. */
function retryable(error: AxiosError): boolean {
  const transport = (error.config as { transport?: unknown } | undefined)?.transport;
  return (
    !(transport instanceof AttemptTransport && transport.attempt.timedOut) &&
    isNetworkError(error) &&
    error.code !== 'ECONNABORTED' &&
    error.code !== 'ERR_CANCELED'
  );
}

/** Node's http or https, noting each request the attempt makes so the sweep can end it. */
class AttemptTransport {
  constructor(readonly attempt: Attempt) {}

  request(options: RequestOptions, callback: (res: http.IncomingMessage) => void): ClientRequest {
    const req = (options.protocol === 'https:' ? https : http).request(options, callback);
    this.attempt.requests.push(req);
    return req;
  }
}

/**
 * Reads at most `limit` bytes of a body, then drops the connection. A body cut short by the
 * timeout keeps what arrived: the status code already answered the question.
 */
function readBounded(
  stream: Readable,
  limit: number,
): Promise<{ body: string; cutShort: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      // A body of exactly the limit counts as cut: whether more would have come is unknown.
      resolve({ body: Buffer.concat(chunks).toString('utf8'), cutShort: size >= limit });
    };
    stream.on('data', (chunk: Buffer) => {
      if (size < limit) chunks.push(chunk.subarray(0, limit - size));
      size += chunk.length;
      if (size >= limit) {
        finish();
        stream.destroy();
      }
    });
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', finish);
  });
}
