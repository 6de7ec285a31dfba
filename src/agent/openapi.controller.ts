import { readFileSync } from 'node:fs';

import { Controller, Get, Header, InternalServerErrorException } from '@nestjs/common';

import { PublicRoute } from './api-key.guard.js';
import { OPENAPI_DOCUMENT } from './openapi-file.cjs';

/**
 * Serves the shipped docs/openapi.json (`npm run docs:openapi`) rather than generating it:
 * @nestjs/swagger is a development dependency only. Without a key, like /health: client
 * generators fetch it unauthenticated, and it names nothing of this agent's configuration.
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
