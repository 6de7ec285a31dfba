import { readFileSync } from 'node:fs';

import { Controller, Get, Header, InternalServerErrorException } from '@nestjs/common';

import { PublicRoute } from './api-key.guard.js';
import { OPENAPI_DOCUMENT } from './openapi-file.cjs';

/**
 * The document ships in the package (docs/openapi.json, written by `npm run docs:openapi` from
 * these controllers and their DTOs): @nestjs/swagger, which builds it, needs Nest 12 and is a
 * development dependency only, so the agent serves the file rather than generate it.
 *
 * `GET /openapi.json`, without a key like /health: client generators fetch it unauthenticated,
 * and it is the published description of the API, the same for every agent, naming nothing of
 * this one's configuration.
 */
@Controller()
export class OpenApiController {
  private document?: string;

  @Get('openapi.json')
  @PublicRoute()
  @Header('content-type', 'application/json; charset=utf-8')
  openApi(): string {
    try {
      this.document ??= readFileSync(OPENAPI_DOCUMENT, 'utf8');
    } catch (error) {
      throw new InternalServerErrorException(
        `The OpenAPI document ${OPENAPI_DOCUMENT} cannot be read (${(error as Error).message}): reinstall the package`,
      );
    }
    return this.document;
  }
}
