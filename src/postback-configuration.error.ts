/**
 * The module's options cannot work: thrown while the application starts, so a mistake in a
 * tracker's template or rules is found before a single postback goes out.
 *
 * @publicApi
 */
export class PostbackConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`nestjs-postback is misconfigured:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PostbackConfigurationError';
  }
}
