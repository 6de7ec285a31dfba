export { PostbackModule } from './postback.module.js';
export {
  POSTBACK_MODULE_OPTIONS,
  type PostbackModuleExtras,
} from './postback.module-definition.js';
export * from './interfaces/index.js';
export { PostbackConfigurationError } from './errors/postback-configuration.error.js';
export { InvalidInputError } from './errors/invalid-input.error.js';
export { DatabaseUnavailableError } from './errors/database-unavailable.error.js';
export { ClickService, type CaptureClickInput } from './click/click.service.js';
export { Click } from './click/click.entity.js';
export type { PostbackSession } from './click/session-clicks.js';
export {
  ConversionService,
  type ConversionEvent,
  type RecordResult,
} from './conversion/conversion.service.js';
export { POSTBACK_EVENTS } from './postback.constants.js';
export {
  type PostbackEventPayloads,
  type PurchaseEventPayload,
  type RegistrationEventPayload,
  type CustomEventPayload,
} from './conversion/postback-events.js';
export { ConversionEventDto } from './conversion/dto/conversion-event.dto.js';
export { Conversion, type AttributionSource } from './conversion/conversion.entity.js';
export { OutboxFlusher } from './outbox/outbox.flusher.js';
export { TrackerCircuits } from './outbox/tracker-circuits.js';
export type { PausedTracker } from './outbox/tracker-gate.js';
export { OutboxAdminService, type OutboxSelection } from './outbox/outbox-admin.service.js';
export { Postback, type PostbackState } from './outbox/postback.entity.js';
export type { PostbackFields } from './postback/postback-fields.js';
export { DeliveryAttempt, type AttemptOutcome } from './outbox/delivery-attempt.entity.js';
export { PostbackMeta } from './database/postback-meta.entity.js';
export {
  PostbackQueryService,
  type PostbackView,
  type ConversionView,
} from './outbox/postback-query.service.js';
export {
  verifyPostbackSignature,
  type GetSignatureCoverage,
  type VerifyPostbackSignatureOptions,
} from './postback/postback-signature.js';
export { generateHmacSecret } from './postback/hmac-secret.js';
export { POSTBACK_ENTITIES, POSTBACK_MIGRATIONS } from './postback.schema.js';
export { SESSION_CLICKS_KEY } from './postback.constants.js';
export {
  POSTBACK_PRESETS,
  PRESET_NAMES,
  type PostbackPreset,
  type PresetName,
} from './postback/presets/index.js';
export {
  postbackDataSourceOptions,
  type PostbackDataSourceSettings,
  type SqliteSynchronous,
} from './postback.data-source.js';
