import { readFileSync, writeFileSync } from 'node:fs';

import request from 'supertest';

import { openApiDocument, openApiJson } from '../tools/openapi.js';
import { startAgent, type TestAgent, testTracker } from './utils/agent.js';
import { tempDir } from './utils/sqlite.js';

const DOCUMENT = 'docs/openapi.json';
const API_KEY = 'test-api-key-0123456789abcdef';

type Layer = { route?: { path: string; methods: Record<string, boolean> } };

/** `METHOD /path` of every route the agent's Express app serves, `:id` written `{id}`. */
function registeredRoutes(agent: TestAgent): string[] {
  const express = agent.app.getHttpAdapter().getInstance() as { router: { stack: Layer[] } };
  return express.router.stack.flatMap(({ route }) =>
    route
      ? Object.keys(route.methods).map(
          (method) => `${method.toUpperCase()} ${route.path.replace(/:(\w+)/g, '{$1}')}`,
        )
      : [],
  );
}

describe('docs/openapi.json', () => {
  it('is the one the controllers and DTOs give (npm run docs:openapi rewrites it)', async () => {
    const current = await openApiJson();
    if (process.env.UPDATE_OPENAPI_DOC === '1') writeFileSync(DOCUMENT, current);
    expect(readFileSync(DOCUMENT, 'utf8')).toBe(current);
  });

  describe('against the running agent', () => {
    let agent: TestAgent;
    let dir: ReturnType<typeof tempDir>;
    beforeAll(async () => {
      dir = tempDir();
      agent = await startAgent({
        databaseUrl: `sqlite:${dir.path}/agent.sqlite`,
        trackers: [testTracker('http://127.0.0.1:9/pb')],
        apiKey: API_KEY,
        adminKey: `${API_KEY}-admin`,
      });
    });
    afterAll(async () => {
      await agent.app.close();
      dir.remove();
    });

    it('describes every route the agent serves, and no other', async () => {
      const document = await openApiDocument();
      const described = Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      );
      const served = registeredRoutes(agent);
      expect(served.length).toBeGreaterThan(10);
      expect(described.sort()).toEqual(served.sort());
      // Every reference resolves, so a client generator can follow it.
      const refs = JSON.stringify(document).match(/"\$ref":"#\/components\/schemas\/\w+"/g) ?? [];
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) {
        expect(document.components?.schemas).toHaveProperty(ref.split('/').at(-1)!.slice(0, -1));
      }
    });

    it('asks for the key each route checks', async () => {
      const { paths } = await openApiDocument();
      const call = (method: string, path: string) =>
        (request(agent.server as never) as unknown as Record<string, (p: string) => request.Test>)[
          method
        ](
          path.replace('{id}', '018f0000-0000-7000-8000-000000000000').replace('{name}', 'network'),
        );
      for (const [path, operations] of Object.entries(paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          const scheme = Object.keys(operation.security?.[0] ?? {})[0];
          const { status } = await call(method, path).send({});
          // Without a key: refused exactly where the document asks for one.
          if (scheme) expect([method, path, status]).toEqual([method, path, 401]);
          else expect([method, path, status]).toEqual([method, path, 200]);
        }
      }
    });

    it('serves the committed document at GET /openapi.json without a key', async () => {
      const response = await request(agent.server as never)
        .get('/openapi.json')
        .expect(200)
        .expect('content-type', /application\/json/);
      expect(response.body).toEqual(JSON.parse(readFileSync(DOCUMENT, 'utf8')));
    });

    it('documents each DTO property class-validator checks, and refuses the others', async () => {
      const { components } = await openApiDocument();
      const event = components!.schemas!.ConversionEventDto as {
        properties: Record<string, unknown>;
        required: string[];
        additionalProperties: boolean;
      };
      expect(Object.keys(event.properties).sort()).toEqual(
        [
          'amount',
          'clickId',
          'currency',
          'customerId',
          'occurredAt',
          'orderId',
          'reversalId',
          'sessionKey',
          'tracker',
          'type',
        ].sort(),
      );
      expect(event.required).toEqual(['type']);
      expect(event.additionalProperties).toBe(false);
    });
  });
});
