import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';

import { POSTBACK_RESOLVED_OPTIONS } from '../postback.constants.js';
import type { ResolvedPostbackOptions } from '../options/resolved-options.js';
import { safeErrorText } from '../database/safe-error-text.js';
import { type ConversionEvent, ConversionService } from './conversion.service.js';

interface Emitter {
  on(event: string, listener: (payload: unknown) => unknown): unknown;
  off(event: string, listener: (payload: unknown) => unknown): unknown;
}

/**
 * Turns the host's Nest events (`postback.purchase`, `postback.registration`,
 * `postback.event`, or the configured names) into `ConversionService.record()` calls. The
 * listener returns the record promise, so a host's `emitAsync` resolves to the listeners'
 * results (this `RecordResult` among them) or rejects with the validation error; with plain
 * `emit`, a refused event is logged with its reason.
 * `@nestjs/event-emitter` is optional: without it this does nothing.
 */
@Injectable()
export class ConversionEventsListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ConversionEventsListener.name);
  private readonly bound: [Emitter, string, (payload: unknown) => unknown][] = [];

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly conversions: ConversionService,
    @Inject(POSTBACK_RESOLVED_OPTIONS) private readonly options: ResolvedPostbackOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const names = this.options.events;
    const emitter = names ? await this.findEmitter() : undefined;
    if (!names || !emitter) return;
    const bindings: [string, (payload: Record<string, unknown>) => ConversionEvent][] = [
      [names.purchase, (p) => ({ ...p, type: 'purchase' }) as ConversionEvent],
      [names.registration, (p) => ({ ...p, type: 'registration' }) as ConversionEvent],
      [names.custom, (p) => p as unknown as ConversionEvent],
    ];
    for (const [name, toEvent] of bindings) {
      const listener = (payload: unknown) => {
        const recording = this.conversions.record(
          toEvent((payload ?? {}) as Record<string, unknown>),
        );
        recording.catch((error: Error) =>
          this.logger.error(`Event "${name}" was not recorded: ${safeErrorText(error)}`),
        );
        return recording;
      };
      emitter.on(name, listener);
      this.bound.push([emitter, name, listener]);
    }
  }

  onApplicationShutdown(): void {
    for (const [emitter, name, listener] of this.bound.splice(0)) emitter.off(name, listener);
  }

  private async findEmitter(): Promise<Emitter | undefined> {
    let token: unknown;
    try {
      token = (await import('@nestjs/event-emitter')).EventEmitter2;
    } catch {
      return undefined;
    }
    try {
      return this.moduleRef.get(token as never, { strict: false }) as Emitter;
    } catch {
      return undefined;
    }
  }
}
