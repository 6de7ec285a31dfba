import { createHash, timingSafeEqual } from 'node:crypto';

import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';

const PUBLIC_ROUTE = 'POSTBACK_AGENT:PUBLIC';
const ADMIN_ROUTE = 'POSTBACK_AGENT:ADMIN';

/** Marks a route that needs no API key (health checks). */
export const PublicRoute = () => SetMetadata(PUBLIC_ROUTE, true);
/** Marks a route that needs the admin key instead of the API key (outbox operations). */
export const AdminRoute = () => SetMetadata(ADMIN_ROUTE, true);

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Which key a route needs; the guard and the OpenAPI document both read it from here. */
export type RouteAccess = 'public' | 'api' | 'admin';

export function routeAccess(
  reflector: Reflector,
  targets: [handler: Function, controller: Function],
): RouteAccess {
  if (reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return 'public';
  return reflector.getAllAndOverride<boolean>(ADMIN_ROUTE, targets) ? 'admin' : 'api';
}

/**
 * Requires `Authorization: Bearer <POSTBACK_API_KEY>` on every route but the public ones, so
 * a stranger cannot report purchases. Without a configured key the agent only listens on
 * loopback and this guard lets local callers through. Admin routes (replay, cancel, purge)
 * always need `POSTBACK_ADMIN_KEY`, and are off while it is not set.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly apiKey?: Buffer;
  private readonly adminKey?: Buffer;

  constructor(
    private readonly reflector: Reflector,
    keys: { apiKey?: string; adminKey?: string },
  ) {
    this.apiKey = keys.apiKey ? digest(keys.apiKey) : undefined;
    this.adminKey = keys.adminKey ? digest(keys.adminKey) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    const access = routeAccess(this.reflector, [context.getHandler(), context.getClass()]);
    if (access === 'public') return true;
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    if (access === 'admin') {
      if (!this.adminKey) {
        throw new ForbiddenException(
          'Outbox operations are off: set POSTBACK_ADMIN_KEY to use them',
        );
      }
      return this.check(header, this.adminKey);
    }
    return this.apiKey ? this.check(header, this.apiKey) : true;
  }

  private check(header: string, expected: Buffer): true {
    const match = /^Bearer (.+)$/i.exec(header);
    // Comparing digests keeps the comparison constant-time whatever the key's length.
    if (!match || !timingSafeEqual(digest(match[1]), expected)) {
      throw new UnauthorizedException('A valid "Authorization: Bearer <key>" header is required');
    }
    return true;
  }
}
