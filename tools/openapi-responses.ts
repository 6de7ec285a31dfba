/**
 * What each route of the agent answers. The request side comes from the DTOs; the answers are
 * plain objects and TypeScript interfaces, which leave nothing to read at run time, so they
 * are written here, one entry per route: a route without one fails the generation.
 */
type Schema = Record<string, unknown>;

export interface RouteDoc {
  operationId: string;
  summary: string;
  responses: Record<number, { description: string; schema?: Schema }>;
  /** Path parameters, by name: their schema. */
  params?: Record<string, Schema>;
}

const uuid = { type: 'string', format: 'uuid' };
const countOf = (key: string, description: string) => ({
  type: 'object',
  required: [key],
  properties: { [key]: { type: 'integer', minimum: 0, description } },
});
const row = (description: string) => ({ type: 'object', additionalProperties: true, description });
const TRACKER_NAME = { type: 'string', pattern: '^[a-z0-9_-]{1,64}$' };

export const BAD_REQUEST: Schema = {
  type: 'object',
  required: ['statusCode', 'error', 'message', 'fields'],
  properties: {
    statusCode: { type: 'integer', enum: [400] },
    error: { type: 'string' },
    message: { type: 'array', items: { type: 'string' } },
    fields: {
      type: 'object',
      description: 'Every refused field, by path, with its reasons.',
      additionalProperties: { type: 'array', items: { type: 'string' } },
    },
  },
};

export const UNAVAILABLE: Schema = {
  type: 'object',
  description: 'Nothing was recorded: send the request again after `Retry-After` seconds.',
  properties: {
    statusCode: { type: 'integer', enum: [503] },
    error: { type: 'string' },
    message: { type: 'string' },
    reason: { type: 'string' },
    retryAfterSeconds: { type: 'integer' },
  },
};

const badRequest = { description: 'Invalid input, every problem named', schema: BAD_REQUEST };
const unavailable = { description: 'The database cannot take it now', schema: UNAVAILABLE };

