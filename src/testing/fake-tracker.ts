import http from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  verifyPostbackSignature,
  type VerifyPostbackSignatureOptions,
} from '../postback/postback-signature.js';

/**
 * A request the fake tracker received, byte for byte.
 *
 * @publicApi
 */
export interface ReceivedPostback {
  method: string;
  /** Path and query exactly as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /**
   * The values as a receiver reads them: the query's parameters, and a form or JSON body's
   * fields on top (JSON values as text).
   */
  fields: Record<string, string>;
  /** With a `secret`: whether the signature verified. Undefined without one. */
  signature?: 'valid' | 'invalid';
  receivedAt: number;
  /** The status it was answered with; undefined while unanswered, or when hung up on. */
  status?: number;
}

/** @publicApi */
export interface FakeTrackerOptions {
  /**
   * Verify every request's signature with this secret (two during a key rotation), as the
   * receiver would: one that does not verify is answered 401 and marked `invalid`.
   */
  secret?: string | string[];
  /** The GET signature parameters' names, if the tracker's `signing.queryParams` changes them. */
  queryParams?: VerifyPostbackSignatureOptions['queryParams'];
  /** @default 300 */
  toleranceSeconds?: number;
}

/**
 * How the fake tracker answers one request.
 *
 * @publicApi
 */
export interface FakeResponse {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Answer after this many milliseconds. */
  delayMs?: number;
  /** Never answer. */
  hang?: boolean;
  /** Drop the connection without an answer. */
  reset?: boolean;
}

/**
 * A local HTTP server standing in for a tracking service: it records every request, verifies
 * its signature when given the secret, and answers from a script (then with the default),
 * switchable while it runs. For a shop's own tests (`nestjs-postback/testing`), `npm run demo`
 * and this package's end-to-end tests.
 *
 * @publicApi
 */
export class FakeTracker {
  readonly received: ReceivedPostback[] = [];
  private script: FakeResponse[] = [];
  private fallback: FakeResponse = { status: 200, body: 'OK' };
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly options: FakeTrackerOptions = {}) {}

  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/postback'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Answers the next requests in this order, then falls back to the default. */
  respondWith(...responses: FakeResponse[]): void {
    this.script.push(...responses);
  }

  setDefault(response: FakeResponse): void {
    this.fallback = response;
  }

  /** Resolves once `count` requests have arrived; rejects after `timeoutMs`. */
  async waitForRequests(count: number, timeoutMs = 10_000): Promise<ReceivedPostback[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`expected ${count} postbacks, received ${this.received.length}`);
      }
      await this.nextRequest(left);
    }
    return this.received.slice(0, count);
  }

  private nextRequest(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(timeoutMs, 200));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Resolves with the first request that matches (any request without `where`), received
   * already or within `timeoutMs`; rejects naming what did arrive.
   */
  async waitForPostback(
    where: (postback: ReceivedPostback) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<ReceivedPostback> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(where);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.received.map((p) => `${p.method} ${p.url}`).join(', ') || 'none';
        throw new Error(`no matching postback within ${timeoutMs} ms; received: ${seen}`);
      }
      await this.nextRequest(left);
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const url = req.url ?? '/';
      const body = raw.toString('utf8');
      const received: ReceivedPostback = {
        method: req.method ?? 'GET',
        url,
        headers: req.headers,
        body,
        fields: fieldsOf(url, req.headers['content-type'], body),
        receivedAt: Date.now(),
      };
      if (this.options.secret !== undefined) {
        received.signature = this.verifies(received, raw) ? 'valid' : 'invalid';
      }
      this.received.push(received);
      this.waiters.splice(0).forEach((wake) => wake());
      // A receiver refuses what it cannot verify; the script is kept for the next request.
      const response =
        received.signature === 'invalid'
          ? { status: 401, body: 'invalid signature' }
          : (this.script.shift() ?? this.fallback);
      if (response.hang) return;
      if (response.reset) {
        req.socket.destroy();
        return;
      }
      const answer = () => {
        received.status = response.status ?? 200;
        res.writeHead(received.status, response.headers ?? {});
        res.end(response.body ?? '');
      };
      if (response.delayMs) setTimeout(answer, response.delayMs);
      else answer();
    });
  }

  /** A POST's Standard Webhooks headers over the raw body; a GET's signature over path and query. */
  private verifies(received: ReceivedPostback, raw: Buffer): boolean {
    const { secret, queryParams, toleranceSeconds } = this.options;
    const common = { secret: secret!, toleranceSeconds };
    return received.method === 'GET'
      ? verifyPostbackSignature({ ...common, url: received.url, queryParams })
      : verifyPostbackSignature({ ...common, headers: received.headers, body: raw });
  }
}

function fieldsOf(
  url: string,
  contentType: string | undefined,
  body: string,
): Record<string, string> {
  const fields = Object.fromEntries(new URL(url, 'http://receiver.invalid').searchParams);
  if (/^application\/x-www-form-urlencoded/i.test(contentType ?? '')) {
    Object.assign(fields, Object.fromEntries(new URLSearchParams(body)));
  } else if (/^application\/json/i.test(contentType ?? '')) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const [key, value] of Object.entries(parsed)) {
          fields[key] = typeof value === 'string' ? value : JSON.stringify(value);
        }
      }
    } catch {
      // Not JSON after all: `body` still holds it, byte for byte.
    }
  }
  return fields;
}
