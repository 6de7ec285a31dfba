import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake tracker received, byte for byte. */
export interface ReceivedPostback {
  method: string;
  /** Path and query exactly as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  receivedAt: number;
  /** The status it was answered with; undefined while unanswered, or when hung up on. */
  status?: number;
}

/** How the fake tracker answers one request. */
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
 * A local HTTP server standing in for a tracking service: it records every request and
 * answers from a script (then with the default), switchable while it runs. Used by
 * `npm run demo` and by the end-to-end tests.
 */
export class FakeTracker {
  readonly received: ReceivedPostback[] = [];
  private script: FakeResponse[] = [];
  private fallback: FakeResponse = { status: 200, body: 'OK' };
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly waiters: (() => void)[] = [];

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
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received.slice(0, count);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received: ReceivedPostback = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      };
      this.received.push(received);
      this.waiters.splice(0).forEach((wake) => wake());
      const response = this.script.shift() ?? this.fallback;
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
}
