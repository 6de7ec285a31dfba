import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import type { PostbackSession } from '../click/session-clicks.js';
import type { PostbackEventType } from '../interfaces/index.js';
import { InvalidInputError } from '../errors/invalid-input.error.js';
import { MAX_INPUT_DEPTH, nestsDeeperThan } from '../common/json-depth.js';
import { Big, toCurrencyString } from '../common/money.js';
import { ConversionEventDto } from './dto/conversion-event.dto.js';

/**
 * A shop event for `ConversionService.record()`.
 *
 * @publicApi
 */
export interface ConversionEvent extends Omit<ConversionEventDto, 'occurredAt' | 'type'> {
  /** `purchase`, `registration`, a reversal (`refund`…), or a type declared in `customEventTypes`. */
  type: PostbackEventType;
  /** When the event happened. @default now */
  occurredAt?: string | Date | number;
  /** The visitor's server session (`req.session`), where the capture middleware left the click. */
  session?: PostbackSession | null;
}

/** What a valid event holds: the amount normalised, the time in epoch milliseconds. */
export type ValidEvent = Omit<ConversionEventDto, 'amount' | 'occurredAt'> & {
  amount?: string;
  /** Undefined: now, by the module's clock. */
  occurredAt?: number;
  session?: PostbackSession;
};

/**
 * An event that passed validation, and the only way to get one: `record()` validates
 * everything else. It exists so that the agent's HTTP route validates a body once (with the
 * same DTO, messages and refusal of unknown fields its global ValidationPipe applies) rather
 * than once in the pipe and again in `record()`.
 */
export class CheckedEvent {
  private constructor(readonly event: ValidEvent) {}

  /**
   * Validates `event` and throws InvalidInputError listing every problem. With
   * `forbidUnknownFields` (an HTTP body), a field ConversionEventDto does not declare is one
   * (`session` included: only in-process callers have a session).
   */
  static check(
    event: ConversionEvent | Record<string, unknown> | null | undefined,
    { forbidUnknownFields = false }: { forbidUnknownFields?: boolean } = {},
  ): CheckedEvent {
    const { session, occurredAt, ...fields } = (event ?? {}) as ConversionEvent;
    // class-transformer recurses per level: deep enough, a RangeError instead of a refusal.
    if (nestsDeeperThan(forbidUnknownFields ? event : fields, MAX_INPUT_DEPTH)) {
      throw new InvalidInputError({
        event: [`the event nests deeper than ${MAX_INPUT_DEPTH} levels of objects and arrays`],
      });
    }
    const dto = plainToInstance(
      ConversionEventDto,
      forbidUnknownFields
        ? { ...event }
        : {
            ...fields,
            occurredAt:
              occurredAt instanceof Date || typeof occurredAt === 'number' ? undefined : occurredAt,
          },
    );
    const errors = validateSync(dto, {
      forbidUnknownValues: false,
      ...(forbidUnknownFields && { whitelist: true, forbidNonWhitelisted: true }),
    });
    const problems: Record<string, string[]> = {};
    for (const error of errors) {
      problems[error.property] = Object.values(error.constraints ?? {});
    }
    const at = occurredAt === undefined ? undefined : new Date(occurredAt).getTime();
    if (at !== undefined && !Number.isFinite(at)) {
      problems.occurredAt = ['occurredAt is not a valid date'];
    }
    if (Object.keys(problems).length > 0) throw new InvalidInputError(problems);
    return new CheckedEvent({
      ...dto,
      // "59.9" EUR becomes "59.90": validation already refused digits the currency lacks.
      amount:
        dto.amount === undefined
          ? undefined
          : toCurrencyString(new Big(String(dto.amount)), dto.currency as string),
      occurredAt: at,
      session: forbidUnknownFields ? undefined : (session ?? undefined),
    });
  }
}
