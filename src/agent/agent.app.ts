import { type DynamicModule, type INestApplication, Logger, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, NestFactory, Reflector } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';

import { postbackDataSourceOptions } from '../postback.data-source.js';
import type { PostbackModuleOptions } from '../interfaces/index.js';
import { PostbackModule } from '../postback.module.js';
import { AdminController } from './admin.controller.js';
import type { AgentEnv } from './agent-env.js';
import { AgentLogger } from './agent-logger.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ClicksController } from './clicks.controller.js';
import { DatabaseUnavailableFilter } from './database-unavailable.filter.js';
import { EventsController } from './events.controller.js';
import { HealthController } from './health.controller.js';
import { InvalidInputFilter } from './invalid-input.filter.js';
import { checkJsonBody, jsonBodyOptions } from './json-body.js';
import { OpenApiController } from './openapi.controller.js';
import { OutboxController } from './outbox.controller.js';
import { QueryFailedFilter } from './query-failed.filter.js';
import { TrackersController } from './trackers.controller.js';
import { agentValidationPipe } from './validation.pipe.js';

/** Largest request body; a bigger one is refused with 413 before it is parsed. */
const BODY_LIMIT = '64kb';

/**
 * The standalone agent: the same PostbackModule in a small Nest app, for shops that are not
 * NestJS apps. Clicks arrive through `POST /v1/clicks` instead of a middleware.
 */
export function agentModule(env: AgentEnv, options: PostbackModuleOptions): DynamicModule {
  @Module({})
  class PostbackAgentModule {}
  return {
    module: PostbackAgentModule,
    imports: [
      TypeOrmModule.forRoot(
        postbackDataSourceOptions({
          url: env.DATABASE_URL,
          sqliteSynchronous: env.SQLITE_SYNCHRONOUS,
        }),
      ),
      ScheduleModule.forRoot(),
      PostbackModule.forRoot({
        ...options,
        capture: {
          ...options.capture,
          enabled: false,
          // From the environment only, like every secret of the agent.
          visitorKeySecret: env.POSTBACK_VISITOR_KEY_SECRET,
        },
      }),
    ],
    controllers: [
      ClicksController,
      EventsController,
      OutboxController,
      TrackersController,
      AdminController,
      HealthController,
      OpenApiController,
    ],
    providers: [
      {
        provide: APP_GUARD,
        useFactory: (reflector: Reflector) =>
          new ApiKeyGuard(reflector, {
            apiKey: env.POSTBACK_API_KEY,
            adminKey: env.POSTBACK_ADMIN_KEY,
          }),
        inject: [Reflector],
      },
      { provide: APP_FILTER, useClass: InvalidInputFilter },
      { provide: APP_FILTER, useClass: DatabaseUnavailableFilter },
      { provide: APP_FILTER, useClass: QueryFailedFilter },
    ],
  };
}

/** Creates (but does not start listening) the agent app; `main.ts` and the tests use it. */
export async function createAgentApp(
  env: AgentEnv,
  options: PostbackModuleOptions,
  logger: false | ('log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal')[] = [
    'log',
    'error',
    'warn',
    'fatal',
  ],
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(agentModule(env, options), {
    logger: logger === false ? false : new AgentLogger(logger),
    bodyParser: false,
    // Throw a start-up error to the caller (main prints it) rather than exit the process.
    // Nest logs it first, except a configuration error, which AgentLogger leaves to main.
    abortOnError: false,
  });
  app.useBodyParser('json', jsonBodyOptions(BODY_LIMIT));
  app.use(checkJsonBody);
  app.useGlobalPipes(agentValidationPipe());
  app.enableShutdownHooks();
  if (logger !== false) new Logger('PostbackAgent').debug('Agent created');
  return app;
}
