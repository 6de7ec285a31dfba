import http from 'node:http';
import { type AddressInfo, Socket } from 'node:net';

import { jest } from '@jest/globals';

import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { PostbackHttpClient } from './postback-http.client.js';

const TIMEOUT_MS = 300;

describe('PostbackHttpClient', () => {
  let server: http.Server;
  let base: string;
  let client: PostbackHttpClient;
  /** What `/echo` received, the body byte for byte. */
  const echoed: { method?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/hang') return; // never answers
      if (req.url === '/echo') {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          echoed.push({
            method: req.method,
            headers: req.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
          res.writeHead(200).end('echoed');
        });
        return;
      }
      if (req.url === '/big') {
        res.writeHead(200).end('x'.repeat(100 * 1024));
        return;
      }
      if (req.url === '/dribble') {
        // Headers at once, then a byte now and then, forever.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('O');
        const timer = setInterval(() => res.write('K'), 50);
        res.on('close', () => clearInterval(timer));
        return;
      }
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new PostbackHttpClient({
      outbox: { concurrency: 2, timeoutMs: TIMEOUT_MS },
    } as ResolvedPostbackOptions);
  });

  afterAll(async () => {
    client.onApplicationShutdown();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const get = (path: string) =>
    client.send({ method: 'GET', url: `${base}${path}`, headers: {}, redactedUrl: path });

  it('says when a body went on past what was read, for the excerpt to stop short of its end', async () => {
    const big = await get('/big');
    expect(big.body).toHaveLength(64 * 1024);
    expect(big.bodyCutShort).toBe(true);
    expect((await get('/echo')).bodyCutShort).toBeUndefined();
  });

  it('answers with the status of a prompt tracker', async () => {
    await expect(get('/ok')).resolves.toMatchObject({ status: 204, body: '' });
  });

  it('sends a GET with its own user agent and no body', async () => {
    echoed.length = 0;
    await expect(get('/echo')).resolves.toMatchObject({ status: 200, body: 'echoed' });
    expect(echoed).toEqual([
      {
        method: 'GET',
        headers: expect.objectContaining({
          'user-agent': 'nestjs-postback',
          accept: 'application/json, text/plain, */*',
        }) as http.IncomingHttpHeaders,
        body: '',
      },
    ]);
    expect(echoed[0].headers).not.toHaveProperty('content-type');
  });

  it('sends a POST body exactly as built, with the headers the request names', async () => {
    echoed.length = 0;
    // Not valid JSON on purpose: the client must neither parse, trim nor re-encode a body.
    const bodies = [
      { type: 'application/json', body: ' {"click_id":"a&b=c", "payout":"12.50"} ' },
      { type: 'application/x-www-form-urlencoded', body: 'click_id=a%26b&payout=12.50' },
    ];
    for (const { type, body } of bodies) {
      const result = await client.send({
        method: 'POST',
        url: `${base}/echo`,
        headers: { 'content-type': type, 'idempotency-key': 'evt-1' },
        body,
        redactedUrl: '/echo',
      });
      expect(result.status).toBe(200);
    }
    expect(echoed.map((e) => [e.method, e.headers['content-type'], e.body])).toEqual(
      bodies.map(({ type, body }) => ['POST', type, body]),
    );
    for (const { headers, body } of echoed) {
      expect(headers['idempotency-key']).toBe('evt-1');
      expect(headers['user-agent']).toBe('nestjs-postback');
      expect(headers['content-length']).toBe(String(Buffer.byteLength(body)));
    }
  });

  it('keeps one TCP keep-alive delay on a reused socket, so it is not set again each time', async () => {
    const setKeepAlive = jest.spyOn(Socket.prototype, 'setKeepAlive');
    try {
      for (let i = 0; i < 3; i++) await get('/ok');
      const delays = new Set(setKeepAlive.mock.calls.map(([, delay]) => delay));
      expect(setKeepAlive).toHaveBeenCalled();
      expect([...delays]).toEqual([60_000]);
    } finally {
      setKeepAlive.mockRestore();
    }
  });

  it('ends an attempt that gets no answer at the timeout', async () => {
    const result = await get('/hang');
    expect(result.status).toBeUndefined();
    expect(result.error).toBe(`timed out after ${TIMEOUT_MS} ms`);
    expect(result.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 10);
    expect(result.durationMs).toBeLessThan(TIMEOUT_MS + 400);
  });

  it('ends a body that never finishes at the timeout, keeping the status and what arrived', async () => {
    const result = await get('/dribble');
    expect(result.status).toBe(200);
    expect(result.body).toMatch(/^OK+$/);
    expect(result.durationMs).toBeLessThan(TIMEOUT_MS + 400);
  });

  it('retries a refused connection within the attempt, then reports it as such', async () => {
    const patient = new PostbackHttpClient({
      outbox: { concurrency: 1, timeoutMs: 5_000 },
    } as ResolvedPostbackOptions);
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const result = await patient.send({
      method: 'GET',
      url: `http://127.0.0.1:${port}/`,
      headers: {},
      redactedUrl: '/',
    });
    patient.onApplicationShutdown();
    expect(result.status).toBeUndefined();
    expect(result.error).toMatch(/ECONNREFUSED/);
    // Two retries, 200 ms and 400 ms apart.
    expect(result.durationMs).toBeGreaterThanOrEqual(550);
  });

  describe('with a proxy in the environment', () => {
    let proxy: http.Server;
    let proxied: string[];
    const saved = { ...process.env };

    beforeAll(async () => {
      proxied = [];
      // A forward proxy as far as plain HTTP goes: it is asked for absolute URLs.
      proxy = http.createServer((req, res) => {
        proxied.push(req.url ?? '');
        res.writeHead(204).end();
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    });

    afterEach(() => {
      for (const name of ['HTTP_PROXY', 'NO_PROXY', 'http_proxy', 'no_proxy']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    });

    afterAll(async () => {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    });

    const through = async (env: Record<string, string>, url: string) => {
      Object.assign(process.env, env);
      const proxiedClient = new PostbackHttpClient({
        outbox: { concurrency: 1, timeoutMs: 2_000 },
      } as ResolvedPostbackOptions);
      try {
        return await proxiedClient.send({ method: 'GET', url, headers: {}, redactedUrl: url });
      } finally {
        proxiedClient.onApplicationShutdown();
      }
    };
    const proxyUrl = () => `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

    it('sends through HTTP_PROXY', async () => {
      const result = await through({ HTTP_PROXY: proxyUrl() }, 'http://tracker.invalid/pb?c=1');
      expect(result.status).toBe(204);
      expect(proxied).toContain('http://tracker.invalid/pb?c=1');
    });

    it('goes direct to a host NO_PROXY names', async () => {
      proxied.length = 0;
      const result = await through({ HTTP_PROXY: proxyUrl(), NO_PROXY: '127.0.0.1' }, `${base}/ok`);
      expect(result.status).toBe(204);
      expect(proxied).toEqual([]);
    });

    it('reads the environment at each send, as axios does', async () => {
      proxied.length = 0;
      // \`client\` was made with no proxy in the environment.
      process.env.HTTP_PROXY = proxyUrl();
      await expect(
        client.send({
          method: 'GET',
          url: 'http://tracker.invalid/pb?c=2',
          headers: {},
          redactedUrl: '',
        }),
      ).resolves.toMatchObject({ status: 204 });
      expect(proxied).toEqual(['http://tracker.invalid/pb?c=2']);
    });
  });
});
