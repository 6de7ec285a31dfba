import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';

/** What one library made of one request: the payload it returned, or the error it threw. */
export type Verdict = { ok: true; payload: unknown } | { ok: false; error: string };

export interface VerifiedRequest {
  body: string;
  headers: http.IncomingHttpHeaders;
  /** Per secret the receiver holds: each library's verdict. */
  verdicts: { secret: string; standardwebhooks: Verdict; svix: Verdict }[];
}

export interface VerifyingReceiverOptions {
  /** The secrets this receiver checks with, each on its own (as two receivers would). */
  secrets: string[];
  /** Passed to standardwebhooks' `verify`; svix's takes no options. */
  jsonParse?: boolean;
  /** Which libraries must accept for a 2xx answer. @default both */
  require?: ('standardwebhooks' | 'svix')[];
}

function verdict(verify: () => unknown): Verdict {
  try {
    return { ok: true, payload: verify() };
  } catch (error) {
    return { ok: false, error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/**
 * A tracking service that checks every postback with the official Standard Webhooks libraries,
 * each in its default configuration, and answers 204 only when the required ones accept it
 * with every secret it holds, 401 with their errors otherwise (so a postback they reject is
 * never marked delivered).
 */
export class VerifyingReceiver {
  readonly received: VerifiedRequest[] = [];
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  constructor(private readonly options: VerifyingReceiverOptions) {}

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  url(path = '/webhooks'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      // The raw body, byte for byte: what both libraries document they must be given.
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([name, value]) => [name, String(value)]),
      );
      const jsonParse = this.options.jsonParse;
      const verdicts = this.options.secrets.map((secret) => ({
        secret,
        standardwebhooks: verdict(() =>
          new StandardWebhook(secret).verify(
            body,
            headers,
            jsonParse === undefined ? undefined : { jsonParse },
          ),
        ),
        svix: verdict(() => new SvixWebhook(secret).verify(body, headers)),
      }));
      this.received.push({ body, headers: req.headers, verdicts });
      const required = this.options.require ?? ['standardwebhooks', 'svix'];
      const failures = verdicts.flatMap((v) =>
        required.flatMap((library) => {
          const result = v[library];
          return result.ok ? [] : [`${library}: ${result.error}`];
        }),
      );
      res.writeHead(failures.length === 0 ? 204 : 401, { 'content-type': 'text/plain' });
      res.end(failures.join('\n'));
    });
  }
}
