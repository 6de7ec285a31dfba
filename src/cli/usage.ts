import type { Command } from 'commander';

import { EXIT } from './cli-io.js';

/** A usage mistake found after parsing: said as commander says its own, then help; exit 2. */
export function usage(command: Command, message: string): never {
  command.error(`error: ${message}`, { exitCode: EXIT.usage, code: 'nestjs-postback.usage' });
}
