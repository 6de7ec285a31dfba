import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';

import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import axios, { type AxiosError, type AxiosInstance } from 'axios';
import axiosRetry, { isNetworkError } from 'axios-retry';

import { POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { PostbackRequest } from '../postback/postback-request.builder.js';
import type { ResolvedPostbackOptions } from '../resolve-postback-options.js';

/** What one send produced: a status (and a bounded body), or an error. */
export interface SendResult {
  status?: number;
  retryAfter?: string;
  location?: string;
  /** The first bytes of the response body; the rest is never read. */
  body?: string;
  error?: string;
  durationMs: number;
}

/** Enough of a body to match a success marker; larger bodies are cut off unread. */
const BODY_READ_LIMIT = 64 * 1024;

/**
 * Sends postbacks over keep-alive connections. Every attempt is bounded as a whole by the
 * timeout (connect, headers, body), redirects are never followed, and the body is read only
 * up to a cap, so a hostile or broken tracker cannot hold a worker slot or fill memory.
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

  constructor(@Inject(POSTBACK_RESOLVED_OPTIONS) options: ResolvedPostbackOptions) {
    const { concurrency, timeoutMs } = options.outbox;
    this.timeoutMs = timeoutMs;
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: concurrency * 2 });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: concurrency * 2 });
    this.axios = axios.create({
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      maxRedirects: 0,
      responseType: 'stream',
      validateStatus: () => true,
      headers: { 'user-agent': 'nestjs-postback' },
    });
    axiosRetry(this.axios, {
      retries: 2,
      retryDelay: (retryCount) => 100 * 2 ** retryCount,
      shouldResetTimeout: true,
      // Connection failures only: a timeout or an abort is final for this attempt.
      retryCondition: (error) =>
        isNetworkError(error) && error.code !== 'ECONNABORTED' && error.code !== 'ERR_CANCELED',
    });
  }

  async send(request: PostbackRequest): Promise<SendResult> {
    const started = performance.now();
    const signal = AbortSignal.timeout(this.timeoutMs);
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await this.axios.request<Readable>({
        method: request.method,
        url: request.url,
        headers: request.headers,
        data: request.body,
        timeout: this.timeoutMs,
        signal,
      });
      const body = await readBounded(response.data, BODY_READ_LIMIT);
      const header = (name: string) => {
        const value = response.headers[name];
        return typeof value === 'string' ? value : undefined;
      };
      return {
        status: response.status,
        retryAfter: header('retry-after'),
        location: header('location'),
        body,
        durationMs: elapsed(),
      };
    } catch (error) {
      return {
        error: describe(error as AxiosError, signal, this.timeoutMs),
        durationMs: elapsed(),
      };
    }
  }

  // Not onModuleDestroy: that runs before the flusher's beforeApplicationShutdown, and would
  // cut the connections of the sends it is waiting for.
  onApplicationShutdown(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function describe(error: AxiosError, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted || error.code === 'ECONNABORTED' || error.code === 'ERR_CANCELED') {
    return `timed out after ${timeoutMs} ms`;
  }
  return error.code ? `${error.code}: ${error.message}` : error.message;
}

/**
 * Reads at most `limit` bytes of a body, then drops the connection. A body cut short by the
 * timeout keeps what arrived: the status code already answered the question.
 */
function readBounded(stream: Readable, limit: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
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
