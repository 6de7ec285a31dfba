import { sessionIdOf } from '../common/session-id.js';
import { POSTBACK_EVENTS } from '../postback.constants.js';
import { systemClock } from '../common/clock.js';
import type { PostbackModuleOptions } from '../interfaces/index.js';
import { DEFAULT_CLICK_BUFFER_MS } from '../postback.constants.js';
import { PostbackConfigurationError } from '../errors/postback-configuration.error.js';
import { eventTypeProblems } from './event-types.js';
import { parseOptions } from './parse-options.js';
import { resolveOutbox } from './resolve-outbox.js';
import { resolveTracker } from './resolve-tracker.js';
import type { ResolvedPostbackOptions, ResolvedTracker } from './resolved-options.js';

/**
 * Validates the options (`forRoot`'s, what `forRootAsync`'s factory resolves, the agent's
 * config file) and fills in defaults, collecting every problem so the merchant fixes the whole
 * configuration in one go. Throws `PostbackConfigurationError`.
 */
export function resolvePostbackOptions(input: PostbackModuleOptions): ResolvedPostbackOptions {
  const { problems, options, positions } = parseOptions(input);
  if (!options) throw new PostbackConfigurationError(problems);

  const trackers = new Map<string, ResolvedTracker>();
  const paramOwners = new Map<string, string>();
  const customTypes = options.customEventTypes ?? [];
  const outbox = resolveOutbox(options.outbox ?? {}, (p) => problems.push(p));
  const defaultConcurrency =
    options.trackers.length > 1 ? Math.ceil(outbox.concurrency / 2) : outbox.concurrency;
  for (const [i, tracker] of options.trackers.entries()) {
    problems.push(...eventTypeProblems(tracker, ['trackers', positions[i]], customTypes));
    const label = `tracker "${tracker.name}"`;
    const resolved = resolveTracker(tracker, outbox.retry, defaultConcurrency, (p) =>
      problems.push(`${label}: ${p}`),
    );
    if (!resolved) continue;
    if (trackers.has(resolved.name)) problems.push(`${label}: the name is used twice`);
    for (const param of resolved.clickParams) {
      const owner = paramOwners.get(param);
      if (owner && owner !== resolved.name) {
        problems.push(
          `${label}: click parameter "${param}" is also tracker "${owner}"'s; a landing could not tell them apart`,
        );
      }
      paramOwners.set(param, resolved.name);
    }
    trackers.set(resolved.name, resolved);
  }
  if (problems.length > 0) throw new PostbackConfigurationError(problems);

  const capture = options.capture ?? {};
  return {
    trackers,
    customEventTypes: customTypes,
    capture: {
      enabled: capture.enabled ?? true,
      routes: capture.routes,
      exclude: capture.exclude ?? [],
      visitorKey: capture.visitorKey ?? sessionIdOf,
      visitorKeySecret: capture.visitorKeySecret,
      customerId: capture.customerId ?? (() => undefined),
      bufferMs: capture.bufferMs ?? DEFAULT_CLICK_BUFFER_MS,
    },
    outbox,
    events:
      options.events === false
        ? false
        : {
            ...POSTBACK_EVENTS,
            ...options.events,
          },
    clock: options.clock ? { now: options.clock } : systemClock,
  };
}

/** The problems of these options, none when they are valid. */
export function postbackOptionProblems(options: PostbackModuleOptions): string[] {
  try {
    resolvePostbackOptions(options);
    return [];
  } catch (error) {
    if (error instanceof PostbackConfigurationError) return error.problems;
    throw error;
  }
}
