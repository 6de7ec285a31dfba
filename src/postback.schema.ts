import { Click } from './click/click.entity.js';
import { Conversion } from './conversion/conversion.entity.js';
import { DeliveryAttempt } from './outbox/delivery-attempt.entity.js';
import { Postback } from './outbox/postback.entity.js';
import { PostbackMeta } from './database/postback-meta.entity.js';
import { CreatePostbackTables1764000000000 } from './database/migrations/1764000000000-CreatePostbackTables.js';
import { DropClickIdIndex1764200000000 } from './database/migrations/1764200000000-DropClickIdIndex.js';
import { RegistrationPerCustomer1764300000000 } from './database/migrations/1764300000000-RegistrationPerCustomer.js';
import { HashVisitorKeys1764400000000 } from './database/migrations/1764400000000-HashVisitorKeys.js';
import { CountLostClaims1764500000000 } from './database/migrations/1764500000000-CountLostClaims.js';

/**
 * The module's entities, for hosts that list entities explicitly rather than using
 * `autoLoadEntities`.
 *
 * @publicApi
 */
export const POSTBACK_ENTITIES = [Click, Conversion, Postback, DeliveryAttempt, PostbackMeta];

/**
 * The module's migrations, in order: add them to the host's DataSource `migrations`.
 *
 * @publicApi
 */
export const POSTBACK_MIGRATIONS = [
  CreatePostbackTables1764000000000,
  DropClickIdIndex1764200000000,
  RegistrationPerCustomer1764300000000,
  HashVisitorKeys1764400000000,
  CountLostClaims1764500000000,
];
