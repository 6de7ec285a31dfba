import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { PostbackFields } from '../postback/postback-fields.js';
import { PostbackHttpClient } from './postback-http.client.js';
import { resolvePostbackOptions } from '../options/resolve-options.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { buildPostbackRequest } from '../postback/postback-request.builder.js';
import { verifyPostbackSignature } from '../postback/postback-signature.js';

// Literal text a merchant may paste into a template: `|` and `^` (raw on the wire before),
// `'` (which the HTTP client encodes in a query by itself), non-ASCII, a bare `%`.
const LITERALS = "/pb/a|b^c%20é?note=it's%20a|b^c%20é%205%&ok=%41";
const SECRET = `whsec_${Buffer.from('literal-text-signing-key-32bytes').toString('base64')}`;

const FIELDS: PostbackFields = {
  clickId: 'click 1',
  eventType: 'purchase',
  conversionId: 'conv-1',
  occurredAt: Date.UTC(2026, 0, 5),
  orderId: 'ORDER-1',
  amount: '10.00',
  currency: 'EUR',
};

describe('a template with literal text, sent by the HTTP client', () => {
  let server: http.Server;
  let base: string;
  let client: PostbackHttpClient;
  const received: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      received.push(req.url!);
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new PostbackHttpClient({
      outbox: { concurrency: 1, timeoutMs: 2000 },
    } as ResolvedPostbackOptions);
  });

  afterAll(async () => {
    client.onApplicationShutdown();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function sendThrough(signing: 'token' | 'hmac') {
    const tracker = resolvePostbackOptions({
      trackers: [
        {
          name: 'net',
          clickParams: ['cid'],
          postback: { url: `${base}${LITERALS}&cid={click_id}` },
          signing:
            signing === 'token'
              ? { type: 'token', param: 't', secret: 'tok' }
              : { type: 'hmac', secret: SECRET },
        },
      ],
    }).trackers.get('net')!;
    const request = buildPostbackRequest(tracker, FIELDS, 'event-1', Date.now());
    received.length = 0;
    await expect(client.send(request)).resolves.toMatchObject({ status: 204 });
    return { request, target: received[0] };
  }

  it.each(['token', 'hmac'] as const)(
    'with %s signing, reaches the receiver byte for byte as rendered, RFC 3986 encoded',
    async (signing) => {
      const { request, target } = await sendThrough(signing);
      expect(`${base}${target}`).toBe(request.url);
      expect(target).toMatch(
        /^\/pb\/a%7Cb%5Ec%20%C3%A9\?note=it%27s%20a%7Cb%5Ec%20%C3%A9%205%25&ok=%41&cid=click%201&/,
      );
      const query = new URL(target, 'http://receiver.invalid').searchParams;
      expect(query.get('note')).toBe("it's a|b^c é 5%");
    },
  );

  it('with hmac signing, verifies over what the receiver got', async () => {
    const { target } = await sendThrough('hmac');
    expect(verifyPostbackSignature({ secret: SECRET, url: target })).toBe(true);
  });
});
