/**
 * Compiled by `npm run typecheck`, never run: `record()` takes express-session's own
 * `req.session` (`Session & Partial<SessionData>`, a class without an index signature) as it
 * comes, no cast.
 */
import type { Request } from 'express';
import type {} from 'express-session'; // its augmentation of Request: req.session, req.sessionID

import type { ConversionService } from '../../src/index.js';

declare const conversions: ConversionService;
declare const req: Request;

void conversions.record({
  type: 'registration',
  customerId: 'cust-7',
  session: req.session,
  sessionKey: req.sessionID,
});
void conversions.record({
  type: 'purchase',
  orderId: 'order-1',
  amount: '59.97',
  currency: 'EUR',
  session: req.session,
});
// No session at all (a shop without express-session) is fine too.
void conversions.record({ type: 'purchase', orderId: 'o', amount: '1.00', currency: 'EUR' });

// The session ID is `sessionKey`; given as the session, it would find no click.
// @ts-expect-error a string is not a session
void conversions.record({ type: 'purchase', orderId: 'o', session: req.sessionID });
