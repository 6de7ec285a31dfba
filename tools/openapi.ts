/**
 * Writes docs/openapi.json, the agent's HTTP API as OpenAPI 3, from the real agent: its
 * controllers' routes and keys as Nest registers them, its DTOs' class-validator rules and
 * JSDoc, and what each route answers (tools/openapi-responses.ts). `npm run docs:openapi`
 * rewrites it; a test fails while the committed file is not current. The agent serves the
 * committed file at GET /openapi.json.
 *
 * @nestjs/swagger is a development dependency: the package runs on Nest 11 hosts, and
 * swagger 12 needs Nest 12. So no file of src/ imports it; its decorators are applied to the
 * classes here, from what the classes declare, only while the document is generated.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { INestApplication, Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import {
  ApiBearerAuth,
  ApiBody,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
  DocumentBuilder,
  type OpenAPIObject,
  SwaggerModule,
} from '@nestjs/swagger';

import { agentModule, createAgentApp } from '../src/agent/agent.app.js';
import { loadAgentEnv } from '../src/agent/agent-env.js';
import { routeAccess } from '../src/agent/api-key.guard.js';
import { CaptureClickDto } from '../src/agent/dto/capture-click.dto.js';
import { ListPostbacksQuery } from '../src/agent/dto/list-postbacks.query.js';
import { OutboxSelectionDto, PurgeDto, ReplayDto } from '../src/agent/dto/outbox-selection.dto.js';
import { ConversionEventDto } from '../src/conversion/dto/conversion-event.dto.js';
import { classDocs } from './class-docs.js';
import { ROUTES } from './openapi-responses.js';
import { describeDto } from './openapi-schema.js';

const DTO_FILES = [
  'src/agent/dto/capture-click.dto.ts',
  'src/agent/dto/list-postbacks.query.ts',
  'src/agent/dto/outbox-selection.dto.ts',
  'src/conversion/dto/conversion-event.dto.ts',
];
const DTOS = [
  CaptureClickDto,
  ListPostbacksQuery,
  OutboxSelectionDto,
  ReplayDto,
  PurgeDto,
  ConversionEventDto,
];

/** The agent needs a tracker to start; nothing of it appears in the document. */
const TRACKER = {
  name: 'example',
  clickParams: ['cid'],
  postback: { url: 'https://tracker.example/postback?cid={click_id}' },
};

/** Bodies the controllers take as plain records, to be validated by the class named here. */
const BODIES: Record<string, Type> = { 'EventsController.record': ConversionEventDto };

const DESCRIPTION = [
  'The nestjs-postback agent: records clicks and shop events, attributes them and sends the',
  "networks' postbacks through a retrying outbox. Every route but /health and /openapi.json",
  'needs `Authorization: Bearer <POSTBACK_API_KEY>` when that key is set (without it the agent',
  'listens on loopback only); the outbox operations under /v1/admin always need',
  '`POSTBACK_ADMIN_KEY`, and are off while it is not set.',
].join(' ');

/** The routes of the agent's controllers: `Controller.method` → controller and method. */
export function agentRoutes(): { key: string; controller: Type; method: string }[] {
  const env = loadAgentEnv({});
  const controllers = (agentModule(env, { trackers: [] }).controllers ?? []) as Type[];
  return controllers.flatMap((controller) =>
    Object.getOwnPropertyNames(controller.prototype)
      .filter((method) => method !== 'constructor')
      .filter((method) => Reflect.hasMetadata(PATH_METADATA, controller.prototype[method]))
      .map((method) => ({ key: `${controller.name}.${method}`, controller, method })),
  );
}

function describeRoutes(): void {
  const reflector = new Reflector();
  const docs = classDocs(DTO_FILES);
  for (const dto of DTOS) describeDto(dto, docs);
  for (const { key, controller, method } of agentRoutes()) {
    const route = ROUTES[key];
    if (!route) throw new Error(`${key} is not described: add it to tools/openapi-responses.ts`);
    const descriptor = Object.getOwnPropertyDescriptor(controller.prototype, method)!;
    const apply = (decorator: MethodDecorator) =>
      decorator(controller.prototype, method, descriptor);
    apply(ApiTags(controller.name.replace(/Controller$/, '').toLowerCase()));
    apply(ApiOperation({ operationId: route.operationId, summary: route.summary }));
    const access = routeAccess(reflector, [controller.prototype[method], controller]);
    if (access !== 'public') {
      apply(ApiBearerAuth(access === 'admin' ? 'adminKey' : 'apiKey'));
      apply(ApiResponse({ status: 401, description: 'No valid bearer key' }));
    }
    if (access === 'admin') {
      apply(ApiResponse({ status: 403, description: 'POSTBACK_ADMIN_KEY is not set' }));
    }
    if (BODIES[key]) apply(ApiBody({ type: BODIES[key] }));
    for (const [name, schema] of Object.entries(route.params ?? {})) {
      apply(ApiParam({ name, schema }));
    }
    for (const [status, response] of Object.entries(route.responses)) {
      apply(ApiResponse({ status: Number(status), ...response }));
    }
  }
}

/** The document, built from an agent created (not listening) on a throw-away SQLite file. */
export async function openApiDocument(): Promise<OpenAPIObject> {
  describeRoutes();
  const dir = mkdtempSync(join(tmpdir(), 'postback-openapi-'));
  let app: INestApplication | undefined;
  try {
    app = await createAgentApp(
      loadAgentEnv({ DATABASE_URL: `sqlite:${dir}/agent.sqlite` }),
      { trackers: [TRACKER] },
      false,
    );
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const config = new DocumentBuilder()
      .setTitle('nestjs-postback agent')
      .setDescription(DESCRIPTION)
      .setVersion(version)
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'POSTBACK_API_KEY' }, 'apiKey')
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', description: 'POSTBACK_ADMIN_KEY' },
        'adminKey',
      )
      .build();
    const document = SwaggerModule.createDocument(app, config);
    // The agent refuses unknown fields (a typo such as order_id must not pass), so say so.
    // (ListPostbacksQuery is spelt out as query parameters, not a schema.)
    const schemas = document.components?.schemas ?? {};
    for (const dto of DTOS) {
      if (schemas[dto.name]) Object.assign(schemas[dto.name], { additionalProperties: false });
    }
    return document;
  } finally {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function openApiJson(): Promise<string> {
  return `${JSON.stringify(await openApiDocument(), null, 2)}\n`;
}