export const ROUTES: Record<string, RouteDoc> = {
  'ClicksController.capture': {
    operationId: 'captureClick',
    summary: 'Store the click of a landing URL, or a click ID given with its tracker',
    responses: {
      200: {
        description: 'The clicks stored, and why anything of the URL was ignored',
        schema: {
          type: 'object',
          required: ['captured', 'ignored'],
          properties: {
            captured: {
              type: 'array',
              items: {
                type: 'object',
                required: ['id', 'tracker', 'clickId'],
                properties: { id: uuid, tracker: { type: 'string' }, clickId: { type: 'string' } },
              },
            },
            ignored: { type: 'array', items: { type: 'string' } },
          },
        },
      },
      400: badRequest,
      503: unavailable,
    },
  },
  'EventsController.record': {
    operationId: 'recordEvent',
    summary: 'Record a shop event (purchase, registration, refund, custom) and queue its postback',
    responses: {
      202: {
        description:
          'Recorded (or a duplicate of an earlier event); the postback goes out asynchronously',
        schema: {
          type: 'object',
          required: ['conversionId', 'duplicate', 'attributed', 'attribution', 'queued'],
          properties: {
            conversionId: uuid,
            duplicate: {
              type: 'boolean',
              description: 'The same event was recorded before; this is that conversion.',
            },
            attributed: { type: 'boolean' },
            attribution: { type: 'string', enum: ['click_id', 'session', 'customer', 'none'] },
            tracker: { type: 'string' },
            queued: { type: 'boolean', description: 'A postback was queued for the tracker.' },
            postbackId: uuid,
            commission: {
              type: 'object',
              required: ['amount', 'currency'],
              properties: {
                amount: { type: 'string', example: '5.99' },
                currency: { type: 'string' },
              },
            },
          },
        },
      },
      400: badRequest,
      503: unavailable,
    },
  },
  'OutboxController.conversion': {
    operationId: 'getConversion',
    summary: 'A conversion with its postbacks and every delivery attempt',
    params: { id: uuid },
    responses: {
      200: {
        description: 'The conversion',
        schema: row('The conversion, with `postbacks` (each with its `attemptLog`).'),
      },
      400: badRequest,
      404: { description: 'No conversion with this ID' },
    },
  },
  'OutboxController.postbacks': {
    operationId: 'listPostbacks',
    summary: 'Postbacks, newest first, with their delivery attempts',
    responses: {
      200: {
        description: 'The postbacks',
        schema: {
          type: 'object',
          required: ['postbacks'],
          properties: {
            postbacks: { type: 'array', items: row('A postback, with its `attemptLog`.') },
          },
        },
      },
      400: badRequest,
    },
  },
  'TrackersController.sample': {
    operationId: 'sampleTrackerPostback',
    summary:
      "The landing URL shape and a sample purchase's postback of a tracker, secrets redacted",
    params: { name: TRACKER_NAME },
    responses: {
      200: {
        description: 'The sample',
        schema: {
          type: 'object',
          required: ['tracker', 'preset', 'landingUrl', 'postback', 'notes', 'unconfirmed'],
          properties: {
            tracker: { type: 'string' },
            preset: { type: 'string', nullable: true },
            landingUrl: { type: 'string' },
            postback: {
              type: 'object',
              required: ['method', 'url', 'headers'],
              properties: {
                method: { type: 'string', enum: ['GET', 'POST'] },
                url: { type: 'string' },
                headers: { type: 'object', additionalProperties: { type: 'string' } },
                body: { type: 'string' },
              },
            },
            notes: { type: 'array', items: { type: 'string' } },
            unconfirmed: { type: 'array', items: { type: 'string' } },
          },
        },
      },
      404: { description: 'No tracker of this name' },
    },
  },
  'TrackersController.sendTest': {
    operationId: 'sendTestPostback',
    summary: 'Send a test postback now; read the answer at GET /v1/conversions/{id}',
    params: { name: TRACKER_NAME },
    responses: {
      202: {
        description: 'Queued',
        schema: {
          type: 'object',
          required: ['conversionId', 'postbackId'],
          properties: { conversionId: uuid, postbackId: uuid },
        },
      },
      400: badRequest,
    },
  },
  'AdminController.replay': {
    operationId: 'replayPostbacks',
    summary: 'Send dead or cancelled postbacks again',
    responses: {
      200: {
        description: 'How many were queued again',
        schema: countOf('replayed', 'Postbacks queued again'),
      },
      400: badRequest,
    },
  },
  'AdminController.cancel': {
    operationId: 'cancelPostbacks',
    summary: 'Cancel pending postbacks',
    responses: {
      200: {
        description: 'How many were cancelled',
        schema: countOf('cancelled', 'Postbacks cancelled'),
      },
      400: badRequest,
    },
  },
  'AdminController.purge': {
    operationId: 'purgePostbacks',
    summary: 'Delete postbacks delivered more than olderThanDays ago',
    responses: {
      200: { description: 'How many were deleted', schema: countOf('purged', 'Postbacks deleted') },
      400: badRequest,
    },
  },
  'HealthController.health': {
    operationId: 'health',
    summary: 'Liveness and readiness: the database, the outbox backlog, paused trackers',
    responses: {
      200: {
        description: 'Healthy',
        schema: {
          type: 'object',
          required: ['status', 'database', 'outbox', 'pausedTrackers'],
          properties: {
            status: { type: 'string', enum: ['ok'] },
            database: { type: 'string', enum: ['up'] },
            outbox: {
              type: 'object',
              description: 'Postbacks by state',
              additionalProperties: { type: 'integer' },
            },
            pausedTrackers: {
              type: 'array',
              items: {
                type: 'object',
                required: ['tracker', 'circuit', 'nextProbeAt', 'failures', 'reason'],
                properties: {
                  tracker: { type: 'string' },
                  circuit: { type: 'string', enum: ['open', 'half_open'] },
                  nextProbeAt: { type: 'string', format: 'date-time' },
                  failures: { type: 'integer' },
                  reason: { type: 'string', nullable: true },
                },
              },
            },
          },
        },
      },
      503: {
        description: 'The database is down or refuses writes',
        schema: {
          type: 'object',
          properties: { status: { type: 'string', enum: ['error'] } },
          additionalProperties: true,
        },
      },
    },
  },
  'OpenApiController.openApi': {
    operationId: 'openApiDocument',
    summary: 'This document',
    responses: { 200: { description: 'The OpenAPI document', schema: { type: 'object' } } },
  },
};
