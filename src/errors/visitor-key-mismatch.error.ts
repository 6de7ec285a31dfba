import { VISITOR_KEY_SECRET_ENV } from '../postback.constants.js';

const made = (fingerprint: string) =>
  fingerprint === 'sha256'
    ? 'without a secret (plain SHA-256)'
    : `with a secret of fingerprint ${fingerprint}`;

/**
 * Start-up refused: the configured `capture.visitorKeySecret` is not the one the stored
 * visitor keys were hashed with, so every visitor captured before would silently go
 * unattributed by session.
 */
export class VisitorKeyMismatchError extends Error {
  constructor(stored: string, configured: string) {
    super(
      `The stored visitor keys were hashed ${made(stored)}, but this start hashes them ` +
        `${made(configured)} (capture.visitorKeySecret; ${VISITOR_KEY_SECRET_ENV} for the ` +
        'agent): clicks captured before would no longer be found by session. Start with ' +
        'the secret they were made with. To change it on purpose (earlier clicks are then credited by click ID or ' +
        'customer only), stop every instance and run ' +
        `"DELETE FROM postback_meta WHERE name = 'visitor_key_hash'" first (see the README).`,
    );
    this.name = 'VisitorKeyMismatchError';
  }
}
