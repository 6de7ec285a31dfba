import { ConsoleLogger } from '@nestjs/common';

/** Nest's console logger (errors and warnings only) that counts what it logs at ERROR. */
export class CountingLogger extends ConsoleLogger {
  errors = 0;
  constructor() {
    super('Bench', { logLevels: ['error', 'warn', 'fatal'] });
  }
  override error(message: unknown, ...rest: unknown[]): void {
    this.errors++;
    super.error(message, ...rest);
  }
}
