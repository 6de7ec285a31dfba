import { createHash } from 'node:crypto';

import { isReversal } from '../common/event-types.js';

/**
 * The idempotency key of an event, stored as the conversion's `reference` under the unique
 * (type, reference) index, so that a repeat is refused by the database itself, even when two
 * instances record it at the same moment:
 * - a registration: see registrationReference;
 * - a reversal: see reversalReference;
 * - any other event: its order ID.
 */
export function idempotencyKey(event: {
  type: string;
  orderId?: string;
  customerId?: string;
  reversalId?: string;
}): string {
  if (isReversal(event.type)) return reversalReference(event.orderId as string, event.reversalId);
  if (event.type === 'registration') return registrationReference(event.customerId as string);
  return event.orderId as string;
}

/**
 * The idempotency key of a registration: a digest of its customer ID (required for
 * registrations). A customer registers once; an order ID on a registration is kept and sent,
 * but a second registration of the same customer under another order ID is a repeat.
 * Not the bare customer ID: older registrations keep their order IDs as keys under the same
 * index (see RegistrationPerCustomer1764300000000), and new customer "1001" must not be taken
 * for the registration of order "1001". The prefixed digest is no shop's order ID in practice,
 * and fits the column (77 characters) whatever the customer ID's length.
 */
export function registrationReference(customerId: string): string {
  return `registration:${createHash('sha256').update(customerId).digest('hex')}`;
}

/**
 * The idempotency key of a reversal: the order ID for a single reversal; for one of several
 * partial ones, a digest of (order ID, reversal ID), since shops number refunds per order
 * ("R-1" of order A is not "R-1" of order B).
 */
function reversalReference(orderId: string, reversalId: string | undefined): string {
  if (reversalId === undefined) return orderId;
  return `reversal:${createHash('sha256')
    .update(JSON.stringify([orderId, reversalId]))
    .digest('hex')}`;
}
