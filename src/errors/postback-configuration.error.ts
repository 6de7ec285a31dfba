import { inspect } from 'node:util';

/**
 * The module's options cannot work: thrown while the application starts, so a mistake in a
 * tracker's template or rules is found before a single postback goes out. The message names
 * every problem (with the option's path) and is all there is to read: printed, logged or
 * inspected, the error shows it alone, without a stack trace into Nest's injector or a dump of
 * its fields.
 *
 * @publicApi
 */
export class PostbackConfigurationError extends Error {
  /** Each problem, one line each (the message lists them all). */
  declare readonly problems: string[];

  /** @param source where the options come from (the agent's config file), for the message */
  constructor(problems: string[], source?: string) {
    super(
      `nestjs-postback is misconfigured${source ? ` (${source})` : ''}:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'PostbackConfigurationError';
    // Not enumerable, so that util.inspect() (Nest's logger, console.error) does not list them
    // a second time after the message.
    Object.defineProperty(this, 'problems', { value: problems, enumerable: false });
  }

  [inspect.custom](): string {
    return `${this.name}: ${this.message}`;
  }
}
