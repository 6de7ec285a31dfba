import { ConsoleLogger, type LogLevel } from '@nestjs/common';

import { PostbackConfigurationError } from '../errors/postback-configuration.error.js';

/**
 * Nest's console logger, less the one record the agent prints itself: a start-up error that
 * is a `PostbackConfigurationError`, which Nest's exception handler logs before handing it to
 * `main`, would otherwise be printed twice.
 */
export class AgentLogger extends ConsoleLogger {
  constructor(logLevels: LogLevel[]) {
    super({ logLevels });
  }

  override error(message: unknown, ...rest: unknown[]): void {
    if (message instanceof PostbackConfigurationError) return;
    super.error(message, ...rest);
  }
}
