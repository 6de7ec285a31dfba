import { createHash, timingSafeEqual } from 'node:crypto';

import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';

const PUBLIC_ROUTE = 'POSTBACK_AGENT:PUBLIC';

/** Marks a route that needs no API key (health checks). */
export const PublicRoute = () => SetMetadata(PUBLIC_ROUTE, true);

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Requires `Authorization: Bearer <POSTBACK_API_KEY>` on every route but the public ones, so
 * a stranger cannot report purchases. Without a configured key the agent only listens on
 * loopback and this guard lets local callers through.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(
    private readonly reflector: Reflector,
    apiKey: string | undefined,
  ) {
    this.expected = apiKey ? digest(apiKey) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()])) {
      return true;
    }
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const match = /^Bearer (.+)$/i.exec(header);
    // Comparing digests keeps the comparison constant-time whatever the key's length.
    if (!match || !timingSafeEqual(digest(match[1]), this.expected)) {
      throw new UnauthorizedException('A valid "Authorization: Bearer <key>" header is required');
    }
    return true;
  }
}
