/**
 * Input the module refuses (a click ID with control characters, a purchase without an order
 * ID, a negative amount…), with one or more messages per field. Nothing was stored.
 *
 * @publicApi
 */
export class InvalidInputError extends Error {
  constructor(readonly fields: Record<string, string[]>) {
    super(
      `Invalid input: ${Object.entries(fields)
        .map(([field, messages]) => `${field} ${messages.join('; ')}`)
        .join(', ')}`,
    );
    this.name = 'InvalidInputError';
  }
}
